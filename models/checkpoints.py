"""Reading checkpoint files as their authors release them, strictly and without unpickling code.

SAM releases raw state dicts (``sam_vit_h_4b8939.pth``); SAM 2 wraps them as ``{"model": ...}``;
training scripts add ``module.`` (DataParallel) or ``_orig_mod.`` (torch.compile) prefixes. Every
file is opened with ``weights_only=True``; the architecture is read off the tensors, and a file that
does not fit the requested model is refused with a readable summary of the keys that differ, so a
partial or wrong load never runs silently.
"""

from __future__ import annotations

import hashlib
import pickle
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Mapping

import torch
from torch import nn

from sherpa_bench.harness.errors import UserError

WRAPPER_KEYS = ("model", "state_dict")
PREFIXES = ("module.", "_orig_mod.")

# SAM image encoders by width (segment_anything/build_sam.py)
SAM_WIDTHS = {768: "vit_b", 1024: "vit_l", 1280: "vit_h"}
# SAM 2.1 Hiera trunks by (width, blocks) (sam2/configs/sam2.1/*.yaml)
HIERA_SHAPES = {(96, 12): "hiera_t", (96, 16): "hiera_s", (112, 24): "hiera_b+", (144, 48): "hiera_l"}


class CheckpointError(UserError):
    """A checkpoint file that cannot be loaded as the requested model."""


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a checkpoint file: unwrapped from ``{"model": ...}`` and free of wrapper prefixes."""
    path = Path(path)
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise CheckpointError(
            f"{path} holds pickled Python objects, not only tensors ({str(error).splitlines()[0]}). "
            "sherpa-bench never unpickles code from a checkpoint; re-save the weights with "
            "torch.save(model.state_dict(), path), or export them with `sherpa-bench export`"
        ) from error
    except (OSError, RuntimeError, EOFError) as error:
        raise CheckpointError(f"cannot read {path} as a torch checkpoint ({error}); download it again") from error
    for key in WRAPPER_KEYS:
        if isinstance(loaded, dict) and isinstance(loaded.get(key), dict):
            loaded = loaded[key]
            break
    if not isinstance(loaded, dict) or not all(isinstance(v, torch.Tensor) for v in loaded.values()):
        raise CheckpointError(
            f"{path} is not a state dict (a mapping of names to tensors, optionally under 'model'); "
            f"found {type(loaded).__name__}"
        )
    return {_strip_prefixes(name): tensor for name, tensor in loaded.items()}


def _strip_prefixes(name: str) -> str:
    changed = True
    while changed:
        changed = False
        for prefix in PREFIXES:
            if name.startswith(prefix):
                name, changed = name[len(prefix) :], True
    return name


def infer_architecture(state: Mapping[str, torch.Tensor]) -> str:
    """'vit_b' / 'vit_l' / 'vit_h' for SAM, 'hiera_t' / 'hiera_s' / 'hiera_b+' / 'hiera_l' for SAM 2.1,
    read from the tensors; 'unknown' when the file matches neither."""
    sam_patch = state.get("image_encoder.patch_embed.proj.weight")
    if sam_patch is not None:
        return SAM_WIDTHS.get(sam_patch.shape[0], "unknown")
    hiera_patch = state.get("image_encoder.trunk.patch_embed.proj.weight")
    if hiera_patch is not None:
        blocks = {int(m.group(1)) for k in state if (m := re.match(r"image_encoder\.trunk\.blocks\.(\d+)\.", k))}
        return HIERA_SHAPES.get((hiera_patch.shape[0], len(blocks)), "unknown")
    return "unknown"


def load_strict(module: nn.Module, state: Mapping[str, torch.Tensor], path: Path, expected: str) -> None:
    """Load every tensor of ``module`` from ``state`` or refuse (see :func:`check_fits`)."""
    check_fits(module, state, path, expected)
    module.load_state_dict(state, strict=True)


def check_fits(module: nn.Module, state: Mapping[str, torch.Tensor], path: Path, expected: str) -> None:
    """Refuse ``state`` unless it holds exactly ``module``'s tensors with their shapes, naming the
    architecture found in the file and summarising the keys that are missing, unexpected or of
    another shape. ``module`` may live on the meta device (only names and shapes are compared)."""
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    reshaped = sorted(k for k in set(own) & set(state) if own[k].shape != state[k].shape)
    if missing or unexpected or reshaped:
        found = infer_architecture(state)
        lines = [f"{path} does not fit the {expected} architecture (the file looks like {found})."]
        for label, keys in (("missing", missing), ("unexpected", unexpected), ("of another shape", reshaped)):
            if keys:
                lines.append(f"  {len(keys)} keys {label}: {summarise_keys(keys)}")
        lines.append(
            "Pick the model that matches the file (`sherpa-bench list models`), or the file that matches the model."
        )
        raise CheckpointError("\n".join(lines))


def summarise_keys(keys: list[str], limit: int = 6) -> str:
    """Keys grouped by their pattern with layer numbers collapsed: 'image_encoder.blocks.*.attn.qkv.weight (8)'."""
    patterns = Counter(re.sub(r"\.\d+\.", ".*.", key) for key in keys)
    shown = [f"{pattern} ({count})" if count > 1 else pattern for pattern, count in patterns.most_common(limit)]
    more = len(patterns) - len(shown)
    return ", ".join(shown) + (f", and {more} more patterns" if more > 0 else "")


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, cached while its size and modification time stay the same."""
    stat = Path(path).stat()
    return _sha256(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=64)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()
