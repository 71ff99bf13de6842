"""Datasets: each module registers one dataset (or a family) in ``DATASETS``; all yield ``Sample``."""

from sherpa_bench.harness.registry import DATASETS

__all__ = ["DATASETS"]
