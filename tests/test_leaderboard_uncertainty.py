"""Under a leaderboard: the Valid interval of each row and whether its gain over Std-ft is established."""

from __future__ import annotations

import pandas as pd

from sherpa_bench.harness.records import DatasetResult, RunRecord, write_run
from sherpa_bench.leaderboards.uncertainty import valid_uncertainty


def run(tmp_path, method, tp):
    """A run on 40 instances (10 images x 4) whose valid TP per instance is ``tp`` (of 10 GT pixels)."""
    rows = [
        {"dataset": "task", "image_id": f"i{i // 4}", "instance_id": i % 4, "tp": tp, "fp": 0, "fn": 10 - tp}
        for i in range(40)
    ]
    rows[0]["tp"], rows[0]["fn"] = 0, 10  # some spread, so that intervals have width
    record = RunRecord(
        run_id=f"task/m/{method}", command="", created="", finetune="task", model="m", method=method,
        method_settings={}, seed=0, config={}, versions={}, git_commit="", wall_seconds=0, train_seconds=0,
        peak_memory_mb=0, parameters={}, results=[DatasetResult("task", "valid", "valid", None, 10, 40, {}, "h")],
    )  # fmt: skip
    write_run(tmp_path / record.run_id, record, pd.DataFrame(rows))
    return record


def line_of(text, method):
    return next(line for line in text.splitlines() if line.startswith(f"- {method}, "))


def test_a_uniform_gain_is_real_and_a_tie_is_not(tmp_path):
    records = [run(tmp_path, "zero-shot", 5), run(tmp_path, "std-ft", 8), run(tmp_path, "sherpa", 8)]
    text = valid_uncertainty(records, tmp_path, "f1")
    assert "vs zero-shot" in line_of(text, "std-ft") and "(real)" in line_of(text, "std-ft")
    assert "vs std-ft: +0.0000" in line_of(text, "sherpa") and "not established" in line_of(text, "sherpa")
    assert "vs" not in line_of(text, "zero-shot")


def test_interval_brackets_the_estimate(tmp_path):
    text = valid_uncertainty([run(tmp_path, "zero-shot", 5)], tmp_path, "f1")
    numbers = line_of(text, "zero-shot").split(": ")[1]
    estimate, interval = numbers.split(" [")
    low, high = (float(x) for x in interval.rstrip("]").split(", "))
    assert low <= float(estimate) <= high and low < high
