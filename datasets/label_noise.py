"""Corrupted training labels, for SHERPA's guide-quality test (Table 20: 10 / 20 / 50 % noisy labels).

The paper does not say how its labels were corrupted. Choice: a seeded fraction of the instances get
their filled bounding box as the mask — a wrong label of the right place and size, the most common
annotation shortcut.
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np

from sherpa_bench.datasets.types import Sample, SegmentationDataset
from sherpa_bench.harness.errors import ConfigError


class NoisyLabels(SegmentationDataset):
    """``dataset`` with a ``fraction`` of its instance masks replaced by their bounding boxes."""

    def __init__(self, dataset: SegmentationDataset, fraction: float, seed: int) -> None:
        if not 0.0 <= fraction <= 1.0:
            raise ConfigError(f"label noise must be a fraction in [0, 1], got {fraction}")
        self.inner = dataset
        self.name = dataset.name
        self.split = dataset.split
        self.data_root = dataset.data_root
        self.fraction = fraction
        self.seed = seed

    def __len__(self) -> int:
        return len(self.inner)

    def _load(self, index: int) -> Sample:
        sample = self.inner[index]
        key = hashlib.sha256(f"{self.seed}/{sample.sample_id}".encode()).digest()[:8]
        corrupt = np.random.default_rng(int.from_bytes(key, "little")).random(len(sample.masks)) < self.fraction
        if not corrupt.any():
            return sample
        masks = sample.masks.copy()
        for index_ in np.flatnonzero(corrupt):
            rows = np.flatnonzero(masks[index_].any(axis=1))
            cols = np.flatnonzero(masks[index_].any(axis=0))
            masks[index_, rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1] = True
        return dataclasses.replace(sample, masks=masks, meta={**sample.meta, "noisy_instances": int(corrupt.sum())})
