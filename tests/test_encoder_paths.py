"""The encoder's fast paths as a run chooses them, and ``torch.compile`` agreeing with eager maths
(on the CPU, and on CUDA where there is a GPU: the ``device`` fixture)."""

from __future__ import annotations

import pytest
import torch

from sherpa_bench.harness.embedding_store import encoder_key
from sherpa_bench.harness.errors import ConfigError
from sherpa_bench.models.encoder_paths import EncoderPaths
from sherpa_bench.models.toy import load_toy


def _embedding(model, sample) -> torch.Tensor:
    prepared = model.prepare_image(sample.image)[0][None]
    with torch.no_grad():
        return model.encode(prepared)


@pytest.mark.parametrize("bad", [dict(precision="fp16"), dict(attention="flash")])
def test_an_unknown_path_is_refused_with_the_choices(bad):
    with pytest.raises(ConfigError, match="must be one of"):
        EncoderPaths(**bad)


def test_every_path_has_its_own_embedding_cache_and_the_reference_keeps_its_key():
    model = load_toy("toy-small")
    keys = set()
    for paths in (EncoderPaths(), EncoderPaths(compile=True), EncoderPaths("bf16"), EncoderPaths(attention="sdpa")):
        model.configure_encoder(paths)  # compiling is lazy: nothing is compiled here
        keys.add(encoder_key(model))
    assert len(keys) == 4
    assert EncoderPaths().cache_key() == "fp32|reference"  # caches written before compile existed stay valid


@pytest.mark.slow
def test_the_compiled_encoder_gives_the_eager_embeddings(generic_samples, device):
    model = load_toy("toy-small").to(device)
    eager = [_embedding(model, s) for s in generic_samples[:2]]
    model.configure_encoder(EncoderPaths(compile=True))
    compiled = [_embedding(model, s) for s in generic_samples[:2]]
    for a, b in zip(compiled, eager):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
    model.configure_encoder(EncoderPaths())
    assert torch.equal(_embedding(model, generic_samples[0]), eager[0])  # switching back is exact


@pytest.mark.slow
def test_a_hook_attached_after_compiling_is_not_skipped(generic_samples, device):
    # torch.compile alone would replay the graph compiled before the hook (a method's Adapter branch)
    model = load_toy("toy-small").to(device)
    model.configure_encoder(EncoderPaths(compile=True))
    before = _embedding(model, generic_samples[0])
    handle = model.image_encoder.neck.register_forward_hook(lambda module, inputs, output: output + 1.0)
    hooked = _embedding(model, generic_samples[0])
    torch.testing.assert_close(hooked, before + 1.0, atol=1e-5, rtol=1e-4)
    handle.remove()
    torch.testing.assert_close(_embedding(model, generic_samples[0]), before, atol=0, rtol=0)


@pytest.mark.slow
def test_gradients_flow_through_the_compiled_encoder(generic_samples, device):
    model = load_toy("toy-small").to(device)
    model.configure_encoder(EncoderPaths(compile=True))
    prepared = model.prepare_image(generic_samples[0].image)[0][None]
    model.encode(prepared).square().mean().backward()
    compiled_grad = model.image_encoder.patch_embed.proj.weight.grad.clone()
    model.zero_grad()
    model.configure_encoder(EncoderPaths())
    model.encode(prepared).square().mean().backward()
    torch.testing.assert_close(compiled_grad, model.image_encoder.patch_embed.proj.weight.grad, atol=1e-5, rtol=1e-3)


@pytest.mark.slow
def test_a_compiled_run_is_a_run_of_its_own_and_scores_as_the_eager_one(tmp_path):
    from sherpa_bench.harness.config import TrainConfig
    from sherpa_bench.harness.runner import RunConfig, execute

    quick = dict(method="zero-shot", finetune="toy-thin", model="toy-small", train=TrainConfig(epochs=0), max_images=2)
    eager = execute(RunConfig(**quick), tmp_path, command="test")
    compiled = execute(RunConfig(**quick, compile=True), tmp_path, command="test")
    assert compiled.config["compile"] is True and eager.config["compile"] is False
    assert compiled.run_id != eager.run_id
    for ours, theirs in zip(compiled.results, eager.results):
        assert ours.dataset == theirs.dataset
        assert ours.metrics == pytest.approx(theirs.metrics, abs=1e-3)


@pytest.mark.slow
def test_a_copied_compiled_model_runs_its_own_encoder(generic_samples):
    import copy

    model = load_toy("toy-small")
    model.configure_encoder(EncoderPaths(compile=True))
    before = _embedding(model, generic_samples[0])
    twin = copy.deepcopy(model)  # as InfoSAM's teacher is made
    with torch.no_grad():
        twin.image_encoder.neck[-1].bias.add_(1.0)  # the last LayerNorm: the output moves by 1
    torch.testing.assert_close(_embedding(twin, generic_samples[0]), before + 1.0, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(_embedding(model, generic_samples[0]), before, atol=0, rtol=0)
