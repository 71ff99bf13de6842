"""WiSE-ft: θ_α = (1 − α)·θ₀ + α·θ_ft, per tensor of the mask decoder (Wortsman et al., CVPR 2022).

The fine-tuned θ_ft is the Std-ft run of the same task and model, obtained as a run of its own:
every α reuses it, so a sweep over α costs one fine-tune and one evaluation per α.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from sherpa_bench.harness.errors import ConfigError
from sherpa_bench.harness.registry import METHODS
from sherpa_bench.methods.base import Method, MethodContext
from sherpa_bench.models.sam import SamModel


@dataclass(frozen=True)
class WiseSettings:
    """alpha: 0 is the pre-trained model, 1 the fine-tuned one."""

    alpha: float = 0.5


@METHODS.register("wise-ft", "interpolate pre-trained and Std-ft decoder weights with alpha (WiSE-ft)")
class WiseFt(Method):
    name = "wise-ft"
    paper = "Wortsman et al., Robust fine-tuning of zero-shot models, CVPR 2022"
    Settings = WiseSettings

    def prepare(self, model: SamModel, context: MethodContext) -> None:
        if not 0.0 <= self.settings.alpha <= 1.0:
            raise ConfigError(f"wise-ft alpha must lie in [0, 1], got {self.settings.alpha}")
        fine_tuned = context.train_model(context.model_name, "std-ft", {}, None, 0.0)
        self.base_run = fine_tuned.run_id
        self.fine_tuned = {k: v.detach().clone() for k, v in fine_tuned.model.mask_decoder.state_dict().items()}

    @torch.no_grad()
    def finalize(self, model: SamModel) -> SamModel:
        alpha = self.settings.alpha
        start = model.mask_decoder.state_dict()
        mixed = {k: (1 - alpha) * start[k] + alpha * self.fine_tuned[k].to(start[k].device) for k in start}
        model.mask_decoder.load_state_dict(mixed)
        return model

    def outputs(self) -> dict[str, Any]:
        return {"fine_tuned_run": self.base_run}
