"""The ThinObject-5K loader, on a tiny fabricated copy of HQ-SAM's split-folder layout."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sherpa_bench.datasets import DATASETS
from sherpa_bench.harness.errors import DatasetNotFoundError, MalformedDataError

H, W = 16, 20
SPLITS = {"train": ("ant_1", "bike_2", "fork_3"), "test": ("net_4", "web_5")}


def _expected() -> np.ndarray:
    """A thin object: a one-pixel-wide frame with a diagonal spoke."""
    expected = np.zeros((H, W), bool)
    expected[2, 2:18] = expected[13, 2:18] = True
    expected[2:14, 2] = expected[2:14, 17] = True
    expected[np.arange(3, 13), np.arange(3, 13)] = True
    return expected


@pytest.fixture
def root(tmp_path: Path) -> Path:
    rng = np.random.default_rng(4)
    base = tmp_path / "thin_object_detection" / "ThinObject5K"
    for split, names in SPLITS.items():
        (base / f"images_{split}").mkdir(parents=True)
        (base / f"masks_{split}").mkdir()
        for name in names:
            Image.fromarray(rng.integers(0, 256, (H, W, 3), dtype=np.uint8)).save(
                base / f"images_{split}" / f"{name}.jpg"
            )
            Image.fromarray(_expected().astype(np.uint8) * 255).save(base / f"masks_{split}" / f"{name}.png")
    return tmp_path


def _thin(split: str, root: Path | None):
    return DATASETS.get("thinobject5k")(split, root)


@pytest.fixture(autouse=True)
def no_env_root(monkeypatch):
    monkeypatch.delenv("SHERPA_BENCH_DATA", raising=False)


def test_each_split_reads_its_own_folders(root):
    assert DATASETS.get("thinobject5k").splits == ("train", "test")
    assert [s.sample_id for s in _thin("train", root)] == list(SPLITS["train"])
    assert [s.sample_id for s in _thin("test", root)] == list(SPLITS["test"])


def test_the_thin_object_is_one_instance(root):
    sample = _thin("test", root)[1]
    base = root / "thin_object_detection" / "ThinObject5K"
    assert sample.masks.shape == (1, H, W) and np.array_equal(sample.masks[0], _expected())
    assert sample.instance_ids == (1,) and sample.ignore is None
    assert sample.meta == {
        "source": str(base / "images_test" / "web_5.jpg"),
        "mask": str(base / "masks_test" / "web_5.png"),
    }


def test_a_missing_dataset_is_named(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=re.escape(str(tmp_path / "thin_object_detection" / "ThinObject5K"))):
        _thin("train", tmp_path)


def test_a_missing_split_folder_is_named(root):
    folder = root / "thin_object_detection" / "ThinObject5K" / "masks_test"
    for file in folder.iterdir():
        file.unlink()
    folder.rmdir()
    with pytest.raises(DatasetNotFoundError, match=re.escape(str(folder))):
        _thin("test", root)
    assert len(_thin("train", root)) == 3  # the other split is unaffected


def test_an_image_without_mask_is_named(root):
    base = root / "thin_object_detection" / "ThinObject5K"
    (base / "masks_train" / "fork_3.png").unlink()
    with pytest.raises(MalformedDataError, match=re.escape(str(base / "images_train" / "fork_3.jpg"))):
        _thin("train", root)


def test_a_mask_of_another_size_is_named(root):
    mask_path = root / "thin_object_detection" / "ThinObject5K" / "masks_train" / "ant_1.png"
    Image.fromarray(np.full((H, W + 2), 255, np.uint8)).save(mask_path)
    with pytest.raises(MalformedDataError, match=re.escape(str(mask_path))):
        _thin("train", root)[0]
