"""A frozen copy of a model's prompt encoder and mask decoder, sharing (not copying) its image encoder.

Used where a method compares the training model with its own pre-trained self on the same inputs
(KL-SP's reference features, SHERPA's residual regularisation). Sharing the encoder keeps a vit_h
reference from doubling memory; only the small decoder is duplicated.
"""

from __future__ import annotations

import copy

from segment_anything.modeling import Sam

from sherpa_bench.models.sam import SamModel


def frozen_decoder_copy(model: SamModel) -> SamModel:
    sam = model.sam
    prompt_encoder = copy.deepcopy(sam.prompt_encoder).requires_grad_(False).eval()
    mask_decoder = copy.deepcopy(sam.mask_decoder).requires_grad_(False).eval()
    pixel_mean = sam.pixel_mean.flatten().tolist()
    pixel_std = sam.pixel_std.flatten().tolist()
    reference = Sam(sam.image_encoder, prompt_encoder, mask_decoder, pixel_mean, pixel_std).to(model.device)
    return SamModel(reference, f"{model.name} (frozen decoder copy)")
