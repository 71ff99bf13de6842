"""Helpers that let one metric run on numpy arrays (scipy, CPU) or on torch tensors (batched, on their device).

A metric function looks at its mask arguments: tensors on an accelerator stay there and go through
batched torch kernels; numpy arrays and CPU tensors take the numpy/scipy path (several times faster than
torch on a CPU for the morphology, and cropped to each instance's bounding box). Both paths count
pixels exactly, so they give the same numbers; counts always come back as numpy int64 on the CPU.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import torch

Array = np.ndarray | torch.Tensor

# Pixels handled per torch chunk (64 masks of 1024 x 1024 as float32 = 256 MiB): bounds device memory.
PIXELS_PER_CHUNK = 1 << 26


def on_accelerator(x: Array) -> bool:
    return isinstance(x, torch.Tensor) and x.device.type != "cpu"


def to_numpy(x: Array) -> np.ndarray:
    return x.cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def bounding_window(mask: np.ndarray) -> tuple[slice, slice] | None:
    """Rows and columns spanned by the True pixels of an H x W mask; None when it is empty."""
    rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return slice(rows[0], rows[-1] + 1), slice(columns[0], columns[-1] + 1)


def as_mask(x: Array) -> Array:
    """The same masks as bool, without leaving the array library (or device) they come from."""
    return x.bool() if isinstance(x, torch.Tensor) else np.asarray(x, dtype=bool)


def same_kind(x: Array, like: Array) -> Array:
    """``x`` as bool in the array library and on the device of ``like``."""
    if isinstance(like, torch.Tensor):
        return torch.as_tensor(x, dtype=torch.bool, device=like.device)
    return np.asarray(to_numpy(x), dtype=bool)


def zeros_like(x: Array) -> Array:
    return torch.zeros_like(x) if isinstance(x, torch.Tensor) else np.zeros_like(x)


def pixel_counts(masks: Array) -> np.ndarray:
    """Number of True pixels of each (..., H, W) mask, as int64 (...)."""
    counts = masks.sum((-2, -1))
    return counts.cpu().numpy().astype(np.int64) if isinstance(counts, torch.Tensor) else counts.astype(np.int64)


def ratio(numerator: np.ndarray, denominator: np.ndarray, empty: float) -> np.ndarray:
    """numerator / denominator as float64, ``empty`` where the denominator is 0."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    return np.divide(numerator, denominator, out=np.full_like(numerator, empty), where=denominator > 0)


def chunk_slices(count: int, pixels_per_item: int) -> Iterator[slice]:
    """Consecutive slices of ``count`` items, each holding at most PIXELS_PER_CHUNK pixels (>= 1 item)."""
    step = max(1, PIXELS_PER_CHUNK // max(1, pixels_per_item))
    for start in range(0, count, step):
        yield slice(start, min(start + step, count))
