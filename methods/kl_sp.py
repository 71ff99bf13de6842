"""KL-SP: Std-ft plus KL(Feat ‖ Feat_ref) on the model's own guiding feature (SHERPA Eq. 4, App. M).

``Feat_ref`` is the same feature from the pre-trained decoder before any update (a frozen copy run on
the same embeddings and boxes). SHERPA fine-tunes its small guide with exactly this method.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from sherpa_bench.harness.registry import METHODS
from sherpa_bench.methods.base import MethodContext, TrainStep
from sherpa_bench.methods.guiding_features import GuidingFeatureTap, channel_kl
from sherpa_bench.methods.reference import frozen_decoder_copy
from sherpa_bench.methods.std_ft import StdFt
from sherpa_bench.models.sam import SamModel


@dataclass(frozen=True)
class KLSettings:
    """lambda_kl: weight of the KL term; layer: decoder attention of the feature (see guiding_features)."""

    lambda_kl: float = 1.0
    layer: str = "layers.1"


@METHODS.register("kl-sp", "Std-ft + KL(Feat || Feat_pretrained) on the decoder's guiding feature (SHERPA Eq. 4)")
class KLSP(StdFt):
    name = "kl-sp"
    paper = "SHERPA Eq. 4 and App. M (KL to the starting point)"
    Settings = KLSettings

    def prepare(self, model: SamModel, context: MethodContext) -> None:
        self.reference = frozen_decoder_copy(model)
        self.tap = GuidingFeatureTap(model, self.settings.layer)
        self.reference_tap = GuidingFeatureTap(self.reference, self.settings.layer)

    def regularizers(self, step: TrainStep) -> dict[str, torch.Tensor]:
        features = torch.cat(self.tap.take())
        with torch.no_grad():
            self.reference.decode_images(step.embeddings, step.prompts)
        reference = torch.cat(self.reference_tap.take())
        return {"kl": self.settings.lambda_kl * channel_kl(features, reference)}

    def finalize(self, model: SamModel) -> SamModel:
        self.tap.remove()
        self.reference_tap.remove()
        return model
