"""FSS-1000 (Li et al., 2020): few-shot segmentation of 1,000 object classes, 10 images each; a
SHERPA Group 2 generalization set ("FSS").

Read from the official release (fewshot_data.zip unpacked into DIR/FSS-1000)::

    <root>/FSS-1000/fewshot_data/<class>/<n>.jpg + <class>/<n>.png      split "test"

Choices:
    * One split, "test": all 1,000 classes x 10 images. The few-shot train/val/test class split of
      the FSS-1000 paper is not used (SAM is prompted, not given support images).
    * Each class folder holds its images and masks side by side, paired by stem; a class folder
      without images, or an image without its mask, is an error on construction.
    * Masks are 0/255 PNGs (of a 3-channel PNG, channel 0 is read); foreground is > 127 and the
      whole foreground is ONE instance (id 1): FSS-1000 annotates the one object of its class.
      An empty mask gives no instance; a mask with values but none above 127 is refused.
    * sample_id is ``<class>/<n>`` (stem numbers sorted numerically within a class, classes by name).
    * CascadePSP's ``fss/`` and HQ-SAM's flattened ``fss_all/`` copies are not read. HQ-SAM trains on
      FSS-1000, so it is not unseen data for HQ-SAM weights.
"""

from __future__ import annotations

from pathlib import Path

from sherpa_bench.datasets._binary_folders import OneObjectPairs, same_stem_pairs
from sherpa_bench.datasets.files import DatasetFiles
from sherpa_bench.harness.registry import DATASETS

ROOT = ("FSS-1000", "fewshot_data")


def _by_number(pair: tuple[Path, Path]) -> tuple[int, int | str]:
    stem = pair[0].stem
    return (0, int(stem)) if stem.isdigit() else (1, stem)


@DATASETS.register("fss")
class FSS1000(OneObjectPairs):
    """FSS-1000: 1,000 object classes x 10 images, one object per image (generalization set)."""

    name = "fss"
    title = "FSS-1000"
    description = __doc__
    source = "https://github.com/HKUSTCV/FSS-1000 (fewshot_data.zip, linked from the README)"
    mask_encoding = "8-bit 0/255 PNG next to its .jpg (> 127 is foreground); the whole foreground is one instance"
    splits = ("test",)
    eval_split = "test"
    expected_counts = {"test": 10000}
    layout = """  DIR/
  └── FSS-1000/
      └── fewshot_data/
          └── <class>/          (1,000 class folders)
              ├── <n>.jpg       (n = 1 … 10)
              └── <n>.png       (same stem, 8-bit 0/255)"""

    def _pairs(self, files: DatasetFiles, split: str) -> list[tuple[Path, Path]]:
        root = files.folder(*ROOT)
        classes = sorted(p.name for p in root.iterdir() if p.is_dir())
        if not classes:
            raise files.not_found(f"no class folders in {root}")
        pairs: list[tuple[Path, Path]] = []
        for name in classes:
            found = same_stem_pairs(files, (*ROOT, name), (*ROOT, name), f"images of class {name!r}")
            pairs.extend(sorted(found, key=_by_number))
        return pairs

    def _sample_id(self, image_path: Path) -> str:
        return f"{image_path.parent.name}/{image_path.stem}"
