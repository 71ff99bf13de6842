"""The whole pipeline from the command line, on the built-in toy default (a few images per split)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from sherpa_bench.harness.cli import app
from sherpa_bench.harness.records import find_records

pytestmark = pytest.mark.slow
QUICK = ["--max-images", "6", "--epochs", "2"]


@pytest.fixture(scope="module")
def finished_runs(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    result = CliRunner().invoke(app, ["run", "-m", "std-ft", "-f", "toy-thin", "--runs-dir", str(runs), *QUICK])
    assert result.exit_code == 0, result.output
    return runs, result


def test_run_records_zero_shot_then_the_method_with_provenance(finished_runs):
    runs, _ = finished_runs
    records = {r.method: r for r in find_records(runs, "toy-thin", "toy-large")}
    assert set(records) == {"zero-shot", "std-ft"}
    std_ft = records["std-ft"]
    assert std_ft.versions["torch"] and std_ft.versions["segment-anything"] != "not installed"
    assert std_ft.git_commit
    assert std_ft.config["train"]["epochs"] == 2 and std_ft.seed == 0
    assert std_ft.parameters["trainable_by_module"] == {"mask_decoder": std_ft.parameters["trainable"]}
    assert records["zero-shot"].parameters["trainable"] == 0
    roles = [(r.role, r.group) for r in std_ft.results]
    assert roles[0] == ("valid", None)
    assert {g for _, g in roles[1:]} == {"Group 1", "Group 2"} and len(roles) == 7
    assert set(std_ft.results[0].metrics) == {"f1", "miou", "dice", "biou"}


def test_per_instance_table_reproduces_the_recorded_metrics(finished_runs):
    runs, _ = finished_runs
    record = next(r for r in find_records(runs, "toy-thin", "toy-large") if r.method == "std-ft")
    run_dir = runs / record.run_id
    table = pd.read_csv(run_dir / "instances.csv")
    valid = table[table.dataset == "toy-thin"]
    f1 = (2 * valid.tp / (2 * valid.tp + valid.fp + valid.fn)).mean()
    assert f1 == pytest.approx(record.results[0].metrics["f1"])
    assert len(valid) == record.results[0].instances
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["epoch-01.pt", "epoch-02.pt"]
    assert json.loads((run_dir / "record.json").read_text())["run_id"] == record.run_id


def test_prompts_are_identical_for_every_method(finished_runs):
    runs, _ = finished_runs
    tables = [pd.read_csv(runs / r.run_id / "instances.csv") for r in find_records(runs, "toy-thin", "toy-large")]
    columns = ["dataset", "image_id", "instance_id", "box_x0", "box_y0", "box_x1", "box_y1"]
    pd.testing.assert_frame_equal(tables[0][columns], tables[1][columns])


def test_leaderboard_is_printed_and_written_with_both_rows(finished_runs):
    runs, result = finished_runs
    text = (runs / "toy-thin" / "toy-large" / "leaderboard-f1.md").read_text()
    assert text in result.stdout
    assert "| zero-shot" in text and "| std-ft" in text and "Retention" in text and "100.0%" in text


def test_an_existing_run_is_reused_not_recomputed(finished_runs):
    runs, _ = finished_runs
    record_files = sorted(runs.glob("toy-thin/toy-large/*/record.json"))
    stamps = [p.stat().st_mtime_ns for p in record_files]
    again = CliRunner().invoke(app, ["run", "-m", "std-ft", "-f", "toy-thin", "--runs-dir", str(runs), *QUICK])
    assert again.exit_code == 0
    assert "reusing" in again.output
    assert [p.stat().st_mtime_ns for p in record_files] == stamps
