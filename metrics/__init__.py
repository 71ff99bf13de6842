"""Metrics: each module registers metrics in ``METRICS``.

The evaluator owns one per-instance table (image id, instance id, TP, FP, FN, ...); every metric is a
pure function of that table, so per-instance scores are kept and any aggregate can be recomputed
(or bootstrapped) from the table alone.
"""

from sherpa_bench.harness.registry import METRICS
from sherpa_bench.metrics.overlap import pair_counts

__all__ = ["METRICS", "pair_counts"]
