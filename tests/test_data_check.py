"""`sherpa-bench data check` and the check that guards training, on fabricated official layouts."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from sherpa_bench.datasets import DATASETS
from sherpa_bench.datasets.check import check_dataset, verify_training_split
from sherpa_bench.harness.cli import app
from sherpa_bench.harness.errors import MalformedDataError

DIS_SPLITS = {"DIS-TR": 3, "DIS-VD": 2, "DIS-TE1": 1, "DIS-TE2": 1, "DIS-TE3": 1, "DIS-TE4": 1}


def _pair(image_path: Path, mask_path: Path, rng: np.random.Generator, empty: bool = False) -> None:
    image_path.parent.mkdir(parents=True, exist_ok=True)
    mask_path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)).save(image_path)
    mask = np.zeros((20, 24), np.uint8)
    if not empty:
        mask[4:12, 5:15] = 255
    Image.fromarray(mask).save(mask_path)


def fabricate(root: Path) -> Path:
    """DIS5K (one empty mask in DIS-VD) and ECSSD in their official layouts, and a Lucchi stack pair."""
    rng = np.random.default_rng(0)
    for folder, count in DIS_SPLITS.items():
        for k in range(count):
            base = root / "DIS5K" / folder
            _pair(
                base / "im" / f"{folder}_{k}.jpg",
                base / "gt" / f"{folder}_{k}.png",
                rng,
                empty=(folder == "DIS-VD" and k == 1),
            )
    for k in range(2):
        _pair(root / "ECSSD" / "images" / f"{k:04d}.jpg", root / "ECSSD" / "ground_truth_mask" / f"{k:04d}.png", rng)
    pages = [Image.fromarray(rng.integers(0, 256, (16, 20), dtype=np.uint8)) for _ in range(2)]
    masks = [Image.fromarray(np.pad(np.full((6, 6), 255, np.uint8), ((2, 8), (3, 11)))) for _ in range(2)]
    (root / "Lucchi").mkdir()
    for split in ("training", "testing"):
        pages[0].save(root / "Lucchi" / f"{split}.tif", save_all=True, append_images=pages[1:])
        masks[0].save(root / "Lucchi" / f"{split}_groundtruth.tif", save_all=True, append_images=masks[1:])
    return root


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    return fabricate(tmp_path / "data")


@pytest.fixture(autouse=True)
def no_env_root(monkeypatch):
    monkeypatch.delenv("SHERPA_BENCH_DATA", raising=False)


def test_a_healthy_dataset_reports_counts_modes_sizes_values_and_empty_masks(data_root):
    report = check_dataset("disk5k", data_root)
    assert not report.failed
    valid = {s.split: s for s in report.splits}["valid"]
    assert (valid.found, valid.expected, valid.checked) == (2, 470, 2)
    assert valid.image_modes == {"RGB (3 channels)": 2} and valid.mask_values == [0, 255]
    assert valid.smallest == valid.largest == (20, 24)
    assert valid.empty_count == 1 and valid.empty == ["DIS-VD_1"]
    assert valid.count_differs  # 2 fabricated images, 470 in the release: a warning, not a failure


def test_the_cli_report_names_the_root_the_counts_and_the_release(data_root):
    result = CliRunner().invoke(app, ["data", "check", "disk5k", "lucchi", "--data-root", str(data_root)])
    assert result.exit_code == 0, result.output
    assert f"data root: {data_root}" in result.output
    assert "[train] images: 3 (official release: 3000)" in result.output
    assert "[valid] images: 2 (official release: 165)" in result.output  # Lucchi: slices of the testing stack
    assert "1 image(s) with no instance (scored as nothing): DIS-VD_1" in result.output
    assert "data check passed" in result.output


def test_a_corrupt_image_and_a_mask_of_another_size_are_each_named_with_the_fix(data_root):
    corrupt = data_root / "DIS5K" / "DIS-TR" / "im" / "DIS-TR_0.jpg"
    corrupt.write_bytes(corrupt.read_bytes()[:30])
    resized = data_root / "DIS5K" / "DIS-TR" / "gt" / "DIS-TR_2.png"
    Image.fromarray(np.zeros((10, 12), np.uint8)).save(resized)
    result = CliRunner().invoke(app, ["data", "check", "disk5k", "--data-root", str(data_root)])
    assert result.exit_code == 1
    assert re.search(rf"PROBLEM: .*cannot read {re.escape(str(corrupt))}.*replace the file", result.output)
    assert re.search(rf"PROBLEM: .*mask {re.escape(str(resized))} is 12x10.*re-export the mask", result.output)
    assert "data check FAILED for: disk5k" in result.output


def test_a_named_dataset_that_is_not_on_disk_fails_naming_where_it_looked(data_root):
    result = CliRunner().invoke(app, ["data", "check", "duts", "--data-root", str(data_root)])
    assert result.exit_code == 1
    assert "MISSING" in result.output and str(data_root) in result.output


def test_without_names_absent_datasets_are_listed_and_present_ones_checked(data_root):
    result = CliRunner().invoke(app, ["data", "check", "--data-root", str(data_root), "--limit", "1"])
    assert result.exit_code == 0, result.output
    assert "disk5k (DIS5K): ok" in result.output and "ecssd (ECSSD): ok" in result.output
    absent = re.search(r"not on disk \(nothing checked\): (.*);", result.output).group(1).split(", ")
    assert "coco" in absent and "duts" in absent and "disk5k" not in absent


def test_training_refuses_a_split_with_a_broken_file_and_names_it(data_root, tmp_path):
    broken = data_root / "DIS5K" / "DIS-TR" / "gt" / "DIS-TR_1.png"
    broken.write_bytes(b"not a png")
    runs = tmp_path / "runs"
    args = [
        "run",
        "-m",
        "std-ft",
        "-f",
        "disk5k",
        "--data-root",
        str(data_root),
        "--runs-dir",
        str(runs),
        "--epochs",
        "1",
    ]
    result = CliRunner().invoke(app, args)
    assert isinstance(result.exception, MalformedDataError)
    assert "training refused" in str(result.exception) and str(broken) in str(result.exception)
    assert not list(runs.glob("**/record.json"))


def test_a_split_that_passed_is_decoded_again_only_after_a_file_changes(data_root, tmp_path, monkeypatch):
    from sherpa_bench.datasets import check as check_module

    decoded = []
    real_check = check_module.check_split
    monkeypatch.setattr(check_module, "check_split", lambda *a, **k: decoded.append(a[1]) or real_check(*a, **k))
    train = DATASETS.get("disk5k")("train", data_root)
    verify_training_split(train, tmp_path / "checks")
    verify_training_split(train, tmp_path / "checks")
    assert decoded == ["train"]  # the second call trusted the remembered check
    touched = data_root / "DIS5K" / "DIS-TR" / "gt" / "DIS-TR_0.png"
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 10**9))
    verify_training_split(train, tmp_path / "checks")
    assert decoded == ["train", "train"]
