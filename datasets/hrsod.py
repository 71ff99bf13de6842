"""HRSOD (Zeng et al., 2019, high-resolution salient object detection), the thin-object subset of
its images used by Liew et al. (2021) and HQ-SAM: an evaluation-only set.

Read from the copy in HQ-SAM's HQSeg-44K bundle::

    <root>/thin_object_detection/HRSOD/images/<name>.jpg + HRSOD/masks_max255/<name>.png   split "test"

Choices:
    * Masks come from ``masks_max255/``, HQ-SAM's copy rescaled so that foreground = 255 (HQ-SAM
      evaluates on it). The ``masks/`` folder next to it is NOT read: its values need not be
      0/255, and read with the > 127 threshold they could come out empty. A mask with values but
      none above 127 is refused with a pointer to ``masks_max255``.
    * One split, "test" (every image in ``images/``; ``list/`` is not read).
    * Foreground is > 127 and the whole foreground is ONE instance (id 1); an empty mask gives no
      instance.
    * sample_id is the file stem.
    * Expected count 287 is HQ-SAM's evaluation copy (unverified against the files; the full HRSOD
      release has 2,010 images, of which these are a subset).
"""

from __future__ import annotations

from pathlib import Path

from sherpa_bench.datasets._binary_folders import OneObjectPairs, same_stem_pairs
from sherpa_bench.datasets.files import DatasetFiles
from sherpa_bench.harness.registry import DATASETS

ROOT = ("thin_object_detection", "HRSOD")


@DATASETS.register("hrsod")
class HRSOD(OneObjectPairs):
    """HRSOD (thin-object subset): high-resolution salient objects, one per image (evaluation only)."""

    name = "hrsod"
    title = "HRSOD"
    description = __doc__
    source = (
        "HQ-SAM's HQSeg-44K (https://huggingface.co/sam-hq-team/sam-hq-training, "
        "data/thin_object_detection/HRSOD with masks_max255) (unverified); "
        "original: https://github.com/yi94code/HRSOD"
    )
    mask_encoding = "masks_max255/ PNG, foreground = 255 (> 127 is foreground); the whole foreground is one instance"
    mask_hint = " (read the masks from HQ-SAM's masks_max255/ folder)"
    splits = ("test",)
    eval_split = "test"
    expected_counts = {"test": 287}
    layout = """  DIR/
  └── thin_object_detection/
      └── HRSOD/
          ├── images/<name>.jpg
          └── masks_max255/<name>.png   (same stem, foreground = 255)"""

    def _pairs(self, files: DatasetFiles, split: str) -> list[tuple[Path, Path]]:
        files.folder(*ROOT)  # named first when the whole dataset is missing
        return same_stem_pairs(files, (*ROOT, "images"), (*ROOT, "masks_max255"), "images")
