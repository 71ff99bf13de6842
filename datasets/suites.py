"""Evaluation suites named as in the SHERPA paper: which generalization datasets a run is scored on.

``natural`` is Table 1's columns (G1 = far from the natural fine-tuning tasks, G2 = near them), with
an average per group. ``biomedical`` is Table 2's: the three EM datasets make Average and Retention,
and the six natural datasets are reported beside them as one "Natural" average that Retention does
not include (the paper's last column: what an EM fine-tuning leaves of SAM's natural-image skill).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Mapping

from sherpa_bench.harness.errors import UnknownSuiteError

NATURAL_GROUPS = {
    "Group 1": ("ade20k", "cityscapes", "coco"),
    "Group 2": ("ecssd", "fss", "big"),
}
BIOMEDICAL_GROUPS = {"Biomedical": ("vnc", "mitoem-r", "mitoem-h")}


@dataclass(frozen=True)
class Suite:
    """groups: scored datasets (Average and Retention are over them); side_groups: reported as one
    average column per group, outside Retention; group_averages: add an average column per group."""

    name: str
    description: str
    groups: Mapping[str, tuple[str, ...]]
    side_groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    group_averages: bool = False


SUITES = {
    suite.name: suite
    for suite in (
        Suite("natural", "SHERPA Table 1: ADE20K, Cityscapes, COCO (G1); ECSSD, FSS-1000, BIG (G2)",
              NATURAL_GROUPS, group_averages=True),
        Suite("biomedical", "SHERPA Table 2: VNC, MitoEM-R, MitoEM-H; the natural datasets' average beside them",
              BIOMEDICAL_GROUPS, side_groups={"Natural": sum(NATURAL_GROUPS.values(), ())}),
    )
}  # fmt: skip


def get_suite(name: str) -> Suite:
    if name not in SUITES:
        near = difflib.get_close_matches(name, list(SUITES), n=2)
        hint = f" Did you mean {', '.join(near)}?" if near else ""
        raise UnknownSuiteError(f"unknown suite {name!r}.{hint} Suites: {', '.join(SUITES)}")
    return SUITES[name]
