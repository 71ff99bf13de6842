"""Stochastic-ft: the seed draws which decoder layers train, and training moves exactly those."""

from __future__ import annotations

import copy

import pytest
import torch

from sherpa_bench.harness.config import TrainConfig
from sherpa_bench.harness.errors import ConfigError
from sherpa_bench.harness.registry import METHODS
from sherpa_bench.harness.trainer import train
from sherpa_bench.methods.base import MethodContext
from sherpa_bench.methods.stochastic_ft import drawn_layers

FAST = TrainConfig(epochs=1, lr=1e-3, images_per_step=2)
# The IoU head is outside the task loss's graph (no gradient, AdamW skips it); every other trainable
# tensor moves, the multimask heads by weight decay alone (their gradient is zero).
OUTSIDE_THE_LOSS = "sam.mask_decoder.iou_prediction_head."


def context(data, seed):
    return MethodContext("toy", "toy-small", TrainConfig(), data, seed, None, None, None)


@pytest.mark.parametrize(("fraction", "count"), [(0.1, 1), (0.3, 2), (0.5, 3), (0.7, 4), (1.0, 5)])
def test_the_draw_takes_the_fraction_of_five_layers_rounded_half_up(fraction, count):
    layers = drawn_layers(5, fraction, seed=0)
    assert len(layers) == count and len(set(layers)) == count and all(0 <= i < 5 for i in layers)


def test_the_draw_is_fixed_by_the_seed_and_varies_with_it():
    assert drawn_layers(5, 0.5, seed=7) == drawn_layers(5, 0.5, seed=7)
    assert len({tuple(drawn_layers(5, 0.5, seed)) for seed in range(10)}) > 1


@pytest.mark.parametrize("fraction", [0.0, -0.5, 1.5])
def test_a_fraction_outside_zero_one_is_refused(fraction):
    with pytest.raises(ConfigError, match="fraction"):
        drawn_layers(5, fraction, seed=0)


def test_training_moves_exactly_the_drawn_layers(random_toy, tiny_train_set):
    method = METHODS.get("stochastic-ft").from_options({"fraction": "0.4"})
    method.prepare(random_toy, context(tiny_train_set, seed=0))
    assert method.outputs()["trained_layers"] == [1, 3]  # the heads included: the IoU head stays still
    modules = method.outputs()["trained_modules"]
    declared = {n for n, _ in random_toy.named_parameters() if n.startswith(tuple(f"{m}." for m in modules))}
    before = copy.deepcopy(random_toy.state_dict())
    train(random_toy, method, tiny_train_set, FAST, seed=0)
    moved = {n for n in before if not torch.equal(before[n], random_toy.state_dict()[n])}
    assert {n for n, p in random_toy.named_parameters() if p.requires_grad} == declared
    assert moved == {n for n in declared if not n.startswith(OUTSIDE_THE_LOSS)} and moved


def test_outputs_name_the_layers_as_ft_last_counts_them(random_toy, tiny_train_set):
    method = METHODS.get("stochastic-ft").from_options({"fraction": "1.0"})
    method.prepare(random_toy, context(tiny_train_set, seed=0))
    outputs = method.outputs()
    assert outputs["trained_layers"] == [1, 2, 3, 4, 5] and outputs["seed"] == 0
    assert "sam.mask_decoder.transformer.layers.1" in outputs["trained_modules"]
    assert "sam.mask_decoder.iou_token" in outputs["trained_modules"]
