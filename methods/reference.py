"""A frozen copy of a model's prompt encoder and mask decoder, sharing (not copying) everything else.

Used where a method compares the training model with its own pre-trained self on the same inputs
(KL-SP's reference features, SHERPA's residual regularisation). Sharing the encoder keeps a vit_h
reference from doubling memory; only the small decoder is duplicated. Works for every model family
(SAM, MedSAM, SAM 2): the copy is the same wrapper around a shallow copy of the inner model whose
two decoder-side modules are replaced by frozen deep copies.
"""

from __future__ import annotations

import copy

from sherpa_bench.models.sam import SamModel


def frozen_decoder_copy(model: SamModel) -> SamModel:
    inner = copy.copy(model.sam)
    inner._modules = dict(inner._modules)  # a module table of its own: replacing entries leaves the model alone
    for name, module in inner._modules.items():
        if module is model.prompt_encoder or module is model.mask_decoder:
            inner._modules[name] = copy.deepcopy(module).requires_grad_(False).eval()
    return type(model)(inner, f"{model.name} (frozen decoder copy)")
