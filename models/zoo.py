"""The released SAM checkpoints: SAM vit_b / vit_l / vit_h, MedSAM, SAM 2.1 hiera t / s / b+ / l.

Each is a registered model read from a checkpoint folder: ``--checkpoint-dir DIR`` or the
environment variable ``SHERPA_BENCH_CHECKPOINTS``; the file keeps its official name. Loading is
strict and ``weights_only`` (``models/checkpoints.py``); the architecture is checked against the
file's tensors before any weight is used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from sherpa_bench.harness.errors import UserError
from sherpa_bench.harness.registry import MODELS
from sherpa_bench.models.checkpoints import check_fits, file_sha256, load_strict, read_state_dict

CHECKPOINT_ENV = "SHERPA_BENCH_CHECKPOINTS"


def checkpoint_dir() -> Path | None:
    value = os.environ.get(CHECKPOINT_ENV)
    return Path(value) if value else None


def _build_sam(architecture: str) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        from segment_anything import sam_model_registry

        return sam_model_registry[architecture](checkpoint=None)

    return build


def _build_sam2(config: str) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        from sam2.build_sam import build_sam2

        # the builder's defaults, as SAM2ImagePredictor users get them (dynamic multimask fallback on)
        return build_sam2(config, ckpt_path=None, device="cpu", mode="eval")

    return build


@dataclass(frozen=True)
class ReleasedModel:
    """A model read from an officially released checkpoint file."""

    name: str
    family: str  # "sam", "medsam" or "sam2"
    architecture: str  # as ``infer_architecture`` names it
    file_name: str
    source: str
    build: Callable[[], nn.Module]
    default_guide: str | None = None

    @property
    def description(self) -> str:
        return f"{self.family} {self.architecture} from {self.file_name} (in --checkpoint-dir / {CHECKPOINT_ENV})"

    def path(self) -> Path:
        folder = checkpoint_dir()
        if folder is None:
            raise UserError(
                f"model {self.name!r} is read from {self.file_name}, but no checkpoint folder is set: pass "
                f"--checkpoint-dir DIR or set {CHECKPOINT_ENV}=DIR, with DIR/{self.file_name} downloaded from "
                f"{self.source}"
            )
        path = folder / self.file_name
        if not path.is_file():
            raise UserError(f"model {self.name!r}: {path} does not exist; download {self.file_name} from {self.source}")
        return path

    def load(self):
        path = self.path()
        state = read_state_dict(path)
        expected = f"{self.family} {self.architecture}"
        if self.family != "sam2":  # refuse a wrong file before allocating a vit_h (sam2's builder moves devices)
            with torch.device("meta"):
                check_fits(self.build(), state, path, expected)
        module = self.build()
        load_strict(module, state, path, expected)
        module.eval()
        return wrap(module, self.family, self.name)

    def fingerprint(self) -> str:
        """Hash of the checkpoint file: runs made from other weights are never reused."""
        return file_sha256(self.path())[:16]


def wrap(module: nn.Module, family: str, name: str):
    """The harness interface around a built model of ``family``."""
    if family == "sam2":
        from sherpa_bench.models.sam2_model import Sam2Model

        return Sam2Model(module, name)
    if family == "medsam":
        from sherpa_bench.models.medsam import MedSamModel

        return MedSamModel(module, name)
    from sherpa_bench.models.sam import SamModel

    return SamModel(module, name)


SAM_SOURCE = "https://github.com/facebookresearch/segment-anything#model-checkpoints"
SAM2_SOURCE = "https://github.com/facebookresearch/sam2#model-description (checkpoints/download_ckpts.sh)"
MEDSAM_SOURCE = "https://github.com/bowang-lab/MedSAM (README: medsam_vit_b.pth)"

RELEASED = (
    ReleasedModel("sam-vit-b", "sam", "vit_b", "sam_vit_b_01ec64.pth", SAM_SOURCE, _build_sam("vit_b")),
    ReleasedModel("sam-vit-l", "sam", "vit_l", "sam_vit_l_0b3195.pth", SAM_SOURCE, _build_sam("vit_l"), "sam-vit-b"),
    ReleasedModel("sam-vit-h", "sam", "vit_h", "sam_vit_h_4b8939.pth", SAM_SOURCE, _build_sam("vit_h"), "sam-vit-b"),
    ReleasedModel("medsam", "medsam", "vit_b", "medsam_vit_b.pth", MEDSAM_SOURCE, _build_sam("vit_b")),
    ReleasedModel(
        "sam2.1-hiera-t", "sam2", "hiera_t", "sam2.1_hiera_tiny.pt", SAM2_SOURCE,
        _build_sam2("configs/sam2.1/sam2.1_hiera_t.yaml"),
    ),
    ReleasedModel(
        "sam2.1-hiera-s", "sam2", "hiera_s", "sam2.1_hiera_small.pt", SAM2_SOURCE,
        _build_sam2("configs/sam2.1/sam2.1_hiera_s.yaml"), "sam2.1-hiera-t",
    ),
    ReleasedModel(
        "sam2.1-hiera-b+", "sam2", "hiera_b+", "sam2.1_hiera_base_plus.pt", SAM2_SOURCE,
        _build_sam2("configs/sam2.1/sam2.1_hiera_b+.yaml"), "sam2.1-hiera-t",
    ),
    ReleasedModel(
        "sam2.1-hiera-l", "sam2", "hiera_l", "sam2.1_hiera_large.pt", SAM2_SOURCE,
        _build_sam2("configs/sam2.1/sam2.1_hiera_l.yaml"), "sam2.1-hiera-t",
    ),
)  # fmt: skip

for _model in RELEASED:
    MODELS.register(_model.name, _model.description)(_model)
