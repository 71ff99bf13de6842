"""InfoSAM: distil the pre-trained SAM's encoder-decoder relations into the fine-tuned one (methods.md §8).

Zhang, Yuan et al., ICML 2025 (seeds/001 poster; official code MuyaoYuan/InfoSAM). A relation
module f turns an image embedding z_i and the decoder's single-mask output token z_m into a
relation map r over the h·w positions (where the mask token looks). With matrix-based Rényi α = 2
entropies S on batch Gram matrices (``methods/matrix_entropy.py``):

* L_r = S(r_T) − S(z_i^T, z_m^T, r_T) = I(z_i^T, z_m^T; r_T) − S(z_i^T, z_m^T): compresses the
  teacher's relation (the dropped S(z_i^T, z_m^T) is constant, the teacher being frozen);
  only the relation module receives its gradient;
* L_d = −I(r_T; r_S): the student's relation keeps the teacher's;
* loss = task + λ_r·L_r + λ_d·L_d (official λ_rkd·ib_alpha = 1, λ_rkd·ib_beta = 0.5).

Choices where the paper leaves the harness free:

* **Teacher**: a frozen copy of the whole pre-trained model (its embeddings cached: computed once
  per image). A copy, not ``frozen_decoder_copy``'s shared encoder, because InfoSAM is meant to be
  combined with an encoder PEFT (``infosam+lora-encoder``) that changes the student's encoder.
  Alone, InfoSAM trains the mask decoder (as the official ``--tuning_decoder``) plus the relation
  module, and the two models' image embeddings coincide.
* **Batch**: the official code has one prompt per image; here a step has several instances per
  image, and the Gram matrices have one row per prompt of the step (z_i repeated over an image's
  prompts). One image per step makes the image-embedding Gram matrix rank one, and one prompt makes
  both losses identically 0: a step of one image is refused on the first step.
* The relation module lives on the model while training (so that the trainer optimises it and the
  run record counts it as ``infosam_relation``) and is removed in ``finalize``: the evaluated model
  is a plain SAM.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from sherpa_bench.harness.errors import ConfigError
from sherpa_bench.harness.registry import METHODS
from sherpa_bench.methods.base import MethodContext, TrainStep
from sherpa_bench.methods.matrix_entropy import gram, joint_entropy, mutual_information, renyi2_entropy
from sherpa_bench.methods.std_ft import StdFt
from sherpa_bench.models.sam import SamModel

RELATION = "infosam_relation"


@dataclass(frozen=True)
class InfoSamSettings:
    """lambda_r: weight of L_r (compression); lambda_d: weight of L_d (distillation)."""

    lambda_r: float = 1.0
    lambda_d: float = 0.5


class RelationModule(nn.Module):
    """r = normalise((W_q LN(z_m))·(W_k LN(z_i))ᵀ/√C + LN(z_m)·LN(z_i)ᵀ) over the positions
    (official ``distiller/relation_model.py``); one module serves teacher and student."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm_image = nn.LayerNorm(dim)
        self.norm_token = nn.LayerNorm(dim)
        self.query = nn.Linear(dim, dim)
        self.key = nn.Linear(dim, dim)

    def forward(self, embedding: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """embedding: 1 x C x h x w of one image; tokens: N x C, its N prompts -> N x (h·w)."""
        image = self.norm_image(embedding.flatten(2).transpose(1, 2))  # 1 x hw x C
        token = self.norm_token(tokens)[:, None]  # N x 1 x C
        learned = self.query(token) @ self.key(image).transpose(1, 2) / token.shape[-1] ** 0.5
        direct = token @ image.transpose(1, 2)
        return F.normalize((learned + direct)[:, 0], dim=-1)


class MaskTokenTap:
    """Records, per decoder call, the single-mask output token: row 1 of the decoder transformer's
    token output (SAM's mask0; row 0 is the IoU token)."""

    def __init__(self, model: SamModel) -> None:
        self._tokens: list[torch.Tensor] = []
        self._handle = model.mask_decoder.transformer.register_forward_hook(self._keep)

    def _keep(self, module: nn.Module, inputs: tuple, output: tuple[torch.Tensor, torch.Tensor]) -> None:
        self._tokens.append(output[0][:, 1])

    def take(self) -> list[torch.Tensor]:
        tokens, self._tokens = self._tokens, []
        return tokens

    def remove(self) -> None:
        self._handle.remove()


@METHODS.register(
    "infosam", "decoder fine-tuning + Rényi-2 relation distillation from the frozen pre-trained SAM (InfoSAM)"
)
class InfoSam(StdFt):
    name = "infosam"
    paper = "Zhang, Yuan et al., InfoSAM: Fine-Tuning the Segment Anything Model from An Information-Theoretic Perspective, ICML 2025"
    Settings = InfoSamSettings

    def prepare(self, model: SamModel, context: MethodContext) -> None:
        self.teacher = copy.deepcopy(model).requires_grad_(False).eval()  # before any hook or module is added
        self.teacher_embeddings = context.embedding_cache(self.teacher)
        self.teacher_tap = MaskTokenTap(self.teacher)
        self.student_tap = MaskTokenTap(model)
        model.add_module(RELATION, RelationModule(model.mask_decoder.transformer_dim).to(model.device))
        self.relation: RelationModule = getattr(model, RELATION)
        self._batch_checked = False

    def select_trainable(self, model: SamModel) -> None:
        super().select_trainable(model)
        self.relation.requires_grad_(True)

    def regularizers(self, step: TrainStep) -> dict[str, torch.Tensor]:
        if not self._batch_checked:
            if len(step.samples) < 2:
                raise ConfigError(
                    "infosam compares the samples of a step through batch Gram matrices: with one image per "
                    "step the image-embedding Gram matrix is rank one, and with one prompt both losses are "
                    "identically 0. Run it with --images-per-step 2 or more (the paper uses 4)."
                )
            self._batch_checked = True
        # the taps record per decoder call, and one call may hold several images' prompts
        counts = [out.low_res_logits.shape[0] for out in step.outputs]
        student_tokens = torch.cat(self.student_tap.take()).split(counts)
        with torch.no_grad():
            teacher_images = [e.embedding for e in self.teacher_embeddings.encode(step.samples)]
            self.teacher.decode_images(teacher_images, step.prompts)
        teacher_tokens = torch.cat(self.teacher_tap.take()).split(counts)
        r_teacher = torch.cat([self.relation(e, t) for e, t in zip(teacher_images, teacher_tokens)])
        r_student = torch.cat([self.relation(e, t) for e, t in zip(step.embeddings, student_tokens)])
        z_image = torch.cat([e.expand(len(t), -1, -1, -1) for e, t in zip(teacher_images, teacher_tokens)])
        g_teacher, g_student = gram(r_teacher), gram(r_student)
        compression = renyi2_entropy(g_teacher) - joint_entropy(
            gram(z_image), gram(torch.cat(teacher_tokens)), g_teacher
        )
        distillation = -mutual_information(g_teacher, g_student)
        return {"infosam_r": self.settings.lambda_r * compression, "infosam_d": self.settings.lambda_d * distillation}

    def finalize(self, model: SamModel) -> SamModel:
        self.teacher_tap.remove()
        self.student_tap.remove()
        delattr(model, RELATION)
        return model

    def outputs(self) -> dict[str, Any]:
        return {
            "relation_parameters": sum(p.numel() for p in self.relation.parameters()),
            "gram_rows": "one per prompt of a step (all images of the step, all their sampled instances)",
            "teacher": "frozen copy of the pre-trained model",
        }
