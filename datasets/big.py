"""BIG (Cheng et al., 2020, CascadePSP): very high-resolution images (2048x1600 to 5000x3600) with
precise masks labelled to PASCAL VOC 2012 standards; a SHERPA Group 2 generalization set.

Read from the CascadePSP release (BIG.zip unpacked into DIR)::

    <root>/BIG/val/<name>_im.jpg  + BIG/val/<name>_gt.png       split "valid" (50 images)
    <root>/BIG/test/<name>_im.jpg + BIG/test/<name>_gt.png      split "test"  (100 images)

Choices:
    * Each split is one flat folder; ``<name>_im.jpg`` pairs with ``<name>_gt.png``. The
      ``<name>_seg.png`` files (coarse PSPNet masks, CascadePSP's refinement input) are ignored.
    * "test" is the split a generalization run scores; "valid" is BIG's 50-image val folder.
    * Masks are 0/255 PNGs; foreground is > 127 and the whole foreground is ONE instance (id 1):
      each BIG file annotates one object (class). An empty mask gives no instance; a mask with
      values but none above 127 is refused.
    * Images are returned at full resolution (2048 to 5000 px on the long side, up to ~54 MB per
      RGB image): SAM's preprocessing resizes the longest side to 1024 and predictions are
      upsampled back to the ground truth's size, so scores are at full resolution. No tiling.
    * sample_id is ``<name>`` (the stem without ``_im``).
"""

from __future__ import annotations

from pathlib import Path

from sherpa_bench.datasets._binary_folders import OneObjectPairs, suffix_pairs
from sherpa_bench.datasets.files import DatasetFiles
from sherpa_bench.harness.registry import DATASETS

SPLIT_FOLDERS = {"valid": "val", "test": "test"}
IMAGE_SUFFIX, MASK_SUFFIX = "_im.jpg", "_gt.png"


@DATASETS.register("big")
class BIG(OneObjectPairs):
    """BIG: very high-resolution images with precise object masks (generalization set)."""

    name = "big"
    title = "BIG"
    description = __doc__
    source = "https://github.com/hkchengrex/CascadePSP (docs/dataset.md: BIG.zip)"
    mask_encoding = "8-bit 0/255 PNG <name>_gt.png (> 127 is foreground); the whole foreground is one instance"
    splits = tuple(SPLIT_FOLDERS)
    eval_split = "test"
    expected_counts = {"valid": 50, "test": 100}
    layout = """  DIR/
  └── BIG/
      ├── val/                  (valid)
      │   ├── <name>_im.jpg
      │   ├── <name>_gt.png     (8-bit 0/255)
      │   └── <name>_seg.png    (ignored)
      └── test/                 (test, same inside)"""

    def _pairs(self, files: DatasetFiles, split: str) -> list[tuple[Path, Path]]:
        folder = files.folder("BIG", SPLIT_FOLDERS[split])
        return suffix_pairs(files, folder, IMAGE_SUFFIX, MASK_SUFFIX, f"images (split {split!r})")

    def _sample_id(self, image_path: Path) -> str:
        return image_path.name[: -len(IMAGE_SUFFIX)]
