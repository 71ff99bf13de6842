"""Pixel counts of each predicted mask against its own ground-truth instance (SHERPA App. G pairing).

One prompt per ground-truth instance, so prediction i is paired with instance i by construction.
"""

from __future__ import annotations

import numpy as np
import torch


def pair_counts(
    predicted: torch.Tensor | np.ndarray,
    truth: torch.Tensor | np.ndarray,
    ignore: torch.Tensor | np.ndarray | None = None,
) -> np.ndarray:
    """TP, FP, FN pixel counts of N (prediction, ground truth) pairs of one image.

    Arguments:
        predicted, truth: N x H x W bool; computed on their device (GPU when they live there).
        ignore: H x W bool void region, excluded from all three counts, or None.

    Returns:
        N x 3 int64 array of (TP, FP, FN).
    """
    predicted = torch.as_tensor(predicted, dtype=torch.bool)
    truth = torch.as_tensor(truth, dtype=torch.bool, device=predicted.device)
    if predicted.shape != truth.shape:
        raise ValueError(f"prediction shape {tuple(predicted.shape)} != ground truth {tuple(truth.shape)}")
    if ignore is not None:
        keep = ~torch.as_tensor(ignore, dtype=torch.bool, device=predicted.device)
        predicted, truth = predicted & keep, truth & keep
    tp = (predicted & truth).flatten(1).sum(1)
    fp = (predicted & ~truth).flatten(1).sum(1)
    fn = (~predicted & truth).flatten(1).sum(1)
    return torch.stack([tp, fp, fn], dim=1).cpu().numpy().astype(np.int64)
