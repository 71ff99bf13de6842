"""Regression check: does a leaderboard still match its stored baseline, cell by cell?

The baseline is a JSON file written from a leaderboard that was judged correct::

    {
      "task": "toy-shapes", "model": "toy-large", "metric": "f1",
      "tolerance": {"default": 0.01, "Retention": 1.0},
      "cells": {
        "zero-shot": {"Valid": 0.657, "G1: toy-scenes": 0.8552, ..., "Average": 0.8483, "Retention": 100.0},
        "l2-sp (alpha=0.001)": {...}
      }
    }

``cells`` maps each method label (a leaderboard row) to its column -> value; values are stored
unrounded, and empty cells (no data) are left out. Scores are absolute metric values; Retention is
in percent. ``tolerance`` says how far a cell may move before it counts: ``default`` for every
column, a column's own entry overriding it. The Retention tolerance is therefore in percent points
(1.0 = one point, e.g. 93.4% -> 92.4%), the scores' tolerance in metric units (0.01 = 0.01 F1).

A cell counts as moved only if |current - baseline| > tolerance. Higher is better in every column,
so a drop is "regressed" and a rise "improved". A row or column of the baseline that the leaderboard
no longer has, or a cell that is now empty, is a change too ("missing ..."); rows, columns or cells
the baseline does not know are only reported as notes ("new ..."), since adding a method must not
fail the check.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sherpa_bench.harness.atomic import atomic_write_text
from sherpa_bench.harness.errors import UserError
from sherpa_bench.leaderboards.table import RETENTION, Leaderboard

REGRESSED = "regressed"
IMPROVED = "improved"
MISSING_ROW = "missing row"
MISSING_COLUMN = "missing column"
MISSING_CELL = "missing cell"
NEW_ROW = "new row"
NEW_COLUMN = "new column"
NEW_CELL = "new cell"

FAILURES = frozenset({REGRESSED, MISSING_ROW, MISSING_COLUMN, MISSING_CELL})
# The order of report lines and of the summary: failures first.
_ORDER = (REGRESSED, MISSING_ROW, MISSING_COLUMN, MISSING_CELL, IMPROVED, NEW_ROW, NEW_COLUMN, NEW_CELL)

# Float noise (e.g. 0.7336 - 0.7236 = 0.010000000000000009) must not push a delta equal to the
# tolerance over it.
_EPSILON = 1e-9


@dataclass(frozen=True)
class CellChange:
    """One baseline cell that moved beyond its tolerance, or a row/column/cell that appeared or went.

    method: the row label ("" for a whole column); column: the column ("" for a whole row).
    baseline / current / delta: None where that side has no value.
    """

    method: str
    column: str
    baseline: float | None
    current: float | None
    delta: float | None
    tolerance: float | None
    direction: str

    @property
    def is_failure(self) -> bool:
        """Regressions and vanished data fail the check; improvements and new data are reported only."""
        return self.direction in FAILURES


def baseline_from(board: Leaderboard, tolerance: float, retention_tolerance: float = 1.0) -> dict[str, Any]:
    """The baseline of ``board``: every non-empty cell, unrounded, with the tolerances to check it by."""
    cells = {
        str(label): {str(column): float(value) for column, value in row.items() if not math.isnan(value)}
        for label, row in board.table.iterrows()
    }
    return {
        "task": board.task,
        "model": board.model,
        "metric": board.metric,
        "tolerance": {"default": tolerance, RETENTION: retention_tolerance},
        "cells": cells,
    }


def save_baseline(path: Path, baseline: dict[str, Any]) -> None:
    atomic_write_text(Path(path), json.dumps(baseline, indent=2) + "\n")


def load_baseline(path: Path) -> dict[str, Any]:
    """Read a baseline file, checking it has the fields ``compare`` needs."""
    try:
        baseline = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise UserError(f"cannot read baseline {path}: {error}") from error
    required = ("task", "model", "metric", "tolerance", "cells")
    absent = [key for key in required if key not in baseline]
    if absent or "default" not in baseline["tolerance"]:
        raise UserError(
            f"baseline {path} lacks {', '.join(absent) or 'tolerance.default'}; "
            "write it again from a leaderboard you trust"
        )
    return baseline


def compare(board: Leaderboard, baseline: dict[str, Any]) -> list[CellChange]:
    """Every cell of ``baseline`` that ``board`` moved beyond tolerance or lost, then notes on new data."""
    for key in ("task", "model", "metric"):
        if baseline[key] != getattr(board, key):
            raise UserError(
                f"the baseline is for {key} {baseline[key]!r}, the leaderboard for {getattr(board, key)!r}; "
                "compare a leaderboard with its own baseline"
            )
    tolerances: dict[str, float] = baseline["tolerance"]
    expected: dict[str, dict[str, float]] = baseline["cells"]
    table = board.table
    baseline_columns = list(dict.fromkeys(column for row in expected.values() for column in row))

    def tolerance_of(column: str) -> float:
        return tolerances.get(column, tolerances["default"])

    changes = [
        CellChange("", column, None, None, None, None, MISSING_COLUMN)
        for column in baseline_columns
        if column not in table.columns
    ]
    for label, cells in expected.items():
        if label not in table.index:
            changes.append(CellChange(label, "", None, None, None, None, MISSING_ROW))
            continue
        for column, before in cells.items():
            if column in table.columns:
                change = _compare_cell(label, column, before, float(table.loc[label, column]), tolerance_of(column))
                if change:
                    changes.append(change)

    changes += [
        CellChange(str(label), "", None, None, None, None, NEW_ROW) for label in table.index if label not in expected
    ]
    changes += [
        CellChange("", column, None, None, None, None, NEW_COLUMN)
        for column in table.columns
        if column not in baseline_columns
    ]
    changes += [
        CellChange(str(label), column, None, float(table.loc[label, column]), None, None, NEW_CELL)
        for label in table.index
        if label in expected
        for column in table.columns
        if column in baseline_columns and column not in expected[label] and not math.isnan(table.loc[label, column])
    ]
    return changes


def _compare_cell(label: str, column: str, before: float, now: float, tolerance: float) -> CellChange | None:
    if math.isnan(now):
        return CellChange(label, column, before, None, None, tolerance, MISSING_CELL)
    delta = now - before
    if abs(delta) <= tolerance + _EPSILON:
        return None
    return CellChange(label, column, before, now, delta, tolerance, IMPROVED if delta > 0 else REGRESSED)


def format_report(changes: list[CellChange]) -> str:
    """One line per change (failures first, grouped by kind), then a summary line: passed or failed."""
    ordered = sorted(changes, key=lambda change: _ORDER.index(change.direction))
    lines = [_describe(change) for change in ordered]
    counts = {direction: sum(change.direction == direction for change in changes) for direction in _ORDER}
    moved = ", ".join(f"{count} {direction}" for direction, count in counts.items() if count)
    if any(change.is_failure for change in changes):
        lines.append(f"FAILED: {moved}.")
    elif changes:
        lines.append(f"PASSED with notes: {moved}. Write a new baseline if these changes are intended.")
    else:
        lines.append("PASSED: no cell moved beyond its tolerance.")
    return "\n".join(lines) + "\n"


def _describe(change: CellChange) -> str:
    where = " / ".join(part for part in (change.method, change.column) if part)
    if change.direction in (REGRESSED, IMPROVED):
        return (
            f"{where}: {_value(change.column, change.baseline)} -> {_value(change.column, change.current)} "
            f"({_delta(change.column, change.delta)}, "
            f"tolerance {_delta(change.column, change.tolerance, sign=False)}) "
            f"{change.direction.upper()}"
        )
    if change.direction == MISSING_CELL:
        return f"{where}: {_value(change.column, change.baseline)} -> empty MISSING CELL"
    if change.direction in (MISSING_ROW, MISSING_COLUMN):
        return f"{where}: in the baseline, absent now {change.direction.upper()}"
    if change.direction == NEW_CELL:
        now = _value(change.column, change.current)
        return f"{where}: now {now}, empty in the baseline (note: {change.direction})"
    return f"{where}: not in the baseline (note: {change.direction})"


# Retention shows two decimals (one more than the table) so that a move of 1.04 points visibly
# exceeds a 1.00 tolerance.
def _value(column: str, value: float) -> str:
    return f"{value:.2f}%" if column == RETENTION else f"{value:.4f}"


def _delta(column: str, value: float, sign: bool = True) -> str:
    text = f"{value:{'+' if sign else ''}.{2 if column == RETENTION else 4}f}"
    return f"{text} points" if column == RETENTION else text
