"""`sherpa-bench check` passes on an unchanged leaderboard and fails, naming the cell, when one moves."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from sherpa_bench.harness.cli import app
from sherpa_bench.harness.config import TrainConfig
from sherpa_bench.harness.regression import ToyLeaderboard, run_leaderboard, write_baseline

pytestmark = pytest.mark.slow
TINY = ToyLeaderboard("toy-thin", ("zero-shot", "std-ft"), train=TrainConfig(epochs=1), max_images=4)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    folder = tmp_path_factory.mktemp("baselines")
    path = write_baseline(TINY, run_leaderboard(TINY, runs, print), folder)
    return runs, path


def check(runs, folder):
    return CliRunner().invoke(app, ["check", "--baseline-dir", str(folder), "--runs-dir", str(runs)])


def edited_copy(path, tmp_path, method, column, delta):
    data = json.loads(path.read_text())
    data["cells"][method][column] += delta
    (tmp_path / path.name).write_text(json.dumps(data))
    return tmp_path


def test_unchanged_leaderboard_passes(baseline):
    runs, path = baseline
    result = check(runs, path.parent)
    assert result.exit_code == 0, result.output
    assert "regression check passed" in result.output


def test_baseline_raised_beyond_tolerance_fails_naming_the_cell(baseline, tmp_path):
    runs, path = baseline
    result = check(runs, edited_copy(path, tmp_path, "std-ft", "Valid", +0.05))
    assert result.exit_code == 1
    assert "std-ft / Valid" in result.output and "REGRESSED" in result.output


def test_baseline_lowered_beyond_tolerance_fails_as_an_unrecorded_improvement(baseline, tmp_path):
    runs, path = baseline
    result = check(runs, edited_copy(path, tmp_path, "zero-shot", "Average", -0.05))
    assert result.exit_code == 1
    assert "zero-shot / Average" in result.output and "IMPROVED" in result.output


def test_a_move_within_tolerance_passes(baseline, tmp_path):
    runs, path = baseline
    result = check(runs, edited_copy(path, tmp_path, "std-ft", "Valid", +0.005))
    assert result.exit_code == 0, result.output


def test_committed_toy_baselines_describe_the_committed_tables():
    from sherpa_bench.harness.regression import TOY_DIR, TOY_LEADERBOARDS

    for spec in TOY_LEADERBOARDS:
        data = json.loads((TOY_DIR / f"{spec.finetune}.json").read_text())
        assert ToyLeaderboard.from_dict(data["run"]) == spec
        assert set(data["cells"]) == set(spec.methods)
        table = (TOY_DIR / f"{spec.finetune}.md").read_text()
        for method in spec.methods:
            assert f"| {method}" in table


def test_the_toy_thin_leaderboard_holds_every_registered_method():
    from sherpa_bench.harness.registry import METHODS
    from sherpa_bench.harness.regression import TOY_LEADERBOARDS

    registered = {entry.name for entry in METHODS}
    missing = registered - set(TOY_LEADERBOARDS[0].methods)
    assert not missing, (
        f"add {sorted(missing)} to EVERY_METHOD in harness/regression.py, then `sherpa-bench check --update`"
    )
