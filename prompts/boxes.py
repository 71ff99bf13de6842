"""Box prompts: the tight box (SHERPA's default, App. H) and Stable-SAM's noisy box.

Convention: XYXY in original-image pixels, with the maximum *exclusive* (x1 = last column + 1), so
a box covers exactly the pixel squares of the mask's extent. SAM2's ``mask_to_box`` uses the
inclusive maximum; the two differ by one pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sherpa_bench.harness.registry import PROMPTS
from sherpa_bench.prompts.types import PromptProtocol, Prompts


def box_from_mask(mask: np.ndarray) -> np.ndarray:
    """Tight XYXY box (float, max exclusive) of a non-empty bool H x W mask."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        raise ValueError("cannot box an empty mask")
    return np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], dtype=np.float64)


def boxes_for_sample(masks: np.ndarray) -> np.ndarray:
    """N x 4 tight boxes for the N instance masks of a sample."""
    if masks.shape[0] == 0:
        return np.zeros((0, 4))
    return np.stack([box_from_mask(m) for m in masks])


def jitter_boxes(boxes: np.ndarray, rng: np.random.Generator, scale: float, size: tuple[int, int]) -> np.ndarray:
    """Move each side by U(-scale, scale) x the box's side length, clipped to the image (H, W)."""
    if boxes.shape[0] == 0:
        return boxes
    widths = boxes[:, 2] - boxes[:, 0]
    heights = boxes[:, 3] - boxes[:, 1]
    sides = np.stack([widths, heights, widths, heights], axis=1)
    moved = boxes + rng.uniform(-scale, scale, boxes.shape) * sides
    height, width = size
    moved[:, [0, 2]] = np.clip(moved[:, [0, 2]], 0, width)
    moved[:, [1, 3]] = np.clip(moved[:, [1, 3]], 0, height)
    too_small = (moved[:, 2] - moved[:, 0] < 1) | (moved[:, 3] - moved[:, 1] < 1)
    moved[too_small] = boxes[too_small]
    return moved


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of paired XYXY boxes (N x 4 each)."""
    inter_w = np.clip(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0, None)
    inter_h = np.clip(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0, None)
    inter = inter_w * inter_h
    area = lambda x: (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1])  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def noisy_boxes(
    boxes: np.ndarray, rng: np.random.Generator, scale: float, min_iou: float, size: tuple[int, int]
) -> np.ndarray:
    """Stable-SAM's noisy boxes: each coordinate moves by U(-1, 1) x scale x half the box's side
    (the HQ-SAM / DN-DETR convention behind "noise scale 0.4"), clipped to the image, and each box
    is drawn again until its IoU with the true box is at least ``min_iou``."""
    height, width = size
    result = boxes.copy()
    pending = np.arange(len(boxes))
    while pending.size:
        true = boxes[pending]
        halves = np.stack([true[:, 2] - true[:, 0], true[:, 3] - true[:, 1]] * 2, axis=1) / 2
        moved = true + rng.uniform(-1.0, 1.0, true.shape) * scale * halves
        moved[:, [0, 2]] = np.clip(moved[:, [0, 2]], 0, width)
        moved[:, [1, 3]] = np.clip(moved[:, [1, 3]], 0, height)
        ordered = np.stack([np.minimum(moved[:, 0], moved[:, 2]), np.minimum(moved[:, 1], moved[:, 3]),
                            np.maximum(moved[:, 0], moved[:, 2]), np.maximum(moved[:, 1], moved[:, 3])], axis=1)  # fmt: skip
        accepted = box_iou(ordered, true) >= min_iou
        result[pending[accepted]] = ordered[accepted]
        pending = pending[~accepted]
    return result


class TightBox(PromptProtocol):
    """The tight box around each instance (SHERPA's protocol; the default). Draws nothing."""

    def make(self, masks: np.ndarray, rng: np.random.Generator) -> Prompts:
        return Prompts(boxes=boxes_for_sample(masks))


@dataclass(frozen=True)
class NoisyBox(PromptProtocol):
    """Stable-SAM's noisy box: noise scale 0.4, redrawn until IoU >= 0.5 with the true box."""

    scale: float = 0.4
    min_iou: float = 0.5

    def make(self, masks: np.ndarray, rng: np.random.Generator) -> Prompts:
        size = (masks.shape[1], masks.shape[2])
        return Prompts(boxes=noisy_boxes(boxes_for_sample(masks), rng, self.scale, self.min_iou, size))


PROMPTS.register("box")(TightBox())
PROMPTS.register("noisy-box")(NoisyBox())
