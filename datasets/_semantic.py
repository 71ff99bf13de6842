"""Semantic class maps as instance segmentation: the decoder shared by ADE20K, COCO-Stuff and the
stuff classes of Cityscapes (private module, not registered).

The SHERPA paper treats every dataset as instance segmentation. A semantic map has no instances, so
each connected component (8-connectivity) of each class becomes one instance, as MESS- and
SAM-style evaluations prompt semantic maps:

    * instance id = class * ``ID_BASE`` + k, with ``ID_BASE`` = 1000 and k = 1, 2, ... the rank of the
      kept component among the kept components of that class, in raster order of its first pixel
      (scipy's labelling order). Instances come in increasing id order (class-major).
    * components smaller than ``min_pixels`` are dropped (no instance, not ignored: their pixels stay
      labelled, a prediction spilling into them is still an error).
    * a class with more than 999 kept components would reach the next class's ids; its components
      from the 1000th on join the ignore region instead (at a 100-pixel minimum an image would need
      >= 100,000 pixels of one class in >= 1,000 separate pieces).
    * the dataset's "unlabelled" values become the ignore region; any value that is neither a class
      nor an ignore value is a malformed mask (named with its file).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Iterable

import numpy as np
from scipy import ndimage

from sherpa_bench.datasets.files import DatasetFiles
from sherpa_bench.datasets.pairs import ImageMaskPairs

#: instance id = class * ID_BASE + k (k = 1 .. ID_BASE - 1)
ID_BASE = 1000
#: the PIL modes of a single-channel class or id map (8-bit, palette indices, 16-bit, 32-bit)
SINGLE_CHANNEL_MODES = ("L", "P", "I;16", "I;16L", "I;16B", "I")
_EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


def read_label_map(files: DatasetFiles, path: Path, expected: str) -> np.ndarray:
    """A single-channel class/id map file as stored (palette indices for a palette PNG, not colours),
    as int64; a colour (RGB) file is refused, since that is a visualisation, not the label map."""
    image = files.read(path)
    if image.mode not in SINGLE_CHANNEL_MODES:
        raise files.malformed(
            f"mask {path} is a {image.mode} image, expected {expected}; "
            "use the label file of the official release, not a colour visualisation"
        )
    return np.asarray(image).astype(np.int64)


def check_values(files: DatasetFiles, path: Path, values: np.ndarray, allowed: Iterable[int], what: str) -> None:
    """Refuse a map holding values outside ``allowed``, naming the file and the first offending values."""
    present = np.unique(values)
    bad = np.setdiff1d(present, np.fromiter(allowed, dtype=np.int64))
    if bad.size:
        shown = ", ".join(str(int(v)) for v in bad[:8]) + (", ..." if bad.size > 8 else "")
        raise files.malformed(f"mask {path} holds values that are not {what}: {shown}; re-extract the file")


def class_components(
    class_map: np.ndarray, classes: Iterable[int], min_pixels: int, connectivity: int = 8
) -> tuple[np.ndarray, tuple[int, ...], np.ndarray]:
    """The connected components of each class in ``classes`` (those present) as instances.

    Returns (N x H x W bool masks, N ids = class * ID_BASE + k, overflow region): see the module
    docstring for the numbering, the minimum size and the overflow region (components past k = 999).
    """
    structure = _EIGHT_CONNECTED if connectivity == 8 else None
    shape = class_map.shape
    masks: list[np.ndarray] = []
    ids: list[int] = []
    overflow = np.zeros(shape, dtype=bool)
    present = set(int(v) for v in np.unique(class_map))
    for cls in sorted(set(int(c) for c in classes) & present):
        labels, count = ndimage.label(class_map == cls, structure=structure)
        sizes = np.bincount(labels.ravel(), minlength=count + 1)
        boxes = ndimage.find_objects(labels)
        k = 0
        for label in range(1, count + 1):
            if sizes[label] < min_pixels:
                continue
            k += 1
            box = boxes[label - 1]
            if k >= ID_BASE:
                overflow[box] |= labels[box] == label
                continue
            mask = np.zeros(shape, dtype=bool)
            mask[box] = labels[box] == label
            masks.append(mask)
            ids.append(cls * ID_BASE + k)
    if not masks:
        return np.zeros((0, *shape), dtype=bool), (), overflow
    return np.stack(masks), tuple(ids), overflow


class SemanticMapPairs(ImageMaskPairs):
    """One image + one class-index PNG per sample; each connected component of each class is an
    instance, the ``ignore_values`` are the ignore region (see the module docstring).

    Class attributes: ``classes`` (the valid class values), ``ignore_values`` (unlabelled values),
    ``min_pixels`` (smallest component kept as an instance), ``connectivity`` (8).
    """

    classes: ClassVar[range]
    ignore_values: ClassVar[tuple[int, ...]]
    min_pixels: ClassVar[int] = 100
    connectivity: ClassVar[int] = 8

    def _instances(self, mask_path: Path) -> tuple[np.ndarray, tuple[int, ...], np.ndarray | None]:
        class_map = read_label_map(self.files, mask_path, "a single-channel class-index PNG")
        allowed = (*self.classes, *self.ignore_values)
        what = f"class indices {self.classes.start}..{self.classes.stop - 1} or unlabelled {self.ignore_values}"
        check_values(self.files, mask_path, class_map, allowed, what)
        masks, ids, overflow = class_components(class_map, self.classes, self.min_pixels, self.connectivity)
        ignore = np.isin(class_map, self.ignore_values) | overflow
        return masks, ids, ignore
