"""The DIS5K loader, on a tiny fabricated copy of the official layout."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sherpa_bench.datasets import DATASETS
from sherpa_bench.harness.errors import DatasetNotFoundError, MalformedDataError

SPLIT_SIZES = {"DIS-TR": 3, "DIS-VD": 2, "DIS-TE1": 1, "DIS-TE2": 1, "DIS-TE3": 1, "DIS-TE4": 1}


def _mask_array(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A 0/255 mask with two separate foreground pieces (still one DIS object)."""
    mask = np.zeros((height, width), dtype=np.uint8)
    mask[2:8, 3:9] = 255
    mask[height - 6 : height - 2, width - 7 :] = 255
    mask[rng.random((height, width)) < 0.02] = 255
    return mask


def _write_pair(split_dir: Path, stem: str, rng: np.random.Generator, size=(20, 24), rgb_mask=False) -> None:
    height, width = size
    pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(split_dir / "im" / f"{stem}.jpg")
    mask = _mask_array(rng, height, width)
    stored = np.stack([mask, np.zeros_like(mask), 255 - mask], axis=2) if rgb_mask else mask
    Image.fromarray(stored).save(split_dir / "gt" / f"{stem}.png")


@pytest.fixture
def dis_root(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    for folder, count in SPLIT_SIZES.items():
        split_dir = tmp_path / "DIS5K" / folder
        (split_dir / "im").mkdir(parents=True)
        (split_dir / "gt").mkdir()
        for k in range(count):
            _write_pair(split_dir, f"{folder}_{k}", rng, rgb_mask=(folder == "DIS-TR" and k == 1))
    return tmp_path


def _dis(split: str, root: Path | None):
    return DATASETS.get("disk5k")(split, root)


@pytest.fixture(autouse=True)
def no_env_root(monkeypatch):
    monkeypatch.delenv("SHERPA_BENCH_DATA", raising=False)


def test_each_split_reads_its_own_folder(dis_root):
    expected = {"train": 3, "valid": 2, "test1": 1, "test2": 1, "test3": 1, "test4": 1}
    assert {split: len(_dis(split, dis_root)) for split in expected} == expected
    assert [s.sample_id for s in _dis("valid", dis_root)] == ["DIS-VD_0", "DIS-VD_1"]


@pytest.mark.parametrize("index", [0, 1])  # 1 is stored as a 3-channel PNG
def test_the_whole_foreground_is_one_instance(dis_root, index):
    sample = _dis("train", dis_root)[index]
    stored = np.asarray(Image.open(dis_root / "DIS5K" / "DIS-TR" / "gt" / f"DIS-TR_{index}.png"))
    expected = (stored[..., 0] if stored.ndim == 3 else stored) > 127
    assert sample.masks.shape == (1, *expected.shape)
    assert np.array_equal(sample.masks[0], expected)
    assert sample.instance_ids == (1,)
    assert sample.image.shape == (*expected.shape, 3) and sample.image.dtype == np.uint8
    assert sample.meta["source"] == str(dis_root / "DIS5K" / "DIS-TR" / "im" / f"DIS-TR_{index}.jpg")


def test_a_mask_without_foreground_gives_no_instance(dis_root):
    Image.fromarray(np.zeros((20, 24), np.uint8)).save(dis_root / "DIS5K" / "DIS-VD" / "gt" / "DIS-VD_0.png")
    sample = _dis("valid", dis_root)[0]
    assert sample.masks.shape == (0, 20, 24) and sample.instance_ids == ()


def test_the_environment_variable_sets_the_root(dis_root, monkeypatch):
    monkeypatch.setenv("SHERPA_BENCH_DATA", str(dis_root))
    assert len(_dis("train", None)) == 3


def test_an_explicit_root_wins_over_the_environment(dis_root, monkeypatch, tmp_path_factory):
    monkeypatch.setenv("SHERPA_BENCH_DATA", str(tmp_path_factory.mktemp("elsewhere")))
    assert len(_dis("valid", dis_root)) == 2


def test_no_root_says_how_to_set_one():
    with pytest.raises(DatasetNotFoundError, match=r"--data-root DIR.*SHERPA_BENCH_DATA=DIR") as caught:
        _dis("train", None)
    assert "DIS5K/" in str(caught.value) and "im/<name>.jpg" in str(caught.value)


def test_a_missing_split_folder_is_named(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=re.escape(str(tmp_path / "DIS5K" / "DIS-TR"))):
        _dis("train", tmp_path)


@pytest.mark.parametrize("subfolder", ["im", "gt"])
def test_a_missing_image_or_mask_folder_is_named(dis_root, subfolder):
    folder = dis_root / "DIS5K" / "DIS-VD" / subfolder
    for file in folder.iterdir():
        file.unlink()
    folder.rmdir()
    with pytest.raises(DatasetNotFoundError, match=re.escape(str(folder))):
        _dis("valid", dis_root)


def test_an_empty_split_folder_is_named(dis_root):
    split_dir = dis_root / "DIS5K" / "DIS-TE2"
    for file in [*(split_dir / "im").iterdir(), *(split_dir / "gt").iterdir()]:
        file.unlink()
    with pytest.raises(DatasetNotFoundError, match=re.escape(str(split_dir / "im"))):
        _dis("test2", dis_root)


def test_an_image_without_mask_is_named(dis_root):
    (dis_root / "DIS5K" / "DIS-TR" / "gt" / "DIS-TR_2.png").unlink()
    orphan = dis_root / "DIS5K" / "DIS-TR" / "im" / "DIS-TR_2.jpg"
    with pytest.raises(MalformedDataError, match=re.escape(str(orphan))):
        _dis("train", dis_root)


def test_a_mask_of_another_size_names_both_files_and_sizes(dis_root):
    split_dir = dis_root / "DIS5K" / "DIS-VD"
    Image.fromarray(np.zeros((10, 12), np.uint8)).save(split_dir / "gt" / "DIS-VD_1.png")
    dataset = _dis("valid", dis_root)  # sizes are checked on load, not on construction
    with pytest.raises(MalformedDataError) as caught:
        dataset[1]
    message = str(caught.value)
    assert str(split_dir / "gt" / "DIS-VD_1.png") in message and "12x10" in message
    assert str(split_dir / "im" / "DIS-VD_1.jpg") in message and "24x20" in message


def test_a_corrupt_image_is_named(dis_root):
    image_path = dis_root / "DIS5K" / "DIS-TE3" / "im" / "DIS-TE3_0.jpg"
    image_path.write_bytes(image_path.read_bytes()[:40])
    dataset = _dis("test3", dis_root)
    with pytest.raises(MalformedDataError, match=re.escape(str(image_path))):
        dataset[0]


def test_a_task_compared_on_the_papers_datasets():
    task = DATASETS.get("disk5k")
    assert task.is_finetune_task()
    assert task.generalization == {
        "Group 1": ("ade20k", "cityscapes", "coco"),
        "Group 2": ("ecssd", "fss", "big"),
    }


@pytest.mark.slow
def test_sherpa_runs_the_paper_setting_on_a_fabricated_dis5k(dis_root, tmp_path):
    """`run --method sherpa --finetune disk5k`: the large model guided by its small partner, the
    generalization sets that are not on disk listed as missing rather than scored."""
    import json

    from typer.testing import CliRunner

    from sherpa_bench.harness.cli import app

    runs = tmp_path / "runs"
    args = [
        "run",
        "-m",
        "sherpa",
        "-f",
        "disk5k",
        "--data-root",
        str(dis_root),
        "--epochs",
        "1",
        "--runs-dir",
        str(runs),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    (path,) = runs.glob("disk5k/toy-large/sherpa-*/record.json")
    record = json.loads(path.read_text())
    assert record["results"][0]["dataset"] == "disk5k" and record["results"][0]["images"] == 2
    assert set(record["missing"]) == {"ade20k", "cityscapes", "coco", "ecssd", "fss", "big"}
    assert record["method_outputs"]["guide_run"].startswith("disk5k/toy-small/kl-sp-")
    assert "missing" in result.output.lower() or "ade20k" in result.output
