"""The Cityscapes loader (gtFine instanceIds), on a tiny fabricated copy of the official layout."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sherpa_bench.datasets import DATASETS
from sherpa_bench.datasets.files import DatasetFiles
from sherpa_bench.harness.errors import DatasetNotFoundError, MalformedDataError

SIZE = (16, 20)
FRAMES = {"train": {"aachen": 2, "bochum": 1}, "val": {"frankfurt": 2}}


def _instance_ids() -> np.ndarray:
    """A hand-made instanceIds map (label ids from cityscapesScripts' labels.py)."""
    ids = np.zeros(SIZE, dtype=np.uint16)  # row 0: unlabeled (0)
    ids[1:16, 0:5] = 7  # road, 75 px
    ids[1:16, 5] = 1  # ego vehicle
    ids[1:5, 6:13] = 23  # sky, 28 px, first component
    ids[1:5, 13] = 11  # building, 4 px
    ids[1:5, 14:20] = 23  # sky, 24 px, second component
    ids[5:10, 6:13] = 26000  # car #0
    ids[5:10, 13:20] = 26001  # car #1, touching car #0
    ids[10:13, 6:20] = 24  # person without instance id: a crowd / group
    ids[13:16, 6:12] = 29005  # caravan instance (trainId 255)
    ids[13:16, 12:20] = 25000  # rider #0 ...
    ids[13:16, 15:17] = 18  # ... cut in two by a polegroup
    return ids


def _stem(city: str, k: int) -> str:
    return f"{city}_{k:06d}_000019"


def _write(root: Path, split: str, city: str, k: int, ids: np.ndarray) -> None:
    rng = np.random.default_rng(k)
    Image.fromarray(rng.integers(0, 256, (*ids.shape, 3), dtype=np.uint8)).save(
        root / "leftImg8bit" / split / city / f"{_stem(city, k)}_leftImg8bit.png"
    )
    Image.fromarray(ids).save(root / "gtFine" / split / city / f"{_stem(city, k)}_gtFine_instanceIds.png")


@pytest.fixture
def city_root(tmp_path: Path) -> Path:
    for split, cities in FRAMES.items():
        for city, count in cities.items():
            (tmp_path / "leftImg8bit" / split / city).mkdir(parents=True)
            (tmp_path / "gtFine" / split / city).mkdir(parents=True)
            for k in range(count):
                _write(tmp_path, split, city, k, _instance_ids())
            # the other gtFine files of the release sit beside it and are not read
            Image.fromarray(np.zeros(SIZE, np.uint8)).save(
                tmp_path / "gtFine" / split / city / f"{_stem(city, 0)}_gtFine_labelIds.png"
            )
    return tmp_path


@pytest.fixture(autouse=True)
def no_env_root(monkeypatch):
    monkeypatch.delenv("SHERPA_BENCH_DATA", raising=False)


def _city(split: str, root: Path | None):
    return DATASETS.get("cityscapes")(split, root)


def test_each_split_reads_its_own_folder(city_root):
    assert {split: len(_city(split, city_root)) for split in ("train", "valid")} == {"train": 3, "valid": 2}
    assert [s.sample_id for s in _city("train", city_root)] == [
        "aachen_000000_000019",
        "aachen_000001_000019",
        "bochum_000000_000019",
    ]


def _expected() -> tuple[tuple[int, ...], list[np.ndarray], np.ndarray]:
    def box(rows, cols):
        mask = np.zeros(SIZE, bool)
        mask[rows, cols] = True
        return mask

    rider = box(slice(13, 16), slice(12, 15)) | box(slice(13, 16), slice(17, 20))
    ids = (7001, 23001, 23002, 25000, 26000, 26001)
    masks = [
        box(slice(1, 16), slice(0, 5)),  # road: one component
        box(slice(1, 5), slice(6, 13)),  # sky, first component in raster order
        box(slice(1, 5), slice(14, 20)),  # sky, second
        rider,  # one annotated instance, even in two pieces
        box(slice(5, 10), slice(6, 13)),
        box(slice(5, 10), slice(13, 20)),
    ]  # the 4-px building is under the minimum: no instance
    ignore = (
        box(0, slice(None))  # unlabeled
        | box(slice(1, 16), 5)  # ego vehicle
        | box(slice(10, 13), slice(6, 20))  # crowd (person without instance)
        | box(slice(13, 16), slice(6, 12))  # caravan (trainId 255), even as an instance
        | box(slice(13, 16), slice(15, 17))  # polegroup
    )
    return ids, masks, ignore


def test_instance_ids_decode_into_things_stuff_components_and_ignore(city_root, monkeypatch):
    monkeypatch.setattr(DATASETS.get("cityscapes"), "min_pixels", 10)
    sample = _city("valid", city_root)[1]
    ids, masks, ignore = _expected()
    assert sample.instance_ids == ids
    for got, want in zip(sample.masks, masks):
        assert np.array_equal(got, want)
    assert np.array_equal(sample.ignore, ignore)
    assert sample.image.shape == (*SIZE, 3) and sample.image.dtype == np.uint8
    name = "frankfurt/frankfurt_000001_000019"
    assert sample.meta["source"] == str(city_root / "leftImg8bit" / "val" / f"{name}_leftImg8bit.png")
    assert sample.meta["mask"] == str(city_root / "gtFine" / "val" / f"{name}_gtFine_instanceIds.png")


def test_a_32_bit_instance_map_decodes_the_same(city_root, monkeypatch):
    """Older Pillow versions open the 16-bit PNG as 32-bit mode "I"."""
    monkeypatch.setattr(DATASETS.get("cityscapes"), "min_pixels", 10)
    read = DatasetFiles.read

    def as_mode_i(self, path):
        image = read(self, path)
        return image.convert("I") if image.mode.startswith("I;16") else image

    monkeypatch.setattr(DatasetFiles, "read", as_mode_i)
    sample = _city("valid", city_root)[0]
    ids, masks, ignore = _expected()
    assert sample.instance_ids == ids and np.array_equal(sample.ignore, ignore)


def test_regions_under_100_pixels_are_dropped_by_default(city_root):
    assert DATASETS.get("cityscapes").min_pixels == 100
    ids = _instance_ids()
    ids[1:16, 0:5] = 33000  # bicycle #0, 75 px
    ids[1:5, 6:20] = 7  # road, 56 px
    ids[5:10, 6:20] = 26003  # car, 70 px
    ids[10:16, 0:20] = 21  # vegetation, 120 px (overwrites crowd, caravan, rider, polegroup, bicycle rows 10..15)
    _write(city_root, "train", "bochum", 0, ids)
    sample = _city("train", city_root)[2]
    vegetation = np.zeros(SIZE, bool)
    vegetation[10:16, :] = True
    assert sample.instance_ids == (21001,)
    assert np.array_equal(sample.masks[0], vegetation)
    unlabeled_and_ego = np.zeros(SIZE, bool)
    unlabeled_and_ego[0, :] = True
    unlabeled_and_ego[1:10, 5] = True
    assert np.array_equal(sample.ignore, unlabeled_and_ego)


def test_an_image_of_only_ignored_labels_gives_no_instance(city_root):
    _write(city_root, "val", "frankfurt", 0, np.full(SIZE, 3, np.uint16))  # out of roi
    sample = _city("valid", city_root)[0]
    assert sample.masks.shape == (0, *SIZE) and sample.instance_ids == () and sample.ignore.all()


def test_the_label_table_is_the_official_one():
    from sherpa_bench.datasets import cityscapes

    train_ids = {label.id: label.train_id for label in cityscapes.LABELS}
    evaluated = [7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32, 33]
    assert [i for i, t in train_ids.items() if 0 <= t < 255] == evaluated
    assert [train_ids[i] for i in evaluated] == list(range(19))
    assert set(cityscapes.STUFF_IDS) == set(evaluated[:11])
    assert set(cityscapes.IGNORED_THING_IDS) == {29, 30}
    assert set(cityscapes.THING_IDS) == {24, 25, 26, 27, 28, 31, 32, 33}


@pytest.mark.parametrize("value", [34, 999, 7005, 23001])  # no label id; stuff stored as an instance
def test_a_value_that_is_no_label_is_malformed(city_root, value):
    ids = _instance_ids()
    ids[0, 0] = value
    _write(city_root, "val", "frankfurt", 1, ids)
    path = city_root / "gtFine" / "val" / "frankfurt" / "frankfurt_000001_000019_gtFine_instanceIds.png"
    with pytest.raises(MalformedDataError, match=re.escape(str(path)) + f".*{value}"):
        _city("valid", city_root)[1]


def test_a_colour_mask_is_malformed(city_root):
    path = city_root / "gtFine" / "train" / "aachen" / "aachen_000001_000019_gtFine_instanceIds.png"
    Image.fromarray(np.zeros((*SIZE, 3), np.uint8)).save(path)
    with pytest.raises(MalformedDataError, match=re.escape(str(path))):
        _city("train", city_root)[1]


def test_a_mask_of_another_size_is_malformed(city_root):
    path = city_root / "gtFine" / "train" / "aachen" / "aachen_000000_000019_gtFine_instanceIds.png"
    Image.fromarray(np.full((8, 10), 7, np.uint16)).save(path)
    with pytest.raises(MalformedDataError, match=re.escape(str(path))):
        _city("train", city_root)[0]


def test_an_image_without_its_instance_ids_is_named(city_root):
    (city_root / "gtFine" / "train" / "bochum" / "bochum_000000_000019_gtFine_instanceIds.png").unlink()
    orphan = city_root / "leftImg8bit" / "train" / "bochum" / "bochum_000000_000019_leftImg8bit.png"
    with pytest.raises(MalformedDataError, match=re.escape(str(orphan))):
        _city("train", city_root)


def test_a_missing_city_folder_in_gtfine_is_named(city_root):
    folder = city_root / "gtFine" / "val" / "frankfurt"
    for file in folder.iterdir():
        file.unlink()
    folder.rmdir()
    with pytest.raises(DatasetNotFoundError, match=re.escape(str(folder))):
        _city("valid", city_root)


def test_a_missing_split_folder_is_named(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=re.escape(str(tmp_path / "leftImg8bit" / "val"))):
        _city("valid", tmp_path)


def test_a_corrupt_image_is_named(city_root):
    path = city_root / "leftImg8bit" / "val" / "frankfurt" / "frankfurt_000000_000019_leftImg8bit.png"
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(MalformedDataError, match=re.escape(str(path))):
        _city("valid", city_root)[0]
