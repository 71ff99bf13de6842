"""Boundary IoU (Cheng, Girshick, Dollár, Berg, Kirillov, CVPR 2021): Stable-SAM's mBIoU.

The boundary-iou-api (bowenc0221) is not on PyPI and pulls fvcore, cityscapesscripts and panopticapi
from git, so its ~10 lines are written here (metrics.md §7):

* band width ``d = max(1, round(0.02 · sqrt(H² + W²)))`` with Python's half-to-even ``round``
  (2 for 64 x 64, 20 for 480 x 854, 29 for 1024 x 1024);
* inner band ``B_d(M) = M ∖ erode(M)``, erosion by a 3 x 3 square iterated d times with everything
  outside the image counted as background, so a mask touching the image border has a band along it
  (the opposite of DAVIS F, whose boundaries never lie on the border). Iterating a 3 x 3 erosion d times
  equals one (2d+1) x (2d+1) square erosion, which is what is computed: ``minimum_filter`` with a zero
  border on the CPU (per pair, inside the bounding box of the two masks), a separable max-pool of the
  complement on an accelerator (all pairs of the image in one batch);
* ``BIoU(G, P) = |B_d(G) ∩ B_d(P)| / |B_d(G) ∪ B_d(P)|``. **Empty union → 1** (the API computes it with
  ``pycocotools.mask.iou``, which gives 0 there; 1 matches this project's convention for J, Dice and F).

Void pixels (``ignore``) are taken out of both bands after the bands are computed, as ``pair_counts``
does for TP/FP/FN.

``biou`` is an instance-level metric: the evaluator stores ``biou_inter`` and ``biou_union`` (from
``boundary_iou_counts``) in the per-instance table, and ``biou`` is the mean over instances of their
ratio, like ``miou``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as functional
from scipy import ndimage

from sherpa_bench.harness.errors import UserError
from sherpa_bench.harness.registry import METRICS
from sherpa_bench.metrics._arrays import (
    Array,
    as_mask,
    bounding_window,
    chunk_slices,
    on_accelerator,
    pixel_counts,
    ratio,
    same_kind,
    to_numpy,
)

COLUMNS = ("biou_inter", "biou_union")


def band_width(height: int, width: int, dilation_ratio: float = 0.02) -> int:
    """d = max(1, round(dilation_ratio · diagonal)), rounding half to even as the API does."""
    return max(1, int(round(dilation_ratio * float(np.sqrt(height**2 + width**2)))))


def erode_square(masks: Array, width: int) -> Array:
    """Erosion of (..., H, W) bool masks by a (2·width+1)² square, outside the image = background.

    numpy: ``minimum_filter`` with a zero border. torch (any device): the complement of the dilated
    complement, the complement padded with 1 so that the outside is background; the square max-pool
    is a row pool then a column pool.
    """
    size = 2 * width + 1
    if not isinstance(masks, torch.Tensor):
        footprint = (1,) * (masks.ndim - 2) + (size, size)
        return ndimage.minimum_filter(masks, size=footprint, mode="constant", cval=False)
    flat = masks.reshape(-1, 1, *masks.shape[-2:])
    parts = []
    for part in chunk_slices(flat.shape[0], flat.shape[-2] * flat.shape[-1]):
        outside = functional.pad((~flat[part]).float(), (width, width, width, width), value=1.0)
        dilated = functional.max_pool2d(functional.max_pool2d(outside, (1, size), stride=1), (size, 1), stride=1)
        parts.append(dilated[:, 0] < 0.5)
    return (torch.cat(parts) if parts else flat[:, 0]).reshape(masks.shape)


def boundary_band(masks: Array, width: int) -> Array:
    """Inner boundary band of width ``width``: the mask pixels that the square erosion removes."""
    masks = as_mask(masks)
    return masks & ~erode_square(masks, width)


def _band_counts(predicted: Array, truth: Array, width: int, keep: Array | None) -> np.ndarray:
    predicted_band, truth_band = boundary_band(predicted, width), boundary_band(truth, width)
    intersection, union = predicted_band & truth_band, predicted_band | truth_band
    if keep is not None:
        intersection, union = intersection & keep, union & keep
    return np.stack([pixel_counts(intersection), pixel_counts(union)], axis=-1)


def boundary_iou_counts(
    predicted: Array, truth: Array, ignore: Array | None = None, width: int | None = None
) -> np.ndarray:
    """Band intersection and union of N (prediction, ground truth) pairs of one image.

    Arguments:
        predicted, truth: N x H x W bool, numpy or torch. Tensors on an accelerator are processed there
            in one batch; otherwise each pair is cropped to the bounding box of its two masks (the bands
            lie inside it, and the zeros around it erode like the image border) and eroded with scipy.
        ignore: H x W bool void region, removed from both bands, or None.
        width: band width; None = ``band_width(H, W)``.

    Returns:
        N x 2 int64 array of (|B(G) ∩ B(P)|, |B(G) ∪ B(P)|).
    """
    if tuple(predicted.shape) != tuple(truth.shape) or len(predicted.shape) != 3:
        raise ValueError(f"prediction {tuple(predicted.shape)} and ground truth {tuple(truth.shape)} must be N x H x W")
    width = band_width(*predicted.shape[-2:]) if width is None else width
    if on_accelerator(predicted):
        predicted = as_mask(predicted)
        keep = None if ignore is None else ~same_kind(ignore, predicted)
        return _band_counts(predicted, same_kind(truth, predicted), width, keep)
    predicted, truth = as_mask(to_numpy(predicted)), as_mask(to_numpy(truth))
    keep = None if ignore is None else ~as_mask(to_numpy(ignore))
    counts = np.zeros((predicted.shape[0], 2), dtype=np.int64)
    for index in range(predicted.shape[0]):
        window = bounding_window(predicted[index] | truth[index])
        if window is not None:
            counts[index] = _band_counts(
                predicted[index][window], truth[index][window], width, None if keep is None else keep[window]
            )
    return counts


def boundary_iou(predicted: Array, truth: Array, ignore: Array | None = None, width: int | None = None) -> np.ndarray:
    """Boundary IoU of each of N pairs (float64, N); an empty band union gives 1."""
    counts = boundary_iou_counts(predicted, truth, ignore, width)
    return ratio(counts[..., 0], counts[..., 1], empty=1.0)


@dataclass(frozen=True)
class BoundaryIoU:
    """mBIoU from the per-instance table: mean over instances of biou_inter / biou_union (0/0 → 1)."""

    name: str = "biou"
    label: str = "mBIoU"
    formula: str = "mean over instances of |B_d(G) ∩ B_d(P)| / |B_d(G) ∪ B_d(P)|, d = max(1, round(0.02·diagonal))"
    higher_is_better: bool = True

    def per_instance(self, table: pd.DataFrame) -> np.ndarray:
        missing = [column for column in COLUMNS if column not in table.columns]
        if missing:
            raise UserError(
                f"metric 'biou' needs the per-instance columns {', '.join(missing)}, which this table lacks; "
                "the evaluator fills them from sherpa_bench.metrics.boundary_iou.boundary_iou_counts"
            )
        return ratio(table["biou_inter"].to_numpy(), table["biou_union"].to_numpy(), empty=1.0)

    def aggregate(self, table: pd.DataFrame) -> float:
        return float(self.per_instance(table).mean()) if len(table) else float("nan")


METRICS.register("biou", "mBIoU (Boundary IoU, Cheng et al. 2021; d = 2% of the diagonal), mean over instances")(
    BoundaryIoU()
)
