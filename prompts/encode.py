"""Prompts in original pixels -> the decoder's keyword arguments in a model's input frame.

The one place where a coarse mask becomes SAM's dense prompt: the mask is taken to the model's input
frame (as training targets are), resized to the prompt encoder's low-resolution mask size, and
mapped to logits ±``MASK_PROMPT_LOGIT`` (choice: SAM expects logits there, as its own previous
low-resolution output; 8 makes the prompt near-certain, sigmoid(8) ≈ 0.9997, without saturating).
"""

from __future__ import annotations

from typing import Any

import torch
from torch.nn import functional as F

from sherpa_bench.models.sam import ImageFrame
from sherpa_bench.prompts.types import Prompts

MASK_PROMPT_LOGIT = 8.0


def prompts_to_input(model, prompts: Prompts, frame: ImageFrame) -> dict[str, Any]:
    """Keyword arguments of ``model.decode`` (boxes / points / masks) for these prompts."""
    decoder_inputs: dict[str, Any] = {}
    if prompts.boxes is not None:
        decoder_inputs["boxes"] = model.boxes_to_input(prompts.boxes, frame)
    if prompts.points is not None:
        labels = torch.as_tensor(prompts.point_labels, dtype=torch.int, device=model.device)
        decoder_inputs["points"] = (model.points_to_input(prompts.points, frame), labels)
    if prompts.masks is not None:
        targets, _ = model.masks_to_input(prompts.masks, frame)
        low_res = F.interpolate(targets[:, None], model.prompt_encoder.mask_input_size, mode="bilinear",
                                align_corners=False, antialias=True)  # fmt: skip
        decoder_inputs["masks"] = (2 * low_res - 1) * MASK_PROMPT_LOGIT
    return decoder_inputs
