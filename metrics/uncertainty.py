"""Bootstrap uncertainty of dataset-level metrics, from the per-instance (or per-image) table alone.

Every table metric that the bootstrap accepts is a mean of unit scores, which it exposes:
``per_instance(table)`` (f1, miou, biou: mean over instances) or ``per_image(table)`` (dice, the
matching metrics: mean over images). The bootstrap checks at run time that those scores average to the
metric's own ``aggregate(table)``, so a resampled statistic equals ``aggregate`` of the resampled table
(tested), and draws all resamples at once as an index matrix (resamples x units).

Units:
* ``instance`` (default for instance metrics): instances are drawn with replacement.
* ``image``: whole images are drawn with replacement, keeping all their instances (a cluster bootstrap:
  the statistic of a resample is the sum of the drawn images' instance scores over their instance count).
  The only unit for image-level metrics.

A pooled ratio such as ``pooled-matched-f1@0.5`` is not a mean of unit scores and is refused.

``bootstrap_ci``: 95 % percentile interval (numpy's linear quantiles) of one method's metric.
``paired_bootstrap``: two methods scored on the same prompts; rows are aligned on their identity
columns (dataset, image_id, instance_id, threshold: those present), the same resample indices are
applied to both, and the result is the difference A − B, its interval and the fraction of resampled
differences <= 0 (a one-sided bootstrap p-value for "A is better").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
import pandas as pd

from sherpa_bench.harness.errors import UserError
from sherpa_bench.harness.registry import METRICS

ROW_KEYS = ("dataset", "image_id", "instance_id", "threshold")
IMAGE_KEYS = ("dataset", "image_id")
ELEMENTS_PER_BLOCK = 1 << 24  # resample indices held at once (128 MiB of int64)


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float
    level: float
    resamples: int
    unit: str


@dataclass(frozen=True)
class PairedDifference:
    """difference = metric(A) − metric(B); fraction_at_or_below_zero over the resampled differences."""

    difference: float
    low: float
    high: float
    fraction_at_or_below_zero: float
    level: float
    resamples: int
    unit: str


def _metric(metric: str | Any) -> Any:
    return METRICS.get(metric) if isinstance(metric, str) else metric


def _default_unit(metric: Any) -> str:
    return "instance" if hasattr(metric, "per_instance") else "image"


def unit_sums(table: pd.DataFrame, metric: Any, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """Score sum and instance count of every unit (float64, int64), in order of first appearance."""
    if unit not in ("instance", "image"):
        raise UserError(f"bootstrap unit {unit!r}: use 'instance' or 'image'")
    if hasattr(metric, "per_instance"):
        scores = np.asarray(metric.per_instance(table), dtype=np.float64)
        if unit == "instance":
            sums, counts = scores, np.ones(scores.size, dtype=np.int64)
        else:
            keys = [column for column in IMAGE_KEYS if column in table.columns]
            images = table.groupby(keys, sort=False).ngroup().to_numpy()
            sums, counts = np.bincount(images, weights=scores), np.bincount(images)
    elif hasattr(metric, "per_image"):
        if unit == "instance":
            raise UserError(f"metric {metric.name!r} is a mean over images: bootstrap it with unit='image'")
        sums = np.asarray(metric.per_image(table), dtype=np.float64)
        counts = np.ones(sums.size, dtype=np.int64)
    else:
        raise UserError(
            f"metric {metric.name!r} is not a mean of per-instance or per-image scores (a pooled ratio?), "
            "so this bootstrap cannot resample it"
        )
    if not np.isclose(sums.sum() / counts.sum(), metric.aggregate(table), rtol=1e-9, atol=1e-12):
        raise UserError(f"metric {metric.name!r}: its {unit} scores do not average to its aggregate")
    return sums, counts


def _resample_blocks(units: int, resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Seeded index matrices (block x units) that together hold ``resamples`` rows."""
    rng = np.random.default_rng(seed)
    block = max(1, ELEMENTS_PER_BLOCK // max(1, units))
    for start in range(0, resamples, block):
        yield rng.integers(0, units, size=(min(block, resamples - start), units))


def _interval(values: np.ndarray, level: float) -> tuple[float, float]:
    if not 0 < level < 1:
        raise UserError(f"confidence level {level} must lie strictly between 0 and 1")
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def bootstrap_distribution(
    table: pd.DataFrame, metric: str | Any, *, unit: str | None = None, resamples: int = 1000, seed: int = 0
) -> np.ndarray:
    """The metric on ``resamples`` seeded resamples of the table's units (float64, resamples).

    Row b equals ``metric.aggregate`` of the table made of the units drawn in row b of the index matrix
    ``default_rng(seed).integers(0, units, (resamples, units))``; the same seed and unit count give the
    same matrix, which is what pairs two methods.
    """
    metric = _metric(metric)
    if len(table) == 0:
        raise UserError("cannot bootstrap an empty table")
    sums, counts = unit_sums(table, metric, unit or _default_unit(metric))
    return np.concatenate(
        [
            sums[indices].sum(axis=1) / counts[indices].sum(axis=1)
            for indices in _resample_blocks(sums.size, resamples, seed)
        ]
    )


def bootstrap_ci(
    table: pd.DataFrame,
    metric: str | Any,
    *,
    unit: str | None = None,
    resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Percentile bootstrap interval of ``metric`` (a registered name or metric object) on ``table``."""
    metric = _metric(metric)
    unit = unit or _default_unit(metric)
    statistics = bootstrap_distribution(table, metric, unit=unit, resamples=resamples, seed=seed)
    return Interval(float(metric.aggregate(table)), *_interval(statistics, level), level, resamples, unit)


def align_tables(table_a: pd.DataFrame, table_b: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Table B reordered to table A's rows by their identity columns; refuses tables that differ in rows."""
    keys = [column for column in ROW_KEYS if column in table_a.columns]
    if "image_id" not in keys or any(column not in table_b.columns for column in keys):
        raise UserError(
            f"paired tables need the same identity columns including image_id; A has {keys}, "
            f"B has {[column for column in ROW_KEYS if column in table_b.columns]}"
        )
    for name, table in (("A", table_a), ("B", table_b)):
        duplicated = table.duplicated(keys)
        if duplicated.any():
            raise UserError(f"table {name} repeats rows {table.loc[duplicated, keys].head(3).to_dict('records')}")
    index_a = pd.MultiIndex.from_frame(table_a[keys].astype(str))
    index_b = pd.MultiIndex.from_frame(table_b[keys].astype(str))
    only_a, only_b = index_a.difference(index_b), index_b.difference(index_a)
    if len(only_a) or len(only_b):
        raise UserError(
            f"the two tables are not scored on the same prompts (aligned on {', '.join(keys)}): "
            f"{len(only_a)} rows only in A (e.g. {list(only_a[:3])}), {len(only_b)} only in B (e.g. {list(only_b[:3])})"
        )
    order = index_b.get_indexer(index_a)
    return table_a.reset_index(drop=True), table_b.iloc[order].reset_index(drop=True)


def paired_bootstrap(
    table_a: pd.DataFrame,
    table_b: pd.DataFrame,
    metric: str | Any,
    *,
    unit: str | None = None,
    resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> PairedDifference:
    """Bootstrap of metric(A) − metric(B) for two methods evaluated on the same prompts."""
    metric = _metric(metric)
    unit = unit or _default_unit(metric)
    table_a, table_b = align_tables(table_a, table_b)
    differences = bootstrap_distribution(
        table_a, metric, unit=unit, resamples=resamples, seed=seed
    ) - bootstrap_distribution(table_b, metric, unit=unit, resamples=resamples, seed=seed)
    return PairedDifference(
        float(metric.aggregate(table_a) - metric.aggregate(table_b)),
        *_interval(differences, level),
        float(np.mean(differences <= 0)),
        level,
        resamples,
        unit,
    )
