"""ECSSD (Extended Complex Scene Saliency Dataset; Yan et al., 2013; Shi et al., 2016): 1,000
saliency images with complex scenes; a SHERPA Group 2 generalization set.

Read from the official release (images.zip and ground_truth_mask.zip unpacked into DIR/ECSSD)::

    <root>/ECSSD/images/<name>.jpg + ECSSD/ground_truth_mask/<name>.png      split "test"

Choices:
    * One split, "test" (all 1,000 images); there is no official train/test division.
    * Masks are 0/255 saliency PNGs; foreground is > 127 and the whole foreground is ONE instance
      (id 1). An empty mask gives no instance; a mask with values but none above 127 is refused.
    * HQ-SAM trains on ECSSD, so it is not unseen data for HQ-SAM weights.
    * sample_id is the file stem (``0001`` ... ``1000``).
"""

from __future__ import annotations

from pathlib import Path

from sherpa_bench.datasets._binary_folders import OneObjectPairs, same_stem_pairs
from sherpa_bench.datasets.files import DatasetFiles
from sherpa_bench.harness.registry import DATASETS


@DATASETS.register("ecssd")
class ECSSD(OneObjectPairs):
    """ECSSD: saliency in complex scenes, one salient object per image (generalization set)."""

    name = "ecssd"
    title = "ECSSD"
    description = __doc__
    source = "https://www.cse.cuhk.edu.hk/leojia/projects/hsaliency/dataset.html (images.zip, ground_truth_mask.zip)"
    mask_encoding = "8-bit 0/255 saliency PNG (> 127 is foreground); the whole foreground is one instance"
    splits = ("test",)
    eval_split = "test"
    expected_counts = {"test": 1000}
    layout = """  DIR/
  └── ECSSD/
      ├── images/<name>.jpg
      └── ground_truth_mask/<name>.png   (same stem, 8-bit 0/255)"""

    def _pairs(self, files: DatasetFiles, split: str) -> list[tuple[Path, Path]]:
        files.folder("ECSSD")  # named first when the whole dataset is missing
        return same_stem_pairs(files, ("ECSSD", "images"), ("ECSSD", "ground_truth_mask"), "images")
