"""The BIG loader (CascadePSP), on a tiny fabricated copy of the official flat layout."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sherpa_bench.datasets import DATASETS
from sherpa_bench.harness.errors import DatasetNotFoundError, MalformedDataError

H, W = 16, 20
NAMES = {"val": ("aeroplane_1", "cat_7"), "test": ("bike_2", "dog_3", "person_9")}


def _expected() -> np.ndarray:
    expected = np.zeros((H, W), bool)
    expected[4:13, 2:18] = True
    expected[8, 2:18] = False  # a one-pixel gap splitting the object in two
    return expected


@pytest.fixture
def root(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    for folder, names in NAMES.items():
        split_dir = tmp_path / "BIG" / folder
        split_dir.mkdir(parents=True)
        for name in names:
            Image.fromarray(rng.integers(0, 256, (H, W, 3), dtype=np.uint8)).save(split_dir / f"{name}_im.jpg")
            Image.fromarray(_expected().astype(np.uint8) * 255).save(split_dir / f"{name}_gt.png")
            # the coarse segmentation CascadePSP refines: must not be read as ground truth
            Image.fromarray(np.full((H, W), 255, np.uint8)).save(split_dir / f"{name}_seg.png")
    return tmp_path


def _big(split: str, root: Path | None):
    return DATASETS.get("big")(split, root)


@pytest.fixture(autouse=True)
def no_env_root(monkeypatch):
    monkeypatch.delenv("SHERPA_BENCH_DATA", raising=False)


def test_valid_reads_val_and_test_reads_test(root):
    big = DATASETS.get("big")
    assert big.splits == ("valid", "test") and big.eval_split == "test"
    assert big.expected_counts == {"valid": 50, "test": 100}
    assert [s.sample_id for s in _big("valid", root)] == ["aeroplane_1", "cat_7"]
    assert [s.sample_id for s in _big("test", root)] == ["bike_2", "dog_3", "person_9"]


def test_the_gt_file_is_one_instance_and_seg_is_ignored(root):
    sample = _big("test", root)[1]
    assert sample.masks.shape == (1, H, W) and np.array_equal(sample.masks[0], _expected())
    assert sample.instance_ids == (1,) and sample.ignore is None
    assert sample.meta == {
        "source": str(root / "BIG" / "test" / "dog_3_im.jpg"),
        "mask": str(root / "BIG" / "test" / "dog_3_gt.png"),
    }


def test_a_missing_split_folder_is_named(root):
    for file in (root / "BIG" / "val").iterdir():
        file.unlink()
    (root / "BIG" / "val").rmdir()
    with pytest.raises(DatasetNotFoundError, match=re.escape(str(root / "BIG" / "val"))):
        _big("valid", root)


def test_a_folder_without_im_files_is_named(root):
    for file in (root / "BIG" / "val").glob("*_im.jpg"):
        file.unlink()
    with pytest.raises(DatasetNotFoundError, match=re.escape(str(root / "BIG" / "val"))):
        _big("valid", root)


def test_an_image_without_gt_is_named_even_with_its_seg_present(root):
    (root / "BIG" / "test" / "bike_2_gt.png").unlink()
    with pytest.raises(MalformedDataError, match=re.escape(str(root / "BIG" / "test" / "bike_2_im.jpg"))):
        _big("test", root)


def test_a_mask_of_another_size_is_named(root):
    mask_path = root / "BIG" / "val" / "cat_7_gt.png"
    Image.fromarray(np.full((H // 2, W // 2), 255, np.uint8)).save(mask_path)
    with pytest.raises(MalformedDataError, match=re.escape(str(mask_path))):
        _big("valid", root)[1]


def test_a_corrupt_gt_is_named(root):
    mask_path = root / "BIG" / "val" / "aeroplane_1_gt.png"
    mask_path.write_bytes(b"not a png")
    with pytest.raises(MalformedDataError, match=re.escape(str(mask_path))):
        _big("valid", root)[0]
