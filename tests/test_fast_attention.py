"""SDPA attention and bf16 encoding: fast paths that must agree with SAM's reference maths (on the
CPU, and on CUDA where there is a GPU: the ``device`` fixture)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sherpa_bench.models.encoder_paths import EncoderPaths
from sherpa_bench.models.fast_attention import use_attention
from sherpa_bench.models.toy import load_toy
from sherpa_bench.prompts import boxes_for_sample


def _embeddings(model, samples):
    prepared = torch.stack([model.prepare_image(s.image)[0] for s in samples])
    with torch.no_grad():
        return model.encode(prepared)


@pytest.mark.parametrize("name", ["toy-small", "toy-large"])
def test_sdpa_attention_gives_the_reference_embeddings_to_float_rounding(name, generic_samples, device):
    model = load_toy(name).to(device)
    reference = _embeddings(model, generic_samples[:3])
    assert use_attention(model.image_encoder, "sdpa") == len(model.image_encoder.blocks)
    fast = _embeddings(model, generic_samples[:3])
    torch.testing.assert_close(fast, reference, atol=2e-5, rtol=1e-4)
    use_attention(model.image_encoder, "reference")
    assert torch.equal(_embeddings(model, generic_samples[:3]), reference)  # switching back is exact


def test_sdpa_keeps_the_gradient_of_the_relative_position_tables(generic_samples, device):
    model = load_toy("toy-small").to(device)
    use_attention(model.image_encoder, "sdpa")
    prepared = model.prepare_image(generic_samples[0].image)[0][None]
    model.encode(prepared).square().mean().backward()
    assert model.image_encoder.blocks[0].attn.rel_pos_h.grad.abs().sum() > 0


def test_bf16_encoding_agrees_with_fp32_masks(generic_samples, device):
    model = load_toy("toy-large").to(device)
    fp32 = [model.predict_boxes(s.image, boxes_for_sample(s.masks)) for s in generic_samples[:4]]
    model.configure_encoder(EncoderPaths(precision="bf16"))
    bf16 = [model.predict_boxes(s.image, boxes_for_sample(s.masks)) for s in generic_samples[:4]]
    ious = [(a & b).sum() / max((a | b).sum(), 1) for x, y in zip(fp32, bf16) for a, b in zip(x, y)]
    assert min(ious) >= 0.95 and np.mean(ious) >= 0.99
    prepared = model.prepare_image(generic_samples[0].image)[0][None]
    with torch.no_grad():
        assert model.encode(prepared).dtype == torch.float32  # the decoder always gets float32


def test_a_run_records_its_fast_paths_and_is_a_run_of_its_own(tmp_path):
    from sherpa_bench.harness.config import TrainConfig
    from sherpa_bench.harness.runner import RunConfig, execute

    quick = dict(method="zero-shot", finetune="toy-thin", model="toy-small", train=TrainConfig(epochs=0), max_images=2)
    reference = RunConfig(**quick)
    fast = RunConfig(**quick, precision="bf16", attention="sdpa")
    assert reference.run_name() != fast.run_name()
    record = execute(fast, tmp_path, command="test")
    assert record.config["precision"] == "bf16" and record.config["attention"] == "sdpa"
    assert record.versions["device"] == "cpu"
