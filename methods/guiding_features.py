"""Guiding features (SHERPA §3.4, Eq. 3): ``Feat = norm(QKᵀ)`` of an attention in the mask decoder.

A *channel* is one (head, query token) pair of the token→image cross-attention; its feature is that
token's attention logits ``q·k/√d_head`` over the h×w image positions, normalised within the channel
(softmax by default). With a box prompt SAM's decoder carries 7 tokens (IoU, 4 mask tokens, 2 box
corners) and 8 heads: 56 channels of 64×64 = 4096 entries, matching the paper's k = 56 ↔ 100 %
(Table 19).

``segment_anything`` does not keep Q and K, so forward hooks on ``q_proj`` and ``k_proj`` capture
their outputs and the logits are recomputed outside the module; the hooks return nothing, so the
model's outputs are unchanged. Shared by SHERPA (guidance, FRS) and KL-SP (Eq. 4 on the large model).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from sherpa_bench.harness.errors import ConfigError
from sherpa_bench.models.sam import SamModel

NORMALISATIONS = ("softmax", "l2", "zscore")


def attention_module(model: SamModel, layer: str) -> nn.Module:
    """The token→image attention named by ``layer``: "layers.0", "layers.1" (default) or "final"."""
    transformer = model.mask_decoder.transformer
    if layer == "final":
        return transformer.final_attn_token_to_image
    prefix, _, index = layer.partition(".")
    if prefix == "layers" and index.isdigit() and int(index) < len(transformer.layers):
        return transformer.layers[int(index)].cross_attn_token_to_image
    raise ConfigError(f"no decoder attention {layer!r}; choose final or layers.0..layers.{len(transformer.layers) - 1}")


def normalise(logits: torch.Tensor, how: str) -> torch.Tensor:
    """Normalise each channel (last axis) of ``logits``."""
    if how == "softmax":
        return logits.softmax(dim=-1)
    if how == "l2":
        return F.normalize(logits, dim=-1)
    if how == "zscore":
        return (logits - logits.mean(-1, keepdim=True)) / logits.std(-1, keepdim=True).clamp_min(1e-6)
    raise ConfigError(f"unknown feature normalisation {how!r}; choose one of {', '.join(NORMALISATIONS)}")


class GuidingFeatureTap:
    """Records the guiding feature of every decoder call of one model.

    Each forward of the chosen attention appends one N x (heads·tokens) x (h·w) tensor (N prompts
    of one image, channels ordered head-major). ``take()`` returns and clears what was recorded.
    """

    def __init__(self, model: SamModel, layer: str = "layers.1", normalisation: str = "softmax") -> None:
        normalise(torch.zeros(1, 2), normalisation)  # refuse an unknown name now, not mid-training
        self.attention = attention_module(model, layer)
        self.normalisation = normalisation
        self._q: torch.Tensor | None = None
        self._features: list[torch.Tensor] = []
        self._handles = [
            self.attention.q_proj.register_forward_hook(self._keep_q),
            self.attention.k_proj.register_forward_hook(self._on_k),
        ]

    def _keep_q(self, module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        self._q = output

    def _on_k(self, module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        heads = self.attention.num_heads
        q = self.attention._separate_heads(self._q, heads)  # B x heads x tokens x c
        k = self.attention._separate_heads(output, heads)  # B x heads x positions x c
        logits = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5
        self._features.append(normalise(logits.flatten(1, 2), self.normalisation))
        self._q = None

    def take(self) -> list[torch.Tensor]:
        features, self._features = self._features, []
        return features

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()


def channel_kl(features: torch.Tensor, reference: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Mean over prompts and channels of KL(features ‖ reference) (Eq. 4), channels as distributions."""
    return (features * (torch.log(features + eps) - torch.log(reference + eps))).sum(-1).mean()
