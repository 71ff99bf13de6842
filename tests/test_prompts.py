"""Prompt protocols: seeded, identical for every method, and where each protocol says they are."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sherpa_bench.harness.evaluate import EvalProtocol, predict_dataset, select_output
from sherpa_bench.harness.registry import PROMPTS
from sherpa_bench.models.sam import DecoderOutput
from sherpa_bench.models.toy import load_toy
from sherpa_bench.prompts import boxes_for_sample, sample_rng
from sherpa_bench.prompts.boxes import box_iou, noisy_boxes
from sherpa_bench.prompts.encode import MASK_PROMPT_LOGIT, prompts_to_input
from sherpa_bench.prompts.points import centre_of_mass, farthest_from_boundary


def _masks() -> np.ndarray:
    """Three instances: a rectangle, a ring (its centre of mass is a hole) and a one-pixel dot."""
    masks = np.zeros((3, 40, 50), dtype=bool)
    masks[0, 5:15, 10:30] = True
    yy, xx = np.mgrid[:40, :50]
    radius = np.hypot(yy - 25, xx - 25)
    masks[1] = (radius >= 8) & (radius <= 11)
    masks[2, 3, 45] = True
    return masks


@pytest.mark.parametrize("name", ["box", "noisy-box", "points-1", "points-10", "sherpa-points", "coarse-mask", "mixed"])
def test_the_same_seed_gives_the_same_prompts(name):
    protocol = PROMPTS.get(name)
    first = protocol.make(_masks(), sample_rng(0, "d", "valid", "img"))
    again = protocol.make(_masks(), sample_rng(0, "d", "valid", "img"))
    for field in ("boxes", "points", "point_labels", "masks"):
        a, b = getattr(first, field), getattr(again, field)
        assert (a is None and b is None) or np.array_equal(a, b)


def test_another_seed_or_sample_gives_other_noisy_boxes():
    protocol = PROMPTS.get("noisy-box")
    base = protocol.make(_masks()[:2], sample_rng(0, "d", "valid", "img")).boxes
    assert not np.array_equal(base, protocol.make(_masks()[:2], sample_rng(1, "d", "valid", "img")).boxes)
    assert not np.array_equal(base, protocol.make(_masks()[:2], sample_rng(0, "d", "valid", "img2")).boxes)


def test_the_tight_box_covers_exactly_the_masks_extent():
    assert boxes_for_sample(_masks())[0].tolist() == [10, 5, 30, 15]
    assert boxes_for_sample(_masks())[2].tolist() == [45, 3, 46, 4]


def test_noisy_boxes_keep_iou_of_at_least_one_half_and_stay_in_the_image():
    rng = np.random.default_rng(0)
    true = np.tile(np.array([[10.0, 20.0, 60.0, 50.0]]), (2000, 1))
    noisy = noisy_boxes(true, rng, scale=0.4, min_iou=0.5, size=(64, 80))
    ious = box_iou(noisy, true)
    assert ious.min() >= 0.5 and ious.max() < 1.0
    assert (noisy[:, [0, 2]] >= 0).all() and (noisy[:, [0, 2]] <= 80).all() and (noisy[:, [1, 3]] <= 64).all()
    # scale 0.4 of a half side: x0 of a 50-wide box moves at most 0.4 * 25 = 10 px
    assert np.abs(noisy[:, 0] - 10).max() <= 10 + 1e-9 and np.abs(noisy[:, 0] - 10).max() > 8


def test_a_larger_noise_scale_still_honours_the_iou_floor():
    rng = np.random.default_rng(1)
    true = np.tile(np.array([[0.0, 0.0, 10.0, 10.0]]), (500, 1))
    assert box_iou(noisy_boxes(true, rng, scale=2.0, min_iou=0.5, size=(100, 100)), true).min() >= 0.5


@pytest.mark.parametrize("name", ["points-1", "points-3", "points-5", "points-10", "sherpa-points"])
def test_every_point_lies_inside_its_own_mask_and_is_positive(name):
    masks = _masks()
    prompts = PROMPTS.get(name).make(masks, np.random.default_rng(3))
    count = 10 if name == "sherpa-points" else int(name.split("-")[1])
    assert prompts.points.shape == (3, count, 2) and (prompts.point_labels == 1).all()
    for mask, points in zip(masks, prompts.points):
        xs, ys = points[:, 0].astype(int), points[:, 1].astype(int)
        assert mask[ys, xs].all()


def test_the_first_point_is_farthest_from_the_boundary():
    mask = np.zeros((30, 30), dtype=bool)
    mask[4:25, 2:13] = True  # an 11-wide bar: its interior column is 7, rows 9..19 tie at distance 6
    assert farthest_from_boundary(mask) == (9, 7)  # first in row-major order among the ties
    prompts = PROMPTS.get("points-3").make(mask[None], np.random.default_rng(0))
    assert prompts.points[0, 0].tolist() == [7.0, 9.0]  # (x, y)


def test_sherpa_points_start_at_the_centre_of_mass_or_the_nearest_mask_pixel():
    masks = _masks()
    prompts = PROMPTS.get("sherpa-points").make(masks, np.random.default_rng(0))
    assert prompts.points[0, 0].tolist() == [20.0, 10.0]  # rectangle rows 5..14, cols 10..29: mean (9.5, 19.5)
    ring_row, ring_col = centre_of_mass(masks[1])  # the ring's centre (25, 25) is a hole
    assert masks[1, ring_row, ring_col] and np.hypot(ring_row - 25, ring_col - 25) <= 8.5
    assert prompts.points[1, 0].tolist() == [float(ring_col), float(ring_row)]


def test_points_of_a_one_pixel_mask_repeat_that_pixel():
    prompts = PROMPTS.get("points-5").make(_masks()[2:], np.random.default_rng(0))
    assert (prompts.points[0] == [45.0, 3.0]).all()


def test_a_coarse_mask_is_near_but_not_equal_to_the_truth():
    mask = np.zeros((80, 80), dtype=bool)
    mask[20:60, 15:65] = True
    coarse = PROMPTS.get("coarse-mask").make(mask[None], np.random.default_rng(0)).masks[0]
    iou = (coarse & mask).sum() / (coarse | mask).sum()
    assert 0.6 < iou < 0.99
    # the degradation lives at the boundary: deep inside and far outside stay as they were
    assert coarse[35:45, 35:45].all() and not coarse[:5, :5].any()


def test_mask_prompts_reach_the_prompt_encoder_as_logits(random_toy):
    mask = np.zeros((1, 64, 96), dtype=bool)
    mask[0, 10:40, 20:60] = True
    prepared, frame = random_toy.prepare_image(np.zeros((64, 96, 3), np.uint8))
    inputs = prompts_to_input(random_toy, PROMPTS.get("box").make(mask, None), frame)
    assert set(inputs) == {"boxes"}
    from sherpa_bench.prompts import Prompts

    dense = prompts_to_input(random_toy, Prompts(masks=mask), frame)["masks"]
    assert dense.shape == (1, 1, *random_toy.prompt_encoder.mask_input_size)
    assert float(dense.max()) == pytest.approx(MASK_PROMPT_LOGIT) and float(dense.min()) == -MASK_PROMPT_LOGIT
    assert float(dense[0, 0, -1, -1]) == -MASK_PROMPT_LOGIT  # the padding below a wide image is background


def test_select_output_picks_the_named_or_the_best_scored_mask():
    logits = torch.arange(2 * 4 * 2 * 2, dtype=torch.float).reshape(2, 4, 2, 2)
    out = DecoderOutput(low_res_logits=logits[:, 1:], iou_predictions=torch.tensor([[0.1, 0.9, 0.5], [0.7, 0.2, 0.3]]))
    single = DecoderOutput(low_res_logits=logits[:, :1], iou_predictions=torch.tensor([[0.4], [0.6]]))
    assert torch.equal(select_output(single, "single")[0], logits[:, :1])
    assert torch.equal(select_output(out, "second")[0], logits[:, 2:3])
    best, iou = select_output(out, "best")
    assert torch.equal(best[0], logits[0, 2:3]) and torch.equal(best[1], logits[1, 1:2])
    assert iou.tolist() == pytest.approx([0.9, 0.7])


def test_every_method_sees_the_same_points_on_the_same_data(random_toy, generic_samples):
    from tests.conftest import ListDataset

    data = ListDataset(generic_samples)
    protocol = EvalProtocol(prompt="points-3", mask_output="best")
    first = predict_dataset(random_toy, data, protocol).table
    second = predict_dataset(load_toy("toy-large"), data, protocol).table  # another model, other masks
    assert first["prompt"].tolist() == second["prompt"].tolist() and first["prompt"].str.len().min() > 0
    assert not first[["tp", "fp", "fn"]].equals(second[["tp", "fp", "fn"]])


def test_the_instance_cap_scores_a_seeded_subset_of_that_size(random_toy, generic_samples):
    from tests.conftest import ListDataset

    data = ListDataset(generic_samples)
    total = sum(s.masks.shape[0] for s in generic_samples)
    capped = predict_dataset(random_toy, data, EvalProtocol(max_instances=total - 3)).table
    again = predict_dataset(random_toy, data, EvalProtocol(max_instances=total - 3)).table
    other_seed = predict_dataset(random_toy, data, EvalProtocol(max_instances=total - 3, seed=1)).table
    assert len(capped) == total - 3 and capped.equals(again)
    keys = lambda t: set(zip(t.image_id, t.instance_id))  # noqa: E731
    assert keys(capped) != keys(other_seed)
    full = predict_dataset(random_toy, data).table
    assert keys(capped) < keys(full)
