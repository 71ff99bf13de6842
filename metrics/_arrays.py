"""Helpers that let one metric run on numpy arrays (scipy, CPU) or on torch tensors (batched, on their device).

A metric function looks at the type of its mask arguments: numpy arrays take the numpy/scipy path,
torch tensors stay on the device they live on (the GPU during an evaluation). Both paths count pixels
exactly, so they give the same numbers; counts always come back as numpy int64 on the CPU.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import torch

Array = np.ndarray | torch.Tensor

# Pixels handled per torch chunk (64 masks of 1024 x 1024 as float32 = 256 MiB): bounds device memory.
PIXELS_PER_CHUNK = 1 << 26


def as_mask(x: Array) -> Array:
    """The same masks as bool, without leaving the array library (or device) they come from."""
    return x.bool() if isinstance(x, torch.Tensor) else np.asarray(x, dtype=bool)


def same_kind(x: Array, like: Array) -> Array:
    """``x`` as bool in the array library and on the device of ``like``."""
    if isinstance(like, torch.Tensor):
        return torch.as_tensor(x, dtype=torch.bool, device=like.device)
    return np.asarray(x.cpu().numpy() if isinstance(x, torch.Tensor) else x, dtype=bool)


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
