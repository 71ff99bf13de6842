"""The COCO-Stuff 164k loader, on a tiny fabricated copy of the official layout."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sherpa_bench.datasets import DATASETS
from sherpa_bench.harness.errors import DatasetNotFoundError, MalformedDataError

SIZE = (16, 20)
COUNTS = {"train2017": 2, "val2017": 3}


def _write(root: Path, folder: str, stem: str, cmap: np.ndarray) -> None:
    rng = np.random.default_rng(int(stem))
    Image.fromarray(rng.integers(0, 256, (*cmap.shape, 3), dtype=np.uint8)).save(
        root / "cocostuff" / "images" / folder / f"{stem}.jpg"
    )
    Image.fromarray(cmap).save(root / "cocostuff" / "annotations" / folder / f"{stem}.png")


@pytest.fixture
def stuff_root(tmp_path: Path) -> Path:
    for folder, count in COUNTS.items():
        (tmp_path / "cocostuff" / "images" / folder).mkdir(parents=True)
        (tmp_path / "cocostuff" / "annotations" / folder).mkdir(parents=True)
        for k in range(count):
            _write(tmp_path, folder, f"{k + (0 if folder == 'val2017' else 500):012d}", np.full(SIZE, 100, np.uint8))
    return tmp_path


@pytest.fixture(autouse=True)
def no_env_root(monkeypatch):
    monkeypatch.delenv("SHERPA_BENCH_DATA", raising=False)


def _stuff(split: str, root: Path | None):
    return DATASETS.get("coco-stuff")(split, root)


def test_each_split_reads_its_own_folder(stuff_root):
    assert {split: len(_stuff(split, stuff_root)) for split in ("train", "valid")} == {"train": 2, "valid": 3}
    assert [s.sample_id for s in _stuff("train", stuff_root)] == ["000000000500", "000000000501"]


def test_class_zero_is_a_class_and_255_is_the_ignore_region(stuff_root):
    cmap = np.full(SIZE, 156, dtype=np.uint8)
    cmap[0, :] = 255
    cmap[2:12, 0:10] = 0  # 100 px: instance 1 of class 0 -> id 1
    cmap[8:16, 11:20] = 0  # 72 px: under the 100-px minimum, dropped (but not ignored)
    cmap[14:16, 0:2] = 181  # 4 px of the last class: dropped
    _write(stuff_root, "val2017", "000000000001", cmap)
    sample = _stuff("valid", stuff_root)[1]
    person = np.zeros(SIZE, bool)
    person[2:12, 0:10] = True
    unlabelled = np.zeros(SIZE, bool)
    unlabelled[0, :] = True
    sky = np.ones(SIZE, bool)
    sky[0, :] = False
    sky[2:12, 0:10] = False
    sky[8:16, 11:20] = False
    sky[14:16, 0:2] = False  # 124 px left: one component (joined through row 1 and column 10)
    assert sample.instance_ids == (1, 156001)
    assert np.array_equal(sample.masks[0], person)
    assert np.array_equal(sample.masks[1], sky)
    assert np.array_equal(sample.ignore, unlabelled)
    folder = stuff_root / "cocostuff"
    assert sample.meta["source"] == str(folder / "images" / "val2017" / "000000000001.jpg")
    assert sample.meta["mask"] == str(folder / "annotations" / "val2017" / "000000000001.png")


def test_an_unlabelled_image_gives_no_instance(stuff_root):
    _write(stuff_root, "train2017", "000000000500", np.full(SIZE, 255, np.uint8))
    sample = _stuff("train", stuff_root)[0]
    assert sample.masks.shape == (0, *SIZE) and sample.instance_ids == () and sample.ignore.all()


def test_the_same_component_rule_as_ade20k():
    from sherpa_bench.datasets._semantic import SemanticMapPairs

    stuff, ade = DATASETS.get("coco-stuff"), DATASETS.get("ade20k")
    assert issubclass(stuff, SemanticMapPairs) and issubclass(ade, SemanticMapPairs)
    assert stuff._instances is ade._instances
    assert (stuff.min_pixels, stuff.connectivity, stuff.ignore_values) == (100, 8, (255,))


def test_a_missing_image_folder_is_named(stuff_root):
    folder = stuff_root / "cocostuff" / "images" / "train2017"
    for file in folder.iterdir():
        file.unlink()
    folder.rmdir()
    with pytest.raises(DatasetNotFoundError, match=re.escape(str(folder))):
        _stuff("train", stuff_root)


def test_an_image_without_annotation_is_named(stuff_root):
    (stuff_root / "cocostuff" / "annotations" / "val2017" / "000000000002.png").unlink()
    orphan = stuff_root / "cocostuff" / "images" / "val2017" / "000000000002.jpg"
    with pytest.raises(MalformedDataError, match=re.escape(str(orphan))):
        _stuff("valid", stuff_root)


@pytest.mark.parametrize("value", [182, 254])
def test_a_value_that_is_no_class_is_malformed(stuff_root, value):
    cmap = np.full(SIZE, 3, np.uint8)
    cmap[5, 5] = value
    _write(stuff_root, "val2017", "000000000000", cmap)
    path = stuff_root / "cocostuff" / "annotations" / "val2017" / "000000000000.png"
    with pytest.raises(MalformedDataError, match=re.escape(str(path)) + f".*{value}"):
        _stuff("valid", stuff_root)[0]


def test_an_annotation_of_another_size_is_malformed(stuff_root):
    path = stuff_root / "cocostuff" / "annotations" / "val2017" / "000000000002.png"
    Image.fromarray(np.full((SIZE[0], SIZE[1] + 1), 5, np.uint8)).save(path)
    with pytest.raises(MalformedDataError, match=re.escape(str(path))):
        _stuff("valid", stuff_root)[2]
