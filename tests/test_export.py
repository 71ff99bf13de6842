"""`sherpa-bench export`: a run's fine-tuned model as a file the stock builders load, with a manifest."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from segment_anything.modeling import Sam
from typer.testing import CliRunner

from sherpa_bench.datasets import DATASETS
from sherpa_bench.harness.cli import app
from sherpa_bench.harness.config import TrainConfig
from sherpa_bench.harness.errors import UserError
from sherpa_bench.harness.export import export_run
from sherpa_bench.harness.runner import RunConfig, execute, run_directory
from sherpa_bench.metrics import pair_counts
from sherpa_bench.models.checkpoints import file_sha256
from sherpa_bench.models.sam import SamModel
from sherpa_bench.models.toy import build_toy_sam, weights_path
from sherpa_bench.prompts import boxes_for_sample

QUICK = dict(train=TrainConfig(epochs=1), max_images=2)


def _finished(tmp_path: Path, method: str, model: str = "toy-small") -> Path:
    config = RunConfig(method=method, finetune="toy-thin", model=model, **QUICK)
    execute(config, tmp_path / "runs", command="test")
    return run_directory(tmp_path / "runs", config)


def test_an_exported_toy_run_reloads_in_stock_modules_with_the_runs_own_masks(tmp_path):
    run_dir = _finished(tmp_path, "std-ft")
    result = CliRunner().invoke(app, ["export", str(run_dir)])
    assert result.exit_code == 0, result.output
    weights = run_dir / "export" / "toy-small-std-ft.pth"
    state = torch.load(weights, weights_only=True)
    stock: Sam = build_toy_sam("toy-small")
    stock.load_state_dict(state, strict=True)  # a plain segment_anything Sam, every tensor from the file
    model = SamModel(stock.eval(), "reloaded")
    recorded = pd.read_csv(run_dir / "instances.csv")
    valid = DATASETS.get("toy-thin")("valid")
    for index in range(2):
        sample = valid[index]
        masks = model.predict_boxes(sample.image, boxes_for_sample(sample.masks))
        rows = recorded[(recorded.dataset == "toy-thin") & (recorded.image_id == sample.sample_id)]
        assert np.array_equal(pair_counts(masks, sample.masks, sample.ignore), rows[["tp", "fp", "fn"]].to_numpy())


def test_the_export_differs_from_the_base_exactly_in_the_decoder(tmp_path):
    run_dir = _finished(tmp_path, "std-ft")
    exported = export_run(run_dir)
    state = torch.load(exported.weights, weights_only=True)
    base = torch.load(weights_path("toy-small"), weights_only=True)
    changed = {name for name in base if not torch.equal(base[name], state[name])}
    assert changed and all(name.startswith("mask_decoder.") for name in changed)
    manifest = json.loads(exported.manifest.read_text())
    assert manifest["base_model"] == "toy-small" and manifest["method"] == "std-ft"
    assert manifest["base_weights_sha256_prefix"] == file_sha256(weights_path("toy-small"))[:16]
    assert manifest["sha256"] == file_sha256(exported.weights)
    assert manifest["run_id"].startswith("toy-thin/toy-small/std-ft-seed0-")
    assert set(manifest["changed_tensors"]) >= changed


def test_a_lora_run_is_exported_merged(tmp_path):
    run_dir = _finished(tmp_path, "lora-decoder")
    state = torch.load(export_run(run_dir).weights, weights_only=True)
    build_toy_sam("toy-small").load_state_dict(state, strict=True)  # no lora_A / lora_B keys left
    assert not any("lora" in name for name in state)


def test_an_adapter_run_is_refused_with_the_reason(tmp_path):
    run_dir = _finished(tmp_path, "adapter-decoder")
    with pytest.raises(UserError, match="cannot be merged"):
        export_run(run_dir)
    assert not (run_dir / "export").exists()


def test_a_folder_that_is_not_a_run_is_refused(tmp_path):
    with pytest.raises(UserError, match="not a finished run"):
        export_run(tmp_path)


@pytest.mark.slow
def test_an_exported_sam_vit_b_run_loads_with_sam_model_registry(tmp_path, monkeypatch):
    """The real architecture: random vit_b weights in the official format, fine-tuned one epoch on two
    toy images, exported, and built by segment_anything's own registry from the file."""
    from segment_anything import sam_model_registry

    from sherpa_bench.harness.registry import MODELS

    monkeypatch.setenv("SHERPA_BENCH_CHECKPOINTS", str(tmp_path))
    torch.manual_seed(0)
    torch.save(sam_model_registry["vit_b"](checkpoint=None).state_dict(), tmp_path / "sam_vit_b_01ec64.pth")
    config = RunConfig(
        method="std-ft", finetune="toy-thin", model="sam-vit-b", train=TrainConfig(epochs=1), max_images=1
    )
    execute(config, tmp_path / "runs", command="test")
    run_dir = run_directory(tmp_path / "runs", config)
    exported = export_run(run_dir)
    stock = SamModel(sam_model_registry["vit_b"](checkpoint=str(exported.weights)).eval(), "stock")
    ours = MODELS.get("sam-vit-b").load()
    from sherpa_bench.harness.runner import load_trained

    load_trained(run_dir, ours)
    sample = DATASETS.get("toy-thin")("valid")[0]
    boxes = boxes_for_sample(sample.masks)
    assert np.array_equal(stock.predict_boxes(sample.image, boxes), ours.predict_boxes(sample.image, boxes))
    manifest = json.loads(exported.manifest.read_text())
    assert manifest["load_with"].startswith('segment_anything.sam_model_registry["vit_b"]')
