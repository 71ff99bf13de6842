"""SHERPA's metrics (App. G): instance-level F1, mIoU, pixel-level Dice — hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis.extra.numpy import arrays

from sherpa_bench.harness.registry import METRICS
from sherpa_bench.metrics import pair_counts


def square_mask(height: int, width: int, top: int, left: int, bottom: int, right: int) -> np.ndarray:
    mask = np.zeros((height, width), dtype=bool)
    mask[top:bottom, left:right] = True
    return mask


def table(rows):
    return pd.DataFrame(rows, columns=["image_id", "tp", "fp", "fn"])


def test_pair_counts_of_shifted_squares():
    truth = square_mask(20, 20, 2, 2, 12, 12)
    predicted = square_mask(20, 20, 2, 4, 12, 14)
    tp, fp, fn = pair_counts(predicted[None], truth[None])[0]
    assert (tp, fp, fn) == (80, 20, 20)


def test_iou_two_thirds_and_f1_four_fifths_for_shifted_squares():
    rows = table([["a", 80, 20, 20]])
    assert METRICS.get("miou").aggregate(rows) == pytest.approx(2 / 3)
    assert METRICS.get("f1").aggregate(rows) == pytest.approx(0.8)


def test_void_pixels_drop_out_of_every_count():
    truth = square_mask(20, 20, 2, 2, 12, 12)
    predicted = square_mask(20, 20, 2, 2, 12, 14)
    void = square_mask(20, 20, 2, 12, 12, 14)
    assert tuple(pair_counts(predicted[None], truth[None])[0]) == (100, 20, 0)
    assert tuple(pair_counts(predicted[None], truth[None], void)[0]) == (100, 0, 0)


def test_instance_metrics_weigh_every_instance_equally_across_images():
    # image a: one perfect instance; image b: two instances with F1 0 and 0.5
    rows = table([["a", 100, 0, 0], ["b", 0, 10, 10], ["b", 10, 10, 10]])
    assert METRICS.get("f1").aggregate(rows) == pytest.approx((1 + 0 + 0.5) / 3)
    assert METRICS.get("miou").aggregate(rows) == pytest.approx((1 + 0 + 1 / 3) / 3)


def test_dice_pools_pixels_within_an_image_then_averages_images():
    # metrics.md §13 vector 17: (G 4 px, P 2 px inside G), (64 px perfect), (empty, empty) in one image
    one_image = table([["a", 2, 0, 2], ["a", 64, 0, 0], ["a", 0, 0, 0]])
    assert METRICS.get("dice").aggregate(one_image) == pytest.approx(132 / 134)
    # a second, perfect image weighs as much as the first, whatever its instance count
    two_images = pd.concat([one_image, table([["b", 5, 0, 0]])])
    assert METRICS.get("dice").aggregate(two_images) == pytest.approx((132 / 134 + 1) / 2)


def test_both_empty_scores_one_and_one_empty_scores_zero():
    rows = table([["a", 0, 0, 0]])
    assert METRICS.get("f1").aggregate(rows) == 1.0
    assert METRICS.get("miou").aggregate(rows) == 1.0
    assert METRICS.get("f1").aggregate(table([["a", 0, 5, 0]])) == 0.0
    assert METRICS.get("miou").aggregate(table([["a", 0, 0, 5]])) == 0.0


masks = arrays(np.bool_, (2, 12, 12))


@settings(max_examples=60, deadline=None)
@given(masks)
def test_f1_equals_dice_from_iou_identity_and_both_stay_in_unit_interval(pair):
    tp, fp, fn = pair_counts(pair[:1], pair[1:])[0]
    rows = table([["a", tp, fp, fn]])
    j = METRICS.get("miou").aggregate(rows)
    d = METRICS.get("f1").aggregate(rows)
    assert 0 <= j <= 1 and 0 <= d <= 1
    assert d == pytest.approx(2 * j / (1 + j))


@settings(max_examples=60, deadline=None)
@given(masks)
def test_pairing_is_symmetric_for_f1_and_iou(pair):
    forward = table([["a", *pair_counts(pair[:1], pair[1:])[0]]])
    backward = table([["a", *pair_counts(pair[1:], pair[:1])[0]]])
    for name in ("f1", "miou"):
        assert METRICS.get(name).aggregate(forward) == pytest.approx(METRICS.get(name).aggregate(backward))
