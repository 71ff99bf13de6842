"""DIS5K (Qin et al., 2022): highly accurate segmentation of thin, detailed objects; the real task
behind ``toy-thin`` (the SHERPA paper calls it DISK-5k).

Read from the official release::

    <root>/DIS5K/DIS-TR/{im/*.jpg, gt/*.png}      split "train"
    <root>/DIS5K/DIS-VD/...                       split "valid"
    <root>/DIS5K/DIS-TE1/ ... DIS-TE4/            splits "test1" ... "test4"

``<root>`` is the ``data_root`` argument, else the environment variable ``SHERPA_BENCH_DATA``.
An image and its mask share the file stem; masks with no image are ignored.

Choices:
    * Masks are 8-bit 0/255 PNGs; of a 3-channel PNG, channel 0 is read. Foreground is > 127.
    * DIS annotates one object per image, so the whole foreground is ONE instance (id 1), even
      when it falls apart into several connected pieces. A mask with no foreground gives a
      sample with no instance, not an error.
    * Only the folder listing is checked on construction; images are decoded (and checked for
      corruption and image/mask size agreement) when a sample is loaded.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from sherpa_bench.datasets.types import Sample, SegmentationDataset
from sherpa_bench.harness.errors import DatasetNotFoundError, MalformedDataError
from sherpa_bench.harness.registry import DATASETS

DATA_ROOT_ENV = "SHERPA_BENCH_DATA"
SPLIT_FOLDERS = {
    "train": "DIS-TR",
    "valid": "DIS-VD",
    "test1": "DIS-TE1",
    "test2": "DIS-TE2",
    "test3": "DIS-TE3",
    "test4": "DIS-TE4",
}
IMAGE_SUFFIXES = (".jpg", ".jpeg")
HOW_TO_SET_ROOT = f"--data-root DIR or {DATA_ROOT_ENV}=DIR"
EXPECTED_LAYOUT = """expected layout:
  DIR/
  └── DIS5K/
      ├── DIS-TR/             (train)
      │   ├── im/<name>.jpg
      │   └── gt/<name>.png   (same stem, 8-bit 0/255)
      ├── DIS-VD/             (valid, same inside)
      └── DIS-TE1/ … DIS-TE4/ (test1 … test4, same inside)"""


def _message(problem: str) -> str:
    return f"DIS5K: {problem}.\nThe data root DIR is set with {HOW_TO_SET_ROOT}.\n{EXPECTED_LAYOUT}"


def _not_found(problem: str) -> DatasetNotFoundError:
    return DatasetNotFoundError(_message(problem))


def _malformed(problem: str) -> MalformedDataError:
    return MalformedDataError(_message(problem))


@DATASETS.register("disk5k")
class DIS5K(SegmentationDataset):
    """DIS5K: dichotomous image segmentation of thin, finely detailed objects (one object per image)."""

    name = "disk5k"
    description = __doc__
    splits = tuple(SPLIT_FOLDERS)
    eval_split = "valid"
    generalization = {
        "Group 1": ("ade20k", "cityscapes", "coco"),
        "Group 2": ("ecssd", "fss", "big"),
    }

    def __init__(self, split: str, data_root: Path | None = None) -> None:
        super().__init__(split, data_root)
        split_dir = self._root() / "DIS5K" / SPLIT_FOLDERS[split]
        self.image_dir, self.mask_dir = split_dir / "im", split_dir / "gt"
        for folder in (split_dir, self.image_dir, self.mask_dir):
            if not folder.is_dir():
                raise _not_found(f"folder {folder} does not exist")
        self.images = sorted(p for p in self.image_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.images:
            raise _not_found(f"no {'/'.join(IMAGE_SUFFIXES)} images in {self.image_dir} (split {split!r})")
        masks = {p.name for p in self.mask_dir.iterdir()}
        unmatched = [p for p in self.images if f"{p.stem}.png" not in masks]
        if unmatched:
            listed = ", ".join(str(p) for p in unmatched[:3]) + (", ..." if len(unmatched) > 3 else "")
            raise _malformed(f"{len(unmatched)} image(s) have no mask <stem>.png in {self.mask_dir}: {listed}")

    def _root(self) -> Path:
        if self.data_root is not None:
            return Path(self.data_root)
        if os.environ.get(DATA_ROOT_ENV):
            return Path(os.environ[DATA_ROOT_ENV])
        raise _not_found(f"no data root given (neither --data-root nor {DATA_ROOT_ENV} is set)")

    def __len__(self) -> int:
        return len(self.images)

    def _load(self, index: int) -> Sample:
        image_path = self.images[index]
        mask_path = self.mask_dir / f"{image_path.stem}.png"
        image = _read(image_path).convert("RGB")
        mask_image = _read(mask_path)
        if mask_image.size != image.size:
            raise _malformed(
                f"mask {mask_path} is {mask_image.size[0]}x{mask_image.size[1]} (WxH) but its image "
                f"{image_path} is {image.size[0]}x{image.size[1]}; re-export the mask at the image's size"
            )
        # A palette PNG stores indices; its grey values are what the 0/255 convention refers to.
        mask = np.asarray(mask_image.convert("L") if mask_image.mode == "P" else mask_image)
        if mask.dtype != np.uint8:
            raise _malformed(f"mask {mask_path} has {mask.dtype} pixels (mode {mask_image.mode}), expected 8-bit 0/255")
        foreground = (mask[..., 0] if mask.ndim == 3 else mask) > 127
        has_object = bool(foreground.any())
        return Sample(
            sample_id=image_path.stem,
            image=np.asarray(image, dtype=np.uint8),
            masks=foreground[None] if has_object else np.zeros((0, *foreground.shape), dtype=bool),
            instance_ids=(1,) if has_object else (),
            meta={"source": str(image_path), "mask": str(mask_path)},
        )


def _read(path: Path) -> Image.Image:
    """Open and fully decode an image file, so that corruption is reported here, with the path."""
    try:
        with Image.open(path) as opened:
            opened.load()
            return opened.copy()
    except (OSError, SyntaxError, ValueError) as error:
        raise _malformed(f"cannot read {path} ({error}); replace the file with a valid copy") from error
