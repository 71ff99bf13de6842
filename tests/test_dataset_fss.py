"""The FSS-1000 loader, on a tiny fabricated copy of the official layout (class folders)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sherpa_bench.datasets import DATASETS
from sherpa_bench.harness.errors import DatasetNotFoundError, MalformedDataError

H, W = 16, 20
CLASSES = {"abacus": (1, 2, 10), "zebra": (1, 2)}


def _expected() -> np.ndarray:
    expected = np.zeros((H, W), bool)
    expected[1:5, 1:5] = True
    expected[8:15, 10:19] = True  # a separate second piece: still the same object
    return expected


@pytest.fixture
def root(tmp_path: Path) -> Path:
    rng = np.random.default_rng(2)
    for name, numbers in CLASSES.items():
        folder = tmp_path / "FSS-1000" / "fewshot_data" / name
        folder.mkdir(parents=True)
        for n in numbers:
            Image.fromarray(rng.integers(0, 256, (H, W, 3), dtype=np.uint8)).save(folder / f"{n}.jpg")
            Image.fromarray(_expected().astype(np.uint8) * 255).save(folder / f"{n}.png")
    return tmp_path


def _fss(root: Path | None):
    return DATASETS.get("fss")("test", root)


@pytest.fixture(autouse=True)
def no_env_root(monkeypatch):
    monkeypatch.delenv("SHERPA_BENCH_DATA", raising=False)


def test_samples_are_class_slash_number_in_numeric_order(root):
    assert DATASETS.get("fss").expected_counts == {"test": 10000}
    ids = [s.sample_id for s in _fss(root)]
    assert ids == ["abacus/1", "abacus/2", "abacus/10", "zebra/1", "zebra/2"]


def test_the_whole_foreground_is_one_instance(root):
    sample = _fss(root)[3]
    folder = root / "FSS-1000" / "fewshot_data" / "zebra"
    assert sample.masks.shape == (1, H, W) and np.array_equal(sample.masks[0], _expected())
    assert sample.instance_ids == (1,) and sample.ignore is None
    assert sample.meta == {"source": str(folder / "1.jpg"), "mask": str(folder / "1.png")}


def test_a_three_channel_mask_is_read_through_channel_0(root):
    stored = np.zeros((H, W, 3), np.uint8)
    stored[..., 0] = _expected() * 255
    stored[..., 2] = 255 - stored[..., 0]  # other channels disagree and are not read
    Image.fromarray(stored).save(root / "FSS-1000" / "fewshot_data" / "abacus" / "2.png")
    assert np.array_equal(_fss(root)[1].masks[0], _expected())


def test_a_missing_dataset_is_named(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=re.escape(str(tmp_path / "FSS-1000" / "fewshot_data"))):
        _fss(tmp_path)


def test_a_class_folder_without_images_is_named(root):
    empty = root / "FSS-1000" / "fewshot_data" / "kiwi"
    empty.mkdir()
    with pytest.raises(DatasetNotFoundError, match=re.escape(str(empty))):
        _fss(root)


def test_an_image_without_mask_is_named(root):
    (root / "FSS-1000" / "fewshot_data" / "zebra" / "2.png").unlink()
    orphan = root / "FSS-1000" / "fewshot_data" / "zebra" / "2.jpg"
    with pytest.raises(MalformedDataError, match=re.escape(str(orphan))):
        _fss(root)


def test_a_mask_of_another_size_is_named(root):
    mask_path = root / "FSS-1000" / "fewshot_data" / "abacus" / "10.png"
    Image.fromarray(np.full((H + 1, W), 255, np.uint8)).save(mask_path)
    with pytest.raises(MalformedDataError, match=re.escape(str(mask_path))):
        _fss(root)[2]


def test_a_0_1_mask_is_refused(root):
    mask_path = root / "FSS-1000" / "fewshot_data" / "abacus" / "1.png"
    Image.fromarray(_expected().astype(np.uint8)).save(mask_path)
    with pytest.raises(MalformedDataError, match=re.escape(str(mask_path))):
        _fss(root)[0]
