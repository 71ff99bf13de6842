"""Models: each module registers loaders in ``MODELS``; every loader returns a :class:`SamModel`."""

from sherpa_bench.harness.registry import MODELS
from sherpa_bench.models.sam import DecoderOutput, ImageFrame, SamModel

__all__ = ["MODELS", "DecoderOutput", "ImageFrame", "SamModel"]
