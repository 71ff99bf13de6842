"""Ft-last-k: only the last k layers train (SHERPA App. M, after Wortsman et al.).

Decoder side (default), counting back from the output, so that k = 5 is the whole mask decoder
(= Std-ft): 1 output heads (hypernetwork MLPs, IoU head, upscaling), 2 final token→image attention
and its norm, 3 the last two-way block, 4 the first two-way block, 5 the output tokens.
Encoder side (``side=encoder``): the last k ViT blocks + neck + the whole mask decoder.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from sherpa_bench.harness.errors import ConfigError
from sherpa_bench.harness.registry import METHODS
from sherpa_bench.methods.base import Method
from sherpa_bench.models.sam import SamModel


def decoder_layers(model: SamModel) -> list[list[nn.Module]]:
    """The mask decoder as five layers, the output side first; all five are the whole decoder (SAM 2's
    object-score head and token and its high-resolution projections included)."""
    decoder = model.mask_decoder
    transformer = decoder.transformer

    def present(*names: str) -> list[nn.Module]:
        return [getattr(decoder, name) for name in names if getattr(decoder, name, None) is not None]

    return [
        present("output_hypernetworks_mlps", "iou_prediction_head", "output_upscaling", "pred_obj_score_head",
                "conv_s0", "conv_s1"),
        [transformer.final_attn_token_to_image, transformer.norm_final_attn],
        [transformer.layers[1]],
        [transformer.layers[0]],
        present("iou_token", "mask_tokens", "obj_score_token"),
    ]  # fmt: skip


@dataclass(frozen=True)
class FtLastSettings:
    """k: how many layers from the output train; side: "decoder" or "encoder"."""

    k: int = 4
    side: str = "decoder"


@METHODS.register("ft-last", "only the last k layers train: decoder side (k=5 is Std-ft) or encoder side")
class FtLast(Method):
    name = "ft-last"
    paper = "SHERPA App. M; Wortsman et al. (fine-tune the last layers)"
    Settings = FtLastSettings

    def select_trainable(self, model: SamModel) -> None:
        k, side = self.settings.k, self.settings.side
        model.requires_grad_(False)
        if side == "decoder":
            if not 1 <= k <= 5:
                raise ConfigError(f"ft-last on the decoder side takes k in 1..5, got {k}")
            for layer in decoder_layers(model)[:k]:
                for module in layer:
                    module.requires_grad_(True)
        elif side == "encoder":
            if not hasattr(model.image_encoder, "blocks"):
                raise ConfigError(
                    "ft-last side=encoder addresses SAM's ViT blocks; SAM 2's Hiera encoder is not supported"
                )
            blocks = model.image_encoder.blocks
            if not 1 <= k <= len(blocks):
                raise ConfigError(f"ft-last on the encoder side takes k in 1..{len(blocks)}, got {k}")
            for block in blocks[-k:]:
                block.requires_grad_(True)
            model.image_encoder.neck.requires_grad_(True)
            model.mask_decoder.requires_grad_(True)
        else:
            raise ConfigError(f"ft-last side must be decoder or encoder, got {side!r}")
