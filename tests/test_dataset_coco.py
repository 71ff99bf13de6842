"""The COCO 2017 instances loader, on a tiny fabricated copy of the official layout."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as coco_mask

from sherpa_bench.datasets import DATASETS
from sherpa_bench.harness.errors import DatasetNotFoundError, MalformedDataError

H, W = 16, 20


def _box(rows: slice, cols: slice) -> np.ndarray:
    mask = np.zeros((H, W), bool)
    mask[rows, cols] = True
    return mask


#: the three hand-made objects of image 139 (and what they decode to)
POLYGON = [[2, 3, 8, 3, 8, 7, 2, 7], [9, 9, 11, 9, 11, 11, 9, 11]]  # x, y corners of two rectangles
POLYGON_MASK = _box(slice(3, 7), slice(2, 8)) | _box(slice(9, 11), slice(9, 11))  # pycocotools: [x0, x1) x [y0, y1)
RLE_MASK = _box(slice(10, 15), slice(12, 19)) & ~_box(slice(12, 13), slice(14, 16))  # a block with a hole
CROWD_MASK = _box(slice(0, 2), slice(0, 20)) | _box(slice(2, 6), slice(15, 20))


def _compressed_rle(mask: np.ndarray) -> dict:
    rle = coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}  # str, as in real files


def _uncompressed_rle(mask: np.ndarray) -> dict:
    """Run lengths over the column-major pixels, starting with a run of zeros (COCO's iscrowd format)."""
    flat = mask.flatten(order="F").astype(int)
    counts, current, run = [], 0, 0
    for value in flat:
        if value == current:
            run += 1
        else:
            counts.append(run)
            current, run = value, 1
    counts.append(run)
    return {"size": [H, W], "counts": counts}


def _image_entry(image_id: int, height: int = H, width: int = W) -> dict:
    return {"id": image_id, "file_name": f"{image_id:012d}.jpg", "height": height, "width": width}


def _annotation(ann_id: int, image_id: int, segmentation, iscrowd: int = 0) -> dict:
    return {"id": ann_id, "image_id": image_id, "category_id": 1, "segmentation": segmentation, "iscrowd": iscrowd}


def _write_split(root: Path, folder: str, images: list[dict], annotations: list[dict]) -> None:
    (root / "coco" / folder).mkdir(parents=True, exist_ok=True)
    (root / "coco" / "annotations").mkdir(parents=True, exist_ok=True)
    for entry in images:
        rng = np.random.default_rng(entry["id"])
        pixels = rng.integers(0, 256, (entry["height"], entry["width"], 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / "coco" / folder / entry["file_name"])
    content = {"info": {}, "images": images, "annotations": annotations, "categories": [{"id": 1, "name": "x"}]}
    (root / "coco" / "annotations" / f"instances_{folder}.json").write_text(json.dumps(content))


@pytest.fixture
def coco_root(tmp_path: Path) -> Path:
    val_images = [_image_entry(632), _image_entry(139), _image_entry(285)]  # listed out of order
    val_annotations = [
        _annotation(900100, 139, POLYGON),
        _annotation(900200, 139, _compressed_rle(RLE_MASK)),
        _annotation(900300, 139, _uncompressed_rle(CROWD_MASK), iscrowd=1),
        _annotation(900400, 632, [[0, 0, 4, 0, 4, 4, 0, 4]]),
    ]  # image 285 has no annotation
    _write_split(tmp_path, "val2017", val_images, val_annotations)
    _write_split(tmp_path, "train2017", [_image_entry(9), _image_entry(25)], [_annotation(1, 9, POLYGON)])
    return tmp_path


@pytest.fixture(autouse=True)
def no_env_root(monkeypatch):
    monkeypatch.delenv("SHERPA_BENCH_DATA", raising=False)


def _coco(split: str, root: Path | None):
    return DATASETS.get("coco")(split, root)


def _json(root: Path, folder: str = "val2017") -> Path:
    return root / "coco" / "annotations" / f"instances_{folder}.json"


def test_each_split_reads_the_images_its_json_lists(coco_root):
    assert {split: len(_coco(split, coco_root)) for split in ("train", "valid")} == {"train": 2, "valid": 3}
    assert [s.sample_id for s in _coco("valid", coco_root)] == ["000000000139", "000000000285", "000000000632"]


def test_polygons_rle_and_crowds_decode_into_instances_and_ignore(coco_root):
    sample = _coco("valid", coco_root)[0]
    assert sample.instance_ids == (900100, 900200)
    assert np.array_equal(sample.masks[0], POLYGON_MASK)
    assert np.array_equal(sample.masks[1], RLE_MASK)
    assert np.array_equal(sample.ignore, CROWD_MASK)
    assert sample.image.shape == (H, W, 3) and sample.image.dtype == np.uint8
    assert sample.meta["source"] == str(coco_root / "coco" / "val2017" / "000000000139.jpg")
    assert sample.meta["mask"] == str(_json(coco_root)) and sample.meta["coco_image_id"] == 139


def test_an_image_without_annotations_has_no_instance(coco_root):
    sample = _coco("valid", coco_root)[1]
    assert sample.masks.shape == (0, H, W) and sample.instance_ids == () and not sample.ignore.any()


def test_files_the_json_does_not_list_are_not_read(coco_root):
    Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(coco_root / "coco" / "val2017" / "000000999999.jpg")
    assert len(_coco("valid", coco_root)) == 3


def test_malformed_json_is_named(coco_root):
    _json(coco_root).write_text('{"images": [')
    with pytest.raises(MalformedDataError, match=re.escape(str(_json(coco_root)))):
        _coco("valid", coco_root)


def test_json_that_is_not_a_coco_instances_file_is_named(coco_root):
    _json(coco_root).write_text(json.dumps({"images": []}))
    with pytest.raises(MalformedDataError, match=re.escape(str(_json(coco_root))) + ".*annotations"):
        _coco("valid", coco_root)


def test_an_image_listed_but_missing_is_named_at_construction(coco_root):
    missing = coco_root / "coco" / "val2017" / "000000000285.jpg"
    missing.unlink()
    with pytest.raises(MalformedDataError, match=re.escape(str(missing))):
        _coco("valid", coco_root)


def test_a_missing_annotation_file_is_named(coco_root):
    _json(coco_root, "train2017").unlink()
    with pytest.raises(DatasetNotFoundError, match=re.escape(str(_json(coco_root, "train2017")))):
        _coco("train", coco_root)


def test_a_missing_image_folder_is_named(tmp_path):
    (tmp_path / "coco").mkdir()
    with pytest.raises(DatasetNotFoundError, match=re.escape(str(tmp_path / "coco" / "val2017"))):
        _coco("valid", tmp_path)


def test_an_image_of_another_size_than_the_json_says_is_named(coco_root):
    path = coco_root / "coco" / "val2017" / "000000000632.jpg"
    Image.fromarray(np.zeros((H + 2, W, 3), np.uint8)).save(path)
    with pytest.raises(MalformedDataError, match=re.escape(str(path))):
        _coco("valid", coco_root)[2]


@pytest.mark.parametrize(
    "segmentation",
    [
        {"size": [H, W], "counts": "not an rle!"},
        {"size": [H, W], "counts": [5, 3]},  # too short: pycocotools would read past its end
        {"size": [H + 1, W], "counts": [(H + 1) * W]},  # another size than the image
        [["a", "b"]],
    ],
)
def test_an_undecodable_segmentation_names_the_json_and_annotation(coco_root, segmentation):
    content = json.loads(_json(coco_root).read_text())
    content["annotations"][3]["segmentation"] = segmentation
    _json(coco_root).write_text(json.dumps(content))
    dataset = _coco("valid", coco_root)  # segmentations are decoded on load
    with pytest.raises(MalformedDataError, match=r"annotation 900400 in " + re.escape(str(_json(coco_root)))):
        dataset[2]
