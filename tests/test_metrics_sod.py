"""S-α, E-φ, weighted F, MAE through pysodmetrics: metrics.md §13 vectors 30-39, the normalize trap, agreement."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from sherpa_bench.harness.registry import METRICS
from sherpa_bench.metrics.sod import sod_summary

py_sod_metrics = pytest.importorskip("py_sod_metrics")

EMPTY, FULL = np.zeros((10, 10), bool), np.ones((10, 10), bool)


def box(y0: int, x0: int, y1: int, x1: int) -> np.ndarray:
    mask = np.zeros((10, 10), dtype=bool)
    mask[y0:y1, x0:x1] = True
    return mask


QUARTER, CENTRE = box(0, 0, 5, 5), box(3, 3, 7, 7)


def one(prediction: np.ndarray, truth: np.ndarray):
    return sod_summary([(prediction, truth)])


def test_s_alpha_of_trivial_ground_truths():
    assert one(EMPTY, EMPTY).s_alpha == 1.0
    assert one(QUARTER, EMPTY).s_alpha == 0.75
    assert one(QUARTER, FULL).s_alpha == 0.25


def test_s_alpha_of_an_empty_prediction_of_a_centred_square_and_of_a_perfect_one():
    assert one(EMPTY, CENTRE).s_alpha == pytest.approx(0.42, abs=1e-15)
    assert one(CENTRE, CENTRE).s_alpha == pytest.approx(1.0, abs=1e-14)


def test_e_phi_of_a_perfect_map_exceeds_one():
    summary = one(CENTRE, CENTRE)
    assert summary.e_phi_max == pytest.approx(100 / 99, abs=1e-14)
    assert summary.e_phi_adaptive == pytest.approx(100 / 99, abs=1e-14)
    # a binary map: E(mask) at thresholds 1..255, E(all foreground) at 0
    assert summary.e_phi_mean == pytest.approx((255 * 100 / 99 + 25 / 99) / 256, abs=1e-14)


def test_e_phi_with_an_empty_side():
    assert one(QUARTER, EMPTY).e_phi_max == pytest.approx(75 / 99, abs=1e-15)
    assert one(EMPTY, CENTRE).e_phi_max == pytest.approx(25 / 99, abs=1e-15)


def test_e_phi_adaptive_counts_an_empty_prediction_as_all_foreground():
    assert one(EMPTY, EMPTY).e_phi_adaptive == 0.0
    assert one(EMPTY, FULL).e_phi_adaptive == pytest.approx(100 / 99, abs=1e-15)


def test_weighted_f_perfect_empty_truth_and_empty_prediction():
    assert one(CENTRE, CENTRE).weighted_f == pytest.approx(1.0, abs=1e-12)
    assert one(QUARTER, EMPTY).weighted_f == 0.0 and one(EMPTY, EMPTY).weighted_f == 0.0
    assert one(EMPTY, CENTRE).weighted_f == 0.0


def test_mae_of_a_quarter_against_nothing():
    assert one(QUARTER, EMPTY).mae == 0.25


def test_default_normalize_empties_a_zero_one_ground_truth_but_the_wrapper_does_not():
    truth = CENTRE.astype(np.uint8)  # 0/1, as many loaders give it
    raw = py_sod_metrics.Smeasure()
    raw.step(truth.copy(), truth.copy())  # library default normalize=True: ground truth > 128 is empty
    assert raw.get_results()["sm"] == pytest.approx(0.84, abs=1e-15)
    assert one(truth.astype(np.float64), truth).s_alpha == pytest.approx(1.0, abs=1e-14)
    assert one(CENTRE, (truth * 255).astype(np.uint8)).s_alpha == pytest.approx(1.0, abs=1e-14)


def test_integer_predictions_and_out_of_range_values_are_refused():
    with pytest.raises(TypeError, match="0/255"):
        one(CENTRE.astype(np.uint8), CENTRE)
    with pytest.raises(ValueError, match="outside"):
        one(CENTRE * 2.0, CENTRE)


def soft_maps(seed: int, count: int = 4) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    pairs = []
    for index in range(count):
        truth = ndimage.gaussian_filter(rng.random((48, 64)), 4) > 0.5
        noisy = ndimage.gaussian_filter(truth.astype(float) + 0.6 * rng.standard_normal(truth.shape), 2)
        pairs.append((np.clip(noisy, 0, 1), truth if index else np.zeros_like(truth)))
    return pairs


def test_per_image_and_dataset_values_equal_the_library_run_over_the_whole_dataset():
    pairs = soft_maps(0)
    summary = sod_summary(pairs)
    measures = [
        py_sod_metrics.Smeasure(),
        py_sod_metrics.Emeasure(),
        py_sod_metrics.WeightedFmeasure(),
        py_sod_metrics.MAE(),
    ]
    for prediction, truth in pairs:
        for measure in measures:
            measure.step(prediction, truth, normalize=False)
    s, e, wf, mae = (measure.get_results() for measure in measures)
    assert summary.s_alpha == pytest.approx(s["sm"], abs=1e-15)
    assert summary.e_phi_mean == pytest.approx(e["em"]["curve"].mean(), abs=1e-15)
    assert summary.e_phi_adaptive == pytest.approx(e["em"]["adp"], abs=1e-15)
    assert summary.weighted_f == pytest.approx(wf["wfm"], abs=1e-15)
    assert summary.mae == pytest.approx(mae["mae"], abs=1e-15)
    assert summary.mae == pytest.approx(np.mean([np.abs(p - t).mean() for p, t in pairs]), abs=1e-15)


def test_scores_lie_in_the_unit_interval_except_e_phi():
    summary = sod_summary(soft_maps(1, 6))
    for column in ("s_alpha", "weighted_f", "mae"):
        assert summary.per_image[column].between(0, 1).all()
    assert one(CENTRE, CENTRE).e_phi_max > 1  # documented exception: MATLAB's N - 1 denominator


def test_registered_soft_map_metrics():
    pairs = [(QUARTER, EMPTY)]
    assert METRICS.get("mae").score(pairs) == 0.25 and METRICS.get("mae").higher_is_better is False
    assert METRICS.get("s-alpha").score(pairs) == 0.75
    assert METRICS.get("e-phi-mean").kind == "soft-map"
