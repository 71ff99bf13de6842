"""MitoEM (Wei et al., 2020): two 30 um cubes of serial-section EM, rat (MitoEM-R) and human
(MitoEM-H) cortex, 1,000 slices of 4096 x 4096 pixels each (8 x 8 x 30 nm voxels), with 3D
mitochondria instance labels for slices 0-499. Two biomedical generalization sets of the SHERPA
paper, ``mitoem-r`` and ``mitoem-h``, read the same way from their own folder.

Read from the official release (EM30-{R,H}-im.zip and EM30-{R,H}-mito-train-val-v2.zip, unpacked
into one folder per volume)::

    <root>/MitoEM-R/im/im0000.png ... im0999.png                 greyscale slices
    <root>/MitoEM-R/mito-train-v2/seg0000.tif ... seg0399.tif    split "train" (400)
    <root>/MitoEM-R/mito-val-v2/seg0400.tif ... seg0499.tif      split "valid" (100)
    <root>/MitoEM-H/...                                          the same for the human volume

Choices:
    * Splits follow the release: "train" = slices 0-399 (``mito-train-v2``), "valid" = 400-499
      (``mito-val-v2``); "valid" is the split scored as a generalization set. Slices 500-999 have
      no public labels and are not read.
    * A split is its label files: ``segNNNN.tif`` is paired with ``im/imNNNN.png`` (same number);
      a label without its slice is an error. The sample id is the slice's stem (``im0400``),
      ``meta["slice"]`` its z index (400).
    * Labels are single-channel TIFFs of instance ids (uint16 or 32-bit; 0 = background); each id
      of a slice is one instance, kept whole even where the 3D mitochondrion cuts the slice in
      several pieces. Ids with fewer than ``min_pixels`` (64) pixels in the slice (tips of
      mitochondria grazing it; the authors' 2,000-voxel minimum is in 3D) are dropped and their
      pixels form the ignore region (None when there are none). A slice without mitochondria gives
      N = 0. A label of another mode (RGB, float) or with negative ids is refused.
    * Slices are 4096 x 4096 greyscale PNGs, repeated over three channels. They are large: SAM
      downsizes them to its 1024 input (4x), and a slice can hold hundreds of instances, each an
      H x W bool mask of 16 MB, so one sample can take gigabytes; load one at a time.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import ClassVar

import numpy as np

from sherpa_bench.datasets._em import MIN_MITO_PIXELS, dropped_pixels
from sherpa_bench.datasets.encodings import instances_from_ids
from sherpa_bench.datasets.files import DatasetFiles
from sherpa_bench.datasets.pairs import ImageMaskPairs
from sherpa_bench.datasets.types import Sample
from sherpa_bench.harness.registry import DATASETS

SPLIT_FOLDERS = {"train": "mito-train-v2", "valid": "mito-val-v2"}
LABEL_NAME = re.compile(r"seg(\d+)", re.IGNORECASE)
TIFF = (".tif", ".tiff")
#: PIL modes of a single-channel integer image (8-bit, 16-bit, 32-bit signed: PIL's view of uint32)
ID_MODES = ("L", "I;16", "I;16B", "I;16L", "I;16N", "I")


def _layout(folder: str) -> str:
    return f"""  DIR/
  └── {folder}/
      ├── im/im0000.png … im0999.png               (4096x4096 greyscale slices)
      ├── mito-train-v2/seg0000.tif … seg0399.tif  (train: instance ids, 0 = background)
      └── mito-val-v2/seg0400.tif … seg0499.tif    (valid)"""


class MitoEM(ImageMaskPairs):
    """One MitoEM volume (subclasses name the folder): slices with per-slice instance-id TIFFs."""

    #: the volume's folder under the data root
    folder: ClassVar[str]
    description = __doc__
    mask_encoding = (
        "one TIFF of instance ids per slice (uint16/uint32, 0 = background); each id is an instance, "
        f"ids under {MIN_MITO_PIXELS} pixels in the slice are ignored"
    )
    splits = tuple(SPLIT_FOLDERS)
    eval_split = "valid"
    expected_counts = {"train": 400, "valid": 100}
    #: ids with fewer pixels in a slice are not instances (their pixels are ignored)
    min_pixels = MIN_MITO_PIXELS

    def _pairs(self, files: DatasetFiles, split: str) -> list[tuple[Path, Path]]:
        files.folder(self.folder)  # named first when the whole volume is missing
        label_dir = files.folder(self.folder, SPLIT_FOLDERS[split])
        image_dir = files.folder(self.folder, "im")
        labels = files.listing(label_dir, TIFF, f"label slices (split {split!r})")
        present = {p.name for p in image_dir.iterdir()}
        pairs = []
        for label in labels:
            match = LABEL_NAME.fullmatch(label.stem)
            if match is None:
                raise files.malformed(f"label file {label} is not named segNNNN.tif, so its slice is unknown")
            pairs.append((image_dir / f"im{match.group(1)}.png", label))
        unmatched = [image for image, _ in pairs if image.name not in present]
        if unmatched:
            listed = ", ".join(str(p) for p in unmatched[:3]) + (", ..." if len(unmatched) > 3 else "")
            raise files.malformed(
                f"{len(unmatched)} label slice(s) in {label_dir} have no image in {image_dir}: {listed} "
                "missing; unpack the EM30 image zip into the same folder"
            )
        return pairs

    def _instances(self, mask_path: Path) -> tuple[np.ndarray, tuple[int, ...], np.ndarray | None]:
        label = self.files.read(mask_path)
        if label.mode not in ID_MODES:
            raise self.files.malformed(
                f"label {mask_path} is a {label.mode!r} image; MitoEM labels are single-channel integer "
                "instance-id TIFFs (uint16 or uint32)"
            )
        ids = np.asarray(label)
        if ids.min(initial=0) < 0:
            raise self.files.malformed(
                f"label {mask_path} holds negative ids (down to {int(ids.min())}); instance ids are >= 0"
            )
        masks, kept = instances_from_ids(ids, min_pixels=self.min_pixels)
        return masks, kept, dropped_pixels(ids != 0, masks)

    def _load(self, index: int) -> Sample:
        sample = super()._load(index)
        z = int(LABEL_NAME.fullmatch(self.pairs[index][1].stem).group(1))
        return dataclasses.replace(sample, meta={**sample.meta, "slice": z})


@DATASETS.register("mitoem-r")
class MitoEMR(MitoEM):
    """MitoEM-R: mitochondria instances in rat cortex serial-section EM (4096² slices)."""

    name = "mitoem-r"
    title = "MitoEM-R"
    folder = "MitoEM-R"
    source = "https://mitoem.grand-challenge.org/ (EM30-R-im.zip, EM30-R-mito-train-val-v2.zip)"
    layout = _layout("MitoEM-R")


@DATASETS.register("mitoem-h")
class MitoEMH(MitoEM):
    """MitoEM-H: mitochondria instances in human cortex serial-section EM (4096² slices)."""

    name = "mitoem-h"
    title = "MitoEM-H"
    folder = "MitoEM-H"
    source = "https://mitoem.grand-challenge.org/ (EM30-H-im.zip, EM30-H-mito-train-val-v2.zip)"
    layout = _layout("MitoEM-H")
