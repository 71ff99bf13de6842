"""Std-ft: train the whole mask decoder with the task loss; encoders stay frozen (SHERPA App. M)."""

from sherpa_bench.harness.registry import METHODS
from sherpa_bench.methods.base import Method
from sherpa_bench.models.sam import SamModel


@METHODS.register("std-ft", "standard fine-tuning of the mask decoder only (SHERPA App. M)")
class StdFt(Method):
    name = "std-ft"
    paper = "SHERPA App. M (standard decoder fine-tuning)"

    def select_trainable(self, model: SamModel) -> None:
        model.requires_grad_(False)
        model.mask_decoder.requires_grad_(True)
