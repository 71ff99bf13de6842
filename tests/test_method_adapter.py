"""AdaptFormer adapters: invisible at initialisation, placed beside the MLP as the paper places them,
and the only tensors that train."""

from __future__ import annotations

import copy

import pytest
import torch
from torch.nn import functional as F

from sherpa_bench.harness.config import TrainConfig
from sherpa_bench.harness.registry import METHODS
from sherpa_bench.harness.trainer import train

FAST = TrainConfig(epochs=1, lr=1e-3, images_per_step=2)


def adapter_names(model):
    return {n for n, _ in model.named_parameters() if ".adapter." in n}


def lift_up_projections(model):
    """Give every branch a non-zero up-projection, as training would."""
    torch.manual_seed(5)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if ".adapter.up." in name:
                parameter.normal_(0, 0.5)


@pytest.mark.parametrize("name", ["adapter-encoder", "adapter-decoder"])
def test_at_initialisation_adapters_reproduce_the_base_model_exactly(random_toy, generic_samples, name, prompt_logits):
    base = copy.deepcopy(random_toy)
    METHODS.get(name)().prepare(random_toy, None)
    assert adapter_names(random_toy)
    for sample in generic_samples[:3]:
        assert torch.equal(prompt_logits(random_toy, sample), prompt_logits(base, sample))


def test_one_branch_per_mlp_with_the_bottleneck_set(random_toy):
    METHODS.get("adapter-encoder").from_options({"bottleneck": "16"}).prepare(random_toy, None)
    METHODS.get("adapter-decoder")().prepare(random_toy, None)
    blocks = len(random_toy.sam.image_encoder.blocks)
    dim = random_toy.sam.image_encoder.blocks[0].mlp.lin1.in_features
    assert random_toy.sam.image_encoder.blocks[0].adapter.down.weight.shape == (16, dim)
    assert random_toy.sam.mask_decoder.transformer.layers[1].adapter.up.weight.shape == (64, 64)
    expected = {
        f"sam.image_encoder.blocks.{i}.adapter.{p}.{t}"
        for i in range(blocks)
        for p in ("down", "up")
        for t in ("weight", "bias")
    }
    expected |= {
        f"sam.mask_decoder.transformer.layers.{i}.adapter.{p}.{t}"
        for i in range(2)
        for p in ("down", "up")
        for t in ("weight", "bias")
    }
    assert adapter_names(random_toy) == expected


def test_the_encoder_branch_reads_the_residual_stream_before_norm2_and_is_scaled(random_toy):
    METHODS.get("adapter-encoder").from_options({"scale": "0.3"}).prepare(random_toy, None)
    lift_up_projections(random_toy)
    block = random_toy.sam.image_encoder.blocks[0]
    x = torch.randn(1, 4, 4, block.mlp.lin1.in_features)
    adapter = block.adapter
    branch = 0.3 * adapter.up(F.gelu(adapter.down(x)))
    with torch.no_grad():
        torch.testing.assert_close(
            block.mlp(block.norm2(x)), block.mlp.lin2(block.mlp.act(block.mlp.lin1(block.norm2(x)))) + branch
        )


def test_the_decoder_branch_reads_the_mlp_input(random_toy):
    METHODS.get("adapter-decoder")().prepare(random_toy, None)
    lift_up_projections(random_toy)
    layer = random_toy.sam.mask_decoder.transformer.layers[0]
    queries = torch.randn(3, 7, 64)
    with torch.no_grad():
        plain = layer.mlp.lin2(layer.mlp.act(layer.mlp.lin1(queries)))
        torch.testing.assert_close(
            layer.mlp(queries), plain + 0.1 * layer.adapter.up(F.gelu(layer.adapter.down(queries)))
        )


def test_a_copy_of_an_adapted_model_runs_its_own_branches(random_toy, generic_samples, prompt_logits):
    METHODS.get("adapter-decoder")().prepare(random_toy, None)
    duplicate = copy.deepcopy(random_toy)  # as InfoSAM's teacher copies the model after injection
    lift_up_projections(duplicate)
    sample = generic_samples[0]
    assert not torch.equal(prompt_logits(duplicate, sample), prompt_logits(random_toy, sample))
    lift_up_projections(random_toy)
    assert torch.equal(prompt_logits(duplicate, sample), prompt_logits(random_toy, sample))


@pytest.mark.parametrize("name", ["adapter-encoder", "adapter-decoder"])
def test_training_moves_the_adapters_and_nothing_else(random_toy, tiny_train_set, name):
    method = METHODS.get(name)()
    method.prepare(random_toy, None)
    before = copy.deepcopy(random_toy.state_dict())
    train(random_toy, method, tiny_train_set, FAST, seed=0)  # two steps: Up moves first, then Down
    moved = {n for n in before if not torch.equal(before[n], random_toy.state_dict()[n])}
    assert {n for n, p in random_toy.named_parameters() if p.requires_grad} == adapter_names(random_toy)
    assert moved == adapter_names(random_toy)
