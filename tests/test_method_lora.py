"""LoRA (peft) on the encoder qkv and the decoder projections: invisible at initialisation, trains only
its factors, and merges back into a plain SAM with the same outputs."""

from __future__ import annotations

import copy

import pytest
import torch

from sherpa_bench.harness.config import TrainConfig
from sherpa_bench.harness.errors import ConfigError
from sherpa_bench.harness.registry import METHODS
from sherpa_bench.harness.trainer import train

FAST = TrainConfig(epochs=1, lr=1e-3, images_per_step=2)
DECODER_ATTENTIONS = 7  # self, token->image, image->token in each of 2 blocks, + the final token->image
ADAPTED = {
    "lora-encoder": lambda model: [
        f"sam.image_encoder.blocks.{i}.attn.qkv" for i in range(len(model.sam.image_encoder.blocks))
    ],
    "lora-decoder": lambda model: [
        name
        for name, _ in model.sam.mask_decoder.named_modules(prefix="sam.mask_decoder")
        if name.rsplit(".", 1)[-1] in {"q_proj", "k_proj", "v_proj", "out_proj"}
    ],
}


def lora_names(model):
    return {n for n, _ in model.named_parameters() if ".lora_" in n}


@pytest.mark.parametrize("name", ["lora-encoder", "lora-decoder"])
def test_at_initialisation_lora_reproduces_the_base_model_exactly(random_toy, generic_samples, name, prompt_logits):
    base = copy.deepcopy(random_toy)
    METHODS.get(name)().prepare(random_toy, None)
    assert lora_names(random_toy)
    for sample in generic_samples[:3]:
        assert torch.equal(prompt_logits(random_toy, sample), prompt_logits(base, sample))


@pytest.mark.parametrize("name", ["lora-encoder", "lora-decoder"])
def test_lora_adapts_exactly_the_named_projections(random_toy, name):
    targets = ADAPTED[name](random_toy)
    METHODS.get(name)().prepare(random_toy, None)
    expected = {f"{t}.lora_{f}.default.weight" for t in targets for f in "AB"}
    assert lora_names(random_toy) == expected
    if name == "lora-decoder":
        assert len(targets) == 4 * DECODER_ATTENTIONS


@pytest.mark.parametrize("name", ["lora-encoder", "lora-decoder"])
def test_training_moves_the_lora_factors_and_nothing_else(random_toy, tiny_train_set, name):
    method = METHODS.get(name)()
    method.prepare(random_toy, None)
    before = copy.deepcopy(random_toy.state_dict())
    train(random_toy, method, tiny_train_set, FAST, seed=0)  # two steps: B moves first, then A
    moved = {n for n in before if not torch.equal(before[n], random_toy.state_dict()[n])}
    assert {n for n, p in random_toy.named_parameters() if p.requires_grad} == lora_names(random_toy)
    assert moved == lora_names(random_toy)


@pytest.mark.parametrize("name", ["lora-encoder", "lora-decoder"])
def test_merging_keeps_the_outputs_and_gives_back_a_plain_sam(
    random_toy, tiny_train_set, generic_samples, name, prompt_logits
):
    keys = set(random_toy.state_dict())
    method = METHODS.get(name)()
    method.prepare(random_toy, None)
    train(random_toy, method, tiny_train_set, FAST, seed=0)
    trained = [prompt_logits(random_toy, s) for s in generic_samples[:3]]
    merged = method.finalize(random_toy)
    assert set(merged.state_dict()) == keys
    assert not any("lora" in type(m).__module__ for m in merged.modules())
    for sample, before in zip(generic_samples[:3], trained):
        torch.testing.assert_close(prompt_logits(merged, sample), before, atol=1e-5, rtol=0)


def test_rank_and_alpha_set_the_factor_shapes_and_the_scale(random_toy):
    method = METHODS.get("lora-encoder").from_options({"rank": "8", "alpha": "2"})
    method.prepare(random_toy, None)
    qkv = random_toy.sam.image_encoder.blocks[0].attn.qkv
    assert qkv.lora_A["default"].weight.shape == (8, qkv.in_features)
    assert qkv.lora_B["default"].weight.shape == (qkv.out_features, 8)
    assert qkv.scaling["default"] == pytest.approx(0.25) and method.outputs()["lora_scale"] == pytest.approx(0.25)


def test_alpha_defaults_to_the_rank_and_a_rank_below_one_is_refused(random_toy):
    with pytest.raises(ConfigError, match="rank"):
        METHODS.get("lora-decoder").from_options({"rank": "0"}).prepare(random_toy, None)
    method = METHODS.get("lora-decoder").from_options({"rank": "2"})
    method.prepare(random_toy, None)
    assert method.outputs()["lora_scale"] == 1.0
