"""Prompts: derived from a sample's instance masks, fixed by a seed, identical for every method."""

from sherpa_bench.prompts.boxes import box_from_mask, boxes_for_sample, jitter_boxes

__all__ = ["box_from_mask", "boxes_for_sample", "jitter_boxes"]
