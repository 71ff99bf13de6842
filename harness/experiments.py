"""The SHERPA paper's ablation tables as named experiments: ``sherpa-bench experiment table5``.

An experiment is a list of variants (a method and its settings) and the columns of the paper's
table. Each variant is an ordinary run (recorded, cached, reused); the table is rendered in the
paper's shape. "General" is the generalization Average of the leaderboard (mean over the task's
generalization datasets).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from tabulate import tabulate

from sherpa_bench.harness.errors import UserError
from sherpa_bench.harness.records import RunRecord


@dataclass(frozen=True)
class Variant:
    label: str
    method: str
    settings: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Column:
    """header: column title; metric: f1 / miou / dice; role: "valid" or "general"; or an output of
    the method's record (``output``), e.g. SHERPA's held coverage."""

    header: str
    metric: str = "f1"
    role: str = "valid"
    output: str | None = None


@dataclass(frozen=True)
class Experiment:
    name: str
    caption: str
    row_header: str
    variants: tuple[Variant, ...]
    columns: tuple[Column, ...]
    transpose: bool = False


VALID_GENERAL = (Column("Valid"), Column("General", role="general"))


def _sweep(setting: str, values: list[Any], label: Callable[[Any], str] = str) -> tuple[Variant, ...]:
    return tuple(Variant(label(value), "sherpa", {setting: str(value)}) for value in values)


EXPERIMENTS: dict[str, Experiment] = {
    e.name: e
    for e in (
        Experiment(
            "table4",
            "Table 4: FRS ablation — the guide aligned through the FRS subspace or on all channels.",
            "Setting",
            (Variant("w/o FRS", "sherpa", {"frs": "false"}), Variant("with FRS", "sherpa")),
            VALID_GENERAL,
        ),
        Experiment(
            "table5",
            "Table 5: Var Ratio (share of the FRS eigenvalues kept).",
            "Var Ratio",
            _sweep("coverage", [0.0, 0.25, 0.5, 0.75, 1.0], lambda v: f"{v:.2f}"),
            (
                Column("Valid mIoU", "miou"),
                Column("Valid F1"),
                Column("General mIoU", "miou", "general"),
                Column("General F1", role="general"),
            ),
        ),
        Experiment(
            "table6",
            "Table 6: guiding model configuration.",
            "Guiding model / Regularization / Guidance",
            (
                Variant("Small / ✓ / ×", "sherpa", {"mode": "residual"}),
                Variant("Small / ✓ / ✓", "sherpa", {"mode": "both"}),
                Variant("Large / × / ✓", "sherpa", {"guide": "self"}),
                Variant("Small (w/o KL) / × / ✓", "sherpa", {"guide_kl": "0"}),
                Variant("Small / × / ✓", "sherpa"),
            ),
            VALID_GENERAL,
        ),
        Experiment(
            "table17",
            "Table 17: balancing parameter λ.",
            "λ",
            _sweep("lam", [0.1, 1, 3, 10]),
            VALID_GENERAL,
            transpose=True,
        ),
        Experiment(
            "table18",
            "Table 18: number of samples m the FRS subspace is fitted on.",
            "m",
            _sweep("samples", [10, 20, 50, 100, 200]),
            VALID_GENERAL,
        ),
        Experiment(
            "table19",
            "Table 19: number of kept channels k and the eigenvalue share they hold.",
            "k",
            _sweep("k", [0, 1, 2, 3, 4, 5, 56]),
            (Column("Ratio", output="coverage_held"), *VALID_GENERAL),
        ),
        Experiment(
            "table20",
            "Table 20: robustness to the guide's quality (fewer epochs, noisy labels).",
            "Setting",
            (
                Variant("zero-shot", "zero-shot"),
                Variant("std-ft", "std-ft"),
                Variant("2 epoch", "sherpa", {"guide_epochs": "2"}),
                Variant("5 epoch", "sherpa", {"guide_epochs": "5"}),
                Variant("10% label noisy", "sherpa", {"guide_label_noise": "0.1"}),
                Variant("20% label noisy", "sherpa", {"guide_label_noise": "0.2"}),
                Variant("50% label noisy", "sherpa", {"guide_label_noise": "0.5"}),
                Variant("full", "sherpa"),
            ),
            VALID_GENERAL,
        ),
    )
}


def experiment(name: str) -> Experiment:
    if name not in EXPERIMENTS:
        raise UserError(f"unknown experiment {name!r}; experiments: {', '.join(EXPERIMENTS)}")
    return EXPERIMENTS[name]


def cell(record: RunRecord, column: Column) -> float:
    if column.output is not None:
        return float(record.method_outputs.get(column.output, float("nan")))
    if column.role == "valid":
        return float(next(r.metrics[column.metric] for r in record.results if r.role == "valid"))
    scores = [r.metrics[column.metric] for r in record.results if r.role == "generalization"]
    return float(np.mean(scores)) if scores else float("nan")


def render(spec: Experiment, records: list[RunRecord], task: str, model: str) -> str:
    """The experiment's table in the paper's shape, under a caption naming task and model."""
    if spec.transpose:  # variants as columns, as the paper prints λ
        headers = [spec.row_header, *(v.label for v in spec.variants)]
        rows = [[c.header, *(f"{cell(r, c):.4f}" for r in records)] for c in spec.columns]
    else:
        headers = [spec.row_header, *(c.header for c in spec.columns)]
        rows = [[v.label, *(f"{cell(r, c):.4f}" for c in spec.columns)] for v, r in zip(spec.variants, records)]
    caption = (
        f"**{spec.caption}** Fine-tuning task `{task}`, model `{model}`; F1 is SHERPA's instance-level F1; "
        "General = mean over the task's generalization datasets."
    )
    return caption + "\n\n" + tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True) + "\n"
