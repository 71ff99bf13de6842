"""The paper's Table 1 for one fine-tuning task and one model, built from run records.

One row per method (seeds of the same method and settings averaged), columns in the paper's order:
Valid (the task's own validation split), the generalization datasets grouped by their group label,
Average (mean over the generalization datasets) and Retention (Average relative to Zero-shot = 100%).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from tabulate import tabulate

from sherpa_bench.datasets.suites import get_suite
from sherpa_bench.harness.errors import UserError
from sherpa_bench.harness.records import RunRecord

ZERO_SHOT = "zero-shot"
VALID = "Valid"
AVERAGE = "Average"
RETENTION = "Retention"

# Displayed precision; also the precision at which best / second best are decided, so that two
# cells that read the same in the table always carry the same mark.
SCORE_DECIMALS = 4
RETENTION_DECIMALS = 1


@dataclass
class Footnote:
    """Why some cells of one row are empty or cover less data than the others."""

    method: str
    columns: list[str]
    text: str


@dataclass
class Leaderboard:
    """A leaderboard of one fine-tuning task and one model.

    table: index = method label (Zero-shot first), columns = Valid, the generalization columns,
    Average, Retention. Scores are raw metric values, Retention is in percent; NaN = no data.
    groups: group label -> its generalization datasets, groups in sorted order, datasets in the
    order of the Zero-shot record.
    seeds: method label -> number of runs averaged into the row.
    footnotes: rows with missing data, in row order; their cells are marked when rendered.
    notes: facts about the whole table (e.g. a dataset no run has a result for).
    """

    task: str
    model: str
    metric: str
    table: pd.DataFrame
    groups: dict[str, list[str]]
    seeds: dict[str, int]
    side_groups: dict[str, list[str]] = field(default_factory=dict)
    footnotes: list[Footnote] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Gaps:
    """What one row lacks: column -> why it is empty, column -> which seeds it averages."""

    empty: dict[str, str] = field(default_factory=dict)
    partial: dict[str, str] = field(default_factory=dict)
    shared: int = 0  # generalization datasets that both the row and Zero-shot have


def build_table(records: Sequence[RunRecord], metric: str) -> Leaderboard:
    """Build the leaderboard of ``metric`` from the run records of one task and one model."""
    task, model = _single_task_and_model(records)
    _require_metric(records, metric)
    rows = _rows_by_label(records, task)
    valid_dataset = _valid_dataset(records, task)
    groups = _groups_of_role(list(rows.values()), "generalization")
    side_groups = _groups_of_role(list(rows.values()), "side")
    suite = records[0].config.get("suite")
    group_average_columns = (
        {f"{_short_group(group)} avg": group for group in groups} if suite and get_suite(suite).group_averages else {}
    )
    dataset_of_column = {
        column_name(group, dataset): dataset for group, datasets in groups.items() for dataset in datasets
    }
    generalization = list(dataset_of_column)

    table = pd.DataFrame(
        index=pd.Index(list(rows), name="method"),
        columns=[VALID, *generalization, *group_average_columns, AVERAGE, RETENTION, *side_groups],
        dtype=float,
    )
    gaps: dict[str, _Gaps] = {}
    for label, seeds in rows.items():
        gaps[label] = _Gaps()
        for column, dataset in {VALID: valid_dataset, **dataset_of_column}.items():
            value, count, why = _mean_score(seeds, dataset, metric)
            table.loc[label, column] = value
            name = VALID if column == VALID else dataset
            if count == 0:
                gaps[label].empty[column] = f"no {name} result ({why})"
            elif count < len(seeds):
                gaps[label].partial[column] = f"{name} averaged over {count} of {len(seeds)} seeds ({why})"

    zero_shot = table.loc[ZERO_SHOT, generalization]
    for label in rows:
        row = table.loc[label, generalization]
        # Average and Retention compare like with like: only datasets both this row and Zero-shot have.
        shared = [column for column in generalization if pd.notna(row[column]) and pd.notna(zero_shot[column])]
        if shared:
            average = float(row[shared].mean())
            reference = float(zero_shot[shared].mean())
            table.loc[label, AVERAGE] = average
            # Ratio first, so that Zero-shot against itself is exactly 100.
            table.loc[label, RETENTION] = math.nan if reference == 0 else 100 * (average / reference)
        gaps[label].shared = len(shared)
        for column, group in group_average_columns.items():
            scores = table.loc[label, [column_name(group, dataset) for dataset in groups[group]]].dropna()
            table.loc[label, column] = float(scores.mean()) if len(scores) else math.nan
        for group, datasets in side_groups.items():
            scores = [_mean_score(rows[label], dataset, metric)[0] for dataset in datasets]
            present = [value for value in scores if not math.isnan(value)]
            table.loc[label, group] = sum(present) / len(present) if present else math.nan

    return Leaderboard(
        task=task,
        model=model,
        metric=metric,
        table=table,
        groups=groups,
        side_groups=side_groups,
        seeds={label: len(seeds) for label, seeds in rows.items()},
        footnotes=[footnote for label in rows if (footnote := _footnote(label, gaps[label]))],
        notes=_unplaced_missing(records, valid_dataset, set(dataset_of_column.values())),
    )


def render_markdown(board: Leaderboard) -> str:
    """The leaderboard as Markdown in the paper's shape: caption, table, footnotes."""
    marks = _best_marks(board)
    footnote_markers: dict[tuple[str, str], str] = {}
    for number, footnote in enumerate(board.footnotes, start=1):
        for column in footnote.columns:
            footnote_markers[(footnote.method, column)] = f"<sup>{number}</sup>"

    body = []
    for label, values in board.table.iterrows():
        cells = [_escape(str(label))]
        for column, value in values.items():
            text = _format(column, value)
            if (label, column) in marks:
                text = marks[(label, column)].format(text)
            cells.append(text + footnote_markers.get((label, column), ""))
        body.append(cells)
    header = ["Method", *board.table.columns]
    table = tabulate(
        body,
        headers=header,
        tablefmt="github",
        disable_numparse=True,  # cells are already formatted; keep "93.4%" and marks as written
        colalign=["left", *["right"] * len(board.table.columns)],
    )

    lines = [_caption(board), "", table]
    below = [f"<sup>{number}</sup> {footnote.text}" for number, footnote in enumerate(board.footnotes, start=1)]
    if any(count > 1 for count in board.seeds.values()):
        counts = ", ".join(f"{_escape(label)} n={count}" for label, count in board.seeds.items())
        below.append(f"Runs averaged per row (seeds): {counts}.")
    below.extend(board.notes)
    if below:
        lines.append("")
        lines.extend(f"{line}  " for line in below)  # two trailing spaces: a Markdown line break
    return "\n".join(lines).rstrip() + "\n"


def column_name(group: str, dataset: str) -> str:
    """The table column of a generalization dataset, e.g. ``G1: toy-scenes`` for group "Group 1"."""
    return f"{_short_group(group)}: {dataset}"


def _short_group(group: str) -> str:
    # Markdown has one header row, so the paper's group header row is folded into each column name.
    found = re.fullmatch(r"Group\s*(\S+)", group)
    return f"G{found.group(1)}" if found else group


def _single_task_and_model(records: Sequence[RunRecord]) -> tuple[str, str]:
    if not records:
        raise UserError("no run records to build a leaderboard from; run `sherpa-bench run` first")
    tasks = sorted({record.finetune for record in records})
    models = sorted({record.model for record in records})
    if len(tasks) > 1:
        raise UserError(f"a leaderboard covers one fine-tuning task, these records mix {', '.join(tasks)}")
    if len(models) > 1:
        raise UserError(f"a leaderboard covers one model, these records mix {', '.join(models)}")
    return tasks[0], models[0]


def _require_metric(records: Sequence[RunRecord], metric: str) -> None:
    measured = {name for record in records for result in record.results for name in result.metrics}
    if metric not in measured:
        measured_names = ", ".join(sorted(measured)) or "none"
        raise UserError(f"no run record measured metric {metric!r}; the records have {measured_names}")


def _rows_by_label(records: Sequence[RunRecord], task: str) -> dict[str, list[RunRecord]]:
    """Label -> the records averaged into that row; Zero-shot first, then first appearance."""
    by_key: dict[tuple[str, str], list[RunRecord]] = {}
    for record in records:
        by_key.setdefault((record.method, _settings_key(record.method_settings)), []).append(record)

    zero_shot_keys = [key for key in by_key if key[0] == ZERO_SHOT]
    if not zero_shot_keys:
        raise UserError(
            f"no zero-shot run for task {task!r}; Retention is relative to it: "
            f"run `sherpa-bench run --method zero-shot --finetune {task}` first"
        )
    if len(zero_shot_keys) > 1:
        raise UserError(
            f"zero-shot runs of task {task!r} have {len(zero_shot_keys)} different method settings; "
            "Retention needs one reference: delete all but one configuration"
        )
    # One zero-shot configuration, so its label is plain "zero-shot" (suffixes only tell siblings apart).
    ordered = zero_shot_keys + [key for key in by_key if key[0] != ZERO_SHOT]
    labels = method_labels([(key[0], by_key[key][0].method_settings) for key in ordered])
    return {label: by_key[key] for label, key in zip(labels, ordered)}


def _settings_key(settings: dict[str, Any]) -> str:
    return json.dumps(settings, sort_keys=True, default=str)


def method_labels(rows: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """``method`` alone, or ``method (key=value, ...)`` naming only the settings that tell rows apart."""
    settings_of: dict[str, list[dict[str, Any]]] = {}
    for method, settings in rows:
        settings_of.setdefault(method, []).append(settings)
    labels = []
    for method, settings in rows:
        siblings = settings_of[method]
        keys = sorted({key for other in siblings for key in other})
        differing = [key for key in keys if len({_settings_key({key: other.get(key)}) for other in siblings}) > 1]
        shown = [f"{key}={settings[key]}" for key in differing if key in settings]
        labels.append(f"{method} ({', '.join(shown)})" if shown else method)
    return labels


def _valid_dataset(records: Sequence[RunRecord], task: str) -> str:
    """The dataset name of the Valid column; the task's own name if no record has a valid result."""
    return next(
        (result.dataset for record in records for result in record.results if result.role == "valid"),
        task,
    )


def _groups_of_role(rows: list[list[RunRecord]], role: str) -> dict[str, list[str]]:
    """Group label -> datasets of ``role`` ("generalization" or "side"), groups in sorted order.

    Datasets come in the order of the Zero-shot record (``rows`` starts with it), then any that only
    later rows have.
    """
    group_of: dict[str, str] = {}
    for seeds in rows:
        for record in seeds:
            for result in record.results:
                if result.role == role:
                    group_of.setdefault(result.dataset, result.group or "ungrouped")
    return {
        group: [dataset for dataset, dataset_group in group_of.items() if dataset_group == group]
        for group in sorted(set(group_of.values()))
    }


def _score(record: RunRecord, dataset: str, metric: str) -> float | str:
    """The record's ``metric`` on ``dataset``, or the reason it has none."""
    if dataset in record.missing:
        return record.missing[dataset]
    result = record.result(dataset)
    if result is None:
        return "not in the run record"
    if metric not in result.metrics:
        return f"metric {metric!r} not measured"
    return float(result.metrics[metric])


def _mean_score(seeds: list[RunRecord], dataset: str, metric: str) -> tuple[float, int, str]:
    """Mean over the seeds that have a score, how many had one, and why the others did not."""
    scores = [_score(record, dataset, metric) for record in seeds]
    values = [score for score in scores if isinstance(score, float)]
    why = "; ".join(
        f"seed {record.seed}: {score}" if len(seeds) > 1 else score
        for record, score in zip(seeds, scores)
        if isinstance(score, str)
    )
    return (sum(values) / len(values) if values else math.nan), len(values), why


def _footnote(label: str, gaps: _Gaps) -> Footnote | None:
    """The row's footnote, or None when the row has every score from every seed."""
    parts = [*gaps.empty.values(), *gaps.partial.values()]
    if not parts:
        return None
    columns = [*gaps.empty, *gaps.partial]
    if any(column != VALID for column in gaps.empty):
        columns += [AVERAGE, RETENTION]
        if label == ZERO_SHOT:
            parts.append("a dataset without a zero-shot result is left out of every row's Average and Retention")
        else:
            shared = f"the {gaps.shared} generalization datasets it shares with zero-shot"
            parts.append(f"Average and Retention cover {shared}")
    return Footnote(method=label, columns=columns, text=f"{label}: " + "; ".join(parts) + ".")


def _unplaced_missing(records: Sequence[RunRecord], valid_dataset: str, placed: set[str]) -> list[str]:
    """Notes for datasets a record lists as missing that no record has a result for, so no column."""
    reasons: dict[str, list[str]] = {}
    for record in records:
        for dataset, why in record.missing.items():
            if dataset != valid_dataset and dataset not in placed:
                reasons.setdefault(dataset, []).append(f"{record.method}: {why}")
    return [f"{dataset} has no result in any run ({'; '.join(whys)})." for dataset, whys in reasons.items()]


def _best_marks(board: Leaderboard) -> dict[tuple[str, str], str]:
    """(label, column) -> format string: bold for the best value, underline for the second best.

    Zero-shot is the reference, not a contender. Ties (at displayed precision) share the mark.
    """
    contenders = board.table.drop(index=ZERO_SHOT)
    marks = {}
    for column in contenders.columns:
        # Rank what the reader sees: the values as formatted, not the raw floats.
        shown = contenders[column].dropna().map(lambda value, column=column: float(_format(column, value).rstrip("%")))
        ranked = sorted(set(shown), reverse=True)
        for template, value in zip(["**{}**", "<u>{}</u>"], ranked):
            for label in shown.index[shown == value]:
                marks[(label, column)] = template
    return marks


def _format(column: str, value: float) -> str:
    if pd.isna(value):
        return ""
    if column == RETENTION:
        return f"{value:.{RETENTION_DECIMALS}f}%"
    return f"{value:.{SCORE_DECIMALS}f}"


def _caption(board: Leaderboard) -> str:
    groups = "; ".join(
        f"{_short_group(group)} = {group} ({', '.join(datasets)})" for group, datasets in board.groups.items()
    )
    return (
        f"**{board.metric} on fine-tuning task `{board.task}`, model `{board.model}`.** "
        f"Valid: the task's validation split. Generalization groups: {groups}. "
        "Average: mean over all generalization datasets"
        + (
            f" (not {', '.join(board.side_groups)}: reported beside it as an average of its datasets)"
            if board.side_groups
            else ""
        )
        + ". "
        "Retention: generalization Average relative to Zero-shot = 100% "
        "(Retention = Average / Zero-shot Average × 100). "
        "**Bold**: best, <u>underlined</u>: second best among the fine-tuned rows."
    )


def _escape(text: str) -> str:
    # A "|" inside a method label (from its settings) would split the Markdown cell.
    return text.replace("|", "\\|")
