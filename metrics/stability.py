"""Stability under prompt perturbation (Stable-SAM's stability score).

One prompt is perturbed K times (e.g. noisy boxes) and the model predicts K masks. Their stability is
the mean IoU over the K(K−1)/2 unordered pairs: 1 when every perturbation gives the same mask, lower as
they spread. Two empty masks agree (IoU 1). The dataset value is the mean over prompts.

Intersections come from one matrix product of the flattened masks in float64, exact for any image
below 2^53 pixels, on the masks' own device when they are torch tensors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np
import torch

from sherpa_bench.harness.registry import METRICS
from sherpa_bench.metrics._arrays import Array, as_mask, ratio


def pairwise_iou(masks: Array) -> np.ndarray:
    """K x K float64 IoU matrix of (K, H, W) bool masks (numpy or torch); two empty masks give 1."""
    flat = as_mask(masks).reshape(masks.shape[0], -1)
    if isinstance(flat, torch.Tensor):
        as_float = flat.double()
        intersection = (as_float @ as_float.T).cpu().numpy()
    else:
        as_float = flat.astype(np.float64)
        intersection = as_float @ as_float.T
    area = np.diag(intersection)
    return ratio(intersection, area[:, None] + area[None, :] - intersection, empty=1.0)


def stability_score(masks: Array) -> float:
    """Mean pairwise IoU of the K >= 2 masks (K, H, W) predicted for perturbations of one prompt."""
    if masks.shape[0] < 2:
        raise ValueError(f"stability needs at least 2 masks of the same prompt, got {masks.shape[0]}")
    upper = np.triu_indices(masks.shape[0], k=1)
    return float(pairwise_iou(masks)[upper].mean())


@dataclass(frozen=True)
class StabilityMetric:
    """Mean over prompts of each prompt's stability score."""

    name: str = "stability"
    label: str = "Stability"
    formula: str = "mean over prompts of the mean pairwise IoU of the K masks from K perturbations of the prompt"
    higher_is_better: bool = True
    kind: str = "stability"

    def score(self, groups: Iterable[Array]) -> float:
        """groups: one (K, H, W) bool stack per prompt."""
        scores = [stability_score(masks) for masks in groups]
        return float(np.mean(scores)) if scores else float("nan")


METRICS.register(
    "stability", "Stable-SAM stability: mean pairwise IoU of masks from perturbed prompts, mean over prompts"
)(StabilityMetric())
