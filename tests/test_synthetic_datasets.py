"""Synthetic datasets: determinism and well-formed instances for every one, and the properties that
make each toy task and suite imitate its real dataset."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from scipy import ndimage

from sherpa_bench.datasets import DATASETS
from sherpa_bench.datasets.synthetic import NonEmptySyntheticDataset, SceneStyle, SyntheticDataset
from sherpa_bench.datasets.types import Sample

SYNTHETIC = [e.name for e in DATASETS if isinstance(e.obj, type) and issubclass(e.obj, SyntheticDataset)]
TOY_TASKS = ("toy-thin", "toy-em")
SUITES = sorted({name for task in TOY_TASKS for group in DATASETS.get(task).generalization.values() for name in group})
FIRST = 10


@cache
def samples(name: str, split: str) -> tuple[Sample, ...]:
    dataset = DATASETS.get(name)(split)
    return tuple(dataset[i] for i in range(FIRST))


def every_split(names):
    return [(name, split) for name in names for split in DATASETS.get(name).splits]


def bbox_fill(mask: np.ndarray) -> float:
    """Fraction of the mask's bounding box that the mask covers."""
    rows, cols = np.nonzero(mask)
    return mask.sum() / ((rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1))


def evaluated(name: str) -> tuple[Sample, ...]:
    """The first samples of the split a dataset is scored on (valid for a task, test for a suite)."""
    return samples(name, "test" if "test" in DATASETS.get(name).splits else "valid")


def mean_over_instances(name: str, measure) -> float:
    return float(np.mean([measure(mask) for s in evaluated(name) for mask in s.masks]))


def instance_counts(name: str) -> list[int]:
    return [s.masks.shape[0] for s in evaluated(name)]


def area_fraction(mask: np.ndarray) -> float:
    return float(mask.mean())


def boundary_per_root_area(mask: np.ndarray) -> float:
    """Outline length over sqrt(area): about 3.5 for a disc, larger for a ragged outline."""
    boundary = mask & ~ndimage.binary_erosion(mask)
    return boundary.sum() / np.sqrt(mask.sum())


# --------------------------------------------------------------------------- every synthetic dataset


def test_the_toy_tasks_and_their_suites_are_all_synthetic():
    assert set(TOY_TASKS) | set(SUITES) | {"toy-generic"} <= set(SYNTHETIC)


@pytest.mark.parametrize("name,split", every_split(SYNTHETIC))
def test_a_sample_is_the_same_from_any_construction(name, split):
    first, second = DATASETS.get(name)(split), DATASETS.get(name)(split)
    for index in (0, 3):
        a, b = first[index], second[index]
        assert np.array_equal(a.image, b.image) and np.array_equal(a.masks, b.masks)
        assert a.sample_id == b.sample_id


@pytest.mark.parametrize("name,split", every_split(SYNTHETIC))
def test_different_indices_give_different_images(name, split):
    hashes = {s.content_hash() for s in samples(name, split)}
    assert len(hashes) == FIRST


@pytest.mark.parametrize("name,split", every_split(SYNTHETIC))
def test_instances_are_disjoint_and_visible(name, split):
    min_visible = DATASETS.get(name).style.min_visible
    for sample in samples(name, split):
        assert (sample.masks.sum(axis=0) <= 1).all(), f"{sample.sample_id}: instances overlap"
        assert (sample.masks.reshape(len(sample.masks), -1).sum(axis=1) >= min_visible).all()


@pytest.mark.parametrize("name,split", every_split(TOY_TASKS + tuple(SUITES)))
def test_every_image_has_an_instance(name, split):
    assert min(s.masks.shape[0] for s in samples(name, split)) >= 1


class MostlyEmpty(NonEmptySyntheticDataset):
    """One small object per scene that must show 150 pixels: most scenes come out empty."""

    name = "mostly-empty"
    splits = ("test",)
    sizes = {"test": 12}
    style = SceneStyle(("ellipse",), ("solid",), ("solid",), objects=(1, 1), object_scale=(0.1, 0.25),
                       height=(64, 64), width=(64, 64), min_visible=150)  # fmt: skip


def test_an_empty_scene_is_drawn_again_deterministically():
    first, second = MostlyEmpty("test"), MostlyEmpty("test")
    for index in range(len(first)):
        assert first[index].masks.shape[0] == 1
        assert first[index].content_hash() == second[index].content_hash()


def test_a_style_that_never_shows_an_object_is_refused():
    class NeverVisible(MostlyEmpty):
        style = SceneStyle(("ellipse",), ("solid",), ("solid",), objects=(1, 1), min_visible=10**6)

    with pytest.raises(RuntimeError, match="min_visible"):
        NeverVisible("test")[0]


# --------------------------------------------------------------------------- tasks and suites


@pytest.mark.parametrize("name", TOY_TASKS)
def test_a_toy_task_has_train_and_valid_and_registered_suites(name):
    task = DATASETS.get(name)
    assert task.is_finetune_task() and task.splits == ("train", "valid")
    assert (len(task("train")), len(task("valid"))) == (160, 48)
    assert set(task.generalization) == {"Group 1", "Group 2"}
    for names in task.generalization.values():
        assert all(n in DATASETS for n in names)


@pytest.mark.parametrize("name", SUITES)
def test_a_suite_is_a_48_image_test_split(name):
    suite = DATASETS.get(name)
    assert suite.splits == ("test",) and suite.eval_split == "test" and len(suite("test")) == 48
    assert "Imitates" in DATASETS.entry(name).description


def test_thin_objects_leave_their_box_mostly_empty():
    assert mean_over_instances("toy-thin", bbox_fill) < 0.35
    assert mean_over_instances("toy-generic", bbox_fill) > 0.45
    assert mean_over_instances("toy-salient", bbox_fill) > 0.5
    assert all(1 <= count <= 2 for count in instance_counts("toy-thin"))


@pytest.mark.parametrize("name", ["toy-em", "toy-em-vnc", "toy-em-mito"])
def test_em_images_are_grey_with_organelles_that_never_touch(name):
    for sample in evaluated(name):
        assert (sample.image[..., 0] == sample.image[..., 1]).all()
        assert (sample.image[..., 0] == sample.image[..., 2]).all()
        grown = np.stack([ndimage.binary_dilation(m) for m in sample.masks])
        assert (grown.sum(axis=0) <= 1).all(), f"{sample.sample_id}: organelles touch"


def test_em_suites_differ_from_the_em_task_as_their_datasets_do():
    def area(mask: np.ndarray) -> float:
        return float(mask.sum())

    assert mean_over_instances("toy-em-vnc", area) < 0.6 * mean_over_instances("toy-em", area)
    em, mito = evaluated("toy-em"), evaluated("toy-em-mito")
    assert min(s.size[0] * s.size[1] for s in mito) > max(s.size[0] * s.size[1] for s in em)
    assert np.mean(instance_counts("toy-em-mito")) >= 2 * np.mean(instance_counts("toy-em"))


def test_scenes_are_cluttered_with_small_objects():
    assert np.mean(instance_counts("toy-scenes")) > np.mean(instance_counts("toy-generic")) + 1
    generic_area = mean_over_instances("toy-generic", area_fraction)
    assert mean_over_instances("toy-scenes", area_fraction) < 0.5 * generic_area


def test_street_images_are_wide_with_sky_above_road():
    for sample in evaluated("toy-street"):
        height, width = sample.size
        assert width >= 1.5 * height
        red, _, blue = sample.image[:2].reshape(-1, 3).astype(int).mean(axis=0)
        assert blue > red, f"{sample.sample_id}: top rows are not sky"
    assert np.mean(instance_counts("toy-street")) >= 5


def test_stuff_regions_tile_the_image():
    for sample in evaluated("toy-stuff"):
        assert 3 <= sample.masks.shape[0] <= 6
        assert sample.masks.any(axis=0).mean() > 0.95


@pytest.mark.parametrize("name", ["toy-salient", "toy-fss", "toy-big"])
def test_near_suites_have_one_object_per_image(name):
    assert set(instance_counts(name)) == {1}


def test_salient_objects_are_large():
    generic_area = mean_over_instances("toy-generic", area_fraction)
    assert mean_over_instances("toy-salient", area_fraction) > 2 * generic_area


def test_big_images_are_large_with_ragged_outlines():
    assert min(min(s.size) for s in evaluated("toy-big")) >= 192
    ragged = mean_over_instances("toy-big", boundary_per_root_area)
    assert ragged > 1.4 * mean_over_instances("toy-salient", boundary_per_root_area)
