"""ADE20K (Zhou et al., 2017), as released for the MIT Scene Parsing Benchmark (ADEChallengeData2016,
150 classes): a generalization set of the SHERPA paper (Group 1, natural scenes).

Read from the official release::

    <root>/ADEChallengeData2016/images/training/ADE_train_<n>.jpg        split "train" (20,210)
    <root>/ADEChallengeData2016/annotations/training/ADE_train_<n>.png
    <root>/ADEChallengeData2016/images/validation/ADE_val_<n>.jpg        split "valid" (2,000)
    <root>/ADEChallengeData2016/annotations/validation/ADE_val_<n>.png

Choices:
    * Annotations are 8-bit single-channel PNGs of class indices: 1..150 are the classes, 0 is
      "other" (unlabelled, what mmsegmentation drops with ``reduce_zero_label``). Value 0 is the
      ignore region. Any other value (151..255) makes the mask malformed; a colour (RGB) PNG is
      refused.
    * The paper treats every dataset as instance segmentation; ADE20K's maps are semantic, so each
      connected component (8-connectivity) of each class is one instance, as MESS/SAM-style
      evaluations prompt semantic maps. Instance id = class * 1000 + k, k = 1, 2, ... in raster order
      of the component's first pixel, counting kept components only.
    * Components smaller than ``min_pixels`` = 100 pixels are dropped (no instance; their pixels are
      not ignored). Past 999 kept components of one class, the rest join the ignore region.
    * "valid" is the official validation folder (the benchmark's test labels are not public); it is
      the split evaluated when ADE20K is a generalization set.
    * Only the folder listing is checked on construction; masks are decoded (and checked for
      corruption, values and image/mask size agreement) when a sample is loaded.
"""

from __future__ import annotations

from pathlib import Path

from sherpa_bench.datasets._semantic import SemanticMapPairs
from sherpa_bench.datasets.files import DatasetFiles
from sherpa_bench.datasets.pairs import JPEG
from sherpa_bench.harness.registry import DATASETS

SPLIT_FOLDERS = {"train": "training", "valid": "validation"}


@DATASETS.register("ade20k")
class ADE20K(SemanticMapPairs):
    """ADE20K scene parsing (150 classes): connected components of each class as instances."""

    name = "ade20k"
    title = "ADE20K"
    description = __doc__
    source = (
        "http://sceneparsing.csail.mit.edu (ADEChallengeData2016.zip from "
        "http://data.csail.mit.edu/places/ADEchallenge/ADEChallengeData2016.zip)"
    )
    mask_encoding = (
        "8-bit class-index PNG (1..150 classes, 0 = other -> ignore); each 8-connected component of a class "
        "(>= 100 px) is an instance, id = class*1000 + k"
    )
    splits = tuple(SPLIT_FOLDERS)
    eval_split = "valid"
    expected_counts = {"train": 20210, "valid": 2000}
    classes = range(1, 151)
    ignore_values = (0,)
    min_pixels = 100
    layout = """  DIR/
  └── ADEChallengeData2016/
      ├── images/
      │   ├── training/ADE_train_<n>.jpg     (train)
      │   └── validation/ADE_val_<n>.jpg     (valid)
      └── annotations/
          ├── training/ADE_train_<n>.png     (same stem, 8-bit class index 0..150, 0 = other)
          └── validation/ADE_val_<n>.png"""

    def _pairs(self, files: DatasetFiles, split: str) -> list[tuple[Path, Path]]:
        folder = SPLIT_FOLDERS[split]
        files.folder("ADEChallengeData2016")  # named first when the whole release is missing
        image_dir = files.folder("ADEChallengeData2016", "images", folder)
        mask_dir = files.folder("ADEChallengeData2016", "annotations", folder)
        images = files.listing(image_dir, JPEG, f"images (split {split!r})")
        return files.pair_by_stem(images, mask_dir, lambda image: f"{image.stem}.png")
