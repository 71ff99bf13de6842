"""Shared by the one-object binary datasets (DUTS, ECSSD, FSS-1000, BIG, ThinObject-5K, COIFT, HRSOD):
how their (image, mask) pairs are listed and how a 0/255 mask becomes one instance.

Private (leading underscore): the registry does not import it, nothing is registered here.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np

from sherpa_bench.datasets.encodings import binary_foreground, one_instance
from sherpa_bench.datasets.files import DatasetFiles, mask_values
from sherpa_bench.datasets.pairs import JPEG, ImageMaskPairs


def first_folder(files: DatasetFiles, *candidates: tuple[str, ...]) -> tuple[str, ...]:
    """The first of several accepted places (path parts under the root) that is a folder; when none
    is, the error names every place that was tried."""
    for parts in candidates:
        if files.root.joinpath(*parts).is_dir():
            return parts
    tried = " nor ".join(str(files.root.joinpath(*parts)) for parts in candidates)
    raise files.not_found(f"folder {tried} does not exist")


def same_stem_pairs(
    files: DatasetFiles, image_parts: tuple[str, ...], mask_parts: tuple[str, ...], what: str
) -> list[tuple[Path, Path]]:
    """``<image folder>/<stem>.jpg`` paired with ``<mask folder>/<stem>.png``, in name order."""
    image_dir, mask_dir = files.folder(*image_parts), files.folder(*mask_parts)
    images = files.listing(image_dir, JPEG, what)
    return files.pair_by_stem(images, mask_dir, lambda image: f"{image.stem}.png")


def suffix_pairs(
    files: DatasetFiles, folder: Path, image_suffix: str, mask_suffix: str, what: str
) -> list[tuple[Path, Path]]:
    """One flat folder holding ``<name><image_suffix>`` next to ``<name><mask_suffix>`` (other files,
    e.g. BIG's ``_seg.png``, are ignored), in name order."""
    images = sorted(p for p in folder.iterdir() if p.name.endswith(image_suffix))
    if not images:
        raise files.not_found(f"no *{image_suffix} {what} in {folder}")
    return files.pair_by_stem(images, folder, lambda image: image.name[: -len(image_suffix)] + mask_suffix)


def one_binary_object(files: DatasetFiles, mask_path: Path, hint: str = "") -> np.ndarray:
    """A 0/255 mask file -> 1 x H x W (its whole foreground, > 127, as one object) or 0 x H x W.

    A 1-bit PNG is read as 0/255, a palette PNG through its grey values. A mask with non-zero values but none above 127 (a 0/1 or 0..k
    export) is refused rather than read as empty: scoring it would silently count a miss.
    """
    image = files.read(mask_path)
    if image.mode in ("1", "P"):  # 1-bit as 0/255, palette through its grey values
        image = image.convert("L")
    foreground = binary_foreground(image)
    if not foreground.any():
        top = int(mask_values(image).max())
        if top > 0:
            raise files.malformed(
                f"mask {mask_path} has values up to {top} but none above 127, so it is not a 0/255 mask "
                f"(a 0/1 export?); re-export it with foreground = 255{hint}"
            )
    masks, _ = one_instance(foreground)
    return masks


class OneObjectPairs(ImageMaskPairs):
    """(image, 0/255 mask) pairs with one annotated object per image: the whole foreground is
    instance 1, an empty mask gives no instance. ``mask_hint`` ends the message of a mask that
    is not 0/255 (e.g. where the release keeps a 0/255 copy)."""

    mask_hint: ClassVar[str] = ""

    def _instances(self, mask_path: Path) -> tuple[np.ndarray, tuple[int, ...], np.ndarray | None]:
        masks = one_binary_object(self.files, mask_path, self.mask_hint)
        return masks, tuple(range(1, len(masks) + 1)), None
