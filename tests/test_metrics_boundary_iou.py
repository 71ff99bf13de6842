"""Boundary IoU: metrics.md §13 vectors 26-29, the API's erosion, properties, and the instance-table metric."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage

from sherpa_bench.harness.errors import UserError
from sherpa_bench.harness.registry import METRICS
from sherpa_bench.metrics.boundary_iou import band_width, boundary_band, boundary_iou, boundary_iou_counts, erode_square


def box(y0: int, x0: int, y1: int, x1: int, size: int = 64) -> np.ndarray:
    mask = np.zeros((size, size), dtype=bool)
    mask[y0:y1, x0:x1] = True
    return mask


def test_band_width_is_two_percent_of_the_diagonal_at_least_one():
    assert [band_width(64, 64), band_width(480, 854), band_width(1024, 1024), band_width(10, 10)] == [2, 20, 29, 1]


def test_band_of_a_20_square_with_width_2_is_the_outer_ring_of_144_pixels():
    assert boundary_band(box(10, 10, 30, 30), 2).sum() == 20**2 - 16**2


def test_square_shifted_by_two_has_boundary_iou_one_third():
    counts = boundary_iou_counts(box(10, 12, 30, 32)[None], box(10, 10, 30, 30)[None])
    assert counts.tolist() == [[72, 216]]
    assert boundary_iou(box(10, 12, 30, 32)[None], box(10, 10, 30, 30)[None])[0] == 1 / 3


def test_nested_squares_sharing_a_corner():
    counts = boundary_iou_counts(box(10, 10, 40, 40)[None], box(10, 10, 30, 30)[None])
    assert counts.tolist() == [[76, 292]]


def test_a_full_mask_has_a_band_along_the_image_border():
    assert boundary_band(np.ones((64, 64), bool), 2).sum() == 64 * 64 - 60 * 60


def test_empty_union_is_one_and_one_empty_band_is_zero():
    empty = np.zeros((1, 64, 64), bool)
    assert boundary_iou(empty, empty)[0] == 1.0
    assert boundary_iou(box(10, 10, 30, 30)[None], empty)[0] == 0.0


@settings(max_examples=40, deadline=None)
@given(arrays(np.bool_, st.tuples(st.integers(1, 3), st.integers(3, 30), st.integers(3, 30))), st.integers(1, 5))
def test_square_erosion_equals_the_iterated_three_by_three_erosion_of_the_api(masks, width):
    expected = np.stack([ndimage.binary_erosion(m, np.ones((3, 3)), iterations=width, border_value=0) for m in masks])
    assert np.array_equal(erode_square(masks, width), expected)


pairs = arrays(np.bool_, st.tuples(st.integers(1, 3), st.integers(2, 24), st.integers(2, 24)))


@settings(max_examples=60, deadline=None)
@given(pairs, pairs)
def test_boundary_iou_is_symmetric_and_in_the_unit_interval(first, second):
    shape = tuple(min(a, b) for a, b in zip(first.shape, second.shape))
    predicted, truth = first[: shape[0], : shape[1], : shape[2]], second[: shape[0], : shape[1], : shape[2]]
    forward, backward = boundary_iou(predicted, truth), boundary_iou(truth, predicted)
    assert np.array_equal(forward, backward)
    assert ((forward >= 0) & (forward <= 1)).all()


@settings(max_examples=40, deadline=None)
@given(pairs, st.integers(0, 5), st.integers(0, 5), st.integers(1, 4))
def test_padding_with_void_background_leaves_the_counts_unchanged(masks, top, left, width):
    # Outside the image already counts as background, so a void margin of background changes nothing
    # (the band width is fixed: the default would grow with the diagonal).
    count, height, breadth = masks.shape
    padded = np.zeros((count, height + top + 3, breadth + left + 2), bool)
    padded[:, top : top + height, left : left + breadth] = masks
    void = np.ones(padded.shape[1:], bool)
    void[top : top + height, left : left + breadth] = False
    shifted = np.roll(masks, 1, axis=2)
    padded_shifted = np.zeros_like(padded)
    padded_shifted[:, top : top + height, left : left + breadth] = shifted
    assert np.array_equal(
        boundary_iou_counts(padded_shifted, padded, void, width), boundary_iou_counts(shifted, masks, None, width)
    )


def test_void_pixels_leave_both_bands():
    predicted, truth = box(10, 12, 30, 32)[None], box(10, 10, 30, 30)[None]
    void = np.zeros((64, 64), bool)
    void[:, :20] = True
    inside = np.zeros((64, 64), bool)
    inside[:, 20:] = True
    band_p, band_t = boundary_band(predicted, 2) & inside, boundary_band(truth, 2) & inside
    assert boundary_iou_counts(predicted, truth, void).tolist() == [[(band_p & band_t).sum(), (band_p | band_t).sum()]]


def test_registered_biou_is_the_mean_over_instances_of_the_table_columns():
    predicted = np.stack([box(10, 12, 30, 32), box(10, 10, 40, 40), np.zeros((64, 64), bool)])
    truth = np.stack([box(10, 10, 30, 30), box(10, 10, 30, 30), np.zeros((64, 64), bool)])
    counts = boundary_iou_counts(predicted, truth)
    table = pd.DataFrame({"image_id": "a", "biou_inter": counts[:, 0], "biou_union": counts[:, 1]})
    assert METRICS.get("biou").aggregate(table) == pytest.approx((1 / 3 + 76 / 292 + 1) / 3, abs=1e-15)


def test_biou_names_the_missing_columns():
    with pytest.raises(UserError, match="biou_inter, biou_union"):
        METRICS.get("biou").aggregate(pd.DataFrame({"image_id": ["a"], "tp": [1], "fp": [0], "fn": [0]}))
