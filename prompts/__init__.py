"""Prompts: derived from a sample's instance masks, fixed by a seed, identical for every method.

Each module registers protocols in ``PROMPTS`` (an instance of :class:`PromptProtocol` per name).
"""

from sherpa_bench.harness.registry import PROMPTS
from sherpa_bench.prompts.boxes import box_from_mask, boxes_for_sample, jitter_boxes
from sherpa_bench.prompts.types import PromptProtocol, Prompts, sample_rng

__all__ = ["PROMPTS", "PromptProtocol", "Prompts", "box_from_mask", "boxes_for_sample", "jitter_boxes", "sample_rng"]
