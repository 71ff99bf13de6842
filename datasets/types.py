"""The one type that leaves a dataset: a :class:`Sample`, and the base class every dataset derives from."""

from __future__ import annotations

import abc
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Iterator, Mapping

import numpy as np

from sherpa_bench.harness.errors import ConfigError, MalformedDataError


@dataclass(frozen=True)
class Sample:
    """One image with its annotated instances.

    Attributes:
        sample_id: unique within its dataset split; stable across runs (used in caches and tables).
        image: H x W x 3 uint8 RGB.
        masks: N x H x W bool, one mask per annotated instance (N may be 0).
        instance_ids: N ids, the dataset's own ids of the instances, in the order of ``masks``.
        ignore: H x W bool region excluded from scoring where a metric supports it, or None.
        meta: free-form provenance (source file, generator settings).
    """

    sample_id: str
    image: np.ndarray
    masks: np.ndarray
    instance_ids: tuple[int, ...]
    ignore: np.ndarray | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = self.meta.get("source", self.sample_id)
        if self.image.ndim != 3 or self.image.shape[2] != 3 or self.image.dtype != np.uint8:
            raise MalformedDataError(
                f"{where}: image must be H x W x 3 uint8 RGB, got shape {self.image.shape} dtype {self.image.dtype}"
            )
        height, width = self.image.shape[:2]
        if self.masks.ndim != 3 or self.masks.shape[1:] != (height, width):
            raise MalformedDataError(
                f"{where}: masks have shape {self.masks.shape}, expected N x {height} x {width} "
                f"(the image size); resize or re-export the mask at the image's resolution"
            )
        if self.masks.dtype != np.bool_:
            raise MalformedDataError(f"{where}: masks must be bool, got {self.masks.dtype}")
        if len(self.instance_ids) != self.masks.shape[0]:
            raise MalformedDataError(f"{where}: {len(self.instance_ids)} instance ids for {self.masks.shape[0]} masks")
        if self.ignore is not None and self.ignore.shape != (height, width):
            raise MalformedDataError(f"{where}: ignore region has shape {self.ignore.shape}")

    @property
    def size(self) -> tuple[int, int]:
        """(H, W) of the original image."""
        return self.image.shape[0], self.image.shape[1]

    def content_hash(self) -> str:
        """Hash of the pixels and masks: proves two runs saw the same inputs."""
        digest = hashlib.sha256()
        digest.update(self.image.tobytes())
        digest.update(np.packbits(self.masks).tobytes())
        return digest.hexdigest()[:16]


class SegmentationDataset(abc.ABC):
    """A split of a dataset, indexable, yielding :class:`Sample` objects.

    Subclasses set the class attributes and implement ``__len__`` and ``_load``.
    A dataset that is also a fine-tuning task (it has ``train`` and ``valid`` splits) names the
    generalization datasets it is compared on in ``generalization``: group label -> dataset names,
    in the order of the paper's Table 1 (Group 1: far from the task, Group 2: near it).
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    splits: ClassVar[tuple[str, ...]] = ("test",)
    eval_split: ClassVar[str] = "test"
    generalization: ClassVar[Mapping[str, tuple[str, ...]]] = {}

    def __init__(self, split: str, data_root: Path | None = None) -> None:
        if split not in self.splits:
            raise ConfigError(f"dataset {self.name!r} has no split {split!r}; its splits are {', '.join(self.splits)}")
        self.split = split
        self.data_root = data_root

    @abc.abstractmethod
    def __len__(self) -> int: ...

    @abc.abstractmethod
    def _load(self, index: int) -> Sample: ...

    def __getitem__(self, index: int) -> Sample:
        if not 0 <= index < len(self):
            raise IndexError(f"{self.name}/{self.split}: index {index} out of range 0..{len(self) - 1}")
        return self._load(index)

    def __iter__(self) -> Iterator[Sample]:
        return (self[i] for i in range(len(self)))

    @classmethod
    def is_finetune_task(cls) -> bool:
        """A task has a training split, a validation split and generalization datasets to keep."""
        return "train" in cls.splits and "valid" in cls.splits and bool(cls.generalization)


class FirstImages(SegmentationDataset):
    """The first ``limit`` images of a dataset split: a quick run that is still the same data."""

    def __init__(self, dataset: SegmentationDataset, limit: int) -> None:
        self.inner = dataset
        self.name = dataset.name
        self.split = dataset.split
        self.data_root = dataset.data_root
        self.limit = min(limit, len(dataset))

    def __len__(self) -> int:
        return self.limit

    def _load(self, index: int) -> Sample:
        return self.inner[index]
