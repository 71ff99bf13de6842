"""Leaderboards: the paper's Table 1 built from run records, and a regression check against a baseline.

``build_table`` turns the run records of one fine-tuning task and one model into a
:class:`Leaderboard` (Valid, generalization groups, Average, Retention); ``render_markdown`` prints
it in the paper's shape; ``baseline_from`` / ``compare`` / ``format_report`` check a leaderboard
against a stored JSON baseline, cell by cell, within tolerances.
"""

from sherpa_bench.leaderboards.check import (
    CellChange,
    baseline_from,
    compare,
    format_report,
    load_baseline,
    save_baseline,
)
from sherpa_bench.leaderboards.table import Footnote, Leaderboard, build_table, column_name, render_markdown

__all__ = [
    "CellChange",
    "Footnote",
    "Leaderboard",
    "baseline_from",
    "build_table",
    "column_name",
    "compare",
    "format_report",
    "load_baseline",
    "render_markdown",
    "save_baseline",
]
