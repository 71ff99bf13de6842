"""The decoder's keyword arguments (``boxes`` / ``points`` / ``masks``, from ``prompts/encode.py``)
of several images merged into one decoder call, so that a training step decodes all its images at
once (``SamModel.decode_images``) instead of one call per image."""

from __future__ import annotations

from typing import Any

import torch


def prompt_count(decoder_inputs: dict[str, Any]) -> int:
    """How many prompts (decoder outputs) ``decoder_inputs`` holds."""
    first = next(iter(decoder_inputs.values()))
    return (first[0] if isinstance(first, tuple) else first).shape[0]


def stack_inputs(per_image: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The decoder inputs of several images as one (prompts concatenated in image order), or None
    when they cannot share a decoder call: other kinds of prompt, or another number of points."""
    kinds = set(per_image[0])
    if not kinds or any(set(inputs) != kinds for inputs in per_image):
        return None
    stacked: dict[str, Any] = {}
    for kind in kinds:
        values = [inputs[kind] for inputs in per_image]
        if kind == "points":
            if len({coords.shape[1:] for coords, _ in values}) > 1:
                return None
            stacked[kind] = (torch.cat([c for c, _ in values]), torch.cat([labels for _, labels in values]))
        else:
            stacked[kind] = torch.cat(values)
    return stacked


def per_prompt(images: torch.Tensor, counts: list[int]) -> torch.Tensor:
    """B x ... per-image tensors -> sum(counts) x ... rows, image i repeated counts[i] times."""
    return torch.cat([image[None].expand(count, *image.shape) for image, count in zip(images, counts)])
