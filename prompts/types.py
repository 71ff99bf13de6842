"""What a prompt protocol hands to the model: the prompts of every instance of one sample.

Protocols draw from a generator seeded by (seed, dataset, split, sample id), never by the order in
which samples are visited, so every method, every epoch order and every cap on the data sees the
same prompt for the same instance.
"""

from __future__ import annotations

import abc
import json
import zlib
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Prompts:
    """Prompts of the N instances of one sample, in original-image pixels.

    boxes: N x 4 XYXY (max exclusive), or None.
    points: N x P x 2 (x, y) = (column, row) of a pixel (SAM adds the half-pixel itself), or None;
        point_labels: N x P (1 = positive).
    masks: N x H x W bool coarse masks, or None.
    """

    boxes: np.ndarray | None = None
    points: np.ndarray | None = None
    point_labels: np.ndarray | None = None
    masks: np.ndarray | None = None

    def subset(self, chosen: np.ndarray) -> Prompts:
        """The prompts of the instances ``chosen`` (indices)."""

        def pick(array: np.ndarray | None) -> np.ndarray | None:
            return None if array is None else array[chosen]

        return Prompts(pick(self.boxes), pick(self.points), pick(self.point_labels), pick(self.masks))

    def describe(self, index: int) -> str:
        """Instance ``index``'s points as JSON (boxes have columns of their own; masks are re-made
        from the seed), so a run's points can be re-scored from ``instances.csv``."""
        if self.points is None:
            return ""
        return json.dumps({"points": self.points[index].tolist(), "labels": self.point_labels[index].tolist()})


class PromptProtocol(abc.ABC):
    """Makes the prompts of one sample's instances; an instance is registered in ``PROMPTS`` by name."""

    @abc.abstractmethod
    def make(self, masks: np.ndarray, rng: np.random.Generator) -> Prompts:
        """Prompts for the N x H x W ground-truth masks (N >= 1, none empty)."""


def sample_rng(seed: int, dataset: str, split: str, sample_id: str) -> np.random.Generator:
    """The generator of one sample's prompts: fixed by the seed and the sample's identity only."""
    key = zlib.crc32(f"{dataset}/{split}/{sample_id}".encode())
    return np.random.default_rng([seed, key])
