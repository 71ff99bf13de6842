"""The Lucchi loader, on tiny fabricated copies of the official EPFL TIFF stacks."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sherpa_bench.datasets import DATASETS
from sherpa_bench.harness.errors import DatasetNotFoundError, MalformedDataError

H, W = 32, 40
PAGES = {"training": 3, "testing": 2}


def _components_slice() -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """A 0/255 slice, the instances it must decode to, and the ignore region it must give."""
    gt = np.zeros((H, W), np.uint8)
    first = np.zeros((H, W), bool)
    first[2:12, 3:13] = True  # 100 px
    first[12:20, 13:23] = True  # 80 px, touches the block above only at a corner: same instance (8-connected)
    second = np.zeros((H, W), bool)
    second[22:30, 28:38] = True  # 80 px
    speck = np.zeros((H, W), bool)
    speck[28:30, 2:5] = True  # 6 px < 64: not an instance, ignored
    gt[first | second | speck] = 255
    return gt, [first, second], speck


def _save_stack(path: Path, pages: list[np.ndarray]) -> None:
    images = [Image.fromarray(page) for page in pages]
    images[0].save(path, save_all=True, append_images=images[1:])


@pytest.fixture
def pixels() -> dict[str, list[np.ndarray]]:
    rng = np.random.default_rng(0)
    return {stack: [rng.integers(0, 256, (H, W), dtype=np.uint8) for _ in range(n)] for stack, n in PAGES.items()}


@pytest.fixture
def lucchi_root(tmp_path: Path, pixels) -> Path:
    folder = tmp_path / "Lucchi"
    folder.mkdir()
    gt, _, _ = _components_slice()
    block = np.zeros((H, W), np.uint8)
    block[5:15, 5:15] = 255
    for stack, count in PAGES.items():
        _save_stack(folder / f"{stack}.tif", pixels[stack])
        truth = [np.zeros((H, W), np.uint8), gt, block][:count]
        _save_stack(folder / f"{stack}_groundtruth.tif", truth)
    return tmp_path


def _lucchi(split: str, root: Path | None):
    return DATASETS.get("lucchi")(split, root)


@pytest.fixture(autouse=True)
def no_env_root(monkeypatch):
    monkeypatch.delenv("SHERPA_BENCH_DATA", raising=False)


def test_a_fine_tuning_task_kept_general_on_the_em_sets():
    task = DATASETS.get("lucchi")
    assert task.is_finetune_task()
    assert task.generalization == {"Biomedical": ("vnc", "mitoem-r", "mitoem-h")}
    assert task.eval_split == "valid"
    assert task.expected_counts == {"train": 165, "valid": 165}
    assert task.min_pixels == 64


def test_each_split_reads_its_own_stack_one_sample_per_page(lucchi_root):
    assert len(_lucchi("train", lucchi_root)) == 3
    valid = _lucchi("valid", lucchi_root)  # the paper validates on the testing stack
    assert len(valid) == 2
    assert [s.sample_id for s in valid] == ["testing/0000", "testing/0001"]
    assert valid[1].meta["source"] == str(lucchi_root / "Lucchi" / "testing.tif")
    assert valid[1].meta["mask"] == str(lucchi_root / "Lucchi" / "testing_groundtruth.tif")


@pytest.mark.parametrize("index", [0, 1, 2])
def test_a_sample_is_its_own_page_repeated_over_three_channels(lucchi_root, pixels, index):
    sample = _lucchi("train", lucchi_root)[index]
    assert sample.meta["slice"] == index and sample.sample_id == f"training/{index:04d}"
    assert sample.image.dtype == np.uint8
    assert np.array_equal(sample.image, np.repeat(pixels["training"][index][..., None], 3, axis=2))


def test_connected_components_are_the_instances_and_specks_are_ignored(lucchi_root):
    _, expected, speck = _components_slice()
    sample = _lucchi("train", lucchi_root)[1]
    assert sample.masks.shape == (2, H, W)
    assert np.array_equal(sample.masks[0], expected[0]) and np.array_equal(sample.masks[1], expected[1])
    assert sample.instance_ids == (1, 2)
    assert np.array_equal(sample.ignore, speck)


def test_a_slice_without_mitochondria_has_no_instance(lucchi_root):
    sample = _lucchi("train", lucchi_root)[0]
    assert sample.masks.shape == (0, H, W) and sample.instance_ids == () and sample.ignore is None


def test_a_16_bit_stack_is_scaled_from_its_min_and_max(lucchi_root):
    page = np.full((H, W), 1000, np.uint16)
    page[:, W // 2 :] = 3000
    _save_stack(lucchi_root / "Lucchi" / "testing.tif", [page, page])
    expected = np.where(np.arange(W) < W // 2, 0, 255).astype(np.uint8)
    image = _lucchi("valid", lucchi_root)[0].image
    assert np.array_equal(image, np.broadcast_to(expected[None, :, None], (H, W, 3)))


def test_a_damaged_last_page_does_not_stop_the_others_and_is_named(lucchi_root):
    stack = lucchi_root / "Lucchi" / "training.tif"
    stack.write_bytes(stack.read_bytes()[:-20])  # cuts into the last page's pixels
    dataset = _lucchi("train", lucchi_root)
    assert dataset[0].masks.shape == (0, H, W)  # one page is decoded, not the whole stack
    with pytest.raises(MalformedDataError, match=re.escape(f"page 2 of the TIFF stack {stack}")):
        dataset[2]


def test_a_corrupt_stack_is_named_on_construction(lucchi_root):
    stack = lucchi_root / "Lucchi" / "testing_groundtruth.tif"
    stack.write_bytes(b"not a tiff at all" * 4)
    with pytest.raises(MalformedDataError, match=re.escape(str(stack))):
        _lucchi("valid", lucchi_root)


def test_stacks_with_different_page_counts_name_both_files(lucchi_root):
    truth = lucchi_root / "Lucchi" / "training_groundtruth.tif"
    _save_stack(truth, [np.zeros((H, W), np.uint8)] * 2)
    with pytest.raises(MalformedDataError) as caught:
        _lucchi("train", lucchi_root)
    message = str(caught.value)
    assert str(truth) in message and str(lucchi_root / "Lucchi" / "training.tif") in message
    assert "3 pages" in message and "has 2" in message


def test_stacks_with_different_page_sizes_name_both_files_and_sizes(lucchi_root):
    truth = lucchi_root / "Lucchi" / "testing_groundtruth.tif"
    _save_stack(truth, [np.zeros((10, 12), np.uint8)] * 2)
    with pytest.raises(MalformedDataError) as caught:
        _lucchi("valid", lucchi_root)
    message = str(caught.value)
    assert str(truth) in message and "12x10" in message
    assert str(lucchi_root / "Lucchi" / "testing.tif") in message and f"{W}x{H}" in message


def test_a_zero_one_mask_is_refused_rather_than_read_as_empty(lucchi_root):
    truth = lucchi_root / "Lucchi" / "testing_groundtruth.tif"
    gt, _, _ = _components_slice()
    _save_stack(truth, [gt // 255, gt // 255])
    dataset = _lucchi("valid", lucchi_root)
    with pytest.raises(MalformedDataError, match=re.escape(f"{truth} (page 1)")):
        dataset[1]


@pytest.mark.parametrize("name", ["training.tif", "training_groundtruth.tif"])
def test_a_missing_stack_is_named(lucchi_root, name):
    (lucchi_root / "Lucchi" / name).unlink()
    with pytest.raises(DatasetNotFoundError, match=re.escape(str(lucchi_root / "Lucchi" / name))):
        _lucchi("train", lucchi_root)


def test_a_missing_folder_is_named_with_the_layout(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=re.escape(str(tmp_path / "Lucchi"))) as caught:
        _lucchi("valid", tmp_path)
    assert "testing_groundtruth.tif" in str(caught.value) and "Lucchi++" in str(caught.value)


def test_no_root_says_how_to_set_one():
    with pytest.raises(DatasetNotFoundError, match=r"--data-root DIR.*SHERPA_BENCH_DATA=DIR"):
        _lucchi("train", None)
