"""The COIFT loader, on a tiny fabricated copy of the HQ-SAM (and original) layout."""

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
    expected[1:15, 9:11] = True  # a thin stem
    expected[3:6, 4:16] = True  # a cross bar
    return expected


@pytest.fixture
def root(tmp_path: Path) -> Path:
    rng = np.random.default_rng(5)
    base = tmp_path / "thin_object_detection" / "COIFT"
    (base / "images").mkdir(parents=True)
    (base / "masks").mkdir()
    (base / "list").mkdir()  # part of the release, not read
    for name in ("bee", "chair", "fan"):
        Image.fromarray(rng.integers(0, 256, (H, W, 3), dtype=np.uint8)).save(base / "images" / f"{name}.jpg")
        Image.fromarray(_expected().astype(np.uint8) * 255).save(base / "masks" / f"{name}.png")
    return tmp_path


def _coift(root: Path | None):
    return DATASETS.get("coift")("test", root)


@pytest.fixture(autouse=True)
def no_env_root(monkeypatch):
    monkeypatch.delenv("SHERPA_BENCH_DATA", raising=False)


def test_one_test_split_of_all_images(root):
    assert DATASETS.get("coift").splits == ("test",) and DATASETS.get("coift").expected_counts == {"test": 280}
    assert [s.sample_id for s in _coift(root)] == ["bee", "chair", "fan"]


def test_the_whole_foreground_is_one_instance(root):
    sample = _coift(root)[2]
    base = root / "thin_object_detection" / "COIFT"
    assert sample.masks.shape == (1, H, W) and np.array_equal(sample.masks[0], _expected())
    assert sample.instance_ids == (1,) and sample.ignore is None
    assert sample.meta == {"source": str(base / "images" / "fan.jpg"), "mask": str(base / "masks" / "fan.png")}


def test_a_missing_dataset_is_named(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=re.escape(str(tmp_path / "thin_object_detection" / "COIFT"))):
        _coift(tmp_path)


def test_an_image_without_mask_is_named(root):
    base = root / "thin_object_detection" / "COIFT"
    (base / "masks" / "chair.png").unlink()
    with pytest.raises(MalformedDataError, match=re.escape(str(base / "images" / "chair.jpg"))):
        _coift(root)


def test_a_corrupt_image_is_named(root):
    image_path = root / "thin_object_detection" / "COIFT" / "images" / "bee.jpg"
    image_path.write_bytes(image_path.read_bytes()[:40])
    with pytest.raises(MalformedDataError, match=re.escape(str(image_path))):
        _coift(root)[0]


def test_a_mask_of_another_size_is_named(root):
    mask_path = root / "thin_object_detection" / "COIFT" / "masks" / "bee.png"
    Image.fromarray(np.full((H - 1, W), 255, np.uint8)).save(mask_path)
    with pytest.raises(MalformedDataError, match=re.escape(str(mask_path))):
        _coift(root)[0]
