"""The DUTS loader (a fine-tuning task), on a tiny fabricated copy of the official layout."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sherpa_bench.datasets import DATASETS
from sherpa_bench.harness.errors import DatasetNotFoundError, MalformedDataError

H, W = 16, 20
SPLITS = {"DUTS-TR": 3, "DUTS-TE": 2}


def _hand_mask() -> tuple[np.ndarray, np.ndarray]:
    """A stored 0/255 saliency mask with two pieces and anti-aliased edge values, and its foreground."""
    stored = np.zeros((H, W), np.uint8)
    stored[2:7, 3:9] = 255
    stored[10:14, 12:18] = 255
    stored[9, 12:18] = 128  # anti-aliased edge, just above the threshold: foreground
    stored[14, 12:18] = 127  # just below: background
    expected = np.zeros((H, W), bool)
    expected[2:7, 3:9] = True
    expected[9:14, 12:18] = True
    return stored, expected


def _write(split_dir: Path, stem: str, mask: np.ndarray, rng: np.random.Generator) -> None:
    name = split_dir.name
    Image.fromarray(rng.integers(0, 256, (H, W, 3), dtype=np.uint8)).save(split_dir / f"{name}-Image" / f"{stem}.jpg")
    Image.fromarray(mask).save(split_dir / f"{name}-Mask" / f"{stem}.png")


def _make(base: Path) -> Path:
    rng = np.random.default_rng(0)
    for folder, count in SPLITS.items():
        for sub in ("Image", "Mask"):
            (base / folder / f"{folder}-{sub}").mkdir(parents=True)
        for k in range(count):
            _write(base / folder, f"{folder}_{k}", _hand_mask()[0], rng)
    return base


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return _make(tmp_path)


def _duts(split: str, root: Path | None):
    return DATASETS.get("duts")(split, root)


@pytest.fixture(autouse=True)
def no_env_root(monkeypatch):
    monkeypatch.delenv("SHERPA_BENCH_DATA", raising=False)


def test_duts_is_a_finetune_task_compared_on_the_papers_datasets():
    task = DATASETS.get("duts")
    assert task.is_finetune_task()
    assert task.splits == ("train", "valid") and task.eval_split == "valid"
    assert task.expected_counts == {"train": 10553, "valid": 5019}
    assert task.generalization == {
        "Group 1": ("ade20k", "cityscapes", "coco"),
        "Group 2": ("ecssd", "fss", "big"),
    }


def test_train_reads_duts_tr_and_valid_reads_duts_te(root):
    assert len(_duts("train", root)) == 3
    assert [s.sample_id for s in _duts("valid", root)] == ["DUTS-TE_0", "DUTS-TE_1"]


def test_the_folders_may_sit_in_a_duts_subfolder(tmp_path):
    root = tmp_path
    _make(root / "DUTS")
    dataset = _duts("valid", root)
    assert len(dataset) == 2
    assert dataset[0].meta["source"] == str(root / "DUTS" / "DUTS-TE" / "DUTS-TE-Image" / "DUTS-TE_0.jpg")


def test_the_whole_foreground_is_one_instance(root):
    _, expected = _hand_mask()
    sample = _duts("train", root)[1]
    assert sample.masks.shape == (1, H, W) and sample.masks.dtype == np.bool_
    assert np.array_equal(sample.masks[0], expected)
    assert sample.instance_ids == (1,) and sample.ignore is None
    assert sample.image.shape == (H, W, 3) and sample.image.dtype == np.uint8
    split_dir = root / "DUTS-TR"
    assert sample.meta["source"] == str(split_dir / "DUTS-TR-Image" / "DUTS-TR_1.jpg")
    assert sample.meta["mask"] == str(split_dir / "DUTS-TR-Mask" / "DUTS-TR_1.png")


def test_a_mask_without_foreground_gives_no_instance(root):
    Image.fromarray(np.zeros((H, W), np.uint8)).save(root / "DUTS-TE" / "DUTS-TE-Mask" / "DUTS-TE_0.png")
    sample = _duts("valid", root)[0]
    assert sample.masks.shape == (0, H, W) and sample.instance_ids == ()


def test_a_0_1_mask_is_refused_not_read_as_empty(root):
    mask_path = root / "DUTS-TR" / "DUTS-TR-Mask" / "DUTS-TR_0.png"
    Image.fromarray((_hand_mask()[1]).astype(np.uint8)).save(mask_path)
    with pytest.raises(MalformedDataError, match=re.escape(str(mask_path))):
        _duts("train", root)[0]


def test_no_root_says_how_to_set_one():
    with pytest.raises(DatasetNotFoundError, match=r"--data-root DIR.*SHERPA_BENCH_DATA=DIR"):
        _duts("train", None)


def test_a_missing_split_names_both_places_looked_at(tmp_path):
    with pytest.raises(DatasetNotFoundError) as caught:
        _duts("train", tmp_path)
    assert str(tmp_path / "DUTS-TR") in str(caught.value)
    assert str(tmp_path / "DUTS" / "DUTS-TR") in str(caught.value)


def test_a_missing_mask_folder_is_named(root):
    folder = root / "DUTS-TE" / "DUTS-TE-Mask"
    for file in folder.iterdir():
        file.unlink()
    folder.rmdir()
    with pytest.raises(DatasetNotFoundError, match=re.escape(str(folder))):
        _duts("valid", root)


def test_an_image_without_mask_is_named(root):
    (root / "DUTS-TR" / "DUTS-TR-Mask" / "DUTS-TR_2.png").unlink()
    orphan = root / "DUTS-TR" / "DUTS-TR-Image" / "DUTS-TR_2.jpg"
    with pytest.raises(MalformedDataError, match=re.escape(str(orphan))):
        _duts("train", root)


def test_a_mask_of_another_size_is_named_on_load(root):
    mask_path = root / "DUTS-TE" / "DUTS-TE-Mask" / "DUTS-TE_1.png"
    Image.fromarray(np.full((8, 10), 255, np.uint8)).save(mask_path)
    dataset = _duts("valid", root)
    with pytest.raises(MalformedDataError, match=re.escape(str(mask_path))):
        dataset[1]


def test_a_corrupt_mask_is_named(root):
    mask_path = root / "DUTS-TE" / "DUTS-TE-Mask" / "DUTS-TE_0.png"
    mask_path.write_bytes(mask_path.read_bytes()[:30])
    with pytest.raises(MalformedDataError, match=re.escape(str(mask_path))):
        _duts("valid", root)[0]
