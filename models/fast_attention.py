"""SAM's ViT attention through ``torch.nn.functional.scaled_dot_product_attention``.

``segment_anything``'s ``Attention`` materialises the full softmax matrix in float32. The same
maths with SAM's decomposed relative-position bias passed as SDPA's additive mask lets PyTorch pick
a fused kernel (memory-efficient / cuDNN on a GPU). Not bit-identical to the reference (another
summation order); tests/test_fast_attention.py holds the outputs to it within float32 rounding.
SAM 2's Hiera already calls SDPA and is left as it is.
"""

from __future__ import annotations

import types

import torch
from segment_anything.modeling.image_encoder import Attention, get_rel_pos
from torch import nn
from torch.nn import functional as F

from sherpa_bench.harness.errors import ConfigError

ATTENTION_KINDS = ("reference", "sdpa")


def _sdpa_forward(self: Attention, x: torch.Tensor) -> torch.Tensor:
    batch, height, width, _ = x.shape
    qkv = self.qkv(x).reshape(batch, height * width, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4)
    q, k, v = qkv.unbind(0)  # batch x heads x tokens x head_dim
    bias = None
    if self.use_rel_pos:
        rel_h = get_rel_pos(height, height, self.rel_pos_h)
        rel_w = get_rel_pos(width, width, self.rel_pos_w)
        grid_q = q.reshape(batch, self.num_heads, height, width, -1)
        bias_h = torch.einsum("bnhwc,hkc->bnhwk", grid_q, rel_h)
        bias_w = torch.einsum("bnhwc,wkc->bnhwk", grid_q, rel_w)
        bias = (bias_h[..., :, None] + bias_w[..., None, :]).reshape(batch, self.num_heads, height * width, -1)
        bias = bias.to(q.dtype)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=self.scale)
    out = out.view(batch, self.num_heads, height, width, -1).permute(0, 2, 3, 1, 4).reshape(batch, height, width, -1)
    return self.proj(out)


def check_attention(kind: str) -> None:
    if kind not in ATTENTION_KINDS:
        raise ConfigError(f"encoder attention must be one of {', '.join(ATTENTION_KINDS)}, got {kind!r}")


def use_attention(encoder: nn.Module, kind: str) -> int:
    """Switch every SAM ViT attention of ``encoder`` to ``kind``; returns how many were switched."""
    check_attention(kind)
    switched = 0
    for module in encoder.modules():
        if isinstance(module, Attention):
            if kind == "sdpa":
                module.forward = types.MethodType(_sdpa_forward, module)
            else:
                module.__dict__.pop("forward", None)  # back to the class's own forward
            switched += 1
    return switched
