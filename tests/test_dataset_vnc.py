"""The VNC loader, on a tiny fabricated copy of the groundtruth-drosophila-vnc release."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sherpa_bench.datasets import DATASETS
from sherpa_bench.harness.errors import DatasetNotFoundError, MalformedDataError

H, W = 32, 40
SECTIONS = 3


def _mito_mask() -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """A 0/255 section mask, the instances it must decode to, and the ignore region it must give."""
    first = np.zeros((H, W), bool)
    first[1:11, 1:11] = True  # 100 px
    second = np.zeros((H, W), bool)
    second[4:24, 20:24] = True  # 80 px, a vertical bar ...
    second[24:28, 20:36] = True  # ... with a foot: one L-shaped instance (64 px more)
    speck = np.zeros((H, W), bool)
    speck[29:31, 2:6] = True  # 8 px < 64: ignored
    mask = np.zeros((H, W), np.uint8)
    mask[first | second | speck] = 255
    return mask, [first, second], speck


@pytest.fixture
def raw() -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [rng.integers(0, 256, (H, W), dtype=np.uint8) for _ in range(SECTIONS)]


def _build(root: Path, raw: list[np.ndarray], folder: str = "groundtruth-drosophila-vnc") -> Path:
    stack = root / folder / "stack1"
    for sub in ("raw", "mitochondria", "synapses"):
        (stack / sub).mkdir(parents=True)
    (root / folder / "stack2" / "raw").mkdir(parents=True)  # unlabelled: not read
    mask, _, _ = _mito_mask()
    for k in range(SECTIONS):
        Image.fromarray(raw[k]).save(stack / "raw" / f"{k:02d}.tif")
        Image.fromarray(mask if k == 1 else np.zeros((H, W), np.uint8)).save(stack / "mitochondria" / f"{k:02d}.png")
        Image.fromarray(np.zeros((H, W), np.uint8)).save(stack / "synapses" / f"{k:02d}.png")
        Image.fromarray(raw[k]).save(root / folder / "stack2" / "raw" / f"{k:02d}.tif")
    return stack


@pytest.fixture
def vnc_root(tmp_path: Path, raw) -> Path:
    _build(tmp_path, raw)
    return tmp_path


def _vnc(root: Path | None):
    return DATASETS.get("vnc")("test", root)


@pytest.fixture(autouse=True)
def no_env_root(monkeypatch):
    monkeypatch.delenv("SHERPA_BENCH_DATA", raising=False)


def test_a_generalization_set_of_twenty_sections():
    dataset = DATASETS.get("vnc")
    assert dataset.splits == ("test",) and dataset.eval_split == "test"
    assert dataset.expected_counts == {"test": 20}
    assert not dataset.is_finetune_task()
    assert dataset.min_pixels == 64


def test_stack1_sections_pair_with_their_masks_in_sorted_order(vnc_root, raw):
    dataset = _vnc(vnc_root)
    assert len(dataset) == SECTIONS
    assert [s.sample_id for s in dataset] == ["00", "01", "02"]
    stack = vnc_root / "groundtruth-drosophila-vnc" / "stack1"
    sample = dataset[2]
    assert sample.meta["source"] == str(stack / "raw" / "02.tif")
    assert sample.meta["mask"] == str(stack / "mitochondria" / "02.png")
    assert np.array_equal(sample.image, np.repeat(raw[2][..., None], 3, axis=2))


def test_connected_components_are_the_instances_and_specks_are_ignored(vnc_root):
    _, expected, speck = _mito_mask()
    sample = _vnc(vnc_root)[1]
    assert sample.masks.shape == (2, H, W) and sample.instance_ids == (1, 2)
    assert np.array_equal(sample.masks[0], expected[0]) and np.array_equal(sample.masks[1], expected[1])
    assert np.array_equal(sample.ignore, speck)


def test_a_section_without_mitochondria_has_no_instance(vnc_root):
    sample = _vnc(vnc_root)[0]
    assert sample.masks.shape == (0, H, W) and sample.instance_ids == () and sample.ignore is None


def test_a_one_bit_mask_reads_as_zero_255(vnc_root):
    mask, expected, _ = _mito_mask()
    path = vnc_root / "groundtruth-drosophila-vnc" / "stack1" / "mitochondria" / "01.png"
    Image.fromarray(mask > 0).convert("1").save(path)
    assert Image.open(path).mode == "1"
    sample = _vnc(vnc_root)[1]
    assert sample.instance_ids == (1, 2) and np.array_equal(sample.masks[1], expected[1])


def test_the_github_zip_folder_name_is_accepted(tmp_path, raw):
    _build(tmp_path, raw, folder="groundtruth-drosophila-vnc-master")
    assert len(_vnc(tmp_path)) == SECTIONS


def test_folders_with_different_counts_are_named(vnc_root):
    stack = vnc_root / "groundtruth-drosophila-vnc" / "stack1"
    (stack / "mitochondria" / "02.png").unlink()
    with pytest.raises(MalformedDataError) as caught:
        _vnc(vnc_root)
    message = str(caught.value)
    assert str(stack / "raw") in message and str(stack / "mitochondria") in message
    assert "3 sections" in message and "2 masks" in message


def test_a_mask_of_another_size_names_both_files(vnc_root):
    stack = vnc_root / "groundtruth-drosophila-vnc" / "stack1"
    Image.fromarray(np.zeros((10, 12), np.uint8)).save(stack / "mitochondria" / "00.png")
    dataset = _vnc(vnc_root)
    with pytest.raises(MalformedDataError) as caught:
        dataset[0]
    message = str(caught.value)
    assert str(stack / "mitochondria" / "00.png") in message and str(stack / "raw" / "00.tif") in message


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_a_corrupt_section_is_named(vnc_root):
    path = vnc_root / "groundtruth-drosophila-vnc" / "stack1" / "raw" / "01.tif"
    path.write_bytes(path.read_bytes()[:60])
    dataset = _vnc(vnc_root)
    with pytest.raises(MalformedDataError, match=re.escape(str(path))):
        dataset[1]


def test_a_zero_one_mask_is_refused_rather_than_read_as_empty(vnc_root):
    mask, _, _ = _mito_mask()
    path = vnc_root / "groundtruth-drosophila-vnc" / "stack1" / "mitochondria" / "01.png"
    Image.fromarray(mask // 255).save(path)
    with pytest.raises(MalformedDataError, match=re.escape(str(path))):
        _vnc(vnc_root)[1]


@pytest.mark.parametrize("sub", ["raw", "mitochondria"])
def test_a_missing_folder_is_named(vnc_root, sub):
    folder = vnc_root / "groundtruth-drosophila-vnc" / "stack1" / sub
    for file in folder.iterdir():
        file.unlink()
    folder.rmdir()
    with pytest.raises(DatasetNotFoundError, match=re.escape(str(folder))):
        _vnc(vnc_root)


def test_a_missing_release_is_named_with_the_layout(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=re.escape(str(tmp_path / "groundtruth-drosophila-vnc"))) as caught:
        _vnc(tmp_path)
    assert "mitochondria/00.png" in str(caught.value)
