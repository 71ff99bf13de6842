"""SHERPA as a method: the large decoder alone learns; the guide and every encoder stay as they were."""

from __future__ import annotations

import copy
import json

import pytest
import torch
from typer.testing import CliRunner

from sherpa_bench.harness.cli import app
from sherpa_bench.harness.config import TrainConfig
from sherpa_bench.harness.errors import ConfigError
from sherpa_bench.harness.trainer import train
from sherpa_bench.methods.base import MethodContext, TrainedModel
from sherpa_bench.methods.sherpa import Sherpa, SherpaSettings
from sherpa_bench.models.toy import load_toy


def toy_pair():
    torch.manual_seed(0)
    large = load_toy("toy-large", pretrained=False)
    torch.manual_seed(1)
    guide = load_toy("toy-small", pretrained=False)
    return large, guide


def prepared_sherpa(tmp_path, train_set, settings=SherpaSettings(samples=8)):
    large, guide = toy_pair()
    requests = []

    def train_model(name, method, options, epochs, noise):
        requests.append((name, method, options, epochs, noise))
        return TrainedModel(guide, "toy-thin/toy-small/kl-sp-test")

    context = MethodContext(
        "toy-thin", "toy-large", TrainConfig(), train_set, 0, tmp_path, lambda n: load_toy(n, False), train_model
    )
    method = Sherpa(settings)
    method.prepare(large, context)
    return method, large, guide, requests


def test_guide_is_the_small_partner_fine_tuned_with_kl(tmp_path, tiny_train_set):
    method, _, _, requests = prepared_sherpa(tmp_path, tiny_train_set)
    assert requests == [("toy-small", "kl-sp", {"lambda_kl": 1.0, "layer": "layers.1"}, None, 0.0)]
    assert method.outputs()["guide_run"] == "toy-thin/toy-small/kl-sp-test"
    assert (tmp_path / "frs.pt").exists() and (tmp_path / "spectrum.png").exists()


def test_guide_without_kl_and_short_noisy_guides_are_requested_as_set(tmp_path, tiny_train_set):
    settings = SherpaSettings(samples=8, guide_kl=0.0, guide_epochs=2, guide_label_noise=0.2)
    _, _, _, requests = prepared_sherpa(tmp_path, tiny_train_set, settings)
    assert requests == [("toy-small", "std-ft", {}, 2, 0.2)]


def test_only_the_large_decoder_changes_in_the_large_stage(tmp_path, tiny_train_set):
    method, large, guide, _ = prepared_sherpa(tmp_path, tiny_train_set)
    large_before, guide_before = copy.deepcopy(large.state_dict()), copy.deepcopy(guide.state_dict())
    train(large, method, tiny_train_set, TrainConfig(epochs=1, lr=1e-3, images_per_step=2), seed=0)
    changed = {n.split(".")[1] for n in large_before if not torch.equal(large_before[n], large.state_dict()[n])}
    assert changed == {"mask_decoder"}
    assert all(torch.equal(guide_before[n], guide.state_dict()[n]) for n in guide_before)


def test_guiding_gradient_reaches_only_the_large_decoder(tmp_path, tiny_train_set):
    from sherpa_bench.harness.embeddings import EmbeddingCache
    from sherpa_bench.methods.base import TrainStep
    from sherpa_bench.prompts import boxes_for_sample

    method, large, guide, _ = prepared_sherpa(tmp_path, tiny_train_set, SherpaSettings(samples=8, k=5))
    method.select_trainable(large)
    sample = tiny_train_set[0]
    encoded = EmbeddingCache(large).encode([sample])[0]
    boxes = large.boxes_to_input(boxes_for_sample(sample.masks), encoded.frame)
    out = large.decode(encoded.embedding, boxes=boxes)
    step = TrainStep(0, 0, [sample], [encoded.frame], [encoded.embedding], [{"boxes": boxes}], [out])
    loss = method.regularizers(step)["guiding"]
    assert loss > 0
    loss.backward()
    with_grad = {n.split(".")[1] for n, p in large.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}
    assert with_grad == {"mask_decoder"}
    assert all(p.grad is None for p in guide.parameters())


def test_guide_of_another_input_size_is_refused(tmp_path, tiny_train_set):
    large, guide = toy_pair()
    guide.sam.image_encoder.img_size = 256  # pretend: boxes would mean other pixels
    context = MethodContext(
        "toy-thin", "toy-large", TrainConfig(), tiny_train_set, 0, tmp_path, None, lambda *a: TrainedModel(guide, "x")
    )
    with pytest.raises(ConfigError, match="px"):
        Sherpa(SherpaSettings(samples=4)).prepare(large, context)


def test_without_frs_all_channels_are_aligned_directly(tmp_path, tiny_train_set):
    method, *_ = prepared_sherpa(tmp_path, tiny_train_set, SherpaSettings(samples=8, frs=False))
    basis = method.subspace.basis
    assert torch.equal(basis, torch.eye(basis.shape[0])) and method.outputs()["k"] == 56


@pytest.mark.slow
def test_sherpa_run_records_guide_run_k_spectrum_and_fisher_ratios(tmp_path):
    runs = tmp_path / "runs"
    args = ["run", "-m", "sherpa", "-f", "toy-thin", "--max-images", "6", "--epochs", "1", "--runs-dir", str(runs)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    (record_path,) = runs.glob("toy-thin/toy-large/sherpa-*/record.json")
    outputs = json.loads(record_path.read_text())["method_outputs"]
    guide_record = runs / outputs["guide_run"] / "record.json"
    assert guide_record.exists() and json.loads(guide_record.read_text())["method"] == "kl-sp"
    assert outputs["guide_model"] == "toy-small" and 1 <= outputs["k"] <= 56
    assert len(outputs["eigenvalues"]) == 56 and outputs["coverage_held"] >= 0.75
    assert outputs["fisher_ratio_high"] > 0 and "gap" in outputs
    assert (record_path.parent / outputs["spectrum_plot"]).exists()
    stamp = guide_record.stat().st_mtime_ns
    other_lambda = CliRunner().invoke(app, args + ["--set", "lam=1"])
    assert other_lambda.exit_code == 0, other_lambda.output
    assert guide_record.stat().st_mtime_ns == stamp  # the trained guide is reused, not retrained
    records = [json.loads(p.read_text()) for p in runs.glob("toy-thin/toy-large/sherpa-*/record.json")]
    assert len(records) == 2 and {r["method_outputs"]["guide_run"] for r in records} == {outputs["guide_run"]}


@pytest.mark.slow
def test_a_reused_guide_gives_the_numbers_of_a_freshly_trained_one(tmp_path):
    # the guide stage seeds and draws from the global generators only when it trains
    runs = tmp_path / "runs"
    args = ["run", "-m", "sherpa", "-f", "toy-thin", "--max-images", "6", "--epochs", "1", "--runs-dir", str(runs)]
    assert CliRunner().invoke(app, args).exit_code == 0
    (record_path,) = runs.glob("toy-thin/toy-large/sherpa-*/record.json")
    fresh = json.loads(record_path.read_text())
    again = CliRunner().invoke(app, args + ["--force"])  # SHERPA again, its guide now read from disk
    assert again.exit_code == 0, again.output
    reused = json.loads(record_path.read_text())
    assert reused["created"] != fresh["created"]
    assert [r["metrics"] for r in reused["results"]] == [r["metrics"] for r in fresh["results"]]
