"""BitFit: the bias terms of the image encoder and mask decoder train, and nothing else moves."""

from __future__ import annotations

import copy

import torch

from sherpa_bench.harness.config import TrainConfig
from sherpa_bench.harness.registry import METHODS
from sherpa_bench.harness.trainer import train

FAST = TrainConfig(epochs=1, lr=1e-3, images_per_step=2)
# The IoU head is outside the task loss's graph (no gradient, AdamW skips it); every other trainable
# tensor moves, the multimask heads by weight decay alone (their gradient is zero).
OUTSIDE_THE_LOSS = "sam.mask_decoder.iou_prediction_head."


def biases(model):
    parts = ("sam.image_encoder.", "sam.mask_decoder.")
    return {n for n, _ in model.named_parameters() if n.startswith(parts) and n.endswith(".bias")}


def test_bitfit_trains_every_encoder_and_decoder_bias_and_only_those(random_toy):
    METHODS.get("bitfit")().select_trainable(random_toy)
    trainable = {n for n, p in random_toy.named_parameters() if p.requires_grad}
    assert trainable == biases(random_toy)
    assert "sam.image_encoder.blocks.0.attn.qkv.bias" in trainable and "sam.image_encoder.neck.1.bias" in trainable
    assert "sam.mask_decoder.transformer.norm_final_attn.bias" in trainable


def test_training_moves_exactly_the_biases(random_toy, tiny_train_set):
    before = copy.deepcopy(random_toy.state_dict())
    train(random_toy, METHODS.get("bitfit")(), tiny_train_set, FAST, seed=0)
    moved = {n for n in before if not torch.equal(before[n], random_toy.state_dict()[n])}
    assert moved == {n for n in biases(random_toy) if not n.startswith(OUTSIDE_THE_LOSS)}
    assert any(n.startswith("sam.image_encoder.") for n in moved)
