"""Matching-based instance metrics (micro-sam / elf protocol, metrics.md §4): F1, precision, recall, mSA.

Not SHERPA's paired ``f1``: here the predicted instances of an image are *matched* one-to-one to its
ground-truth instances, and an unmatched prediction is a false positive.

Per image, from two label images (0 = background):

1. IoU of every (prediction, ground truth) pair from the label contingency table (true IoUs: overlap
   with background counts in the union).
2. For each threshold τ = k/100 (k = 50, 55, …, 95), a Hungarian assignment
   (``scipy.optimize.linear_sum_assignment``) on the cost ``−[IoU >= τ] − IoU / (2·min(n_pred, n_gt))``:
   as many pairs as possible reach τ, ties broken by total IoU. TP = assigned pairs reaching τ,
   FP = n_pred − TP, FN = n_gt − TP.
3. precision = TP/(TP+FP), recall = TP/(TP+FN), F1 = 2TP/(2TP+FP+FN), SA = TP/(TP+FP+FN); each is 0
   when TP = 0 (elf's rule). **Deviation from elf:** an image with no ground truth and no prediction
   scores 1 (elf gives 0), the project's "nothing to find, nothing found" convention.
4. mSA = mean of SA over the 10 thresholds; SA50, SA75 = SA at 0.5, 0.75.

Thresholds are compared in integers, ``100·|∩| >= k·|∪|``, so an IoU of exactly 0.7 reaches 0.70.
elf uses ``np.arange(0.5, 1, 0.05)``, whose "0.7" is 0.7000000000000002; for such a pair elf's mSA is
0.4 where this one (and COCO) counts 5 of 10 thresholds.

Aggregation: the registered ``matched-*``, ``msa``, ``sa50``, ``sa75`` are per-image scores averaged
over images (micro-sam's tables). ``pooled-matched-f1@0.5`` sums TP, FP, FN over all images first,
2ΣTP / (2ΣTP+ΣFP+ΣFN) (StarDist's ``by_image=False``), which is steadier on images with few instances
(1 when there is nothing at all).

Prompted predictions (one mask per ground-truth instance) become a label image with
``label_image_from_masks``: larger masks first, each later mask filling only still-unlabelled pixels,
as micro-sam's ``merge_exclusively``. micro-sam then also splits every label into connected
components; that step is not applied here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from sherpa_bench.harness.registry import METRICS
from sherpa_bench.metrics._arrays import ratio

THRESHOLDS = tuple(range(50, 100, 5))  # IoU thresholds in percent: k/100


def label_image_from_masks(masks: np.ndarray) -> np.ndarray:
    """(N, H, W) bool masks → (H, W) int32 label image; mask i gets label i + 1 where it wins.

    Larger masks are pasted first (stable order among equal areas), so they win overlaps.
    """
    masks = np.asarray(masks, dtype=bool)
    labels = np.zeros(masks.shape[1:], dtype=np.int32)
    for index in np.argsort(-masks.reshape(len(masks), -1).sum(1), kind="stable"):
        labels[masks[index] & (labels == 0)] = index + 1
    return labels


def overlap_counts(predicted_labels: np.ndarray, truth_labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Intersections and unions (int64, n_pred x n_gt) between the instances of two H x W label images.

    Labels need not be contiguous; label 0 is background and is dropped after the unions are counted.
    """
    predicted_labels, truth_labels = np.asarray(predicted_labels), np.asarray(truth_labels)
    if predicted_labels.shape != truth_labels.shape:
        raise ValueError(f"label images differ in shape: {predicted_labels.shape} vs {truth_labels.shape}")
    # Map each label set onto 0..n with 0 kept as background, so that the contingency table is dense.
    predicted_ids, predicted_index = np.unique(np.concatenate([[0], predicted_labels.ravel()]), return_inverse=True)
    truth_ids, truth_index = np.unique(np.concatenate([[0], truth_labels.ravel()]), return_inverse=True)
    contingency = np.bincount(
        predicted_index[1:] * truth_ids.size + truth_index[1:], minlength=predicted_ids.size * truth_ids.size
    ).reshape(predicted_ids.size, truth_ids.size)
    intersection = contingency[1:, 1:]
    union = contingency.sum(1)[1:, None] + contingency.sum(0)[None, 1:] - intersection
    return intersection.astype(np.int64), union.astype(np.int64)


def matched_true_positives(
    intersection: np.ndarray, union: np.ndarray, thresholds: tuple[int, ...] = THRESHOLDS
) -> np.ndarray:
    """TP at each threshold (percent) of the one-to-one matching that maximises pairs with IoU >= τ."""
    matched = min(intersection.shape)
    true_positives = np.zeros(len(thresholds), dtype=np.int64)
    if matched == 0:
        return true_positives
    iou = intersection / union
    for index, threshold in enumerate(thresholds):
        reaches = 100 * intersection >= threshold * union
        if reaches.any():
            rows, columns = linear_sum_assignment(-reaches.astype(np.float64) - iou / (2 * matched))
            true_positives[index] = reaches[rows, columns].sum()
    return true_positives


def matching_table(images: Iterable[tuple[str, np.ndarray, np.ndarray]]) -> pd.DataFrame:
    """Per-image matching counts.

    Arguments:
        images: (image_id, predicted label image H x W, ground-truth label image H x W) per image.

    Returns:
        one row per (image_id, threshold) with columns image_id, threshold (percent), tp, fp, fn.
    """
    rows = []
    for image_id, predicted_labels, truth_labels in images:
        intersection, union = overlap_counts(predicted_labels, truth_labels)
        predicted_count, truth_count = intersection.shape
        for threshold, tp in zip(THRESHOLDS, matched_true_positives(intersection, union)):
            rows.append((image_id, threshold, int(tp), predicted_count - int(tp), truth_count - int(tp)))
    return pd.DataFrame(rows, columns=["image_id", "threshold", "tp", "fp", "fn"])


def matching_statistic(statistic: str, tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    """F1, precision, recall or SA from counts: 0 when TP = 0, 1 when TP = FP = FN = 0."""
    numerator, denominator = {
        "f1": (2 * tp, 2 * tp + fp + fn),
        "precision": (tp, tp + fp),
        "recall": (tp, tp + fn),
        "sa": (tp, tp + fp + fn),
    }[statistic]
    return np.where(tp + fp + fn == 0, 1.0, ratio(numerator, denominator, empty=0.0))


@dataclass(frozen=True)
class MatchedMetric:
    """A matching statistic averaged over ``thresholds`` per image, then over images."""

    name: str
    label: str
    formula: str
    statistic: str
    thresholds: tuple[int, ...]
    higher_is_better: bool = True
    kind: str = "matching"

    def per_image(self, table: pd.DataFrame) -> pd.Series:
        rows = table[table["threshold"].isin(self.thresholds)]
        counts = (rows[column].to_numpy() for column in ("tp", "fp", "fn"))
        scores = pd.Series(matching_statistic(self.statistic, *counts), index=rows.index)
        return scores.groupby(rows["image_id"], sort=False).mean()

    def aggregate(self, table: pd.DataFrame) -> float:
        return float(self.per_image(table).mean()) if len(table) else float("nan")


@dataclass(frozen=True)
class PooledMatchedF1:
    """F1 at IoU 0.5 from TP, FP, FN summed over all images."""

    name: str = "pooled-matched-f1@0.5"
    label: str = "F1@0.5 (pooled)"
    formula: str = "2ΣTP / (2ΣTP + ΣFP + ΣFN) over all images at IoU >= 0.5; 1 when all are 0"
    higher_is_better: bool = True
    kind: str = "matching"

    def aggregate(self, table: pd.DataFrame) -> float:
        sums = table[table["threshold"] == 50][["tp", "fp", "fn"]].sum()
        return float(matching_statistic("f1", *(np.asarray(sums[c]) for c in ("tp", "fp", "fn"))))


for _name, _label, _statistic, _thresholds, _formula in [
    ("matched-f1@0.5", "F1@0.5", "f1", (50,), "2TP / (2TP + FP + FN) at IoU >= 0.5, mean over images"),
    ("matched-precision@0.5", "Precision@0.5", "precision", (50,), "TP / (TP + FP) at IoU >= 0.5, mean over images"),
    ("matched-recall@0.5", "Recall@0.5", "recall", (50,), "TP / (TP + FN) at IoU >= 0.5, mean over images"),
    ("msa", "mSA", "sa", THRESHOLDS, "TP / (TP + FP + FN) averaged over IoU 0.50:0.05:0.95, mean over images"),
    ("sa50", "SA50", "sa", (50,), "TP / (TP + FP + FN) at IoU >= 0.5, mean over images"),
    ("sa75", "SA75", "sa", (75,), "TP / (TP + FP + FN) at IoU >= 0.75, mean over images"),
]:
    METRICS.register(_name, f"matching-based {_label} (micro-sam/elf, Hungarian): {_formula}")(
        MatchedMetric(_name, _label, _formula, _statistic, _thresholds)
    )
METRICS.register("pooled-matched-f1@0.5", "matching-based F1@0.5 with TP/FP/FN pooled over all images")(
    PooledMatchedF1()
)
