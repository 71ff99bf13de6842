"""Specification of the regression check: a leaderboard against a stored baseline, cell by cell."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from paper_table1 import PAPER_DIS5K, make_record

from sherpa_bench.harness.errors import UserError
from sherpa_bench.leaderboards import (
    Leaderboard,
    baseline_from,
    build_table,
    compare,
    format_report,
    load_baseline,
    save_baseline,
)


def paper_board(methods: tuple[str, ...] = ("zero-shot", "std-ft", "ft-last", "ours")) -> Leaderboard:
    return build_table([make_record(method, PAPER_DIS5K[method]) for method in methods], "f1")


def test_baseline_holds_every_cell_unrounded_with_its_tolerances() -> None:
    board = paper_board()
    baseline = baseline_from(board, tolerance=0.01)
    assert (baseline["task"], baseline["model"], baseline["metric"]) == ("dis5k", "sam-vit-h", "f1")
    assert baseline["tolerance"] == {"default": 0.01, "Retention": 1.0}
    assert list(baseline["cells"]) == ["zero-shot", "std-ft", "ft-last", "ours"]
    assert baseline["cells"]["std-ft"]["G1: ADE20K"] == 0.5062
    assert baseline["cells"]["std-ft"]["Retention"] == board.table.loc["std-ft", "Retention"]
    assert baseline["cells"]["zero-shot"]["Retention"] == 100.0
    json.dumps(baseline, allow_nan=False)  # strict JSON: empty cells are left out, not NaN


def test_baseline_leaves_empty_cells_out() -> None:
    records = [
        make_record("zero-shot", PAPER_DIS5K["zero-shot"]),
        make_record("std-ft", PAPER_DIS5K["std-ft"], missing={"FSS": "crashed"}),
    ]
    baseline = baseline_from(build_table(records, "f1"), tolerance=0.01)
    assert "G2: FSS" not in baseline["cells"]["std-ft"]
    assert "G2: FSS" in baseline["cells"]["zero-shot"]


def test_identical_board_has_no_changes() -> None:
    board = paper_board()
    changes = compare(board, baseline_from(board, tolerance=0.01))
    assert changes == []
    assert format_report(changes).strip().splitlines()[-1].startswith("PASSED")


def test_board_better_than_an_edited_baseline_cell_is_one_regression() -> None:
    board = paper_board()
    baseline = baseline_from(board, tolerance=0.01)
    # The baseline remembers std-ft's ADE20K 0.03 higher than it is now: the cell regressed.
    baseline["cells"]["std-ft"]["G1: ADE20K"] += 0.03

    [change] = compare(board, baseline)
    assert (change.method, change.column, change.direction) == ("std-ft", "G1: ADE20K", "regressed")
    assert change.baseline == pytest.approx(0.5362)
    assert change.current == pytest.approx(0.5062)
    assert change.delta == pytest.approx(-0.03)
    assert change.tolerance == 0.01
    assert change.is_failure

    report = format_report([change])
    assert "std-ft / G1: ADE20K: 0.5362 -> 0.5062 (-0.0300, tolerance 0.0100) REGRESSED" in report
    assert report.strip().splitlines()[-1].startswith("FAILED")


def test_baseline_cell_lower_than_now_is_an_improvement_not_a_failure() -> None:
    board = paper_board()
    baseline = baseline_from(board, tolerance=0.01)
    baseline["cells"]["ours"]["Valid"] -= 0.02

    [change] = compare(board, baseline)
    assert (change.method, change.column, change.direction) == ("ours", "Valid", "improved")
    assert change.delta == pytest.approx(0.02)
    assert not change.is_failure
    assert "IMPROVED" in format_report([change])


def test_edit_within_tolerance_is_no_change() -> None:
    board = paper_board()
    baseline = baseline_from(board, tolerance=0.01)
    baseline["cells"]["std-ft"]["G1: ADE20K"] += 0.009
    baseline["cells"]["std-ft"]["Valid"] -= 0.01  # exactly the tolerance: not beyond it
    baseline["cells"]["ours"]["Retention"] += 0.9  # Retention's own tolerance: 1.0 percent point
    assert compare(board, baseline) == []


def test_retention_uses_its_own_tolerance_in_percent_points() -> None:
    board = paper_board()
    baseline = baseline_from(board, tolerance=0.01)
    baseline["cells"]["ft-last"]["Retention"] += 1.5

    [change] = compare(board, baseline)
    assert (change.method, change.column, change.direction) == ("ft-last", "Retention", "regressed")
    assert change.tolerance == 1.0
    assert "(-1.50 points, tolerance 1.00 points) REGRESSED" in format_report([change])


def test_baseline_row_missing_now_is_reported_as_a_failure() -> None:
    baseline = baseline_from(paper_board(), tolerance=0.01)
    board = paper_board(("zero-shot", "std-ft", "ours"))

    [change] = compare(board, baseline)
    assert (change.method, change.direction) == ("ft-last", "missing row")
    assert change.is_failure
    assert "ft-last" in format_report([change]) and "MISSING ROW" in format_report([change])


def test_baseline_column_missing_now_is_reported_as_a_failure() -> None:
    board = paper_board()
    baseline = baseline_from(board, tolerance=0.01)
    for cells in baseline["cells"].values():
        cells["G3: PartImageNet"] = 0.5

    [change] = compare(board, baseline)
    assert (change.column, change.direction) == ("G3: PartImageNet", "missing column")
    assert change.is_failure


def test_cell_empty_now_is_a_missing_cell() -> None:
    baseline = baseline_from(paper_board(), tolerance=0.01)
    records = [make_record("zero-shot", PAPER_DIS5K["zero-shot"])] + [
        make_record(method, PAPER_DIS5K[method], missing={"COCO": "crashed"} if method == "ours" else None)
        for method in ("std-ft", "ft-last", "ours")
    ]
    changes = compare(build_table(records, "f1"), baseline)
    missing = [change for change in changes if change.direction == "missing cell"]
    assert [(change.method, change.column) for change in missing] == [("ours", "G1: COCO")]
    assert all(change.is_failure for change in missing)


def test_new_rows_and_columns_are_notes_not_failures() -> None:
    baseline = baseline_from(paper_board(("zero-shot", "std-ft")), tolerance=0.01)
    del baseline["cells"]["std-ft"]["Valid"]
    del baseline["cells"]["zero-shot"]["Valid"]
    board = paper_board(("zero-shot", "std-ft", "ours"))

    changes = compare(board, baseline)
    assert {(change.method, change.column, change.direction) for change in changes} == {
        ("ours", "", "new row"),
        ("", "Valid", "new column"),
    }
    assert not any(change.is_failure for change in changes)
    assert format_report(changes).strip().splitlines()[-1].startswith("PASSED with notes")


def test_report_lists_failures_first_and_counts_them() -> None:
    board = paper_board()
    baseline = baseline_from(board, tolerance=0.01)
    baseline["cells"]["ours"]["Valid"] -= 0.05  # improved
    baseline["cells"]["std-ft"]["G2: BIG"] += 0.05  # regressed

    lines = format_report(compare(board, baseline)).strip().splitlines()
    assert lines[0].startswith("std-ft / G2: BIG") and lines[0].endswith("REGRESSED")
    assert lines[1].startswith("ours / Valid") and lines[1].endswith("IMPROVED")
    assert lines[2] == "FAILED: 1 regressed, 1 improved."


def test_baseline_of_another_task_is_refused() -> None:
    baseline = baseline_from(paper_board(), tolerance=0.01)
    baseline["task"] = "duts"
    with pytest.raises(UserError, match="duts.*dis5k"):
        compare(paper_board(), baseline)


def test_baseline_file_round_trips_and_a_broken_one_is_a_user_error(tmp_path: Path) -> None:
    board = paper_board()
    path = tmp_path / "baseline.json"
    save_baseline(path, baseline_from(board, tolerance=0.005))
    assert compare(board, load_baseline(path)) == []
    assert load_baseline(path)["tolerance"]["default"] == 0.005

    broken = copy.deepcopy(load_baseline(path))
    del broken["cells"]
    path.write_text(json.dumps(broken))
    with pytest.raises(UserError, match="cells"):
        load_baseline(path)
