"""Stable-SAM stability score: mean pairwise IoU of the masks of one perturbed prompt."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sherpa_bench.harness.registry import METRICS
from sherpa_bench.metrics.stability import pairwise_iou, stability_score


def box(y0: int, x0: int, y1: int, x1: int) -> np.ndarray:
    mask = np.zeros((20, 20), dtype=bool)
    mask[y0:y1, x0:x1] = True
    return mask


def test_identical_masks_are_perfectly_stable_and_disjoint_ones_not_at_all():
    assert stability_score(np.stack([box(2, 2, 12, 12)] * 4)) == 1.0
    assert stability_score(np.stack([box(0, 0, 5, 5), box(10, 10, 15, 15)])) == 0.0


def test_two_empty_masks_agree():
    assert stability_score(np.zeros((3, 20, 20), bool)) == 1.0


def test_the_score_is_the_mean_over_unordered_pairs():
    masks = np.stack([box(2, 2, 12, 12), box(2, 4, 12, 14), box(2, 2, 12, 12)])
    # pairs (0,1) and (1,2): IoU 80/120; pair (0,2): 1
    assert stability_score(masks) == pytest.approx((2 / 3 + 1 + 2 / 3) / 3, abs=1e-15)


def test_one_mask_has_no_stability():
    with pytest.raises(ValueError, match="at least 2"):
        stability_score(np.zeros((1, 5, 5), bool))


@settings(max_examples=60, deadline=None)
@given(arrays(np.bool_, st.tuples(st.integers(2, 5), st.integers(1, 10), st.integers(1, 10))), st.randoms())
def test_the_score_ignores_the_order_of_the_masks_and_lies_in_the_unit_interval(masks, random):
    order = list(range(len(masks)))
    random.shuffle(order)
    assert stability_score(masks) == pytest.approx(stability_score(masks[order]), abs=1e-15)
    matrix = pairwise_iou(masks)
    assert np.array_equal(matrix, matrix.T)
    assert 0.0 <= stability_score(masks) <= 1.0


def test_registered_stability_averages_over_prompts():
    groups = [np.stack([box(2, 2, 12, 12)] * 2), np.stack([box(0, 0, 5, 5), box(10, 10, 15, 15)])]
    assert METRICS.get("stability").score(groups) == 0.5
    assert METRICS.get("stability").kind == "stability"
