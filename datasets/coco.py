"""COCO 2017 instance segmentation (Lin et al., 2014): a generalization set of the SHERPA paper
(Group 1, natural scenes).

Read from the official release (``train2017.zip``, ``val2017.zip``, ``annotations_trainval2017.zip``)::

    <root>/coco/train2017/<12-digit id>.jpg                split "train" (118,287 images)
    <root>/coco/val2017/<12-digit id>.jpg                  split "valid" (5,000 images)
    <root>/coco/annotations/instances_train2017.json
    <root>/coco/annotations/instances_val2017.json

Choices:
    * The split's images are the ``images`` listed in its ``instances_<split>2017.json``, in
      ``file_name`` order; the sample id is the file stem. An image listed in the JSON but absent
      from the folder is an error at construction (files on disk that the JSON does not list are
      not read).
    * The JSON is read once, on construction, with the ``json`` module; a file that is not valid
      JSON or lacks ``images`` / ``annotations`` is a malformed-data error naming it.
    * Each annotation's ``segmentation`` (polygons, compressed RLE, or uncompressed RLE) is decoded
      with pycocotools at the image size the JSON gives; the image file must have that size.
    * ``iscrowd`` = 0 annotations are the instances, with their annotation ``id`` as instance id,
      in the JSON's order; an annotation whose decoded mask is empty is dropped (``min_pixels`` = 1,
      no other size minimum: COCO annotates objects, not pieces of a semantic map).
    * ``iscrowd`` = 1 annotations (crowds, stored as uncompressed RLE) are the ignore region, as
      COCO's own evaluation ignores detections matched to crowds.
    * An image listed with no annotation gives a sample with no instance (N = 0), not an error.
    * "valid" is val2017, the split evaluated when COCO is a generalization set.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

import numpy as np

from sherpa_bench.datasets.encodings import decode_rle
from sherpa_bench.datasets.files import DatasetFiles
from sherpa_bench.datasets.types import Sample, SegmentationDataset
from sherpa_bench.harness.registry import DATASETS

SPLIT_FOLDERS = {"train": "train2017", "valid": "val2017"}


@DATASETS.register("coco")
class COCO(SegmentationDataset):
    """COCO 2017 instances: one instance per (non-crowd) annotation, crowds are the ignore region."""

    name = "coco"
    title = "COCO"
    description = __doc__
    source = (
        "https://cocodataset.org/#download (train2017.zip, val2017.zip, annotations_trainval2017.zip; "
        "images.cocodataset.org/zips/…, images.cocodataset.org/annotations/…)"
    )
    mask_encoding = (
        "instances_<split>2017.json: polygons / RLE per annotation decoded with pycocotools; one instance per "
        "iscrowd=0 annotation (id = annotation id); iscrowd=1 regions -> ignore"
    )
    splits = tuple(SPLIT_FOLDERS)
    eval_split = "valid"
    expected_counts = {"train": 118287, "valid": 5000}
    min_pixels = 1
    layout = """  DIR/
  └── coco/
      ├── train2017/<12-digit id>.jpg     (train)
      ├── val2017/<12-digit id>.jpg       (valid)
      └── annotations/
          ├── instances_train2017.json
          └── instances_val2017.json"""

    def __init__(self, split: str, data_root: Path | None = None) -> None:
        super().__init__(split, data_root)
        self.files = files = DatasetFiles(self.title, self.layout, data_root)
        folder = SPLIT_FOLDERS[split]
        files.folder("coco")  # named first when the whole release is missing
        self.image_dir = files.folder("coco", folder)
        self.json_path = files.file("coco", "annotations", f"instances_{folder}.json")
        images, annotations = self._read_json(self.json_path)
        self.images = sorted(images, key=lambda image: image["file_name"])
        self.annotations: dict[int, list[dict]] = defaultdict(list)
        for annotation in annotations:
            self.annotations[annotation["image_id"]].append(annotation)
        if not self.images:
            raise files.not_found(f"split {split!r} has no images: {self.json_path} lists none")
        present = set(os.listdir(self.image_dir))
        missing = [image["file_name"] for image in self.images if image["file_name"] not in present]
        if missing:
            listed = ", ".join(str(self.image_dir / name) for name in missing[:3]) + (
                ", ..." if len(missing) > 3 else ""
            )
            raise files.malformed(
                f"{len(missing)} image(s) listed in {self.json_path} are missing from {self.image_dir}: {listed}; "
                f"extract {folder}.zip there"
            )

    def _read_json(self, path: Path) -> tuple[list[dict], list[dict]]:
        try:
            with open(path, encoding="utf-8") as stream:
                content = json.load(stream)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise self.files.malformed(
                f"cannot read {path} as JSON ({error}); replace it with the file from annotations_trainval2017.zip"
            ) from error
        try:
            images, annotations = content["images"], content["annotations"]
            for image in images:
                image["id"], image["file_name"], image["height"], image["width"]  # noqa: B018
            for annotation in annotations:
                annotation["id"], annotation["image_id"], annotation["segmentation"]  # noqa: B018
        except (KeyError, TypeError) as error:
            raise self.files.malformed(
                f"{path} is not a COCO instances file (missing or wrong field {error}); "
                "replace it with the file from annotations_trainval2017.zip"
            ) from error
        return images, annotations

    def __len__(self) -> int:
        return len(self.images)

    def _load(self, index: int) -> Sample:
        entry = self.images[index]
        image_path = self.image_dir / entry["file_name"]
        image = self.files.rgb(image_path)
        height, width = int(entry["height"]), int(entry["width"])
        if image.shape[:2] != (height, width):
            raise self.files.malformed(
                f"image {image_path} is {image.shape[1]}x{image.shape[0]} (WxH) but {self.json_path} gives "
                f"{width}x{height} for image id {entry['id']}; replace the image with the official one"
            )
        masks, ids = [], []
        ignore = np.zeros((height, width), dtype=bool)
        for annotation in self.annotations.get(entry["id"], ()):
            mask = self._decode(annotation, height, width)
            if annotation.get("iscrowd", 0):
                ignore |= mask
            elif mask.sum() >= self.min_pixels:
                masks.append(mask)
                ids.append(int(annotation["id"]))
        stacked = np.stack(masks) if masks else np.zeros((0, height, width), dtype=bool)
        return Sample(
            sample_id=Path(entry["file_name"]).stem,
            image=image,
            masks=stacked,
            instance_ids=tuple(ids),
            ignore=ignore,
            meta={"source": str(image_path), "mask": str(self.json_path), "coco_image_id": entry["id"]},
        )

    def _decode(self, annotation: dict, height: int, width: int) -> np.ndarray:
        segmentation = annotation["segmentation"]
        if isinstance(segmentation, list) and not segmentation:
            return np.zeros((height, width), dtype=bool)
        if isinstance(segmentation, dict):
            self._check_rle(annotation["id"], segmentation, height, width)
        try:
            mask = decode_rle(segmentation, height, width)
        except Exception as error:  # pycocotools raises bare Exception / TypeError / ValueError on bad input
            raise self.files.malformed(
                f"annotation {annotation['id']} in {self.json_path} has a segmentation pycocotools cannot decode "
                f"({type(error).__name__}: {error}); replace the file with the official one"
            ) from error
        if mask.shape != (height, width):
            raise self.files.malformed(
                f"annotation {annotation['id']} in {self.json_path} decodes to {mask.shape[1]}x{mask.shape[0]} "
                f"(WxH), but its image is {width}x{height}; replace the file with the official one"
            )
        return mask

    def _check_rle(self, annotation_id: int, rle: dict, height: int, width: int) -> None:
        """pycocotools reads past the end of an uncompressed RLE that is too short instead of failing."""
        problem = None
        size, counts = rle.get("size"), rle.get("counts")
        if not isinstance(size, list) or size != [height, width]:
            problem = f"RLE size {size} is not [{height}, {width}], its image's [height, width]"
        elif isinstance(counts, list) and not all(isinstance(v, int) and v >= 0 for v in counts):
            problem = "uncompressed RLE counts are not all non-negative integers"
        elif isinstance(counts, list) and sum(counts) != height * width:
            problem = f"uncompressed RLE counts add up to {sum(counts)}, not {height}*{width}"
        if problem:
            raise self.files.malformed(
                f"annotation {annotation_id} in {self.json_path}: {problem}; replace the file with the official one"
            )
