"""The torch paths (batched, on the masks' device) give the numpy/scipy numbers.

Each comparison runs on CPU tensors everywhere and on CUDA where there is a GPU (the ``device``
fixture: ``-m gpu``; skipped without CUDA). The morphology kernels (``dilate_disk``, ``erode_square``) take the torch path for any
tensor, so they are compared directly too: the metric functions send CPU tensors through scipy.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from sherpa_bench.metrics.boundary_iou import boundary_iou_counts, erode_square
from sherpa_bench.metrics.davis import (
    VideoPair,
    boundary_f,
    boundary_map,
    davis_summary,
    dilate_disk,
    jaccard,
)
from sherpa_bench.metrics.stability import pairwise_iou


def on(array: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(array).to(device)


def blobs(seed: int, count: int, height: int, width: int, sigma: float = 4.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return ndimage.gaussian_filter(rng.random((count, height, width)), (0, sigma, sigma)) > 0.5


def instance_pairs(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    truth = blobs(seed, 12, 96, 130)
    predicted = np.roll(truth, 3, axis=2) ^ blobs(seed + 1, 12, 96, 130, sigma=1.5)
    predicted[0], truth[1] = False, True  # an empty prediction, a full ground truth
    void = np.zeros((96, 130), bool)
    void[:, :10] = True
    return truth, predicted, void


@pytest.mark.parametrize("radius", [1, 2, 8])
def test_torch_morphology_kernels_equal_scipy(device, radius):
    masks = blobs(5, 6, 70, 90, sigma=2.0)
    masks[0], masks[1] = False, True
    assert np.array_equal(dilate_disk(on(masks, device), radius).cpu().numpy(), dilate_disk(masks, radius))
    assert np.array_equal(erode_square(on(masks, device), radius).cpu().numpy(), erode_square(masks, radius))


def test_j_boundary_and_f_agree_with_numpy(device):
    truth, predicted, void = instance_pairs(0)
    assert torch.equal(boundary_map(on(truth, device)).cpu(), torch.from_numpy(boundary_map(truth)))
    np.testing.assert_allclose(
        jaccard(on(truth, device), on(predicted, device), on(void, device)),
        jaccard(truth, predicted, void),
        rtol=0,
        atol=1e-6,
    )
    np.testing.assert_allclose(
        boundary_f(on(truth, device), on(predicted, device)), boundary_f(truth, predicted), rtol=0, atol=1e-6
    )
    np.testing.assert_allclose(
        boundary_f(on(truth, device), on(predicted, device), on(void, device)),
        boundary_f(truth, predicted, void),
        rtol=0,
        atol=1e-6,
    )


def test_boundary_iou_counts_agree_with_numpy(device):
    truth, predicted, void = instance_pairs(1)
    assert np.array_equal(
        boundary_iou_counts(on(predicted, device), on(truth, device)), boundary_iou_counts(predicted, truth)
    )
    assert np.array_equal(
        boundary_iou_counts(on(predicted, device), on(truth, device), on(void, device), width=5),
        boundary_iou_counts(predicted, truth, void, 5),
    )


def test_stability_and_davis_summary_agree_with_numpy(device):
    masks = blobs(2, 5, 64, 64)
    np.testing.assert_allclose(pairwise_iou(on(masks, device)), pairwise_iou(masks), rtol=0, atol=1e-6)
    truth = np.maximum(np.where(blobs(3, 6, 60, 80), 1, 0), np.where(blobs(4, 6, 60, 80), 2, 0))
    predicted = np.roll(truth, 2, axis=1)
    on_device = VideoPair("v", on(truth, device), on(predicted, device))
    expected = davis_summary([VideoPair("v", truth, predicted)]).per_object
    got = davis_summary([on_device]).per_object
    np.testing.assert_allclose(
        got.drop(columns="sequence").to_numpy(), expected.drop(columns="sequence").to_numpy(), atol=1e-6
    )
