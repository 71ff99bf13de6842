"""The ECSSD loader, on a tiny fabricated copy of the official layout."""

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
    expected[3:12, 4:9] = True
    expected[5, 9:16] = True  # a one-pixel-thin piece attached to it
    return expected


@pytest.fixture
def root(tmp_path: Path) -> Path:
    rng = np.random.default_rng(1)
    images, masks = tmp_path / "ECSSD" / "images", tmp_path / "ECSSD" / "ground_truth_mask"
    images.mkdir(parents=True)
    masks.mkdir()
    for k in range(1, 4):
        Image.fromarray(rng.integers(0, 256, (H, W, 3), dtype=np.uint8)).save(images / f"{k:04d}.jpg")
        Image.fromarray(_expected().astype(np.uint8) * 255).save(masks / f"{k:04d}.png")
    return tmp_path


def _ecssd(root: Path | None):
    return DATASETS.get("ecssd")("test", root)


@pytest.fixture(autouse=True)
def no_env_root(monkeypatch):
    monkeypatch.delenv("SHERPA_BENCH_DATA", raising=False)


def test_one_test_split_of_all_images(root):
    assert DATASETS.get("ecssd").splits == ("test",) and DATASETS.get("ecssd").expected_counts == {"test": 1000}
    assert [s.sample_id for s in _ecssd(root)] == ["0001", "0002", "0003"]


def test_the_whole_foreground_is_one_instance(root):
    sample = _ecssd(root)[0]
    assert sample.masks.shape == (1, H, W) and np.array_equal(sample.masks[0], _expected())
    assert sample.instance_ids == (1,) and sample.ignore is None
    assert sample.meta["source"] == str(root / "ECSSD" / "images" / "0001.jpg")
    assert sample.meta["mask"] == str(root / "ECSSD" / "ground_truth_mask" / "0001.png")


@pytest.mark.parametrize("mode", ["1", "P"])
def test_one_bit_and_palette_masks_read_as_0_255(root, mode):
    Image.fromarray(_expected().astype(np.uint8) * 255).convert(mode).save(
        root / "ECSSD" / "ground_truth_mask" / "0002.png"
    )
    sample = _ecssd(root)[1]
    assert np.array_equal(sample.masks[0], _expected())


def test_an_empty_mask_gives_no_instance(root):
    Image.fromarray(np.zeros((H, W), np.uint8)).save(root / "ECSSD" / "ground_truth_mask" / "0003.png")
    assert _ecssd(root)[2].masks.shape == (0, H, W)


def test_a_low_valued_mask_is_refused(root):
    mask_path = root / "ECSSD" / "ground_truth_mask" / "0003.png"
    Image.fromarray(_expected().astype(np.uint8) * 100).save(mask_path)
    with pytest.raises(MalformedDataError, match=re.escape(str(mask_path))):
        _ecssd(root)[2]


def test_a_missing_dataset_is_named(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=re.escape(str(tmp_path / "ECSSD"))):
        _ecssd(tmp_path)


def test_a_missing_mask_folder_is_named(root):
    folder = root / "ECSSD" / "ground_truth_mask"
    folder.rename(root / "ECSSD" / "masks")
    with pytest.raises(DatasetNotFoundError, match=re.escape(str(folder))):
        _ecssd(root)


def test_an_image_without_mask_is_named(root):
    (root / "ECSSD" / "ground_truth_mask" / "0002.png").unlink()
    with pytest.raises(MalformedDataError, match=re.escape(str(root / "ECSSD" / "images" / "0002.jpg"))):
        _ecssd(root)


def test_a_mask_of_another_size_is_named(root):
    mask_path = root / "ECSSD" / "ground_truth_mask" / "0001.png"
    Image.fromarray(np.full((W, H), 255, np.uint8)).save(mask_path)
    with pytest.raises(MalformedDataError, match=re.escape(str(mask_path))):
        _ecssd(root)[0]


def test_a_corrupt_image_is_named(root):
    image_path = root / "ECSSD" / "images" / "0001.jpg"
    image_path.write_bytes(image_path.read_bytes()[:40])
    with pytest.raises(MalformedDataError, match=re.escape(str(image_path))):
        _ecssd(root)[0]
