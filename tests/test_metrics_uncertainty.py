"""Seeded bootstrap intervals and the paired bootstrap of two methods on the same prompts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sherpa_bench.harness.errors import UserError
from sherpa_bench.harness.registry import METRICS
from sherpa_bench.metrics.matching import matching_table
from sherpa_bench.metrics.uncertainty import bootstrap_ci, bootstrap_distribution, paired_bootstrap


def instance_table(seed: int, instances: int = 120, images: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "dataset": "toy",
            "image_id": [f"img{k % images}" for k in range(instances)],
            "instance_id": np.arange(instances),
            "tp": rng.integers(0, 100, instances),
            "fp": rng.integers(0, 40, instances),
            "fn": rng.integers(0, 40, instances),
        }
    )


def relabelled_draw(table: pd.DataFrame, units: list[pd.DataFrame], draw: np.ndarray) -> pd.DataFrame:
    """The resampled table of one draw, every drawn unit given its own image id (duplicates stay apart)."""
    parts = [units[u].assign(image_id=f"draw{position}") for position, u in enumerate(draw)]
    return pd.concat(parts, ignore_index=True)


@pytest.mark.parametrize("name, unit", [("f1", "instance"), ("miou", "image"), ("dice", "image")])
def test_each_resample_equals_the_metric_aggregate_of_the_resampled_table(name, unit):
    table = instance_table(0)
    metric = METRICS.get(name)
    units = (
        [table.iloc[[k]] for k in range(len(table))]
        if unit == "instance"
        else [group for _, group in table.groupby("image_id", sort=False)]
    )
    draws = np.random.default_rng(7).integers(0, len(units), size=(5, len(units)))
    statistics = bootstrap_distribution(table, name, unit=unit, resamples=5, seed=7)
    for draw, statistic in zip(draws, statistics):
        assert statistic == pytest.approx(metric.aggregate(relabelled_draw(table, units, draw)), abs=1e-12)


def test_intervals_are_seeded_contain_the_estimate_and_narrow_with_more_data():
    small, large = instance_table(1, 60), instance_table(1, 2400, 600)
    first, again, other = (bootstrap_ci(small, "f1", seed=s) for s in (3, 3, 4))
    assert first == again and first != other
    assert first.low < first.estimate < first.high and first.unit == "instance" and first.resamples == 1000
    wide = bootstrap_ci(large, "f1", seed=3)
    assert wide.high - wide.low < (first.high - first.low) / 3


def test_image_level_metrics_resample_images_and_refuse_instances():
    table = instance_table(2)
    assert bootstrap_ci(table, "dice").unit == "image"
    with pytest.raises(UserError, match="unit='image'"):
        bootstrap_ci(table, "dice", unit="instance")


def test_matching_metrics_resample_images_and_the_pooled_ratio_is_refused():
    rng = np.random.default_rng(3)
    images = [(f"i{k}", rng.integers(0, 3, (6, 6)), rng.integers(0, 3, (6, 6))) for k in range(8)]
    table = matching_table(images)
    interval = bootstrap_ci(table, "msa", resamples=200)
    assert interval.unit == "image" and interval.low <= interval.estimate <= interval.high
    with pytest.raises(UserError, match="pooled"):
        bootstrap_ci(table, "pooled-matched-f1@0.5")


def test_the_same_method_twice_differs_by_exactly_nothing():
    table = instance_table(4)
    result = paired_bootstrap(table, table.sample(frac=1.0, random_state=0), "f1")
    assert (result.difference, result.low, result.high, result.fraction_at_or_below_zero) == (0.0, 0.0, 0.0, 1.0)


def test_a_uniformly_better_method_is_significant_even_with_rows_in_another_order():
    baseline = instance_table(5)
    better = baseline.assign(tp=baseline.tp + 10).sample(frac=1.0, random_state=1)
    result = paired_bootstrap(better, baseline, "miou", seed=2)
    assert result.difference == pytest.approx(
        METRICS.get("miou").aggregate(better) - METRICS.get("miou").aggregate(baseline)
    )
    assert 0 < result.low < result.difference < result.high
    assert result.fraction_at_or_below_zero == 0.0
    # pairing removes the spread that the two methods share: the paired interval is far narrower
    unpaired = bootstrap_ci(better, "miou", seed=2).high - bootstrap_ci(better, "miou", seed=2).low
    assert result.high - result.low < unpaired / 3


def test_misaligned_or_duplicated_tables_are_refused():
    table = instance_table(6)
    with pytest.raises(UserError, match="not scored on the same prompts"):
        paired_bootstrap(table, table.iloc[1:], "f1")
    with pytest.raises(UserError, match="repeats rows"):
        paired_bootstrap(table, pd.concat([table, table.iloc[:1]]), "f1")
    with pytest.raises(UserError, match="identity columns"):
        paired_bootstrap(table, table.drop(columns="instance_id"), "f1")
