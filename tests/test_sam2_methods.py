"""SAM 2 models go through the same method interface: what a method selects, copies or hooks is
found by role (``image_encoder`` / ``prompt_encoder`` / ``mask_decoder``), not by SAM 1's names."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sherpa_bench.harness.config import TrainConfig
from sherpa_bench.harness.registry import METHODS, MODELS
from sherpa_bench.harness.trainer import train
from sherpa_bench.methods.reference import frozen_decoder_copy
from tests.conftest import ListDataset


@pytest.fixture(scope="module")
def sam2_tiny(tmp_path_factory):
    from sam2.build_sam import build_sam2

    folder = tmp_path_factory.mktemp("checkpoints")
    torch.manual_seed(0)
    model = build_sam2("configs/sam2.1/sam2.1_hiera_t.yaml", None, device="cpu")
    torch.save({"model": model.state_dict()}, folder / "sam2.1_hiera_tiny.pt")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SHERPA_BENCH_CHECKPOINTS", str(folder))
        yield lambda: MODELS.get("sam2.1-hiera-t").load()


def _sample(generic_samples):
    return generic_samples[0]


def test_the_frozen_decoder_copy_shares_the_encoder_and_predicts_the_same(sam2_tiny, generic_samples):
    model = sam2_tiny()
    reference = frozen_decoder_copy(model)
    assert reference.image_encoder is model.image_encoder
    assert reference.mask_decoder is not model.mask_decoder and reference.prompt_encoder is not model.prompt_encoder
    assert not any(p.requires_grad for p in reference.mask_decoder.parameters())
    assert model.mask_decoder is model.sam.sam_mask_decoder  # the original is untouched
    sample = _sample(generic_samples)
    from sherpa_bench.prompts import boxes_for_sample

    assert np.array_equal(
        model.predict_boxes(sample.image, boxes_for_sample(sample.masks)),
        reference.predict_boxes(sample.image, boxes_for_sample(sample.masks)),
    )


def test_lora_decoder_finds_the_sam2_decoder_projections(sam2_tiny):
    model = sam2_tiny()
    method = METHODS.get("lora-decoder").from_options({})
    method.prepare(model, None)
    method.select_trainable(model)
    trained = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trained and all("sam_mask_decoder.transformer" in n and "lora_" in n for n in trained)


@pytest.mark.slow
def test_std_ft_on_sam2_moves_the_mask_decoder_and_nothing_else(sam2_tiny, generic_samples):
    model = sam2_tiny()
    before = {n: t.clone() for n, t in model.state_dict().items()}
    method = METHODS.get("std-ft").from_options({})
    method.prepare(model, None)
    train(model, method, ListDataset(generic_samples[:2]), TrainConfig(epochs=1, images_per_step=2, lr=1e-3), seed=0)
    moved = {n for n, t in model.state_dict().items() if not torch.equal(t, before[n])}
    assert moved and all(n.startswith("sam.sam_mask_decoder.") for n in moved)
    # conv_s0 / conv_s1 belong to the mask decoder and run in decode, so they train too
    assert any("conv_s0" in n for n in moved)


def test_ft_last_with_k_5_is_the_whole_sam2_decoder(sam2_tiny):
    model = sam2_tiny()
    METHODS.get("ft-last").from_options({"k": "5"}).select_trainable(model)
    decoder = {n for n, p in model.mask_decoder.named_parameters()}
    trained = {n for n, p in model.mask_decoder.named_parameters() if p.requires_grad}
    assert trained == decoder and not any(p.requires_grad for p in model.image_encoder.parameters())
