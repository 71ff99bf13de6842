"""COIFT (Mansilla and Miranda, 2016; as used by Liew et al., 2021): 280 images of objects with
thin, fine structures; an evaluation-only set (HQ-SAM validates on it).

Read from the copy in HQ-SAM's HQSeg-44K bundle (the original release has the same two folders,
plus ``list/``)::

    <root>/thin_object_detection/COIFT/images/<name>.jpg + COIFT/masks/<name>.png    split "test"

Choices:
    * One split, "test" (every image in ``images/``; ``list/`` is not read).
    * Masks are 0/255 PNGs; foreground is > 127 and the whole foreground is ONE instance (id 1).
      An empty mask gives no instance; a mask with values but none above 127 is refused.
    * sample_id is the file stem.
    * Expected count 280 is from the ThinObject-5K / HQ-SAM papers (unverified against the files).
"""

from __future__ import annotations

from pathlib import Path

from sherpa_bench.datasets._binary_folders import OneObjectPairs, same_stem_pairs
from sherpa_bench.datasets.files import DatasetFiles
from sherpa_bench.harness.registry import DATASETS

ROOT = ("thin_object_detection", "COIFT")


@DATASETS.register("coift")
class COIFT(OneObjectPairs):
    """COIFT: objects with thin, fine structures, one object per image (evaluation only)."""

    name = "coift"
    title = "COIFT"
    description = __doc__
    source = (
        "https://github.com/liewjunhao/thin-object-selection (COIFT.zip); HQ-SAM's copy in HQSeg-44K "
        "(https://huggingface.co/sam-hq-team/sam-hq-training, data/thin_object_detection) (unverified)"
    )
    mask_encoding = "8-bit 0/255 PNG (> 127 is foreground); the whole foreground is one instance"
    splits = ("test",)
    eval_split = "test"
    expected_counts = {"test": 280}
    layout = """  DIR/
  └── thin_object_detection/
      └── COIFT/
          ├── images/<name>.jpg
          └── masks/<name>.png      (same stem, 8-bit 0/255)"""

    def _pairs(self, files: DatasetFiles, split: str) -> list[tuple[Path, Path]]:
        files.folder(*ROOT)  # named first when the whole dataset is missing
        return same_stem_pairs(files, (*ROOT, "images"), (*ROOT, "masks"), "images")
