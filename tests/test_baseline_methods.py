"""Ft-last-k, L2-SP-k and WiSE-ft: each moves exactly what it declares, and its maths holds."""

from __future__ import annotations

import copy

import pytest
import torch

from sherpa_bench.harness.config import TrainConfig
from sherpa_bench.harness.errors import ConfigError
from sherpa_bench.harness.registry import METHODS
from sherpa_bench.harness.trainer import train
from sherpa_bench.methods.base import MethodContext, TrainedModel
from sherpa_bench.models.toy import load_toy

FAST = TrainConfig(epochs=1, lr=1e-3, images_per_step=2)

# What each decoder-side k adds (module prefixes under sam.mask_decoder.)
DECODER_LAYERS = [
    ("output_hypernetworks_mlps", "iou_prediction_head", "output_upscaling"),
    ("transformer.final_attn_token_to_image", "transformer.norm_final_attn"),
    ("transformer.layers.1",),
    ("transformer.layers.0",),
    ("iou_token", "mask_tokens"),
]


def trained_names(model):
    return {n for n, p in model.named_parameters() if p.requires_grad}


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_ft_last_k_trains_exactly_the_last_k_decoder_layers(random_toy, k):
    METHODS.get("ft-last").from_options({"k": str(k)}).select_trainable(random_toy)
    prefixes = tuple(f"sam.mask_decoder.{p}" for layer in DECODER_LAYERS[:k] for p in layer)
    expected = {n for n, _ in random_toy.named_parameters() if n.startswith(prefixes)}
    assert trained_names(random_toy) == expected and expected


def test_ft_last_5_is_std_ft(random_toy):
    METHODS.get("ft-last").from_options({"k": "5"}).select_trainable(random_toy)
    ft_last = trained_names(random_toy)
    METHODS.get("std-ft")().select_trainable(random_toy)
    assert ft_last == trained_names(random_toy)


def test_ft_last_encoder_side_adds_the_last_blocks_and_neck(random_toy):
    METHODS.get("ft-last").from_options({"k": "1", "side": "encoder"}).select_trainable(random_toy)
    names = trained_names(random_toy)
    last = len(random_toy.sam.image_encoder.blocks) - 1
    assert any(n.startswith(f"sam.image_encoder.blocks.{last}.") for n in names)
    assert not any(n.startswith(f"sam.image_encoder.blocks.{last - 1}.") for n in names)
    assert any(n.startswith("sam.image_encoder.neck.") for n in names)
    assert not any(n.startswith("sam.prompt_encoder.") for n in names)


def test_ft_last_moves_only_its_layers_in_training(random_toy, tiny_train_set):
    before = copy.deepcopy(random_toy.state_dict())
    train(random_toy, METHODS.get("ft-last").from_options({"k": "2"}), tiny_train_set, FAST, seed=0)
    moved = {n for n in before if not torch.equal(before[n], random_toy.state_dict()[n])}
    allowed = tuple(f"sam.mask_decoder.{p}" for layer in DECODER_LAYERS[:2] for p in layer)
    assert moved and all(n.startswith(allowed) for n in moved)


def test_ft_last_refuses_a_k_beyond_the_decoder(random_toy):
    with pytest.raises(ConfigError, match="1..5"):
        METHODS.get("ft-last").from_options({"k": "6"}).select_trainable(random_toy)


def test_l2_sp_penalty_is_zero_at_the_start_and_alpha_times_squared_shift_after(random_toy, tiny_train_set):
    method = METHODS.get("l2-sp").from_options({"k": "3"})
    method.prepare(random_toy, None)
    assert float(method.penalty().detach()) == 0.0
    token = random_toy.sam.mask_decoder.iou_token.weight
    with torch.no_grad():
        token.add_(0.5)  # 64 entries moved by 0.5: ||Δw||² = 16
    assert float(method.penalty().detach()) == pytest.approx(1e-3 * 64 * 0.25)


def test_l2_sp_switches_weight_decay_off_on_its_tensors(random_toy):
    method = METHODS.get("l2-sp")()
    method.prepare(random_toy, None)
    (group,) = method.parameter_groups(random_toy)
    assert group["weight_decay"] == 0.0
    assert {id(p) for p in group["params"]} == {id(p) for p in random_toy.sam.mask_decoder.parameters()}


def test_l2_sp_stays_closer_to_the_start_than_std_ft(tiny_train_set):
    def distance(method):
        torch.manual_seed(0)
        model = load_toy("toy-small", pretrained=False)
        start = copy.deepcopy(model.sam.mask_decoder.state_dict())
        method.prepare(model, None)
        train(model, method, tiny_train_set, TrainConfig(epochs=3, lr=1e-3, images_per_step=2), seed=0)
        return sum((model.sam.mask_decoder.state_dict()[k] - v).pow(2).sum() for k, v in start.items())

    assert distance(METHODS.get("l2-sp").from_options({"k": "-1"})) < distance(METHODS.get("std-ft")())


def wise(alpha, tiny_train_set, tmp_path):
    torch.manual_seed(0)
    pretrained = load_toy("toy-small", pretrained=False)
    fine_tuned = copy.deepcopy(pretrained)
    train(fine_tuned, METHODS.get("std-ft")(), tiny_train_set, FAST, seed=0)
    context = MethodContext(
        "t",
        "toy-small",
        TrainConfig(),
        tiny_train_set,
        0,
        tmp_path,
        None,
        lambda *a: TrainedModel(fine_tuned, "ft-run"),
    )
    model = copy.deepcopy(pretrained)
    method = METHODS.get("wise-ft").from_options({"alpha": str(alpha)})
    method.prepare(model, context)
    train(model, method, tiny_train_set, FAST, seed=0)  # trains nothing
    return method.finalize(model), pretrained, fine_tuned


def test_wise_alpha_zero_is_the_pretrained_model_and_one_the_fine_tuned(tiny_train_set, tmp_path, generic_samples):
    sample = generic_samples[0]
    from sherpa_bench.prompts import boxes_for_sample

    boxes = boxes_for_sample(sample.masks)
    at_zero, pretrained, fine_tuned = wise(0.0, tiny_train_set, tmp_path)
    assert (at_zero.predict_boxes(sample.image, boxes) == pretrained.predict_boxes(sample.image, boxes)).all()
    at_one, _, fine_tuned = wise(1.0, tiny_train_set, tmp_path)
    assert (at_one.predict_boxes(sample.image, boxes) == fine_tuned.predict_boxes(sample.image, boxes)).all()
    halfway, pretrained, fine_tuned = wise(0.5, tiny_train_set, tmp_path)
    token = lambda m: m.sam.mask_decoder.iou_token.weight  # noqa: E731
    torch.testing.assert_close(token(halfway), (token(pretrained) + token(fine_tuned)) / 2)
