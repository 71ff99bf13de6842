"""Leaderboards of the paper's named suites: `natural` adds group averages, `biomedical` reports the
natural datasets beside Retention (SHERPA Table 2), never inside it."""

from __future__ import annotations

import re

import pytest

from sherpa_bench.harness.records import DatasetResult
from sherpa_bench.leaderboards import build_table, render_markdown
from tests.test_leaderboard import PAPER_DIS5K, make_record

# SHERPA Table 2 (Lucchi): Valid, VNC-III, MitoEM-R, MitoEM-H, then the printed Retention and Natural.
PAPER_LUCCHI = {
    "zero-shot": ([0.872, 0.934, 0.820, 0.812], 100.0, 0.848),
    "std-ft": ([0.911, 0.904, 0.571, 0.550], 78.9, 0.416),
    "kl-sp": ([0.852, 0.723, 0.523, 0.573], 70.9, 0.514),
}
EM = ("vnc", "mitoem-r", "mitoem-h")
NATURAL = ("ade20k", "cityscapes", "coco", "ecssd", "fss", "big")


def lucchi_record(method: str):
    scores, _, natural = PAPER_LUCCHI[method]
    record = make_record(method, [scores[0]] + [0.0] * 6, finetune="lucchi")
    record.results = [record.results[0]]
    record.results += [DatasetResult(d, "valid", "generalization", "Biomedical", 1, 1, {"f1": v}, "h")
                       for d, v in zip(EM, scores[1:])]  # fmt: skip
    # six natural scores whose mean is the printed Natural column, spread so a wrong mean would show
    spread = [0.1, -0.1, 0.05, -0.05, 0.02, -0.02]
    record.results += [DatasetResult(d, "valid", "side", "Natural", 1, 1, {"f1": natural + e}, "h")
                       for d, e in zip(NATURAL, spread)]  # fmt: skip
    record.config["suite"] = "biomedical"
    return record


def test_biomedical_retention_is_over_the_em_datasets_only_as_in_table_2():
    board = build_table([lucchi_record(m) for m in PAPER_LUCCHI], "f1")
    assert list(board.table.columns) == [
        "Valid",
        "Biomedical: vnc",
        "Biomedical: mitoem-r",
        "Biomedical: mitoem-h",
        "Average",
        "Retention",
        "Natural",
    ]
    for method, (_, retention, natural) in PAPER_LUCCHI.items():
        assert board.table.loc[method, "Retention"] == pytest.approx(retention, abs=0.05)
        assert board.table.loc[method, "Natural"] == pytest.approx(natural, abs=1e-9)


def test_the_natural_column_is_named_in_the_caption_as_outside_the_average():
    text = render_markdown(build_table([lucchi_record(m) for m in PAPER_LUCCHI], "f1"))
    assert "(not Natural: reported beside it" in text and re.search(r"\| +Natural +\|", text)


def test_the_natural_suite_adds_one_average_per_group():
    records = [make_record(m, PAPER_DIS5K[m]) for m in ("zero-shot", "std-ft")]
    for record in records:
        record.config["suite"] = "natural"
    board = build_table(records, "f1")
    assert list(board.table.columns)[7:9] == ["G1 avg", "G2 avg"]
    # Std-ft, Table 1: G1 = ADE20K, Citys, COCO; G2 = ECSSD, FSS, BIG
    assert board.table.loc["std-ft", "G1 avg"] == pytest.approx((0.5062 + 0.4390 + 0.6186) / 3)
    assert board.table.loc["std-ft", "G2 avg"] == pytest.approx((0.9405 + 0.9151 + 0.9222) / 3)
    assert board.table.loc["std-ft", "Average"] == pytest.approx(0.7236, abs=5e-5)


def test_a_table_without_a_suite_has_no_extra_columns():
    board = build_table([make_record(m, PAPER_DIS5K[m]) for m in ("zero-shot", "std-ft")], "f1")
    assert list(board.table.columns)[-2:] == ["Average", "Retention"] and "G1 avg" not in board.table.columns
