"""The paper's ablation tables are well-formed experiments: every variant is a valid run."""

from __future__ import annotations

import pytest

from sherpa_bench.harness.errors import UserError
from sherpa_bench.harness.experiments import EXPERIMENTS, Column, cell, experiment, render
from sherpa_bench.harness.records import DatasetResult, RunRecord
from sherpa_bench.harness.registry import METHODS


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_every_variant_is_a_valid_and_distinct_run(name):
    """Each row's settings parse into its method, and no two rows are the same run."""
    runs = set()
    for variant in EXPERIMENTS[name].variants:
        method = METHODS.get(variant.method).from_options(variant.settings)
        runs.add((variant.method, tuple(sorted(method.settings_dict().items()))))
    assert len(runs) == len(EXPERIMENTS[name].variants)


def test_paper_sweeps_cover_the_paper_values():
    assert [v.settings["coverage"] for v in EXPERIMENTS["table5"].variants] == ["0.0", "0.25", "0.5", "0.75", "1.0"]
    assert [v.settings["lam"] for v in EXPERIMENTS["table17"].variants] == ["0.1", "1", "3", "10"]
    assert [v.settings["k"] for v in EXPERIMENTS["table19"].variants][-1] == "56"


def record(valid, general, outputs=None):
    results = [DatasetResult("t", "valid", "valid", None, 1, 1, {"f1": valid, "miou": valid / 2}, "h")]
    results += [
        DatasetResult(f"g{i}", "test", "generalization", "Group 1", 1, 1, {"f1": g, "miou": g / 2}, "h")
        for i, g in enumerate(general)
    ]
    return RunRecord("id", "c", "t", "t", "m", "sherpa", {}, 0, {}, {}, "g", 0, 0, 0, {}, results, {}, outputs or {})


def test_cells_read_valid_the_generalization_average_and_method_outputs():
    r = record(0.8, [0.6, 0.7], {"coverage_held": 0.76})
    assert cell(r, Column("Valid")) == 0.8
    assert cell(r, Column("General", role="general")) == pytest.approx(0.65)
    assert cell(r, Column("General mIoU", "miou", "general")) == pytest.approx(0.325)
    assert cell(r, Column("Ratio", output="coverage_held")) == 0.76


def test_lambda_table_is_printed_with_lambda_as_columns_like_the_paper():
    spec = EXPERIMENTS["table17"]
    text = render(spec, [record(0.5 + i / 100, [0.6]) for i in range(4)], "toy-thin", "toy-large")
    header = next(line for line in text.splitlines() if line.startswith("| λ"))
    assert [c.strip() for c in header.strip("|").split("|")] == ["λ", "0.1", "1", "3", "10"]
    assert "| Valid   | 0.5000 | 0.5100 | 0.5200 | 0.5300 |" in text


def test_unknown_experiment_lists_the_known_ones():
    with pytest.raises(UserError, match="table5"):
        experiment("table99")
