"""SHERPA: a small fine-tuned SAM guides a large SAM through a Fisher-ratio subspace (paper §3, App. C, H).

Stages, all inside ``prepare`` (the trainer never knows):

1. **Guide.** The small model is fine-tuned on the task by a run of its own, mask decoder only, with
   the task loss + λ_KL·KL(Feat_small ‖ Feat_small_ref) (Eq. 4): the registered ``kl-sp`` method.
   Being a run, it is recorded and reused by every later SHERPA run with the same guide settings.
2. **FRS.** Guiding features of the fine-tuned guide on m training prompts -> eigenbasis ``u`` of the
   centred channel Gram matrix, k by coverage (``methods/frs.py``); ``u`` is saved with the run.
3. **Large stage** (``regularizers``): the large decoder trains with
   ``λ·Σ_i |u_iᵀ Feat_large − u_iᵀ Feat_small|`` + task loss (Eq. 5-6), the guide frozen and run on
   the same images with the same boxes.

Every ablation of the paper is a setting (``--set key=value``); see docs/SHERPA.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from sherpa_bench.harness.errors import ConfigError
from sherpa_bench.harness.registry import METHODS, MODELS
from sherpa_bench.methods.base import MethodContext, TrainStep
from sherpa_bench.methods.frs import Subspace, fisher_ratio, fit_subspace
from sherpa_bench.methods.guiding_features import GuidingFeatureTap
from sherpa_bench.methods.reference import frozen_decoder_copy
from sherpa_bench.methods.std_ft import StdFt
from sherpa_bench.models.sam import SamModel
from sherpa_bench.prompts import boxes_for_sample

MODES = ("guide", "residual", "both")
REDUCTIONS = ("sum", "mean")


@dataclass(frozen=True)
class SherpaSettings:
    """Settings of SHERPA, each an ablation of the paper.

    lam: λ of Eq. 6 (Table 17). coverage: "Var Ratio", share of the eigenvalues kept (Table 5).
    k: number of channels kept, overriding coverage when >= 0 (Table 19). frs: False aligns all
    channels directly, without projection (Table 4). samples: m, prompts the FRS is fitted on
    (Table 18). guide: "auto" (the model's registered small partner), "self" (the large model itself)
    or a model name (Table 6). guide_kl: λ_KL of the guide's Eq. 4; 0 trains the guide without KL
    (Table 6). guide_epochs: epochs of the guide, -1 = as the large stage (Table 20).
    guide_label_noise: share of the guide's training instances with corrupted masks (Table 20).
    mode: "guide" (Eq. 5), "residual" (regularise the complement of the subspace towards the
    pre-trained large model instead, Table 6) or "both". reduction: "sum" over the d positions
    of each kept direction (Eq. 5 as written, an L1 distance) or "mean". layer, normalisation: the
    guiding feature.
    """

    lam: float = 3.0
    coverage: float = 0.75
    k: int = -1
    frs: bool = True
    samples: int = 50
    guide: str = "auto"
    guide_kl: float = 1.0
    guide_epochs: int = -1
    guide_label_noise: float = 0.0
    mode: str = "guide"
    reduction: str = "sum"
    layer: str = "layers.1"
    normalisation: str = "softmax"


@METHODS.register("sherpa", "a small fine-tuned SAM guides the large one through a Fisher-ratio subspace (SHERPA)")
class Sherpa(StdFt):
    name = "sherpa"
    paper = "SHERPA: fine-tuning SAM with task-relevant guidance (seeds/000, §3)"
    Settings = SherpaSettings

    def prepare(self, model: SamModel, context: MethodContext) -> None:
        settings = self.settings
        if settings.mode not in MODES:
            raise ConfigError(f"sherpa mode must be one of {', '.join(MODES)}, got {settings.mode!r}")
        if settings.reduction not in REDUCTIONS:
            raise ConfigError(f"sherpa reduction must be one of {', '.join(REDUCTIONS)}, got {settings.reduction!r}")
        self.guide_name = self._guide_name(context.model_name)
        guide_method, guide_settings = ("kl-sp", {"lambda_kl": settings.guide_kl, "layer": settings.layer})
        if settings.guide_kl == 0:
            guide_method, guide_settings = "std-ft", {}
        epochs = None if settings.guide_epochs < 0 else settings.guide_epochs
        trained = context.train_model(self.guide_name, guide_method, guide_settings, epochs, settings.guide_label_noise)
        self.guide_run = trained.run_id
        self.guide = trained.model.requires_grad_(False).eval()
        if self.guide.image_size != model.image_size:
            raise ConfigError(
                f"guide {self.guide_name} takes {self.guide.image_size} px images, {model.name} takes "
                f"{model.image_size} px: the boxes of a step must mean the same pixels for both"
            )
        self.guide_embeddings = context.embedding_cache(self.guide)
        self.guide_tap = GuidingFeatureTap(self.guide, settings.layer, settings.normalisation)
        self.large_tap = GuidingFeatureTap(model, settings.layer, settings.normalisation)

        features, foreground = self._guide_features(context)
        self.subspace = self._subspace(features)
        self.analysis = self._analysis(features, foreground)
        context.work_dir.mkdir(parents=True, exist_ok=True)
        torch.save(
            {"basis": self.subspace.basis, "eigenvalues": self.subspace.eigenvalues}, context.work_dir / "frs.pt"
        )
        self.spectrum_plot = _plot_spectrum(self.subspace, context.work_dir / "spectrum.png") if settings.frs else None
        if settings.mode != "guide":
            self.reference = frozen_decoder_copy(model)
            self.reference_tap = GuidingFeatureTap(self.reference, settings.layer, settings.normalisation)

    def _guide_name(self, large: str) -> str:
        if self.settings.guide == "self":
            return large
        if self.settings.guide != "auto":
            MODELS.entry(self.settings.guide)
            return self.settings.guide
        partner = getattr(MODELS.get(large), "default_guide", None)
        if partner is None:
            raise ConfigError(f"{large} has no registered small guide; name one with --set guide=MODEL")
        return partner

    @torch.no_grad()
    def _guide_features(self, context: MethodContext) -> tuple[torch.Tensor, torch.Tensor]:
        """Guide features of the first ``samples`` training prompts (images in a seeded order), and
        which feature positions lie inside each prompt's ground-truth mask."""
        order = np.random.default_rng([context.seed, 7]).permutation(len(context.train_data))
        features, foreground, count = [], [], 0
        for index in order:
            sample = context.train_data[int(index)]
            if sample.masks.shape[0] == 0:
                continue
            image = self.guide_embeddings.encode([sample])[0]
            boxes = self.guide.boxes_to_input(boxes_for_sample(sample.masks), image.frame)
            self.guide.decode(image.embedding, boxes=boxes)
            features.append(self.guide_tap.take()[0])
            targets, _ = self.guide.masks_to_input(sample.masks, image.frame)
            grid = image.embedding.shape[-2:]
            foreground.append(F.adaptive_avg_pool2d(targets[:, None], grid).flatten(1) > 0.5)
            count += len(boxes)
            if count >= self.settings.samples:
                break
        if not features:
            raise ConfigError("the training split has no instance to fit the FRS subspace on")
        return torch.cat(features)[: self.settings.samples], torch.cat(foreground)[: self.settings.samples]

    def _subspace(self, features: torch.Tensor) -> Subspace:
        if not self.settings.frs:
            channels = features.shape[1]
            return Subspace(torch.eye(channels), torch.full((channels,), float("nan")), channels, 1.0)
        k = None if self.settings.k < 0 else self.settings.k
        return fit_subspace(features, coverage=self.settings.coverage, k=k)

    def _analysis(self, features: torch.Tensor, foreground: torch.Tensor) -> dict[str, Any]:
        """Table 16: mean Fisher ratio (fg vs bg positions) of the kept subspace vs its complement."""
        full = fit_subspace(features, k=features.shape[1])
        k = self.subspace.k
        ratios = fisher_ratio(torch.einsum("smd,mk->skd", features, full.basis), foreground)
        high = float(ratios[:k].mean()) if k > 0 else float("nan")
        low = float(ratios[k:].mean()) if k < len(ratios) else float("nan")
        return {"fisher_ratio_high": high, "fisher_ratio_low": low, "gap": high / low if low else float("nan")}

    def regularizers(self, step: TrainStep) -> dict[str, torch.Tensor]:
        large = torch.cat(self.large_tap.take())
        terms = {}
        basis = self.subspace.basis.to(large.device)
        if self.settings.mode in ("guide", "both"):
            with torch.no_grad():
                guide_images = [e.embedding for e in self.guide_embeddings.encode(step.samples)]
                self.guide.decode_images(guide_images, step.prompts)
                small = torch.cat(self.guide_tap.take())
            terms["guiding"] = self.settings.lam * guiding_loss(large, small, basis, self.settings.reduction)
        if self.settings.mode in ("residual", "both"):
            with torch.no_grad():
                self.reference.decode_images(step.embeddings, step.prompts)
                reference = torch.cat(self.reference_tap.take())
            complement = torch.eye(basis.shape[0], device=basis.device) - basis @ basis.T
            terms["residual"] = self.settings.lam * guiding_loss(large, reference, complement, self.settings.reduction)
        return terms

    def finalize(self, model: SamModel) -> SamModel:
        for tap in (self.large_tap, self.guide_tap, getattr(self, "reference_tap", None)):
            if tap is not None:
                tap.remove()
        return model

    def outputs(self) -> dict[str, Any]:
        return {
            "guide_model": self.guide_name,
            "guide_run": self.guide_run,
            "k": self.subspace.k,
            "coverage_held": self.subspace.coverage,
            "channels": int(self.subspace.basis.shape[0]),
            "eigenvalues": [round(float(v), 8) for v in self.subspace.eigenvalues],
            **self.analysis,
            "projection_file": "method/frs.pt",
            "spectrum_plot": self.spectrum_plot,
        }


def guiding_loss(
    features: torch.Tensor, target: torch.Tensor, projection: torch.Tensor, reduction: str = "sum"
) -> torch.Tensor:
    """Eq. 5: Σ over kept directions of the L1 distance |uᵀF − uᵀF_target|, mean over prompts.

    features, target: N x m x d; projection: m x k (k = 0 gives 0). ``reduction`` "sum" adds the d
    positions of each direction (an L1 distance, as written), "mean" averages them.
    """
    difference = torch.einsum("nmd,mk->nkd", features - target, projection).abs()
    per_direction = difference.sum(dim=2) if reduction == "sum" else difference.mean(dim=2)
    return per_direction.sum(dim=1).mean()


def _plot_spectrum(subspace: Subspace, path) -> str:
    """Eigenvalue spectrum with the chosen k marked; returns the file name (relative to the run)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    values = subspace.eigenvalues.numpy()
    figure, axis = plt.subplots(figsize=(5, 3))
    axis.bar(
        np.arange(1, len(values) + 1),
        values,
        color=["#c0392b" if i < subspace.k else "#95a5a6" for i in range(len(values))],
    )
    axis.set_yscale("log")
    axis.set_xlabel("channel direction (eigenvalue rank)")
    axis.set_ylabel("eigenvalue")
    axis.set_title(f"FRS spectrum: k = {subspace.k} holds {subspace.coverage:.0%}")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return f"method/{path.name}"
