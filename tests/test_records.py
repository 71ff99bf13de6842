"""Run records are written atomically, read back intact, and refused clearly when damaged."""

from __future__ import annotations

import pandas as pd
import pytest

from sherpa_bench.harness.errors import UserError
from sherpa_bench.harness.records import DatasetResult, RunRecord, find_records, read_record, write_run


def record(method="std-ft", train=None):
    return RunRecord(
        run_id=f"toy-thin/toy-large/{method}", command="sherpa-bench run", created="2026-01-01T00:00:00Z",
        finetune="toy-thin", model="toy-large", method=method, method_settings={}, seed=0,
        config={"train": train or {"epochs": 10}}, versions={"torch": "x"}, git_commit="abc",
        wall_seconds=1.0, train_seconds=0.5, peak_memory_mb=10.0, parameters={"total": 3, "trainable": 1},
        results=[DatasetResult("toy-thin", "valid", "valid", None, 2, 3, {"f1": 0.5}, "h")],
    )  # fmt: skip


def test_round_trip_keeps_every_field(tmp_path):
    original = record()
    write_run(tmp_path / "run", original, pd.DataFrame({"tp": [1]}))
    assert read_record(tmp_path / "run" / "record.json") == original
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["instances.csv", "record.json"]


def test_records_of_another_protocol_are_not_mixed_in(tmp_path):
    write_run(tmp_path / "toy-thin/toy-large/a", record("std-ft", {"epochs": 10}), pd.DataFrame())
    write_run(tmp_path / "toy-thin/toy-large/b", record("zero-shot", {"epochs": 2}), pd.DataFrame())
    found = find_records(tmp_path, "toy-thin", "toy-large", protocol={"train": {"epochs": 10}})
    assert [r.method for r in found] == ["std-ft"]


def test_a_damaged_record_names_the_file_and_the_fix(tmp_path):
    path = tmp_path / "record.json"
    path.write_text("{ not json")
    with pytest.raises(UserError, match=r"record\.json.*re-run"):
        read_record(path)
