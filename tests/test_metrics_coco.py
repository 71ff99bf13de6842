"""COCO mask AP through pycocotools: metrics.md §13 vectors 21-25, RLE conventions, agreement on random masks."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from scipy import ndimage

from sherpa_bench.harness.registry import METRICS
from sherpa_bench.metrics.coco import DetectionImage, coco_mask_ap, encode_masks


def box(y0: int, x0: int, y1: int, x1: int, height: int = 64, width: int = 64) -> np.ndarray:
    mask = np.zeros((height, width), dtype=bool)
    mask[y0:y1, x0:x1] = True
    return mask


def single(truth: np.ndarray, predicted: np.ndarray) -> DetectionImage:
    return DetectionImage(truth[None], predicted[None], np.array([1.0]))


TWO = np.stack([box(0, 0, 10, 10), box(20, 20, 40, 40)])


def test_perfect_detections_score_one():
    assert coco_mask_ap([DetectionImage(TWO, TWO, np.array([0.9, 0.8]))]).ap == 1.0


def test_a_false_positive_scored_above_two_true_positives_gives_two_thirds():
    predicted = np.stack([box(50, 50, 60, 60), *TWO])
    assert coco_mask_ap([DetectionImage(TWO, predicted, np.array([0.95, 0.9, 0.8]))]).ap == pytest.approx(
        2 / 3, abs=1e-15
    )


def thinned_box() -> np.ndarray:
    """A 10 x 20 box less 29 pixels: IoU 171/200 = 0.855 with the full box."""
    mask = box(0, 0, 10, 20)
    mask[0, :], mask[1, :9] = False, False
    return mask


@pytest.mark.parametrize(
    "truth, predicted, ap, ap75",
    [
        (box(0, 0, 10, 10), box(0, 2, 10, 12), 0.4, 0.0),  # IoU 80/120: thresholds .50-.65
        (box(0, 0, 10, 10), box(0, 0, 10, 7), 0.5, 0.0),  # IoU exactly 0.7 reaches linspace's exact 0.70
        (box(0, 0, 10, 20), thinned_box(), 0.8, 1.0),  # IoU 0.855: thresholds .50-.85
    ],
)
def test_ap_counts_the_thresholds_a_single_detection_reaches(truth, predicted, ap, ap75):
    summary = coco_mask_ap([single(truth, predicted)])
    assert summary.ap == pytest.approx(ap, abs=1e-15)
    assert summary.ap50 == pytest.approx(1.0, abs=1e-15)
    assert summary.ap75 == pytest.approx(ap75, abs=1e-15)


def test_missing_one_of_two_objects_of_different_sizes():
    small, medium = box(0, 0, 20, 20), box(30, 30, 64, 64)  # 400 px and 1156 px
    summary = coco_mask_ap([DetectionImage(np.stack([small, medium]), small[None], np.array([1.0]))])
    assert summary.ap == pytest.approx(51 / 101, abs=1e-12)
    assert summary.ap_small == pytest.approx(1.0, abs=1e-15)
    assert summary.ap_medium == 0.0
    assert np.isnan(summary.ap_large)  # pycocotools' -1: no large ground truth


def test_pycocotools_iou_of_two_empty_masks_is_zero():
    empty = encode_masks(np.zeros((1, 8, 8), bool))
    assert mask_utils.iou(empty, empty, [0])[0, 0] == 0


def test_no_detection_scores_zero_and_no_ground_truth_is_nan():
    assert coco_mask_ap([DetectionImage(TWO, np.zeros((0, 64, 64), bool), np.zeros(0))]).ap == 0.0
    assert np.isnan(coco_mask_ap([DetectionImage(np.zeros((0, 64, 64), bool), TWO, np.array([0.5, 0.4]))]).ap)


def random_blobs(rng: np.random.Generator, count: int, height: int, width: int) -> np.ndarray:
    return ndimage.gaussian_filter(rng.random((count, height, width)), (0, 3, 3)) > 0.55


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pycocotools' decode under numpy 2: harmless
def test_rles_are_fortran_ordered_json_ready_and_round_trip_on_non_square_images():
    masks = random_blobs(np.random.default_rng(0), 5, 37, 53)
    rles = encode_masks(masks)
    json.dumps(rles)
    assert all(isinstance(rle["counts"], str) and rle["size"] == [37, 53] for rle in rles)
    assert np.array_equal(np.moveaxis(mask_utils.decode(rles), -1, 0).astype(bool), masks)
    assert mask_utils.area(rles).tolist() == masks.reshape(5, -1).sum(1).tolist()


def test_pycocotools_sees_the_same_ious_and_areas_as_the_masks():
    rng = np.random.default_rng(1)
    truth, predicted = random_blobs(rng, 4, 45, 70), random_blobs(rng, 6, 45, 70)
    ious = mask_utils.iou(encode_masks(predicted), encode_masks(truth), [0] * len(truth))
    flat_p, flat_t = predicted.reshape(6, -1).astype(float), truth.reshape(4, -1).astype(float)
    intersection = flat_p @ flat_t.T
    union = flat_p.sum(1)[:, None] + flat_t.sum(1)[None, :] - intersection
    assert np.allclose(ious, intersection / union, rtol=0, atol=1e-12)


def test_random_images_with_perfect_predictions_score_one_whatever_the_scores():
    rng = np.random.default_rng(2)
    images = []
    for _ in range(3):
        labels, count = ndimage.label(random_blobs(rng, 1, 60, 80)[0])
        masks = np.stack([labels == k for k in range(1, count + 1)])
        images.append(DetectionImage(masks, masks, rng.random(count)))
    assert coco_mask_ap(images).ap == 1.0


def test_registered_detection_metrics_read_the_summary():
    images = [DetectionImage(np.stack([box(0, 0, 10, 10)]), np.stack([box(0, 2, 10, 12)]), np.array([1.0]))]
    assert METRICS.get("coco-map").score(images) == pytest.approx(0.4, abs=1e-15)
    assert METRICS.get("coco-map50").score(images) == pytest.approx(1.0, abs=1e-15)
    assert METRICS.get("coco-map75").score(images) == 0.0
    assert METRICS.get("coco-map").kind == "detection"
