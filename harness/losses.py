"""The task loss, one for every method, so that differences between methods come from the methods.

Computed on the padded input frame: low-res logits upsampled (bilinear, as SAM's own first
postprocessing step) against the ground truth resized into that frame (antialiased, so thin
structures become soft targets instead of vanishing), padding excluded.

* ``mse``: mean squared error between sigmoid probabilities and targets (SHERPA Eq. 6).
* ``bce-dice``: binary cross-entropy + soft Dice per instance (HQ-SAM / SAM recipe).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from sherpa_bench.harness.config import TASK_LOSSES


def task_loss(logits: torch.Tensor, targets: torch.Tensor, valid: torch.Tensor, kind: str) -> torch.Tensor:
    """Mean of :func:`task_loss_per_instance` over the N instances."""
    return task_loss_per_instance(logits, targets, valid, kind).mean()


def task_loss_per_instance(logits: torch.Tensor, targets: torch.Tensor, valid: torch.Tensor, kind: str) -> torch.Tensor:
    """Loss of each of N instances (an N-vector).

    Arguments:
        logits: N x S x S mask logits in the input frame.
        targets: N x S x S soft targets in [0, 1].
        valid: S x S bool, the part of the frame covered by the image (not padding).
        kind: one of :data:`TASK_LOSSES`.
    """
    weight = valid.to(logits.dtype).expand_as(logits)
    pixels = weight.sum(dim=(1, 2)).clamp_min(1)
    if kind == "mse":
        squared = (torch.sigmoid(logits) - targets) ** 2
        return (squared * weight).sum(dim=(1, 2)) / pixels
    if kind == "bce-dice":
        bce = F.binary_cross_entropy_with_logits(logits, targets, weight=weight, reduction="none")
        probs = torch.sigmoid(logits) * weight
        overlap = (probs * targets).sum(dim=(1, 2))
        dice = 1 - (2 * overlap + 1) / (probs.sum(dim=(1, 2)) + (targets * weight).sum(dim=(1, 2)) + 1)
        return bce.sum(dim=(1, 2)) / pixels + dice
    raise ValueError(f"unknown task loss {kind!r}; choose one of {', '.join(TASK_LOSSES)}")


def soft_iou(logits: torch.Tensor, targets: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """IoU of thresholded logits vs targets > 0.5, per instance (the IoU head's training target)."""
    predicted = (logits > 0) & valid
    truth = (targets > 0.5) & valid
    intersection = (predicted & truth).sum(dim=(1, 2)).float()
    union = (predicted | truth).sum(dim=(1, 2)).float()
    return torch.where(union > 0, intersection / union.clamp_min(1), torch.ones_like(union))
