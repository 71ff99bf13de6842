"""The MitoEM-R and MitoEM-H loaders, on tiny fabricated copies of the official release."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sherpa_bench.datasets import DATASETS
from sherpa_bench.harness.errors import DatasetNotFoundError, MalformedDataError

H, W = 32, 40
VOLUMES = {"mitoem-r": "MitoEM-R", "mitoem-h": "MitoEM-H"}
TRAIN, VALID = (0, 1, 2), (400, 401)  # slice numbers, as in the release (0-399 / 400-499)


def _train_ids() -> tuple[np.ndarray, dict[int, np.ndarray], np.ndarray]:
    """A 16-bit id map, the instances it must decode to (id -> mask), and the ignore region."""
    ids = np.zeros((H, W), np.uint16)
    big = np.zeros((H, W), bool)
    big[2:12, 2:12] = True  # 100 px ...
    big[20:24, 2:6] = True  # ... and a separate 16 px piece of the same mitochondrion: one instance
    other = np.zeros((H, W), bool)
    other[14:22, 20:30] = True  # 80 px, an id above 8 bits
    tip = np.zeros((H, W), bool)
    tip[28:30, 30:33] = True  # 6 px < 64: ignored
    ids[big], ids[other], ids[tip] = 300, 40000, 7
    return ids, {300: big, 40000: other}, tip


def _valid_ids() -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """A 32-bit id map (ids beyond 16 bits) and its instances; nothing small."""
    ids = np.zeros((H, W), np.int32)
    first = np.zeros((H, W), bool)
    first[5:15, 5:15] = True
    second = np.zeros((H, W), bool)
    second[20:30, 25:35] = True
    ids[first], ids[second] = 70000, 2
    return ids, {2: second, 70000: first}


def _build(root: Path, folder: str, rng: np.random.Generator) -> dict[int, np.ndarray]:
    volume = root / folder
    for sub in ("im", "mito-train-v2", "mito-val-v2"):
        (volume / sub).mkdir(parents=True)
    pixels = {}
    for z in (*TRAIN, *VALID, 500):  # 500: a test slice, no public label
        pixels[z] = rng.integers(0, 256, (H, W), dtype=np.uint8)
        Image.fromarray(pixels[z]).save(volume / "im" / f"im{z:04d}.png")
    for z in TRAIN:
        ids = _train_ids()[0] if z == 1 else np.zeros((H, W), np.uint16)
        Image.fromarray(ids).save(volume / "mito-train-v2" / f"seg{z:04d}.tif")
    for z in VALID:
        ids = _valid_ids()[0] if z == 400 else np.zeros((H, W), np.int32)
        Image.fromarray(ids).save(volume / "mito-val-v2" / f"seg{z:04d}.tif")
    return pixels


@pytest.fixture
def mitoem_root(tmp_path: Path) -> tuple[Path, dict[str, dict[int, np.ndarray]]]:
    rng = np.random.default_rng(2)
    pixels = {name: _build(tmp_path, folder, rng) for name, folder in VOLUMES.items()}
    return tmp_path, pixels


@pytest.fixture(params=list(VOLUMES))
def volume(request) -> str:
    return request.param


def _mitoem(name: str, split: str, root: Path | None):
    return DATASETS.get(name)(split, root)


@pytest.fixture(autouse=True)
def no_env_root(monkeypatch):
    monkeypatch.delenv("SHERPA_BENCH_DATA", raising=False)


def test_two_generalization_sets_one_per_volume(volume):
    dataset = DATASETS.get(volume)
    assert dataset.title == VOLUMES[volume] and dataset.folder == VOLUMES[volume]
    assert dataset.splits == ("train", "valid") and dataset.eval_split == "valid"
    assert dataset.expected_counts == {"train": 400, "valid": 100}
    assert not dataset.is_finetune_task()
    assert dataset.min_pixels == 64


def test_each_split_is_its_label_folder(mitoem_root, volume):
    root, _ = mitoem_root
    assert len(_mitoem(volume, "train", root)) == 3
    valid = _mitoem(volume, "valid", root)
    assert [s.sample_id for s in valid] == ["im0400", "im0401"]
    assert [s.meta["slice"] for s in valid] == [400, 401]


def test_each_volume_reads_its_own_folder(mitoem_root, volume):
    root, pixels = mitoem_root
    sample = _mitoem(volume, "train", root)[2]
    folder = root / VOLUMES[volume]
    assert sample.meta["source"] == str(folder / "im" / "im0002.png")
    assert sample.meta["mask"] == str(folder / "mito-train-v2" / "seg0002.tif")
    assert np.array_equal(sample.image, np.repeat(pixels[volume][2][..., None], 3, axis=2))


def test_16_bit_ids_are_the_instances_whole_and_small_ids_ignored(mitoem_root, volume):
    root, _ = mitoem_root
    _, expected, tip = _train_ids()
    sample = _mitoem(volume, "train", root)[1]
    assert sample.instance_ids == (300, 40000)
    assert sample.masks.shape == (2, H, W)
    assert np.array_equal(sample.masks[0], expected[300]) and np.array_equal(sample.masks[1], expected[40000])
    assert np.array_equal(sample.ignore, tip)


def test_32_bit_ids_are_the_instances(mitoem_root, volume):
    root, _ = mitoem_root
    _, expected = _valid_ids()
    sample = _mitoem(volume, "valid", root)[0]
    assert sample.instance_ids == (2, 70000)
    assert np.array_equal(sample.masks[0], expected[2]) and np.array_equal(sample.masks[1], expected[70000])
    assert sample.ignore is None


def test_unsigned_32_bit_tiffs_are_read(mitoem_root):
    tifffile = pytest.importorskip("tifffile")
    root, _ = mitoem_root
    ids, expected = _valid_ids()
    tifffile.imwrite(root / "MitoEM-R" / "mito-val-v2" / "seg0400.tif", ids.astype(np.uint32))
    sample = _mitoem("mitoem-r", "valid", root)[0]
    assert sample.instance_ids == (2, 70000) and np.array_equal(sample.masks[1], expected[70000])


def test_a_slice_without_mitochondria_has_no_instance(mitoem_root, volume):
    root, _ = mitoem_root
    sample = _mitoem(volume, "valid", root)[1]
    assert sample.masks.shape == (0, H, W) and sample.instance_ids == () and sample.ignore is None


def test_a_label_without_its_slice_names_the_missing_image(mitoem_root, volume):
    root, _ = mitoem_root
    image = root / VOLUMES[volume] / "im" / "im0401.png"
    image.unlink()
    with pytest.raises(MalformedDataError, match=re.escape(str(image))):
        _mitoem(volume, "valid", root)


def test_a_label_with_an_unknown_name_is_named(mitoem_root):
    root, _ = mitoem_root
    stray = root / "MitoEM-H" / "mito-train-v2" / "labels.tif"
    Image.fromarray(np.zeros((H, W), np.uint16)).save(stray)
    with pytest.raises(MalformedDataError, match=re.escape(str(stray))):
        _mitoem("mitoem-h", "train", root)


def test_a_colour_label_is_refused(mitoem_root):
    root, _ = mitoem_root
    label = root / "MitoEM-R" / "mito-train-v2" / "seg0000.tif"
    Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(label)
    with pytest.raises(MalformedDataError, match=re.escape(str(label))):
        _mitoem("mitoem-r", "train", root)[0]


def test_negative_ids_are_refused(mitoem_root):
    root, _ = mitoem_root
    label = root / "MitoEM-R" / "mito-val-v2" / "seg0401.tif"
    ids = np.zeros((H, W), np.int32)
    ids[0, 0] = -5
    Image.fromarray(ids).save(label)
    with pytest.raises(MalformedDataError, match=re.escape(str(label))):
        _mitoem("mitoem-r", "valid", root)[1]


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_a_corrupt_label_is_named(mitoem_root):
    root, _ = mitoem_root
    label = root / "MitoEM-H" / "mito-val-v2" / "seg0400.tif"
    label.write_bytes(label.read_bytes()[:50])
    dataset = _mitoem("mitoem-h", "valid", root)
    with pytest.raises(MalformedDataError, match=re.escape(str(label))):
        dataset[0]


def test_a_label_of_another_size_names_both_files(mitoem_root):
    root, _ = mitoem_root
    label = root / "MitoEM-R" / "mito-train-v2" / "seg0002.tif"
    Image.fromarray(np.zeros((10, 12), np.uint16)).save(label)
    with pytest.raises(MalformedDataError) as caught:
        _mitoem("mitoem-r", "train", root)[2]
    message = str(caught.value)
    assert str(label) in message and "12x10" in message
    assert str(root / "MitoEM-R" / "im" / "im0002.png") in message and f"{W}x{H}" in message


@pytest.mark.parametrize("sub", ["im", "mito-val-v2"])
def test_a_missing_folder_is_named(mitoem_root, sub):
    root, _ = mitoem_root
    folder = root / "MitoEM-R" / sub
    for file in folder.iterdir():
        file.unlink()
    folder.rmdir()
    with pytest.raises(DatasetNotFoundError, match=re.escape(str(folder))):
        _mitoem("mitoem-r", "valid", root)


def test_one_volume_present_does_not_stand_in_for_the_other(tmp_path):
    _build(tmp_path, "MitoEM-R", np.random.default_rng(3))
    with pytest.raises(DatasetNotFoundError, match=re.escape(str(tmp_path / "MitoEM-H"))) as caught:
        _mitoem("mitoem-h", "valid", tmp_path)
    assert "mito-val-v2/seg0400.tif" in str(caught.value)
