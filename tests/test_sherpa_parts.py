"""SHERPA's parts against what the paper's equations say must hold (FRS App. C, GFE Eq. 3, Eq. 4-5)."""

from __future__ import annotations

import copy

import pytest
import torch
from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer

from sherpa_bench.methods.frs import channel_gram, choose_k, fisher_ratio, fit_subspace
from sherpa_bench.methods.guiding_features import GuidingFeatureTap, channel_kl
from sherpa_bench.methods.reference import frozen_decoder_copy
from sherpa_bench.methods.sherpa import guiding_loss
from sherpa_bench.models.sam import SamModel


def random_features(samples=40, channels=12, positions=30, seed=0):
    generator = torch.Generator().manual_seed(seed)
    mixing = torch.randn(channels, channels, generator=generator) * torch.linspace(3, 0.1, channels)
    return torch.einsum("mn,snd->smd", mixing, torch.randn(samples, channels, positions, generator=generator))


# ------------------------------------------------------------------ FRS (App. C)


def test_projection_is_orthonormal():
    subspace = fit_subspace(random_features(), k=5)
    torch.testing.assert_close(subspace.basis.T @ subspace.basis, torch.eye(5), atol=1e-5, rtol=0)


def test_kept_trace_equals_the_top_k_eigenvalues_and_beats_random_bases():
    features = random_features()
    gram = channel_gram(features).float()
    subspace = fit_subspace(features, k=4)
    kept = torch.trace(subspace.basis.T @ gram @ subspace.basis)
    assert kept == pytest.approx(float(subspace.eigenvalues[:4].sum()), rel=1e-4)
    generator = torch.Generator().manual_seed(1)
    for _ in range(20):
        random_basis, _ = torch.linalg.qr(torch.randn(12, 4, generator=generator))
        assert torch.trace(random_basis.T @ gram @ random_basis) <= kept + 1e-3


def test_eigenvalues_come_sorted_and_sum_to_the_gram_trace():
    features = random_features()
    subspace = fit_subspace(features, coverage=0.5)
    values = subspace.eigenvalues
    assert torch.all(values[:-1] >= values[1:])
    assert float(values.sum()) == pytest.approx(float(torch.trace(channel_gram(features))), rel=1e-4)


def test_k_is_the_smallest_that_reaches_the_coverage():
    eigenvalues = torch.tensor([5.0, 3.0, 1.0, 1.0])  # cumulative shares 0.5, 0.8, 0.9, 1.0
    assert choose_k(eigenvalues, 0.5) == 1
    assert choose_k(eigenvalues, 0.75) == 2
    assert choose_k(eigenvalues, 0.8) == 2
    assert choose_k(eigenvalues, 0.85) == 3
    assert choose_k(eigenvalues, 1.0) == 4
    assert choose_k(eigenvalues, 0.0) == 0


def test_channels_are_centred_before_the_gram_matrix():
    features = random_features()
    offsets = torch.randn(1, 12, 1, generator=torch.Generator().manual_seed(1)) * 100
    shifted = features + offsets  # a constant per channel changes nothing
    # tolerance: adding offsets of ~100 rounds each float32 entry to ~1e-5 of its size; without the
    # centring the Gram matrix would move by ~1e4 times its size
    torch.testing.assert_close(channel_gram(features), channel_gram(shifted), rtol=1e-4, atol=1e-3)


def test_fisher_ratio_of_a_direction_that_separates_fg_from_bg_is_large():
    foreground = torch.zeros(4, 50, dtype=torch.bool)
    foreground[:, :25] = True
    generator = torch.Generator().manual_seed(0)
    noise = torch.randn(4, 2, 50, generator=generator) * 0.1
    separating = noise.clone()
    separating[:, 0, :25] += 1.0  # direction 0 is high on foreground positions
    ratios = fisher_ratio(separating, foreground)
    assert ratios[0] > 10 and ratios[1] < 0.5


# ------------------------------------------------------------------ GFE (Eq. 3)


def sam_decoder_model() -> SamModel:
    """SAM's real decoder (256-d, 8 heads, 64x64 grid) with random weights and a tiny stand-in encoder."""
    torch.manual_seed(0)
    sam = Sam(
        image_encoder=ImageEncoderViT(img_size=64, patch_size=16, embed_dim=32, depth=1, num_heads=1, out_chans=256),
        prompt_encoder=PromptEncoder(embed_dim=256, image_embedding_size=(64, 64), input_image_size=(1024, 1024), mask_in_chans=16),
        mask_decoder=MaskDecoder(transformer_dim=256, transformer=TwoWayTransformer(depth=2, embedding_dim=256, mlp_dim=2048, num_heads=8)),
    )  # fmt: skip
    return SamModel(sam.eval(), "sam-decoder")


def test_box_prompt_on_sam_decoder_gives_56_channels_of_4096_positions():
    model = sam_decoder_model()
    tap = GuidingFeatureTap(model)
    with torch.no_grad():
        model.decode(torch.randn(1, 256, 64, 64), boxes=torch.tensor([[100.0, 200.0, 400.0, 500.0]]))
    (features,) = tap.take()
    assert features.shape == (1, 56, 4096)  # 8 heads x 7 tokens (IoU, 4 masks, 2 box corners)
    torch.testing.assert_close(features.sum(-1), torch.ones(1, 56))


def test_hooks_leave_the_decoder_output_unchanged(random_toy):
    embedding = torch.randn(1, 64, 16, 16)
    boxes = torch.tensor([[10.0, 10.0, 60.0, 70.0], [30.0, 5.0, 90.0, 40.0]])
    with torch.no_grad():
        before = random_toy.decode(embedding, boxes=boxes).low_res_logits
        tap = GuidingFeatureTap(random_toy)
        during = random_toy.decode(embedding, boxes=boxes).low_res_logits
        tap.remove()
    assert torch.equal(before, during)
    assert len(tap.take()) == 1


def test_feature_logits_equal_the_attention_the_module_computes(random_toy):
    """Softmaxed tap features times V reproduce the attention module's own output."""
    attention = random_toy.sam.mask_decoder.transformer.layers[1].cross_attn_token_to_image
    seen = {}
    handles = [
        attention.v_proj.register_forward_hook(lambda m, i, o: seen.__setitem__("v", o)),
        attention.register_forward_hook(lambda m, i, o: seen.__setitem__("out", o)),
    ]
    tap = GuidingFeatureTap(random_toy)
    with torch.no_grad():
        random_toy.decode(torch.randn(1, 64, 16, 16), boxes=torch.tensor([[10.0, 10.0, 60.0, 70.0]]))
    for handle in handles:
        handle.remove()
    (features,) = tap.take()
    heads = attention.num_heads
    weights = features.reshape(1, heads, -1, features.shape[-1])
    values = attention._separate_heads(seen["v"], heads)
    recomputed = attention.out_proj(attention._recombine_heads(weights @ values))
    torch.testing.assert_close(recomputed, seen["out"], rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------ Eq. 4 and Eq. 5


def decode_features(model, tap, embedding, boxes):
    model.decode(embedding, boxes=boxes)
    return tap.take()[0]


def test_kl_is_zero_for_the_unmodified_copy_and_positive_after_the_decoder_changes(random_toy):
    reference = frozen_decoder_copy(random_toy)
    tap, reference_tap = GuidingFeatureTap(random_toy), GuidingFeatureTap(reference)
    embedding, boxes = torch.randn(1, 64, 16, 16), torch.tensor([[10.0, 10.0, 60.0, 70.0]])
    with torch.no_grad():
        same = channel_kl(
            decode_features(random_toy, tap, embedding, boxes),
            decode_features(reference, reference_tap, embedding, boxes),
        )
        for parameter in random_toy.sam.mask_decoder.transformer.layers[1].parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
        moved = channel_kl(
            decode_features(random_toy, tap, embedding, boxes),
            decode_features(reference, reference_tap, embedding, boxes),
        )
    assert abs(float(same)) < 1e-7
    assert moved > 1e-4


def test_guiding_loss_is_zero_between_identical_networks_and_grows_with_difference(random_toy):
    twin = copy.deepcopy(random_toy)
    tap, twin_tap = GuidingFeatureTap(random_toy), GuidingFeatureTap(twin)
    embedding, boxes = torch.randn(1, 64, 16, 16), torch.tensor([[10.0, 10.0, 60.0, 70.0]])
    basis = fit_subspace(random_features(channels=56), k=3).basis
    with torch.no_grad():
        a, b = decode_features(random_toy, tap, embedding, boxes), decode_features(twin, twin_tap, embedding, boxes)
    assert float(guiding_loss(a, b, basis)) == 0.0
    assert float(guiding_loss(a, b + 0.01, basis)) > 0
    assert float(guiding_loss(a, b + 0.01, basis[:, :0])) == 0.0  # k = 0 guides nothing


def test_guiding_loss_sums_absolute_projected_differences():
    features = torch.zeros(1, 2, 3)
    target = torch.tensor([[[1.0, -2.0, 0.0], [0.0, 0.0, 4.0]]])
    projection = torch.tensor([[1.0], [0.0]])  # keep channel 0 only
    assert float(guiding_loss(features, target, projection)) == pytest.approx(3.0)
    assert float(guiding_loss(features, target, projection, "mean")) == pytest.approx(1.0)
    assert float(guiding_loss(features, target, torch.eye(2))) == pytest.approx(7.0)
