"""ThinObject-5K (Liew et al., 2021, "Deep Interactive Thin Object Selection"): objects with thin
structures (insects, bicycles, tools, ...) composited on natural backgrounds.

Read from the copy in HQ-SAM's HQSeg-44K bundle (``thin_object_detection/ThinObject5K``), whose
split folders replace the original release's ``images/``, ``masks/`` and ``list/*.txt``::

    <root>/thin_object_detection/ThinObject5K/images_train/<name>.jpg + masks_train/<name>.png   "train"
    <root>/thin_object_detection/ThinObject5K/images_test/<name>.jpg  + masks_test/<name>.png    "test"

Choices:
    * Splits are HQ-SAM's folders: "train" (HQ-SAM trains on it) and "test" (HQ-SAM's
      "ThinObject5k-TE" validation set). The original ``images/`` + ``list/`` layout is not read.
    * Masks are 0/255 PNGs; foreground is > 127 and the whole foreground is ONE instance (id 1).
      An empty mask gives no instance; a mask with values but none above 127 is refused.
    * sample_id is the file stem.
    * Expected counts 4,748 train / 500 test are from the HQ-SAM and ThinObject-5K papers
      (unverified against the files; ``data check`` reports what is on disk).
"""

from __future__ import annotations

from pathlib import Path

from sherpa_bench.datasets._binary_folders import OneObjectPairs, same_stem_pairs
from sherpa_bench.datasets.files import DatasetFiles
from sherpa_bench.harness.registry import DATASETS

ROOT = ("thin_object_detection", "ThinObject5K")


@DATASETS.register("thinobject5k")
class ThinObject5K(OneObjectPairs):
    """ThinObject-5K: objects with thin structures, one object per image (HQ-SAM's split folders)."""

    name = "thinobject5k"
    title = "ThinObject-5K"
    description = __doc__
    source = (
        "https://github.com/liewjunhao/thin-object-selection (ThinObject5K.zip); split folders as in "
        "HQ-SAM's HQSeg-44K (https://huggingface.co/sam-hq-team/sam-hq-training, data/thin_object_detection) "
        "(unverified)"
    )
    mask_encoding = "8-bit 0/255 PNG (> 127 is foreground); the whole foreground is one instance"
    splits = ("train", "test")
    eval_split = "test"
    expected_counts = {"train": 4748, "test": 500}
    layout = """  DIR/
  └── thin_object_detection/
      └── ThinObject5K/
          ├── images_train/<name>.jpg   (train)
          ├── masks_train/<name>.png    (same stem, 8-bit 0/255)
          ├── images_test/<name>.jpg    (test)
          └── masks_test/<name>.png"""

    def _pairs(self, files: DatasetFiles, split: str) -> list[tuple[Path, Path]]:
        files.folder(*ROOT)  # named first when the whole dataset is missing
        return same_stem_pairs(files, (*ROOT, f"images_{split}"), (*ROOT, f"masks_{split}"), f"images ({split!r})")
