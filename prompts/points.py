"""Point prompts: k positive points per instance (Stable-SAM: 1, 3, 5, 10) and SHERPA's App. D set.

``points-k``: the first point is the interior point farthest from the boundary (the maximum of the
Euclidean distance transform of the zero-padded mask, the first in row-major order on ties: SAM's
"centre" point, micro-sam's default); the other k - 1 are drawn uniformly from the mask's other
pixels, without replacement (with replacement when the mask is smaller than k).

``sherpa-points``: SHERPA App. D, ten points: the centre of mass of the mask, then nine random
points inside it. Choice: a centre of mass that falls outside the mask (a ring, a C shape) is moved
to the mask pixel nearest to it, so that every point is positive and inside its object.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from sherpa_bench.harness.registry import PROMPTS
from sherpa_bench.prompts.types import PromptProtocol, Prompts


def farthest_from_boundary(mask: np.ndarray) -> tuple[int, int]:
    """(row, col) of the interior pixel farthest from the mask's boundary (image borders count as boundary)."""
    distance = ndimage.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
    return np.unravel_index(int(np.argmax(distance)), mask.shape)


def centre_of_mass(mask: np.ndarray) -> tuple[int, int]:
    """(row, col) of the rounded centre of mass, or the nearest mask pixel when it lies outside."""
    rows, cols = np.nonzero(mask)
    row, col = int(round(rows.mean())), int(round(cols.mean()))
    if mask[row, col]:
        return row, col
    nearest = int(np.argmin((rows - row) ** 2 + (cols - col) ** 2))
    return int(rows[nearest]), int(cols[nearest])


def random_inside(mask: np.ndarray, first: tuple[int, int], count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` (row, col) pixels of the mask other than ``first``, uniformly drawn."""
    rows, cols = np.nonzero(mask)
    others = np.flatnonzero(~((rows == first[0]) & (cols == first[1])))
    if others.size == 0:
        others = np.arange(rows.size)
    chosen = rng.choice(others, size=count, replace=others.size < count)
    return np.stack([rows[chosen], cols[chosen]], axis=1)


@dataclass(frozen=True)
class PositivePoints(PromptProtocol):
    """``count`` positive points per instance; the first where ``first`` says, the rest random."""

    count: int
    first: str = "center"  # "center" (farthest from the boundary) or "com" (centre of mass)

    def make(self, masks: np.ndarray, rng: np.random.Generator) -> Prompts:
        locate = farthest_from_boundary if self.first == "center" else centre_of_mass
        per_instance = []
        for mask in masks:
            first = locate(mask)
            rest = random_inside(mask, first, self.count - 1, rng)
            rows_cols = np.concatenate([np.array([first]), rest]) if self.count > 1 else np.array([first])
            per_instance.append(rows_cols[:, ::-1].astype(np.float64))  # (row, col) -> (x, y)
        points = np.stack(per_instance)
        return Prompts(points=points, point_labels=np.ones(points.shape[:2], dtype=np.int64))


for _count in (1, 3, 5, 10):
    PROMPTS.register(
        f"points-{_count}",
        f"{_count} positive point(s): the first farthest from the boundary, the rest random inside (Stable-SAM)",
    )(PositivePoints(_count))
PROMPTS.register("sherpa-points", "10 positive points: centre of mass + 9 random inside (SHERPA App. D)")(
    PositivePoints(10, first="com")
)
