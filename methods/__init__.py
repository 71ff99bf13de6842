"""Fine-tuning methods: one module each, registered in ``METHODS``; all implement :class:`Method`."""

from sherpa_bench.harness.registry import METHODS
from sherpa_bench.methods.base import Method, MethodContext, TrainStep

__all__ = ["METHODS", "Method", "MethodContext", "TrainStep"]
