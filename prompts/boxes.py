"""Box prompts (the SHERPA paper's default, App. H: one box per instance, first mask output scored).

Convention: XYXY in original-image pixels, with the maximum *exclusive* (x1 = last column + 1), so
a box covers exactly the pixel squares of the mask's extent. SAM2's ``mask_to_box`` uses the
inclusive maximum; the two differ by one pixel.
"""

from __future__ import annotations

import numpy as np


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
