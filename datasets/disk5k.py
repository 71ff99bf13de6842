"""DIS5K (Qin et al., 2022): highly accurate segmentation of thin, detailed objects; the real task
behind ``toy-thin`` (the SHERPA paper calls it DISK-5k).

Read from the official release::

    <root>/DIS5K/DIS-TR/{im/*.jpg, gt/*.png}      split "train"
    <root>/DIS5K/DIS-VD/...                       split "valid"
    <root>/DIS5K/DIS-TE1/ ... DIS-TE4/            splits "test1" ... "test4"

Choices:
    * Masks are 8-bit 0/255 PNGs; of a 3-channel PNG, channel 0 is read. Foreground is > 127.
    * DIS annotates one object per image, so the whole foreground is ONE instance (id 1), even
      when it falls apart into several connected pieces. A mask with no foreground gives a
      sample with no instance, not an error.
    * Only the folder listing is checked on construction; images are decoded (and checked for
      corruption and image/mask size agreement) when a sample is loaded.
"""

from __future__ import annotations

from pathlib import Path

from sherpa_bench.datasets.files import DatasetFiles
from sherpa_bench.datasets.pairs import JPEG, ImageMaskPairs
from sherpa_bench.datasets.suites import NATURAL_GROUPS
from sherpa_bench.harness.registry import DATASETS

SPLIT_FOLDERS = {
    "train": "DIS-TR",
    "valid": "DIS-VD",
    "test1": "DIS-TE1",
    "test2": "DIS-TE2",
    "test3": "DIS-TE3",
    "test4": "DIS-TE4",
}


@DATASETS.register("disk5k")
class DIS5K(ImageMaskPairs):
    """DIS5K: dichotomous image segmentation of thin, finely detailed objects (one object per image)."""

    name = "disk5k"
    title = "DIS5K"
    description = __doc__
    source = "https://github.com/xuebinqin/DIS (DIS5K.zip, linked from the README)"
    splits = tuple(SPLIT_FOLDERS)
    eval_split = "valid"
    expected_counts = {"train": 3000, "valid": 470, "test1": 500, "test2": 500, "test3": 500, "test4": 500}
    generalization = NATURAL_GROUPS
    suite = "natural"
    layout = """  DIR/
  └── DIS5K/
      ├── DIS-TR/             (train)
      │   ├── im/<name>.jpg
      │   └── gt/<name>.png   (same stem, 8-bit 0/255)
      ├── DIS-VD/             (valid, same inside)
      └── DIS-TE1/ … DIS-TE4/ (test1 … test4, same inside)"""

    def _pairs(self, files: DatasetFiles, split: str) -> list[tuple[Path, Path]]:
        folder = SPLIT_FOLDERS[split]
        files.folder("DIS5K", folder)  # named first when the whole split is missing
        image_dir, mask_dir = files.folder("DIS5K", folder, "im"), files.folder("DIS5K", folder, "gt")
        images = files.listing(image_dir, JPEG, f"images (split {split!r})")
        return files.pair_by_stem(images, mask_dir, lambda image: f"{image.stem}.png")
