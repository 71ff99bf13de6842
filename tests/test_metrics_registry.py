"""Every registered metric describes itself and has an entry in docs/METRICS.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from sherpa_bench.harness.registry import METRICS

DOCS = Path(__file__).resolve().parents[1] / "docs" / "METRICS.md"
KINDS = {"matching", "video", "detection", "soft-map", "stability"}


@pytest.mark.parametrize("entry", list(METRICS), ids=lambda entry: entry.name)
def test_metric_describes_itself(entry):
    metric = entry.obj
    assert metric.name == entry.name and entry.description
    assert metric.label and metric.formula and isinstance(metric.higher_is_better, bool)
    kind = getattr(metric, "kind", None)
    if kind is None:  # an instance-table metric
        assert callable(metric.aggregate)
    else:
        assert kind in KINDS and (
            callable(getattr(metric, "score", None)) or callable(getattr(metric, "aggregate", None))
        )


def test_every_registered_metric_has_a_documentation_entry():
    headings = {line[4:].strip().strip("`") for line in DOCS.read_text().splitlines() if line.startswith("### ")}
    assert set(METRICS.names()) <= headings, sorted(set(METRICS.names()) - headings)
