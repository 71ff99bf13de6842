"""DAVIS J&F and VOST J / J_last: metrics.md §13 vectors, properties, per-frame oracles.

Per-frame oracles: a slow reference written here from the definitions (always), and vos-benchmark
(bit-identical to davis2017 per frame) when it is installed. It is not in the test extra: it requires
the GUI ``opencv-python``, which pip would install (5.x) next to pysodmetrics' ``opencv-python-headless``
(4.x), two packages owning one ``cv2``. Install it with ``pip install --no-deps vos-benchmark``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage

from sherpa_bench.harness.registry import METRICS
from sherpa_bench.metrics.davis import (
    VideoPair,
    boundary_f,
    boundary_map,
    davis_summary,
    frame_statistics,
    jaccard,
    tolerance_radius,
    vost_summary,
)


def box(height: int, width: int, y0: int, x0: int, y1: int, x1: int) -> np.ndarray:
    mask = np.zeros((height, width), dtype=bool)
    mask[y0:y1, x0:x1] = True
    return mask


def random_blob(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    return ndimage.gaussian_filter(rng.random((height, width)), 2.5) > 0.5


# --- per-frame J (vectors 1-4) ---------------------------------------------------------------------


def test_j_both_empty_is_one_and_one_empty_is_zero():
    empty, square = np.zeros((20, 20), bool), box(20, 20, 2, 2, 12, 12)
    assert jaccard(empty, empty) == 1.0
    assert jaccard(square, empty) == 0.0 and jaccard(empty, square) == 0.0


def test_j_of_squares_shifted_by_two_is_two_thirds():
    assert jaccard(box(20, 20, 2, 2, 12, 12), box(20, 20, 2, 4, 12, 14)) == 80 / 120


def test_void_pixels_leave_numerator_and_denominator():
    truth, predicted, void = box(20, 20, 2, 2, 12, 12), box(20, 20, 2, 2, 12, 14), box(20, 20, 2, 12, 12, 14)
    assert jaccard(truth, predicted, void) == 1.0
    assert jaccard(truth, predicted) == 100 / 120


# --- boundary map and F (vectors 6-11) ---------------------------------------------------------------


def test_single_pixel_boundary_is_the_two_by_two_block_toward_the_origin():
    boundary = boundary_map(box(10, 10, 5, 5, 6, 6))
    assert set(zip(*np.nonzero(boundary))) == {(4, 4), (4, 5), (5, 4), (5, 5)}


def test_square_of_side_k_has_4k_boundary_pixels_and_the_full_image_none():
    assert boundary_map(box(10, 10, 3, 3, 7, 7)).sum() == 16
    assert boundary_map(np.ones((10, 10), bool)).sum() == 0


def test_tolerance_radius_is_ceil_of_0_008_diagonal():
    assert tolerance_radius(100, 100) == 2
    assert tolerance_radius(480, 854) == 8
    assert tolerance_radius(1080, 1920) == 18
    assert tolerance_radius(480, 854, bound_th=3) == 3


def test_f_both_empty_is_one_and_one_empty_is_zero():
    empty, square = np.zeros((100, 100), bool), box(100, 100, 20, 20, 60, 60)
    assert boundary_f(empty, empty) == 1.0
    assert boundary_f(square, empty) == 0.0 and boundary_f(empty, square) == 0.0


def test_full_truth_against_empty_prediction_gives_f_one_but_j_zero():
    full, empty = np.ones((100, 100), bool), np.zeros((100, 100), bool)
    assert boundary_f(full, empty) == 1.0
    assert jaccard(full, empty) == 0.0


def test_shift_within_tolerance_gives_f_one_and_beyond_gives_one_half():
    truth = box(100, 100, 20, 20, 60, 60)
    assert boundary_f(truth, box(100, 100, 20, 22, 60, 62)) == 1.0
    assert boundary_f(truth, box(100, 100, 20, 25, 60, 65)) == 0.5


def test_void_turns_masks_into_background_before_boundaries():
    # The prediction only differs from the truth inside the void band, so F becomes perfect.
    truth, predicted, void = (
        box(100, 100, 20, 20, 60, 60),
        box(100, 100, 20, 20, 60, 70),
        box(100, 100, 0, 60, 100, 100),
    )
    assert boundary_f(truth, predicted) < 1.0
    assert boundary_f(truth, predicted, void) == 1.0


# --- per-object statistics (vectors 12-16) -------------------------------------------------------------


def test_mean_recall_decay_of_a_linear_ramp():
    stats = frame_statistics([1, 0.8, 0.6, 0.4, 0.2])
    assert stats.mean == pytest.approx(0.6, abs=1e-15)
    assert stats.recall == 0.6
    assert stats.decay == pytest.approx(0.6, abs=1e-15)


def test_recall_is_strictly_above_one_half():
    stats = frame_statistics([0.5, 0.5, 0.51, 0.49])
    assert stats.recall == 0.25 and stats.decay == 0.0


def test_decay_of_one_and_two_frames():
    assert frame_statistics([0.7]).decay == 0.0
    assert frame_statistics([1.0, 0.0]).decay == 1.0


def test_nan_frames_are_ignored_by_the_mean_and_count_as_recall_misses():
    stats = frame_statistics([1, np.nan, 0.4, 0.6])
    assert stats.mean == pytest.approx(2 / 3, abs=1e-15)
    assert stats.recall == 0.5


def test_decay_of_300_frames_is_finite_where_the_uint8_indices_of_davis2017_give_nan():
    values = np.linspace(1, 0, 300)
    wrapped = (np.round(np.linspace(1, 300, 5) + 1e-10) - 1).astype(np.uint8)  # davis2017's cast
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        assert np.isnan(
            np.nanmean(values[wrapped[0] : wrapped[1] + 1]) - np.nanmean(values[wrapped[3] : wrapped[4] + 1])
        )
    # int64 bins over 300 frames: [0, 75], [224, 299] (ids 0, 75, 150, 224, 299)
    assert frame_statistics(values).decay == pytest.approx(values[0:76].mean() - values[224:300].mean(), abs=1e-15)


@settings(max_examples=40, deadline=None)
@given(st.integers(256, 600), st.integers(0, 2**32 - 1))
def test_decay_is_finite_and_matches_its_bins_for_long_videos(frames, seed):
    values = np.random.default_rng(seed).random(frames)
    ids = [(6 + (frames - 1) * i) // 4 - 1 for i in range(5)]  # round-half-up(linspace(1, N, 5)) - 1 in integers
    assert np.isfinite(frame_statistics(values).decay)
    expected = values[ids[0] : ids[1] + 1].mean() - values[ids[3] : ids[4] + 1].mean()
    assert frame_statistics(values).decay == pytest.approx(expected, abs=1e-12)


# --- properties ---------------------------------------------------------------------------------------------

pairs = arrays(np.bool_, st.tuples(st.just(2), st.integers(2, 14), st.integers(2, 14)))


@settings(max_examples=60, deadline=None)
@given(pairs)
def test_j_and_f_are_symmetric_and_in_the_unit_interval(pair):
    truth, predicted = pair
    for measure in (jaccard, boundary_f):
        forward, backward = measure(truth, predicted), measure(predicted, truth)
        assert forward == backward
        assert 0.0 <= forward <= 1.0


@settings(max_examples=60, deadline=None)
@given(pairs, arrays(np.bool_, (2, 20, 20)), st.integers(0, 6), st.integers(0, 6))
def test_j_is_invariant_to_padding_with_void_whatever_lies_there(pair, filler, top, left):
    truth, predicted = pair
    height, width = truth.shape
    padded_truth, padded_predicted = filler[0].copy(), filler[1].copy()
    void = np.ones((20, 20), bool)
    window = (slice(top, top + height), slice(left, left + width))
    padded_truth[window], padded_predicted[window], void[window] = truth, predicted, False
    assert jaccard(padded_truth, padded_predicted, void) == jaccard(truth, predicted)


# --- independent slow reference (always runs; vos-benchmark below when it is installed) ---------------------


def slow_boundary(mask: np.ndarray) -> np.ndarray:
    """seg2bmap pixel by pixel, from its definition in metrics.md §5.2."""
    height, width = mask.shape
    boundary = np.zeros_like(mask)
    for y in range(height):
        for x in range(width):
            east = x + 1 < width and mask[y, x + 1]
            south = y + 1 < height and mask[y + 1, x]
            south_east = x + 1 < width and y + 1 < height and mask[y + 1, x + 1]
            if y == height - 1 and x == width - 1:
                boundary[y, x] = False
            elif y == height - 1:
                boundary[y, x] = mask[y, x] != east
            elif x == width - 1:
                boundary[y, x] = mask[y, x] != south
            else:
                boundary[y, x] = mask[y, x] != east or mask[y, x] != south or mask[y, x] != south_east
    return boundary


def slow_f(truth: np.ndarray, predicted: np.ndarray) -> float:
    """davis2017 F by brute-force distances between boundary pixels (no distance transform)."""
    radius = math.ceil(0.008 * math.hypot(*truth.shape))
    points_t, points_p = np.argwhere(slow_boundary(truth)), np.argwhere(slow_boundary(predicted))
    if len(points_t) == 0 or len(points_p) == 0:
        return 1.0 if len(points_t) == len(points_p) else 0.0
    squared = ((points_p[:, None, :] - points_t[None, :, :]) ** 2).sum(-1)
    precision = (squared.min(1) <= radius**2).mean()
    recall = (squared.min(0) <= radius**2).mean()
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def test_per_frame_j_and_f_equal_a_slow_reference_from_the_definitions():
    rng = np.random.default_rng(1)
    for index in range(24):
        height, width = [(23, 41), (48, 48), (64, 30)][index % 3]
        truth = random_blob(rng, height, width)
        predicted = np.roll(truth, int(rng.integers(-3, 4)), axis=index % 2) ^ (rng.random((height, width)) > 0.97)
        assert np.array_equal(boundary_map(truth), slow_boundary(truth))
        assert jaccard(truth, predicted) == pytest.approx(
            (truth & predicted).sum() / max(1, (truth | predicted).sum()), abs=1e-15
        )
        assert boundary_f(truth, predicted) == pytest.approx(slow_f(truth, predicted), abs=1e-12)


# --- vos-benchmark per-frame oracle --------------------------------------------------------------------------


def test_per_frame_j_and_f_equal_vos_benchmark_bit_for_bit():
    evaluator_module = pytest.importorskip("vos_benchmark.evaluator")
    rng = np.random.default_rng(0)
    sizes = [(37, 91), (100, 100), (64, 130), (130, 64), (240, 427)]
    cases = []
    for index in range(40):
        height, width = sizes[index % len(sizes)]
        truth = random_blob(rng, height, width)
        predicted = (
            np.roll(truth, int(rng.integers(-4, 5)), axis=index % 2) if index % 3 else random_blob(rng, height, width)
        )
        cases.append((truth, predicted))
    cases += [
        (np.ones((50, 60), bool), np.zeros((50, 60), bool)),
        (box(50, 60, 0, 0, 50, 10), box(50, 60, 0, 0, 50, 13)),
    ]
    for truth, predicted in cases:
        evaluator = evaluator_module.Evaluator()
        evaluator.feed_frame(predicted.astype(np.uint8), truth.astype(np.uint8))
        assert jaccard(truth, predicted) == evaluator.object_iou[1][0]
        assert boundary_f(truth, predicted) == evaluator.boundary_f[1][0]


# --- sequences ------------------------------------------------------------------------------------------------


def late_object_video(frames: int = 10) -> VideoPair:
    """Object 1 is a 30 x 40 box predicted 3 px to the right; object 2 enters at t = 5, never predicted."""
    truth = np.zeros((frames, 100, 100), np.int64)
    predicted = np.zeros_like(truth)
    truth[:, 10:40, 10:50] = 1
    predicted[:, 10:40, 13:53] = 1
    truth[5:, 60:80, 60:80] = 2
    return VideoPair("late", truth, predicted)


def test_objects_come_from_the_first_frame_unlike_vos_benchmark():
    evaluator_module = pytest.importorskip("vos_benchmark.evaluator")
    video = late_object_video()
    summary = davis_summary([video])
    assert list(summary.per_object.object_id) == [1]
    assert summary.j_mean == 1110 / 1290
    evaluator = evaluator_module.Evaluator()
    for frame in range(1, 9):
        evaluator.feed_frame(video.predicted[frame].astype(np.uint8), video.truth[frame].astype(np.uint8))
    per_object_j, _ = evaluator.conclude()
    assert np.mean(list(per_object_j.values())) / 100 == pytest.approx(1110 / 1290 / 2, abs=1e-12)


def test_first_and_last_frames_are_not_scored():
    truth = np.zeros((5, 30, 30), np.int64)
    truth[:, 5:15, 5:15] = 1
    predicted = truth.copy()
    predicted[0], predicted[-1] = 0, 0
    summary = davis_summary([VideoPair("ends", truth, predicted)])
    assert (summary.j_mean, summary.f_mean, summary.jf_mean) == (1.0, 1.0, 1.0)


def test_missing_ids_are_empty_objects_that_count_in_the_object_weighted_mean():
    truth = np.zeros((4, 30, 30), np.int64)
    truth[:, 2:12, 2:12] = 1
    truth[:, 15:25, 15:25] = 3  # id 2 is absent: an always-empty object
    predicted = truth.copy()
    predicted[:, 15:25, 15:25] = 0  # object 3 is missed
    summary = davis_summary([VideoPair("gap", truth, predicted)])
    assert list(summary.per_object.object_id) == [1, 2, 3]
    assert list(summary.per_object.j_mean) == [1.0, 1.0, 0.0]
    assert summary.j_mean == 2 / 3 and summary.j_recall == 2 / 3


def test_global_means_weigh_objects_not_sequences():
    one = np.zeros((3, 20, 20), np.int64)
    one[:, 2:8, 2:8] = 1
    two = np.zeros((3, 20, 20), np.int64)
    two[:, 2:8, 2:8], two[:, 10:16, 10:16] = 1, 2
    missed = two.copy()
    missed[missed == 2] = 0
    summary = davis_summary([VideoPair("a", one, one), VideoPair("b", two, missed)])
    assert summary.j_mean == pytest.approx(2 / 3)  # (1 + 1 + 0) / 3, not (1 + 0.5) / 2


def test_a_predicted_id_beyond_the_first_frame_objects_is_an_error_for_davis_only():
    truth = np.zeros((4, 20, 20), np.int64)
    truth[:, 2:8, 2:8] = 1
    predicted = truth.copy()
    predicted[:, 10:12, 10:12] = 2
    with pytest.raises(ValueError, match="predicted label 2"):
        davis_summary([VideoPair("extra", truth, predicted)])
    assert vost_summary([VideoPair("extra", truth, predicted)]).j_mean == 1.0


def test_sequences_need_three_frames():
    with pytest.raises(ValueError, match="3 are needed"):
        davis_summary([VideoPair("short", np.ones((2, 5, 5), int), np.ones((2, 5, 5), int))])


def test_vost_j_last_averages_the_last_quarter_of_the_evaluated_frames():
    # 10 annotated frames -> 8 evaluated (1..8); the last quarter starts at floor(0.75 * 8) = 6: frames 7, 8.
    truth = np.zeros((10, 20, 20), np.int64)
    truth[:, 0:10, 0:10] = 1
    predicted = truth.copy()
    predicted[7, 0:10, 0:5] = 0  # J = 0.5 at frame 7
    predicted[8] = 0  # J = 0 at frame 8
    summary = vost_summary([VideoPair("vost", truth, predicted)])
    assert summary.j_last == 0.25
    assert summary.j_mean == pytest.approx((6 + 0.5 + 0) / 8)


def test_registered_video_metrics_read_their_protocol_summary():
    video = late_object_video()
    summary = davis_summary([video])
    assert METRICS.get("davis-j").score([video]) == summary.j_mean
    assert METRICS.get("davis-jf").score([video]) == (summary.j_mean + summary.f_mean) / 2
    assert METRICS.get("davis-j-decay").higher_is_better is False
    assert METRICS.get("vost-j-last").score([video]) == vost_summary([video]).j_last
    assert {METRICS.get(name).kind for name in ("davis-jf", "vost-j")} == {"video"}
