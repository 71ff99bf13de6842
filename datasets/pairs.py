"""The shape shared by most image datasets: one image file and one mask file per sample.

A dataset of this shape is a subclass that says where each split's pairs are (``_pairs``) and how
its mask file becomes instances (``_instances``); listing, size checks and error wording are here.
"""

from __future__ import annotations

import abc
from pathlib import Path
from typing import ClassVar

import numpy as np

from sherpa_bench.datasets.encodings import binary_foreground, one_instance
from sherpa_bench.datasets.files import DatasetFiles
from sherpa_bench.datasets.types import Sample, SegmentationDataset

JPEG = (".jpg", ".jpeg")


class ImageMaskPairs(SegmentationDataset):
    """A split made of (image file, mask file) pairs under the data root.

    Class attributes: ``title`` (as the authors write it) and ``layout`` (the expected tree, shown
    with every problem). The default ``_instances`` reads a 0/255 mask as one object per image
    (saliency and dichotomous segmentation annotate one object).
    """

    title: ClassVar[str]
    layout: ClassVar[str]
    mask_encoding: ClassVar[str] = "8-bit 0/255 PNG (> 127 is foreground); the whole foreground is one instance"

    def __init__(self, split: str, data_root: Path | None = None) -> None:
        super().__init__(split, data_root)
        self.files = DatasetFiles(self.title, self.layout, data_root)
        self.pairs = self._pairs(self.files, split)
        if not self.pairs:
            raise self.files.not_found(f"split {split!r} has no images")

    @abc.abstractmethod
    def _pairs(self, files: DatasetFiles, split: str) -> list[tuple[Path, Path]]:
        """The split's (image, mask) paths in a stable order."""

    def _instances(self, mask_path: Path) -> tuple[np.ndarray, tuple[int, ...], np.ndarray | None]:
        """(N x H x W masks, ids, ignore region or None) of one mask file."""
        masks, ids = one_instance(binary_foreground(self.files.read(mask_path)))
        return masks, ids, None

    def _sample_id(self, image_path: Path) -> str:
        return image_path.stem

    def __len__(self) -> int:
        return len(self.pairs)

    def _load(self, index: int) -> Sample:
        image_path, mask_path = self.pairs[index]
        image = self.files.rgb(image_path)
        masks, ids, ignore = self._instances(mask_path)
        self.files.same_size(image.shape[:2], masks.shape[1:], image_path, mask_path)
        return Sample(
            sample_id=self._sample_id(image_path),
            image=image,
            masks=masks,
            instance_ids=ids,
            ignore=ignore,
            meta={"source": str(image_path), "mask": str(mask_path)},
        )
