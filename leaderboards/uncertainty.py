"""How sure is each Valid number? Bootstrap intervals under a leaderboard, from the per-instance tables.

For every row: the 95 % interval of its Valid score (instances resampled; images for image-level
metrics). For Std-ft against Zero-shot, and every other fine-tuned row against Std-ft (Zero-shot when
there is no Std-ft row): the paired bootstrap of the difference on the same prompts, and the share of
resamples in which the row is not better — a difference whose interval holds 0 is not established
by this data.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sherpa_bench.harness.records import INSTANCES_FILE, RunRecord
from sherpa_bench.leaderboards.table import method_labels
from sherpa_bench.metrics.uncertainty import bootstrap_ci, paired_bootstrap


def _valid_table(record: RunRecord, runs_dir: Path) -> pd.DataFrame | None:
    path = Path(runs_dir) / record.run_id / INSTANCES_FILE
    if not path.exists():
        return None
    valid = next(r for r in record.results if r.role == "valid")
    table = pd.read_csv(path)
    return table[table["dataset"] == valid.dataset].reset_index(drop=True)


def valid_uncertainty(records: list[RunRecord], runs_dir: Path, metric: str, seed: int = 0) -> str:
    """A Markdown section: one line per record (seed runs of a method each get their own line)."""
    tables = {record.run_id: _valid_table(record, runs_dir) for record in records}
    by_method = {r.method: r for r in records}
    lines = [f"**Uncertainty of Valid ({metric}), 95 % bootstrap, 1000 resamples, seed {seed}:**", ""]
    labels = method_labels([(r.method, r.method_settings) for r in records])
    for record, label in zip(records, labels):
        table = tables[record.run_id]
        if table is None or table.empty:
            lines.append(f"- {label}: no per-instance table, no interval")
            continue
        interval = bootstrap_ci(table, metric, seed=seed)
        text = f"- {label}, seed {record.seed}: {interval.estimate:.4f} [{interval.low:.4f}, {interval.high:.4f}]"
        reference = _reference(record.method, by_method)
        other = tables.get(reference.run_id) if reference is not None else None
        if reference is not None and other is not None:
            paired = paired_bootstrap(table, other, metric, seed=seed)
            verdict = "real" if paired.low > 0 or paired.high < 0 else "not established"
            text += (
                f"; vs {reference.method}: {paired.difference:+.4f} [{paired.low:+.4f}, {paired.high:+.4f}], "
                f"not better in {paired.fraction_at_or_below_zero:.1%} of resamples ({verdict})"
            )
        lines.append(text)
    return "\n".join(lines) + "\n"


def _reference(method: str, by_method: dict[str, RunRecord]) -> RunRecord | None:
    """Std-ft is compared with Zero-shot; every other fine-tuned row with Std-ft (else Zero-shot)."""
    if method == "zero-shot":
        return None
    if method == "std-ft":
        return by_method.get("zero-shot")
    return by_method.get("std-ft") or by_method.get("zero-shot")
