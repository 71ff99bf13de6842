"""Matching-based instance metrics (micro-sam / elf): metrics.md §13 vectors 18-20, optimality, aggregation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sherpa_bench.harness.registry import METRICS
from sherpa_bench.metrics.matching import (
    THRESHOLDS,
    label_image_from_masks,
    matched_true_positives,
    matching_table,
    overlap_counts,
)


def labels(height: int, width: int, *boxes: tuple[int, int, int, int]) -> np.ndarray:
    image = np.zeros((height, width), dtype=np.int64)
    for label, (y0, x0, y1, x1) in enumerate(boxes, start=1):
        image[y0:y1, x0:x1] = label
    return image


def score(name: str, *images: tuple[str, np.ndarray, np.ndarray]) -> float:
    return METRICS.get(name).aggregate(matching_table(images))


def test_one_match_one_miss_one_false_positive():
    truth = labels(40, 40, (0, 0, 10, 10), (20, 20, 30, 30))
    predicted = labels(40, 40, (0, 0, 10, 8), (30, 0, 40, 10))  # IoU 0.8 with A; C is disjoint
    image = ("a", predicted, truth)
    assert score("matched-precision@0.5", image) == 0.5
    assert score("matched-recall@0.5", image) == 0.5
    assert score("matched-f1@0.5", image) == 0.5
    assert score("sa50", image) == 1 / 3


def test_iou_exactly_seven_tenths_reaches_the_070_threshold_unlike_elf():
    image = ("a", labels(20, 20, (0, 0, 10, 7)), labels(20, 20, (0, 0, 10, 10)))
    assert score("msa", image) == 0.5  # thresholds .50 to .70, as COCO counts them
    assert (0.7 >= np.arange(0.5, 1.0, 0.05)).sum() == 4  # elf's float thresholds miss 0.70: its mSA is 0.4
    assert score("sa75", image) == 0.0


def test_an_image_with_nothing_scores_one_where_elf_gives_zero():
    nothing = ("a", np.zeros((8, 8), int), np.zeros((8, 8), int))
    for name in ("matched-f1@0.5", "matched-precision@0.5", "matched-recall@0.5", "msa", "pooled-matched-f1@0.5"):
        assert score(name, nothing) == 1.0


def test_no_prediction_scores_zero_precision_and_recall():
    missed = ("a", np.zeros((8, 8), int), labels(8, 8, (0, 0, 4, 4)))
    assert score("matched-precision@0.5", missed) == 0.0 and score("matched-recall@0.5", missed) == 0.0


def test_overlaps_count_background_in_the_union_and_accept_sparse_labels():
    truth = labels(10, 10, (0, 0, 4, 4)) * 7  # label 7 only
    predicted = labels(10, 10, (0, 0, 4, 2)) * 3
    intersection, union = overlap_counts(predicted, truth)
    assert intersection.tolist() == [[8]] and union.tolist() == [[16]]


def brute_force_true_positives(intersection: np.ndarray, union: np.ndarray, threshold: int) -> int:
    reaches = 100 * intersection >= threshold * union
    rows, columns = reaches.shape
    if min(rows, columns) == 0:
        return 0
    if rows > columns:
        reaches = reaches.T
        rows, columns = columns, rows
    return max(
        sum(reaches[r, c] for r, c in zip(range(rows), chosen))
        for chosen in itertools.permutations(range(columns), rows)
    )


@settings(max_examples=50, deadline=None)
@given(arrays(np.int64, (2, 8, 8), elements=st.integers(0, 4)))
def test_the_assignment_maximises_the_number_of_pairs_reaching_each_threshold(images):
    intersection, union = overlap_counts(images[0], images[1])
    found = matched_true_positives(intersection, union)
    for index, threshold in enumerate(THRESHOLDS):
        assert found[index] == brute_force_true_positives(intersection, union, threshold)


def test_scores_average_over_images_while_the_pooled_f1_sums_counts():
    crowded_truth = labels(40, 40, *[(0, 4 * k, 4, 4 * k + 3) for k in range(9)])
    crowded = ("many", crowded_truth, crowded_truth)  # 9 of 9 found
    sparse = ("few", np.zeros((10, 10), int), labels(10, 10, (0, 0, 4, 4)))  # 1 missed
    assert score("matched-f1@0.5", crowded, sparse) == 0.5
    assert score("pooled-matched-f1@0.5", crowded, sparse) == 18 / 19


def test_prompted_masks_merge_largest_first():
    small = np.zeros((10, 10), bool)
    small[2:5, 2:5] = True
    large = np.zeros((10, 10), bool)
    large[0:8, 0:8] = True
    merged = label_image_from_masks(np.stack([small, large, np.zeros_like(small)]))
    assert (merged == 2).sum() == 64 and (merged == 1).sum() == 0 and merged[9, 9] == 0


def test_registered_matching_metrics_are_not_the_paired_f1():
    assert METRICS.get("matched-f1@0.5").kind == "matching"
    assert not hasattr(METRICS.get("f1"), "kind")
    with pytest.raises(KeyError):
        METRICS.get("f1@0.5")
