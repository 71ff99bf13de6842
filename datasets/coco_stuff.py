"""COCO-Stuff 164k (Caesar et al., 2018): COCO 2017 images with pixel labels for 80 thing and 91
stuff classes; a generalization set of the SHERPA paper (Group 1, natural scenes).

Read from the official release (mmsegmentation's folder names)::

    <root>/cocostuff/images/train2017/<12-digit id>.jpg          split "train" (118,287)
    <root>/cocostuff/annotations/train2017/<12-digit id>.png
    <root>/cocostuff/images/val2017/<12-digit id>.jpg            split "valid" (5,000)
    <root>/cocostuff/annotations/val2017/<12-digit id>.png

The images are COCO's ``train2017.zip`` / ``val2017.zip``; the annotations are the contents of
``stuffthingmaps_trainval2017.zip`` (its ``train2017/`` and ``val2017/`` folders).

Choices:
    * Annotations are 8-bit single-channel PNGs of class indices 0..181 (the 0-indexed COCO-Stuff
      ids: 0..90 things, 91..181 stuff; 11 of the thing indices never occur) and 255 = unlabelled.
      255 is the ignore region; any other value (182..254) makes the mask malformed. The
      ``*_labelTrainIds.png`` files written by mmsegmentation's converter are not read.
    * The paper treats every dataset as instance segmentation; the stuff-thing maps are semantic
      (touching things of one class merge), so each connected component (8-connectivity) of each
      class is one instance, exactly as for ADE20K (shared code in ``datasets/_semantic.py``).
      Instance id = class * 1000 + k, k = 1, 2, ... in raster order of the component's first pixel,
      counting kept components only.
    * Components smaller than ``min_pixels`` = 100 pixels are dropped (no instance; their pixels are
      not ignored). Past 999 kept components of one class, the rest join the ignore region.
    * "valid" is val2017, the split evaluated when COCO-Stuff is a generalization set.
    * Only the folder listing is checked on construction; masks are decoded (and checked for
      corruption, values and image/mask size agreement) when a sample is loaded.
"""

from __future__ import annotations

from pathlib import Path

from sherpa_bench.datasets._semantic import SemanticMapPairs
from sherpa_bench.datasets.files import DatasetFiles
from sherpa_bench.datasets.pairs import JPEG
from sherpa_bench.harness.registry import DATASETS

SPLIT_FOLDERS = {"train": "train2017", "valid": "val2017"}


@DATASETS.register("coco-stuff")
class COCOStuff(SemanticMapPairs):
    """COCO-Stuff 164k (171 thing and stuff classes): connected components of each class as instances."""

    name = "coco-stuff"
    title = "COCO-Stuff"
    description = __doc__
    source = (
        "https://github.com/nightrome/cocostuff (stuffthingmaps_trainval2017.zip; images: "
        "train2017.zip, val2017.zip from https://cocodataset.org/#download)"
    )
    mask_encoding = (
        "8-bit class-index PNG (0..181 classes, 255 = unlabelled -> ignore); each 8-connected component of a "
        "class (>= 100 px) is an instance, id = class*1000 + k"
    )
    splits = tuple(SPLIT_FOLDERS)
    eval_split = "valid"
    expected_counts = {"train": 118287, "valid": 5000}
    classes = range(0, 182)
    ignore_values = (255,)
    min_pixels = 100
    layout = """  DIR/
  └── cocostuff/
      ├── images/
      │   ├── train2017/<12-digit id>.jpg     (train)
      │   └── val2017/<12-digit id>.jpg       (valid)
      └── annotations/                        (stuffthingmaps_trainval2017.zip)
          ├── train2017/<12-digit id>.png     (same stem, 8-bit class index 0..181, 255 = unlabelled)
          └── val2017/<12-digit id>.png"""

    def _pairs(self, files: DatasetFiles, split: str) -> list[tuple[Path, Path]]:
        folder = SPLIT_FOLDERS[split]
        files.folder("cocostuff")  # named first when the whole release is missing
        image_dir = files.folder("cocostuff", "images", folder)
        mask_dir = files.folder("cocostuff", "annotations", folder)
        images = files.listing(image_dir, JPEG, f"images (split {split!r})")
        return files.pair_by_stem(images, mask_dir, lambda image: f"{image.stem}.png")
