"""The ADE20K loader (ADEChallengeData2016), on a tiny fabricated copy of the official layout."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sherpa_bench.datasets import DATASETS
from sherpa_bench.harness.errors import DatasetNotFoundError, MalformedDataError

SIZE = (16, 20)
COUNTS = {"training": 3, "validation": 2}


def _class_map() -> np.ndarray:
    """Class 0 ("other") on the left column, two separate pieces of class 5 (one touching the other
    only diagonally: still one 8-connected component), a small piece of class 5 under the minimum,
    and class 150 elsewhere."""
    cmap = np.full(SIZE, 150, dtype=np.uint8)
    cmap[:, 0] = 0
    cmap[1:11, 2:12] = 5  # 100 px, component A
    cmap[11:13, 12:14] = 5  # 4 px touching A's corner diagonally: joins A (8-connectivity)
    cmap[14:16, 16:20] = 5  # 8 px: under the 100-px minimum, dropped
    return cmap


def _write(root: Path, folder: str, stem: str, cmap: np.ndarray, palette: bool = False) -> None:
    rng = np.random.default_rng(abs(hash(stem)) % 2**32)
    Image.fromarray(rng.integers(0, 256, (*cmap.shape, 3), dtype=np.uint8)).save(
        root / "ADEChallengeData2016" / "images" / folder / f"{stem}.jpg"
    )
    mask = Image.fromarray(cmap)
    if palette:
        mask = mask.convert("P")  # palette PNG: indices equal the grey values stored
        mask.putpalette([v for i in range(256) for v in (i, 255 - i, 0)])
    mask.save(root / "ADEChallengeData2016" / "annotations" / folder / f"{stem}.png")


@pytest.fixture
def ade_root(tmp_path: Path) -> Path:
    for folder, count in COUNTS.items():
        (tmp_path / "ADEChallengeData2016" / "images" / folder).mkdir(parents=True)
        (tmp_path / "ADEChallengeData2016" / "annotations" / folder).mkdir(parents=True)
        prefix = "ADE_train" if folder == "training" else "ADE_val"
        for k in range(count):
            _write(tmp_path, folder, f"{prefix}_{k:08d}", _class_map(), palette=(k == 1))
    return tmp_path


@pytest.fixture(autouse=True)
def no_env_root(monkeypatch):
    monkeypatch.delenv("SHERPA_BENCH_DATA", raising=False)


def _ade(split: str, root: Path | None):
    return DATASETS.get("ade20k")(split, root)


def test_each_split_reads_its_own_folder(ade_root):
    assert {split: len(_ade(split, ade_root)) for split in ("train", "valid")} == {"train": 3, "valid": 2}
    assert [s.sample_id for s in _ade("valid", ade_root)] == ["ADE_val_00000000", "ADE_val_00000001"]


@pytest.mark.parametrize("index", [0, 1])  # 1 is stored as a palette PNG
def test_each_connected_component_of_a_class_is_an_instance(ade_root, index):
    sample = _ade("valid", ade_root)[index]
    piece_a = np.zeros(SIZE, bool)
    piece_a[1:11, 2:12] = True
    piece_a[11:13, 12:14] = True
    other = np.zeros(SIZE, bool)
    other[:, 0] = True
    rest = ~(other | piece_a)
    rest[14:16, 16:20] = False
    assert sample.instance_ids == (5001, 150001)
    assert np.array_equal(sample.masks[0], piece_a)
    assert np.array_equal(sample.masks[1], rest)
    assert np.array_equal(sample.ignore, other)
    assert sample.image.shape == (*SIZE, 3) and sample.image.dtype == np.uint8
    folder = ade_root / "ADEChallengeData2016"
    assert sample.meta["source"] == str(folder / "images" / "validation" / f"ADE_val_0000000{index}.jpg")
    assert sample.meta["mask"] == str(folder / "annotations" / "validation" / f"ADE_val_0000000{index}.png")


def test_components_are_numbered_per_class_in_raster_order(ade_root):
    cmap = np.full(SIZE, 3, dtype=np.uint8)  # class 3: the 112 px left over, one component
    cmap[0:10, 0:10] = 7  # 100 px, first pixel (0, 0): 7001
    cmap[4:16, 11:20] = 7  # 108 px, first pixel (4, 11): 7002
    _write(ade_root, "training", "ADE_train_00000000", cmap)
    sample = _ade("train", ade_root)[0]
    first, second = np.zeros(SIZE, bool), np.zeros(SIZE, bool)
    first[0:10, 0:10] = True
    second[4:16, 11:20] = True
    assert sample.instance_ids == (3001, 7001, 7002)
    assert np.array_equal(sample.masks[0], ~(first | second))
    assert np.array_equal(sample.masks[1], first) and np.array_equal(sample.masks[2], second)
    assert not sample.ignore.any()


def test_an_image_of_only_other_gives_no_instance(ade_root):
    _write(ade_root, "validation", "ADE_val_00000000", np.zeros(SIZE, np.uint8))
    sample = _ade("valid", ade_root)[0]
    assert sample.masks.shape == (0, *SIZE) and sample.instance_ids == () and sample.ignore.all()


def test_the_minimum_component_size_is_a_class_attribute():
    assert DATASETS.get("ade20k").min_pixels == 100


def test_a_missing_split_folder_is_named(ade_root):
    folder = ade_root / "ADEChallengeData2016" / "annotations" / "training"
    for file in folder.iterdir():
        file.unlink()
    folder.rmdir()
    with pytest.raises(DatasetNotFoundError, match=re.escape(str(folder))):
        _ade("train", ade_root)


def test_a_missing_release_is_named(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=re.escape(str(tmp_path / "ADEChallengeData2016"))):
        _ade("valid", tmp_path)


def test_an_image_without_annotation_is_named(ade_root):
    (ade_root / "ADEChallengeData2016" / "annotations" / "training" / "ADE_train_00000002.png").unlink()
    orphan = ade_root / "ADEChallengeData2016" / "images" / "training" / "ADE_train_00000002.jpg"
    with pytest.raises(MalformedDataError, match=re.escape(str(orphan))):
        _ade("train", ade_root)


def test_a_class_index_above_150_is_malformed(ade_root):
    cmap = _class_map()
    cmap[0, 5] = 151
    _write(ade_root, "validation", "ADE_val_00000001", cmap)
    path = ade_root / "ADEChallengeData2016" / "annotations" / "validation" / "ADE_val_00000001.png"
    dataset = _ade("valid", ade_root)
    with pytest.raises(MalformedDataError, match=re.escape(str(path)) + ".*151"):
        dataset[1]


def test_a_colour_annotation_is_malformed(ade_root):
    path = ade_root / "ADEChallengeData2016" / "annotations" / "validation" / "ADE_val_00000000.png"
    Image.fromarray(np.zeros((*SIZE, 3), np.uint8)).save(path)
    with pytest.raises(MalformedDataError, match=re.escape(str(path))):
        _ade("valid", ade_root)[0]


def test_an_annotation_of_another_size_is_malformed(ade_root):
    path = ade_root / "ADEChallengeData2016" / "annotations" / "training" / "ADE_train_00000001.png"
    Image.fromarray(np.full((8, 10), 4, np.uint8)).save(path)
    with pytest.raises(MalformedDataError, match=re.escape(str(path))):
        _ade("train", ade_root)[1]


def test_a_corrupt_annotation_is_named(ade_root):
    path = ade_root / "ADEChallengeData2016" / "annotations" / "training" / "ADE_train_00000000.png"
    path.write_bytes(path.read_bytes()[:30])
    with pytest.raises(MalformedDataError, match=re.escape(str(path))):
        _ade("train", ade_root)[0]
