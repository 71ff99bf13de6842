"""Cityscapes (Cordts et al., 2016), fine annotations: urban street scenes at 2048 x 1024; a
generalization set of the SHERPA paper (Group 1, natural scenes; "Citys" in its tables).

Read from the official release (``leftImg8bit_trainvaltest.zip`` + ``gtFine_trainvaltest.zip``)::

    <root>/leftImg8bit/train/<city>/<city>_<seq>_<frame>_leftImg8bit.png       split "train" (2,975)
    <root>/gtFine/train/<city>/<city>_<seq>_<frame>_gtFine_instanceIds.png
    <root>/leftImg8bit/val/<city>/...                                          split "valid" (500)
    <root>/gtFine/val/<city>/...

Only the ``*_gtFine_instanceIds.png`` files are read (not ``labelIds``, ``color`` or ``polygons``).

Encoding of ``instanceIds`` (16-bit PNG; Pillow opens it as mode "I;16", older versions as "I"):
a value v >= 1000 is instance k = v % 1000 of label id v // 1000 (thing classes); a value < 1000 is
a plain label id (stuff, and thing regions without an instance: crowds / groups).

Choices (the label table ``LABELS`` below is the official cityscapesScripts ``labels.py``):
    * Thing instances (v >= 1000 of a label with instances and a trainId in 0..18: person, rider,
      car, truck, bus, train, motorcycle, bicycle) are instances with id v, as stored; an instance
      split into several pieces by occlusion stays ONE instance.
    * Stuff (v < 1000, a label without instances and a trainId in 0..18: road, sidewalk, building,
      wall, fence, pole, traffic light, traffic sign, vegetation, terrain, sky) is semantic: each
      connected component (8-connectivity) of each stuff label is an instance with id
      label * 1000 + k, k = 1, 2, ... in raster order (shared code in ``datasets/_semantic.py``).
      Stuff ids (7001..23999) never meet thing ids (24000 and up).
    * Ignore region: every label whose trainId is 255 or -1 (unlabeled 0, ego vehicle 1,
      rectification border 2, out of roi 3, static 4, dynamic 5, ground 6, parking 9, rail track 10,
      guard rail 14, bridge 15, tunnel 16, polegroup 18, caravan 29, trailer 30; license plate -1
      never occurs in a PNG), including caravan/trailer instances; and thing labels stored without
      an instance (v < 1000: crowd and group regions such as "persongroup", "cargroup").
    * Instances (things and stuff components) smaller than ``min_pixels`` = 100 pixels are dropped
      (no instance, not ignored), as cityscapesScripts' instance evaluation ignores ground-truth
      regions under 100 pixels. Past 999 kept components of one stuff label, the rest are ignored.
    * A value that is no label id (34..999, or v >= 1000 of a label without instances) makes the
      mask malformed, as does a colour PNG or a mask of another size than its image.
    * "valid" is the official val split (the test split's ground truth is withheld); it is the
      split evaluated when Cityscapes is a generalization set.
    * Only the folder listing is checked on construction (every image has its instanceIds file);
      masks are decoded when a sample is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from sherpa_bench.datasets._semantic import ID_BASE, class_components, read_label_map
from sherpa_bench.datasets.files import DatasetFiles
from sherpa_bench.datasets.pairs import ImageMaskPairs
from sherpa_bench.harness.registry import DATASETS

SPLIT_FOLDERS = {"train": "train", "valid": "val"}
IMAGE_SUFFIX = "_leftImg8bit.png"
MASK_SUFFIX = "_gtFine_instanceIds.png"


class Label(NamedTuple):
    name: str
    id: int
    train_id: int
    has_instances: bool


#: cityscapesScripts helpers/labels.py: name, id, trainId, hasInstances
LABELS = (
    Label("unlabeled", 0, 255, False),
    Label("ego vehicle", 1, 255, False),
    Label("rectification border", 2, 255, False),
    Label("out of roi", 3, 255, False),
    Label("static", 4, 255, False),
    Label("dynamic", 5, 255, False),
    Label("ground", 6, 255, False),
    Label("road", 7, 0, False),
    Label("sidewalk", 8, 1, False),
    Label("parking", 9, 255, False),
    Label("rail track", 10, 255, False),
    Label("building", 11, 2, False),
    Label("wall", 12, 3, False),
    Label("fence", 13, 4, False),
    Label("guard rail", 14, 255, False),
    Label("bridge", 15, 255, False),
    Label("tunnel", 16, 255, False),
    Label("pole", 17, 5, False),
    Label("polegroup", 18, 255, False),
    Label("traffic light", 19, 6, False),
    Label("traffic sign", 20, 7, False),
    Label("vegetation", 21, 8, False),
    Label("terrain", 22, 9, False),
    Label("sky", 23, 10, False),
    Label("person", 24, 11, True),
    Label("rider", 25, 12, True),
    Label("car", 26, 13, True),
    Label("truck", 27, 14, True),
    Label("bus", 28, 15, True),
    Label("caravan", 29, 255, True),
    Label("trailer", 30, 255, True),
    Label("train", 31, 16, True),
    Label("motorcycle", 32, 17, True),
    Label("bicycle", 33, 18, True),
    Label("license plate", -1, -1, False),
)
BY_ID = {label.id: label for label in LABELS}


def _evaluated(label: Label) -> bool:
    return 0 <= label.train_id < 255


#: label ids (< 1000) that are the ignore region: not evaluated, or a thing stored without instance
IGNORED_IDS = tuple(label.id for label in LABELS if label.id >= 0 and (not _evaluated(label) or label.has_instances))
#: label ids (< 1000) whose connected components are instances
STUFF_IDS = tuple(label.id for label in LABELS if _evaluated(label) and not label.has_instances)
#: label ids whose v >= 1000 values are instances (evaluated things)
THING_IDS = tuple(label.id for label in LABELS if _evaluated(label) and label.has_instances)
#: label ids whose v >= 1000 values are ignored (things not evaluated: caravan, trailer)
IGNORED_THING_IDS = tuple(label.id for label in LABELS if label.has_instances and not _evaluated(label))


@DATASETS.register("cityscapes")
class Cityscapes(ImageMaskPairs):
    """Cityscapes fine annotations: thing instances as annotated, stuff by connected components."""

    name = "cityscapes"
    title = "Cityscapes"
    description = __doc__
    source = (
        "https://www.cityscapes-dataset.com/downloads/ (leftImg8bit_trainvaltest.zip, gtFine_trainvaltest.zip; "
        "free registration)"
    )
    mask_encoding = (
        "16-bit gtFine_instanceIds PNG: v >= 1000 = thing instance (id v), v < 1000 = label id; stuff labels "
        "split into 8-connected components (id label*1000 + k); trainId-255 labels and crowds -> ignore"
    )
    splits = tuple(SPLIT_FOLDERS)
    eval_split = "valid"
    expected_counts = {"train": 2975, "valid": 500}
    min_pixels = 100
    layout = """  DIR/
  ├── leftImg8bit/
  │   ├── train/<city>/<city>_<seq>_<frame>_leftImg8bit.png   (train)
  │   └── val/<city>/...                                      (valid)
  └── gtFine/
      ├── train/<city>/<city>_<seq>_<frame>_gtFine_instanceIds.png   (16-bit, class*1000+k / label id)
      └── val/<city>/..."""

    def _pairs(self, files: DatasetFiles, split: str) -> list[tuple[Path, Path]]:
        folder = SPLIT_FOLDERS[split]
        image_root = files.folder("leftImg8bit", folder)
        files.folder("gtFine", folder)  # named before any city when the whole gtFine split is missing
        cities = sorted(p.name for p in image_root.iterdir() if p.is_dir())
        if not cities:
            raise files.not_found(f"no city folders in {image_root}")
        pairs: list[tuple[Path, Path]] = []
        for city in cities:
            found = files.listing(image_root / city, (".png",), f"images (split {split!r})")
            images = [p for p in found if p.name.endswith(IMAGE_SUFFIX)]
            if not images:
                raise files.not_found(f"no *{IMAGE_SUFFIX} images in {image_root / city}")
            mask_dir = files.folder("gtFine", folder, city)
            pairs += files.pair_by_stem(images, mask_dir, _mask_name)
        return pairs

    def _sample_id(self, image_path: Path) -> str:
        return image_path.name[: -len(IMAGE_SUFFIX)]

    def _instances(self, mask_path: Path) -> tuple[np.ndarray, tuple[int, ...], np.ndarray | None]:
        values = read_label_map(self.files, mask_path, "a 16-bit instanceIds PNG")
        present = np.unique(values)
        label_of = np.where(present >= ID_BASE, present // ID_BASE, present)
        things = present >= ID_BASE
        bad = present[
            (things & ~np.isin(label_of, THING_IDS + IGNORED_THING_IDS)) | (~things & ~np.isin(present, list(BY_ID)))
        ]
        if bad.size:
            shown = ", ".join(str(int(v)) for v in bad[:8]) + (", ..." if bad.size > 8 else "")
            raise self.files.malformed(
                f"mask {mask_path} holds values that are neither a Cityscapes label id (0..33) nor "
                f"label*1000+k of a class with instances: {shown}; use the official *{MASK_SUFFIX} file"
            )
        ignore_values = [int(v) for v in present if (v >= ID_BASE and v // ID_BASE in IGNORED_THING_IDS)]
        ignore = np.isin(values, [*IGNORED_IDS, *ignore_values])
        stuff_masks, stuff_ids, overflow = class_components(values, STUFF_IDS, self.min_pixels)
        ignore |= overflow
        thing_values = [int(v) for v in present if v >= ID_BASE and v // ID_BASE in THING_IDS]
        thing_masks, thing_ids = [], []
        for value in thing_values:
            mask = values == value
            if mask.sum() >= self.min_pixels:
                thing_masks.append(mask)
                thing_ids.append(value)
        masks = np.concatenate([stuff_masks, np.asarray(thing_masks, dtype=bool).reshape(-1, *values.shape)])
        return masks, (*stuff_ids, *thing_ids), ignore


def _mask_name(image: Path) -> str:
    return image.name[: -len(IMAGE_SUFFIX)] + MASK_SUFFIX
