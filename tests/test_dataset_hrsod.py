"""The HRSOD loader, on a tiny fabricated copy of HQ-SAM's layout (masks read from masks_max255)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sherpa_bench.datasets import DATASETS
from sherpa_bench.harness.errors import DatasetNotFoundError, MalformedDataError

H, W = 16, 20


def _expected() -> np.ndarray:
    expected = np.zeros((H, W), bool)
    expected[4:12, 5:15] = True
    expected[0:4, 9] = True  # a thin antenna
    return expected


@pytest.fixture
def root(tmp_path: Path) -> Path:
    rng = np.random.default_rng(6)
    base = tmp_path / "thin_object_detection" / "HRSOD"
    for folder in ("images", "masks", "masks_max255"):
        (base / folder).mkdir(parents=True)
    for name in ("0001", "0002"):
        Image.fromarray(rng.integers(0, 256, (H, W, 3), dtype=np.uint8)).save(base / "images" / f"{name}.jpg")
        Image.fromarray(_expected().astype(np.uint8) * 255).save(base / "masks_max255" / f"{name}.png")
        # the unscaled masks next to it (here 0/1): never read
        Image.fromarray(np.ones((H, W), np.uint8)).save(base / "masks" / f"{name}.png")
    return tmp_path


def _hrsod(root: Path | None):
    return DATASETS.get("hrsod")("test", root)


@pytest.fixture(autouse=True)
def no_env_root(monkeypatch):
    monkeypatch.delenv("SHERPA_BENCH_DATA", raising=False)


def test_one_test_split_of_all_images(root):
    assert DATASETS.get("hrsod").expected_counts == {"test": 287}
    assert [s.sample_id for s in _hrsod(root)] == ["0001", "0002"]


def test_masks_come_from_masks_max255_as_one_instance(root):
    sample = _hrsod(root)[0]
    base = root / "thin_object_detection" / "HRSOD"
    assert sample.masks.shape == (1, H, W) and np.array_equal(sample.masks[0], _expected())
    assert sample.instance_ids == (1,) and sample.ignore is None
    assert sample.meta == {"source": str(base / "images" / "0001.jpg"), "mask": str(base / "masks_max255" / "0001.png")}


def test_a_mask_that_is_not_0_255_is_refused_with_a_pointer_to_masks_max255(root):
    mask_path = root / "thin_object_detection" / "HRSOD" / "masks_max255" / "0002.png"
    Image.fromarray(_expected().astype(np.uint8)).save(mask_path)
    with pytest.raises(MalformedDataError, match=re.escape(str(mask_path))) as caught:
        _hrsod(root)[1]
    assert "read the masks from HQ-SAM's masks_max255/ folder" in str(caught.value) and "up to 1" in str(caught.value)


def test_without_masks_max255_the_folder_is_named(root):
    folder = root / "thin_object_detection" / "HRSOD" / "masks_max255"
    for file in folder.iterdir():
        file.unlink()
    folder.rmdir()
    with pytest.raises(DatasetNotFoundError, match=re.escape(str(folder))):
        _hrsod(root)


def test_an_image_without_mask_is_named(root):
    base = root / "thin_object_detection" / "HRSOD"
    (base / "masks_max255" / "0002.png").unlink()
    with pytest.raises(MalformedDataError, match=re.escape(str(base / "images" / "0002.jpg"))):
        _hrsod(root)


def test_a_mask_of_another_size_is_named(root):
    mask_path = root / "thin_object_detection" / "HRSOD" / "masks_max255" / "0001.png"
    Image.fromarray(np.full((H * 2, W * 2), 255, np.uint8)).save(mask_path)
    with pytest.raises(MalformedDataError, match=re.escape(str(mask_path))):
        _hrsod(root)[0]
