"""The toy SAM pair: ``segment_anything``'s own modules at sizes that train and run on a CPU.

Both share one mask decoder design (as SAM vit_b/l/h share theirs), so a small model's decoder
features have the shape of a large model's. Their weights are trained by ``sherpa-bench
pretrain-toy`` and shipped in ``models/weights/`` with the recipe that made them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch
from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer

from sherpa_bench.harness.errors import UserError
from sherpa_bench.harness.registry import MODELS
from sherpa_bench.models.checkpoints import file_sha256
from sherpa_bench.models.sam import SamModel

WEIGHTS_DIR = Path(__file__).parent / "weights"
TOY_IMAGE_SIZE = 128
TOY_PATCH_SIZE = 8
TOY_PROMPT_DIM = 64


@dataclass(frozen=True)
class ToyEncoderSize:
    embed_dim: int
    depth: int
    num_heads: int
    global_attn_indexes: tuple[int, ...]


TOY_SIZES = {
    "toy-small": ToyEncoderSize(embed_dim=48, depth=3, num_heads=3, global_attn_indexes=(2,)),
    "toy-large": ToyEncoderSize(embed_dim=128, depth=6, num_heads=4, global_attn_indexes=(2, 5)),
}


def build_toy_sam(name: str) -> Sam:
    """A randomly initialised toy SAM (seed it before calling for reproducible weights)."""
    size = TOY_SIZES[name]
    grid = TOY_IMAGE_SIZE // TOY_PATCH_SIZE
    return Sam(
        image_encoder=ImageEncoderViT(
            img_size=TOY_IMAGE_SIZE,
            patch_size=TOY_PATCH_SIZE,
            embed_dim=size.embed_dim,
            depth=size.depth,
            num_heads=size.num_heads,
            mlp_ratio=4,
            out_chans=TOY_PROMPT_DIM,
            qkv_bias=True,
            norm_layer=partial(torch.nn.LayerNorm, eps=1e-6),
            use_rel_pos=True,
            window_size=grid // 2,
            global_attn_indexes=size.global_attn_indexes,
        ),
        prompt_encoder=PromptEncoder(
            embed_dim=TOY_PROMPT_DIM,
            image_embedding_size=(grid, grid),
            input_image_size=(TOY_IMAGE_SIZE, TOY_IMAGE_SIZE),
            mask_in_chans=16,
        ),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=3,
            transformer=TwoWayTransformer(depth=2, embedding_dim=TOY_PROMPT_DIM, mlp_dim=256, num_heads=8),
            transformer_dim=TOY_PROMPT_DIM,
            iou_head_depth=3,
            iou_head_hidden_dim=TOY_PROMPT_DIM,
        ),
    )


def weights_path(name: str) -> Path:
    return WEIGHTS_DIR / f"{name}.pt"


def recipe_path(name: str) -> Path:
    return WEIGHTS_DIR / f"{name}.json"


def load_toy(name: str, pretrained: bool = True) -> SamModel:
    sam = build_toy_sam(name)
    if pretrained:
        path = weights_path(name)
        if not path.exists():
            raise UserError(f"toy weights {path} are missing; regenerate them with `sherpa-bench pretrain-toy`")
        sam.load_state_dict(torch.load(path, map_location="cpu", weights_only=True), strict=True)
    sam.eval()
    return SamModel(sam, name)


def toy_recipe(name: str) -> dict:
    """The recorded recipe of the shipped weights (command, seed, data, steps, validation score)."""
    path = recipe_path(name)
    return json.loads(path.read_text()) if path.exists() else {}


@dataclass(frozen=True)
class ToyModel:
    """A registered toy model: how to load it and what identifies its weights."""

    name: str

    @property
    def default_guide(self) -> str | None:
        """SHERPA's small guide for this model (as SAM vit_b guides vit_h)."""
        return "toy-small" if self.name == "toy-large" else None

    def load(self, pretrained: bool = True) -> SamModel:
        return load_toy(self.name, pretrained)

    def fingerprint(self) -> str:
        """Hash of the shipped weights: runs made with other weights are never reused."""
        path = weights_path(self.name)
        return file_sha256(path)[:16] if path.exists() else "missing"

    @property
    def description(self) -> str:
        size = TOY_SIZES[self.name]
        return (
            f"toy SAM: ViT {size.embed_dim}-d x {size.depth} blocks, {size.num_heads} heads; "
            f"{TOY_IMAGE_SIZE} px input, {TOY_PROMPT_DIM}-d mask decoder; weights shipped"
        )


for _toy in (ToyModel(name) for name in TOY_SIZES):
    MODELS.register(_toy.name, _toy.description)(_toy)
