"""Lucchi (Lucchi et al., 2013; EPFL "Electron Microscopy Dataset"): mitochondria in FIB-SEM of the
CA1 hippocampus, about 5 x 5 x 5 nm voxels. The SHERPA paper's biomedical fine-tuning task.

Read from the official EPFL release, four multi-page TIFF stacks (165 slices each, 768 x 1024
pixels, H x W)::

    <root>/Lucchi/training.tif + training_groundtruth.tif   split "train" (165 slices)
    <root>/Lucchi/testing.tif  + testing_groundtruth.tif    split "valid" (165 slices)

Choices:
    * The release has a training and a testing stack and nothing else; the SHERPA paper (Table 13:
      165 / 165) validates on the testing stack, so split "valid" IS ``testing.tif``. It is also
      the split evaluated when Lucchi is scored as a dataset (``eval_split``).
    * Each slice of a stack is one sample, ``training/0000`` ... ``training/0164`` (stack name,
      4-digit page index); ``meta["slice"]`` is the page index.
    * Ground truth is 0/255 (255 = mitochondrion); > 127 is foreground. Lucchi annotates the
      mitochondria class, not instances, so each 8-connected component of a slice is one instance
      (ids 1..N in raster order of the component's first pixel). Components smaller than
      ``min_pixels`` (64) are annotation specks or grazing tips, not promptable objects: they are
      dropped and their pixels form the ignore region (None when there are none). A slice with no
      mitochondrion gives N = 0. A mask whose non-zero values are all <= 127 (a 0/1 export) is refused.
    * Slices are greyscale; they are repeated over three channels (a 16-bit stack is first scaled
      from its own min..max to 0..255).
    * The stacks are read lazily: construction only counts pages and reads the page size from the
      headers (image and ground-truth stacks must agree on both); loading a sample decodes that one
      page of each stack (PIL seeks to it) and never the whole stack.
    * Not Lucchi++ (Casser et al., 2020): that re-annotation ships PNG folders
      ``Lucchi++/{Train_In,Train_Out,Test_In,Test_Out}`` with corrected labels, and torch-em's
      ``lucchi.py`` writes its ``Test_*`` folders to ``lucchi_train.h5`` and ``Train_*`` to
      ``lucchi_test.h5``. This loader reads only the original EPFL stacks and pins the split by
      file name: train = ``training*.tif``, valid = ``testing*.tif``.
"""

from __future__ import annotations

from pathlib import Path

from sherpa_bench.datasets._em import MIN_MITO_PIXELS, binary_mito, mito_components, read_page, stack_shape
from sherpa_bench.datasets.files import DatasetFiles, to_rgb
from sherpa_bench.datasets.suites import BIOMEDICAL_GROUPS
from sherpa_bench.datasets.types import Sample, SegmentationDataset
from sherpa_bench.harness.registry import DATASETS

#: split -> (image stack, ground-truth stack) in ``Lucchi/``
SPLIT_STACKS = {
    "train": ("training.tif", "training_groundtruth.tif"),
    "valid": ("testing.tif", "testing_groundtruth.tif"),
}


@DATASETS.register("lucchi")
class Lucchi(SegmentationDataset):
    """Lucchi (EPFL): mitochondria in hippocampus FIB-SEM, one sample per slice of a TIFF stack."""

    name = "lucchi"
    title = "Lucchi"
    description = __doc__
    source = (
        "https://www.epfl.ch/labs/cvlab/data/data-em/ (training.tif, training_groundtruth.tif, "
        "testing.tif, testing_groundtruth.tif)"
    )
    mask_encoding = (
        "multi-page TIFF, 0/255 (255 = mitochondrion); each 8-connected component of a slice is an instance, "
        f"pieces under {MIN_MITO_PIXELS} pixels are ignored"
    )
    splits = tuple(SPLIT_STACKS)
    eval_split = "valid"
    expected_counts = {"train": 165, "valid": 165}
    generalization = BIOMEDICAL_GROUPS
    suite = "biomedical"
    #: connected components with fewer pixels are not instances (their pixels are ignored)
    min_pixels = MIN_MITO_PIXELS
    layout = """  DIR/
  └── Lucchi/
      ├── training.tif               (train: 165 pages, 768x1024 greyscale)
      ├── training_groundtruth.tif   (165 pages, 0/255, 255 = mitochondrion)
      ├── testing.tif                (valid: 165 pages)
      └── testing_groundtruth.tif    (165 pages)
  (the original EPFL stacks, not the Lucchi++ PNG folders)"""

    def __init__(self, split: str, data_root: Path | None = None) -> None:
        super().__init__(split, data_root)
        self.files = DatasetFiles(self.title, self.layout, data_root)
        self.files.folder("Lucchi")
        image_name, mask_name = SPLIT_STACKS[split]
        self.image_path = self.files.file("Lucchi", image_name)
        self.mask_path = self.files.file("Lucchi", mask_name)
        pages, size = stack_shape(self.files, self.image_path)
        mask_pages, mask_size = stack_shape(self.files, self.mask_path)
        if pages != mask_pages:
            raise self.files.malformed(
                f"the image stack {self.image_path} has {pages} pages but its ground truth {self.mask_path} "
                f"has {mask_pages}; both must hold the same slices (re-download the pair)"
            )
        self.files.same_size(size, mask_size, self.image_path, self.mask_path)
        self.pages = pages
        self.stack_name = Path(image_name).stem

    def __len__(self) -> int:
        return self.pages

    def _load(self, index: int) -> Sample:
        image = to_rgb(read_page(self.files, self.image_path, index))
        page = read_page(self.files, self.mask_path, index)
        foreground = binary_mito(self.files, page, f"{self.mask_path} (page {index})")
        self.files.same_size(image.shape[:2], foreground.shape, self.image_path, self.mask_path)
        masks, ids, ignore = mito_components(foreground, self.min_pixels)
        return Sample(
            sample_id=f"{self.stack_name}/{index:04d}",
            image=image,
            masks=masks,
            instance_ids=ids,
            ignore=ignore,
            meta={"source": str(self.image_path), "mask": str(self.mask_path), "slice": index},
        )
