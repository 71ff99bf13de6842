"""DUTS (Wang et al., 2017): salient object detection; the SHERPA paper's second natural-image
fine-tuning task (Table 13: 10,553 training / 5,019 test images).

Read from the official release (DUTS-TR.zip and DUTS-TE.zip unpacked into DIR)::

    <root>/DUTS-TR/DUTS-TR-Image/<name>.jpg + DUTS-TR/DUTS-TR-Mask/<name>.png     split "train"
    <root>/DUTS-TE/DUTS-TE-Image/<name>.jpg + DUTS-TE/DUTS-TE-Mask/<name>.png     split "valid"

Choices:
    * The two folders may also sit one level down, in ``<root>/DUTS/`` (``DUTS/DUTS-TR/...``); each
      split looks in ``<root>`` first, then in ``<root>/DUTS``.
    * DUTS has no validation split: "valid" is DUTS-TE (the 5,019 test images), the set that
      fine-tuning is evaluated and selected on, as in the paper's Table 13.
    * Masks are 0/255 saliency PNGs (some with anti-aliased edges); foreground is > 127, and the
      whole foreground is ONE instance (id 1) however many pieces it has, since a saliency mask
      annotates one salient object (the paper treats every set as instance segmentation, one
      instance here). An empty mask gives a sample with no instance; a mask with values but none
      above 127 (a 0/1 export) is refused.
    * CascadePSP and HQ-SAM flatten DUTS into one folder of .jpg/.png pairs; that copy is not read.
      HQ-SAM trains on both DUTS-TR and DUTS-TE, so DUTS-TE is not unseen data for HQ-SAM weights.
    * sample_id is the file stem (e.g. ``ILSVRC2012_test_00000003``).
"""

from __future__ import annotations

from pathlib import Path

from sherpa_bench.datasets._binary_folders import OneObjectPairs, first_folder, same_stem_pairs
from sherpa_bench.datasets.files import DatasetFiles
from sherpa_bench.datasets.suites import NATURAL_GROUPS
from sherpa_bench.harness.registry import DATASETS

SPLIT_FOLDERS = {"train": "DUTS-TR", "valid": "DUTS-TE"}


@DATASETS.register("duts")
class DUTS(OneObjectPairs):
    """DUTS: salient object detection, one salient object per image (fine-tuning task)."""

    name = "duts"
    title = "DUTS"
    description = __doc__
    source = "http://saliencydetection.net/duts/ (DUTS-TR.zip, DUTS-TE.zip)"
    mask_encoding = "8-bit 0/255 saliency PNG (> 127 is foreground); the whole foreground is one instance"
    splits = tuple(SPLIT_FOLDERS)
    eval_split = "valid"
    expected_counts = {"train": 10553, "valid": 5019}
    generalization = NATURAL_GROUPS
    suite = "natural"
    layout = """  DIR/                          (or DIR/DUTS/, same inside)
  ├── DUTS-TR/                  (train)
  │   ├── DUTS-TR-Image/<name>.jpg
  │   └── DUTS-TR-Mask/<name>.png   (same stem, 8-bit 0/255)
  └── DUTS-TE/                  (valid)
      ├── DUTS-TE-Image/<name>.jpg
      └── DUTS-TE-Mask/<name>.png"""

    def _pairs(self, files: DatasetFiles, split: str) -> list[tuple[Path, Path]]:
        folder = SPLIT_FOLDERS[split]
        base = first_folder(files, (folder,), ("DUTS", folder))
        return same_stem_pairs(
            files, (*base, f"{folder}-Image"), (*base, f"{folder}-Mask"), f"images (split {split!r})"
        )
