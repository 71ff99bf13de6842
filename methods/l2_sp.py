"""L2-SP-k: the mask decoder trains with α‖w − w₀‖² towards the pre-trained weights, α = 10⁻ᵏ.

Li, Grandvalet & Davoine, ICML 2018; SHERPA App. M applies it to the parts that fine-tune
(the mask decoder), k = 2…5. Decoupled weight decay towards zero is switched off on these tensors:
it would pull against the penalty (the penalty is a loss term, so its strength under Adam is that
of the loss).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from sherpa_bench.harness.registry import METHODS
from sherpa_bench.methods.base import MethodContext, TrainStep
from sherpa_bench.methods.std_ft import StdFt
from sherpa_bench.models.sam import SamModel


@dataclass(frozen=True)
class L2SPSettings:
    """k: the penalty weight is α = 10⁻ᵏ."""

    k: int = 3


@METHODS.register("l2-sp", "decoder fine-tuning with α‖w − w0‖² to the pre-trained weights, α = 10^-k (L2-SP)")
class L2SP(StdFt):
    name = "l2-sp"
    paper = "Li, Grandvalet, Davoine, Explicit inductive bias for transfer learning, ICML 2018"
    Settings = L2SPSettings

    @property
    def alpha(self) -> float:
        return 10.0 ** (-self.settings.k)

    def prepare(self, model: SamModel, context: MethodContext) -> None:
        self.select_trainable(model)
        self.anchors = [(p, p.detach().clone()) for p in model.parameters() if p.requires_grad]

    def parameter_groups(self, model: SamModel) -> list[dict[str, Any]]:
        return [{"params": [p for p in model.parameters() if p.requires_grad], "weight_decay": 0.0}]

    def penalty(self) -> torch.Tensor:
        return self.alpha * sum((p - start).pow(2).sum() for p, start in self.anchors)

    def regularizers(self, step: TrainStep) -> dict[str, torch.Tensor]:
        return {"l2-sp": self.penalty()}
