"""Parameter-efficient fine-tuning: LoRA (through ``peft``), AdaptFormer adapters, BitFit (methods.md §9-10).

LoRA and the adapters add modules to the model in ``prepare`` (in place: the trainer only sees
``requires_grad``) and train those modules and nothing else; at initialisation the added modules
contribute exactly zero, so the model's masks are the pre-trained ones to the bit. ``finalize``
merges LoRA into the weights it adapts, so the evaluated model is a plain SAM again; an AdaptFormer
branch is non-linear and cannot be merged, so it stays in the evaluated model.

Each is combinable with a regularising method through ``a+b`` (``methods/combined.py``), which
prepares these first so that the other method's reference copies and feature taps see the
injected modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from sherpa_bench.harness.errors import ConfigError
from sherpa_bench.harness.registry import METHODS
from sherpa_bench.methods.base import Method, MethodContext
from sherpa_bench.models.sam import SamModel

LORA_PAPER = "Hu et al., LoRA: Low-Rank Adaptation of Large Language Models, ICLR 2022"
ADAPTFORMER_PAPER = (
    "Chen et al., AdaptFormer: Adapting Vision Transformers for Scalable Visual Recognition, NeurIPS 2022"
)

# Module names (regular expressions matched in full by peft) of the projections LoRA adapts.
ENCODER_QKV = r"sam\.image_encoder\.(trunk\.)?blocks\.\d+\.attn\.qkv"  # SAM ViT; SAM 2 Hiera (trunk)
DECODER_PROJECTIONS = r"sam\.(sam_)?mask_decoder\.transformer\..*\.(q_proj|k_proj|v_proj|out_proj)"


class InjectedModules(Method):
    """Base of the methods that add modules in ``prepare``: exactly the added tensors train."""

    def prepare(self, model: SamModel, context: MethodContext) -> None:
        before = {id(p) for p in model.parameters()}
        self.inject(model)
        self.injected = [p for p in model.parameters() if id(p) not in before]

    def inject(self, model: SamModel) -> None:
        raise NotImplementedError

    def select_trainable(self, model: SamModel) -> None:
        model.requires_grad_(False)
        for parameter in self.injected:
            parameter.requires_grad_(True)


@dataclass(frozen=True)
class LoraSettings:
    """rank: r of the update ΔW = B·A; alpha: LoRA's α, the update is scaled by α / r (-1: α = r)."""

    rank: int = 4
    alpha: float = -1.0


class Lora(InjectedModules):
    """LoRA through ``peft``: A Kaiming-uniform, B zero (so ΔW = 0 at step 0), no dropout.

    peft adapts a fused ``qkv`` as one Linear, so encoder LoRA updates q, k and v (InfoSAM's LoRA
    backend), not COBOT's q and v slices only (methods.md §9).
    """

    Settings = LoraSettings
    paper = LORA_PAPER
    targets: ClassVar[str]

    def inject(self, model: SamModel) -> None:
        # peft pulls in transformers (seconds to import): imported here, not when the registry loads
        from peft import LoraConfig
        from peft.tuners.lora import LoraModel

        rank = self.settings.rank
        if rank < 1:
            raise ConfigError(f"{self.name} rank must be >= 1, got {rank}")
        alpha = rank if self.settings.alpha < 0 else self.settings.alpha
        config = LoraConfig(r=rank, lora_alpha=alpha, target_modules=self.targets, lora_dropout=0.0, bias="none")
        self.tuner = LoraModel(model, config, adapter_name="default")
        self.scale = alpha / rank

    def finalize(self, model: SamModel) -> SamModel:
        return self.tuner.merge_and_unload()

    def outputs(self) -> dict[str, Any]:
        return {"lora_scale": self.scale, "lora_targets": self.targets, "merged_into_weights": True}


@METHODS.register("lora-encoder", "LoRA (peft) on every image-encoder qkv projection; merged after training")
class LoraEncoder(Lora):
    name = "lora-encoder"
    targets = ENCODER_QKV


@METHODS.register("lora-decoder", "LoRA (peft) on the mask decoder's q/k/v/out projections; merged after training")
class LoraDecoder(Lora):
    name = "lora-decoder"
    targets = DECODER_PROJECTIONS


class AdaptFormerBranch(nn.Module):
    """AdaptFormer's parallel bottleneck, ``scale · Up(GELU(Down(x)))``, added to an MLP's output.

    Written by hand: no maintained library provides AdaptFormer for ``segment_anything``'s blocks
    (peft has no parallel MLP adapter). Official code (ShoufaChen/AdaptFormer, methods.md §10):
    Down Kaiming-uniform, Up and both biases zero ("lora" init), so the branch adds exactly 0 at
    step 0. Differences, chosen by the issue: GELU instead of the official ReLU, and no dropout
    (official 0.1) so that training and evaluation run the same function.

    The branch is attached with two hooks so that the block's own modules keep their names (its
    state dict only gains ``adapter.*``): a pre-hook on ``branch_input`` keeps the input the branch
    reads, a forward hook on ``mlp`` adds the branch to the MLP's output.
    """

    def __init__(self, dim: int, bottleneck: int, scale: float) -> None:
        super().__init__()
        self.down = nn.Linear(dim, bottleneck)
        self.up = nn.Linear(bottleneck, dim)
        self.scale = scale
        nn.init.zeros_(self.down.bias)
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)
        self._input: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * self.up(F.gelu(self.down(x)))

    def attach(self, mlp: nn.Module, branch_input: nn.Module) -> None:
        branch_input.register_forward_pre_hook(self._keep_input)
        mlp.register_forward_hook(self._add_branch)

    def _keep_input(self, module: nn.Module, inputs: tuple) -> None:
        self._input = inputs[0]

    def _add_branch(self, module: nn.Module, inputs: tuple, output: torch.Tensor) -> torch.Tensor:
        x, self._input = self._input, None
        return output + self(x)


@dataclass(frozen=True)
class AdapterSettings:
    """bottleneck: hidden width of each branch; scale: s, the branch's weight (official 64 and 0.1)."""

    bottleneck: int = 64
    scale: float = 0.1


class Adapter(InjectedModules):
    """One AdaptFormer branch beside the MLP of every block; the branch reads the block's residual
    stream where the MLP's residual connection starts."""

    Settings = AdapterSettings
    paper = ADAPTFORMER_PAPER

    def sites(self, model: SamModel) -> list[tuple[nn.Module, nn.Module]]:
        """(block that holds the MLP, module whose input the branch reads)."""
        raise NotImplementedError

    def inject(self, model: SamModel) -> None:
        if self.settings.bottleneck < 1:
            raise ConfigError(f"{self.name} bottleneck must be >= 1, got {self.settings.bottleneck}")
        for block, branch_input in self.sites(model):
            branch = AdaptFormerBranch(block.mlp.lin1.in_features, self.settings.bottleneck, self.settings.scale)
            block.add_module("adapter", branch.to(model.device))  # a submodule: saved, counted, moved with the model
            branch.attach(block.mlp, branch_input)

    def outputs(self) -> dict[str, Any]:
        return {"adapters_merged": False}  # non-linear: the evaluated model keeps its branches


@METHODS.register("adapter-encoder", "AdaptFormer parallel adapters beside every image-encoder MLP")
class AdapterEncoder(Adapter):
    name = "adapter-encoder"

    def sites(self, model: SamModel) -> list[tuple[nn.Module, nn.Module]]:
        # pre-norm ViT block (x + mlp(norm2(x))): the official branch reads x, the input of norm2
        return [(block, block.norm2) for block in model.image_encoder.blocks]


@METHODS.register("adapter-decoder", "AdaptFormer parallel adapters beside the mask decoder's two token MLPs")
class AdapterDecoder(Adapter):
    name = "adapter-decoder"

    def sites(self, model: SamModel) -> list[tuple[nn.Module, nn.Module]]:
        # post-norm two-way block (queries + mlp(queries)): the branch reads the MLP's own input
        return [(layer, layer.mlp) for layer in model.mask_decoder.transformer.layers]


@METHODS.register("bitfit", "only the bias terms of the image encoder and mask decoder train (BitFit)")
class BitFit(Method):
    """Every bias of the image encoder and the mask decoder (LayerNorm biases included, as BitFit
    trains every bias term); the prompt encoder stays frozen as in every method of the benchmark."""

    name = "bitfit"
    paper = "Ben Zaken, Ravfogel, Goldberg, BitFit: Simple Parameter-efficient Fine-tuning, ACL 2022"

    def select_trainable(self, model: SamModel) -> None:
        model.requires_grad_(False)
        for part in (model.image_encoder, model.mask_decoder):
            for name, parameter in part.named_parameters():
                if name.rsplit(".", 1)[-1] == "bias":
                    parameter.requires_grad_(True)
