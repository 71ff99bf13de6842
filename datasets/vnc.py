"""VNC (Gerhard et al., 2013; "VNC-III" in the SHERPA paper): ssTEM of the ventral nerve cord of a
Drosophila third-instar larva, 20 labelled sections at 4.6 x 4.6 nm per pixel, 45-50 nm thick.
A biomedical generalization set of the SHERPA paper (scored after fine-tuning on Lucchi).

Read from the official release (GitHub repository unidesigner/groundtruth-drosophila-vnc)::

    <root>/groundtruth-drosophila-vnc/stack1/raw/00.tif ... 19.tif              sections
    <root>/groundtruth-drosophila-vnc/stack1/mitochondria/00.png ... 19.png     0/255 masks

Choices:
    * Only ``stack1`` is labelled; its 20 sections are the single split "test". ``stack2`` (raw
      only) and the ``synapses/``, ``membranes/`` labels are not read.
    * The GitHub zip unpacks as ``groundtruth-drosophila-vnc-master/``; that name is accepted too
      (``groundtruth-drosophila-vnc/`` wins when both exist).
    * Sections and masks are paired by sorted order, as torch-em's ``vnc.py`` does (it sorts both
      globs and stacks them); the two folders must hold the same number of files. In the official
      release the names agree (``00.tif`` <-> ``00.png``). The sample id is the section's stem.
    * Masks are 0/255 (255 = mitochondrion; 1-bit PNGs count as 0/255), > 127 is foreground. The
      release annotates the class, not instances, so each 8-connected component of a section is one
      instance (ids 1..N in raster order of the component's first pixel). torch-em labels the whole
      20-section volume in 3D instead; per-section components are what a 2D prompt can target.
      Components smaller than ``min_pixels`` (64) are dropped and their pixels form the ignore
      region (None when there are none). A section without mitochondria gives N = 0. A mask whose
      non-zero values are all <= 127 (a 0/1 export) is refused.
    * Sections are greyscale, repeated over three channels (16-bit scaled from its min..max).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sherpa_bench.datasets._em import MIN_MITO_PIXELS, binary_mito, mito_components
from sherpa_bench.datasets.files import DatasetFiles
from sherpa_bench.datasets.pairs import ImageMaskPairs
from sherpa_bench.harness.registry import DATASETS

#: the release's folder, then the name the GitHub zip unpacks to
FOLDERS = ("groundtruth-drosophila-vnc", "groundtruth-drosophila-vnc-master")
TIFF = (".tif", ".tiff")


@DATASETS.register("vnc")
class VNC(ImageMaskPairs):
    """VNC (Drosophila ventral nerve cord ssTEM): 20 sections with mitochondria masks."""

    name = "vnc"
    title = "VNC"
    description = __doc__
    source = "https://github.com/unidesigner/groundtruth-drosophila-vnc (master.zip; figshare doi 10.6084/m9.figshare.856713)"
    mask_encoding = (
        "one 0/255 PNG per section (255 = mitochondrion); each 8-connected component is an instance, "
        f"pieces under {MIN_MITO_PIXELS} pixels are ignored"
    )
    splits = ("test",)
    eval_split = "test"
    expected_counts = {"test": 20}
    #: connected components with fewer pixels are not instances (their pixels are ignored)
    min_pixels = MIN_MITO_PIXELS
    layout = """  DIR/
  └── groundtruth-drosophila-vnc/        (or groundtruth-drosophila-vnc-master/, as the zip unpacks)
      └── stack1/
          ├── raw/00.tif … 19.tif            (20 greyscale sections)
          └── mitochondria/00.png … 19.png   (0/255, 255 = mitochondrion; paired in sorted order)"""

    def _pairs(self, files: DatasetFiles, split: str) -> list[tuple[Path, Path]]:
        base = next((name for name in FOLDERS if (files.root / name).is_dir()), FOLDERS[0])
        files.folder(base, "stack1")  # names the release folder first when it is missing
        raw_dir = files.folder(base, "stack1", "raw")
        mask_dir = files.folder(base, "stack1", "mitochondria")
        sections = files.listing(raw_dir, TIFF, "sections")
        masks = files.listing(mask_dir, (".png",), "mitochondria masks")
        if len(sections) != len(masks):
            raise files.malformed(
                f"{raw_dir} holds {len(sections)} sections but {mask_dir} holds {len(masks)} masks; "
                "they are paired in sorted order, so both folders must hold one file per section"
            )
        return list(zip(sections, masks))

    def _instances(self, mask_path: Path) -> tuple[np.ndarray, tuple[int, ...], np.ndarray | None]:
        foreground = binary_mito(self.files, self.files.read(mask_path), mask_path)
        return mito_components(foreground, self.min_pixels)
