"""FisherTune: train only the parameter elements a domain-related Fisher score ranks highest (methods.md §7).

Zhao et al., CVPR 2025 (arXiv 2503.17940); no official code exists. What this implementation does,
and where it departs from the paper:

1. **Fisher.** Diagonal empirical Fisher at the pre-trained weights: the mean, over ``images``
   training images (a seeded order), of the squared gradient of each image's task loss
   (``harness/losses.py``, prepared exactly as the trainer does: box prompts, targets through
   ``masks_to_input``, logits through ``upscale_to_input``, mean over all the image's instances).
   **The paper's variational step is dropped**: it fits a Gaussian posterior N(μ, Λ⁻¹) under a
   prior N(θ_pt, τ²I) and ranks by γ(Λ − τ⁻²I); here Λ is the raw squared-gradient mean above
   (γ = 1, no prior term, no learned precision), computed once.
2. **Domain shift.** The paper perturbs intermediate feature statistics; here the per-channel
   mean μ and standard deviation σ of the image embedding (the decoder's input) become
   μ + ε·ξ·σ and σ·exp(ε·ζ) (≈ σ·(1 + ε·ζ), never negative), ξ, ζ ~ N(0, 1) per channel and image
   (seeded), ε_μ = ε_σ = ``shift``;
   the Fisher is estimated again on the shifted embeddings. ``shift=0`` skips this pass.
3. **Score** (DR-FIM as summarised in methods.md §7), per element, with both Fisher maps first
   divided by the mean clean Fisher over all candidates (so the two terms are unitless):
   ``F + exp(-2·shift) · |F - F'| / (min(F, F') + 1e-3)``.
4. **Selection.** The top ``fraction`` of all candidate *elements*, ranked globally (not per layer),
   chosen once before training: no head warm-up, no δ_min → δ_max growth schedule.
5. **Training.** Candidates are the mask decoder's tensors (the benchmark's decoder-only protocol;
   ``encoder=true`` adds the image encoder's). A tensor with a selected element trains; a gradient
   hook zeroes its unselected elements, and weight decay is 0 on these tensors (AdamW's decoupled
   decay would otherwise shrink unselected elements): an unselected element stays bit-identical.

The Fisher is taken of the run's own task loss (``--loss``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

import numpy as np
import torch

from sherpa_bench.datasets.types import Sample
from sherpa_bench.harness.embeddings import EmbeddingCache
from sherpa_bench.harness.errors import ConfigError
from sherpa_bench.harness.losses import task_loss
from sherpa_bench.harness.registry import METHODS
from sherpa_bench.methods.base import Method, MethodContext
from sherpa_bench.models.sam import ImageFrame, SamModel
from sherpa_bench.prompts import boxes_for_sample

SAMPLE_STREAM, SHIFT_STREAM = 13, 17  # mixed into the seed: draws independent of the data order
SCORE_EPSILON = 1e-3
SIMPLIFICATION = (
    "variational step dropped: the precision is the raw diagonal empirical Fisher (mean squared per-image "
    "task-loss gradient at the pre-trained weights, gamma = 1, no prior term), estimated once; domain shift "
    "= perturbed per-channel mean/std of the image embedding; fixed fraction chosen once before training "
    "(no warm-up, no growth schedule), ranked globally"
)


@dataclass(frozen=True)
class FisherTuneSettings:
    """fraction: share of candidate elements that train; images: training images the Fisher is
    estimated on; shift: ε_μ = ε_σ of the simulated domain shift (0: plain Fisher); encoder: also
    rank the image encoder's elements."""

    fraction: float = 0.05
    images: int = 16
    shift: float = 0.1
    encoder: bool = False


def diagonal_fisher(parameters: dict[str, torch.Tensor], losses: Iterable[torch.Tensor]) -> dict[str, torch.Tensor]:
    """Mean over ``losses`` of each element's squared gradient (fp32); unused tensors get zeros."""
    names = list(parameters)
    squares = {name: torch.zeros_like(parameters[name], dtype=torch.float32) for name in names}
    count = 0
    for loss in losses:
        gradients = torch.autograd.grad(loss, [parameters[n] for n in names], allow_unused=True)
        for name, gradient in zip(names, gradients):
            if gradient is not None:
                squares[name] += gradient.float() ** 2
        count += 1
    return {name: square / max(count, 1) for name, square in squares.items()}


def domain_related_fisher(
    clean: dict[str, torch.Tensor], shifted: dict[str, torch.Tensor], shift: float
) -> dict[str, torch.Tensor]:
    """The documented score (module docstring, point 3) of every element."""
    total = sum(f.sum() for f in clean.values())
    count = sum(f.numel() for f in clean.values())
    mean = float(total) / count if count else 0.0
    unit = mean if mean > 0 else 1.0
    weight = math.exp(-2 * shift)
    scores = {}
    for name, value in clean.items():
        f, f_shifted = value / unit, shifted[name] / unit
        scores[name] = f + weight * (f - f_shifted).abs() / (torch.minimum(f, f_shifted) + SCORE_EPSILON)
    return scores


def top_fraction(scores: dict[str, torch.Tensor], fraction: float) -> dict[str, torch.Tensor]:
    """Boolean masks of the round(fraction · N) highest-scoring of all N elements (at least one)."""
    flat = torch.cat([s.flatten() for s in scores.values()])
    chosen = torch.zeros_like(flat, dtype=torch.bool)
    chosen[torch.topk(flat, max(1, round(fraction * flat.numel()))).indices] = True
    masks, start = {}, 0
    for name, score in scores.items():
        masks[name] = chosen[start : start + score.numel()].view_as(score)
        start += score.numel()
    return masks


def shift_statistics(embedding: torch.Tensor, shift: float, generator: torch.Generator) -> torch.Tensor:
    """Perturb the per-channel mean and std (over positions) of a 1 x C x h x w embedding."""
    mean = embedding.mean(dim=(-2, -1), keepdim=True)
    std = embedding.std(dim=(-2, -1), keepdim=True).clamp_min(1e-6)
    noise_mean, noise_std = torch.randn((2, *mean.shape), generator=generator).to(embedding.device)
    return (embedding - mean) / std * (std * torch.exp(shift * noise_std)) + mean + shift * noise_mean * std


def image_task_loss(
    model: SamModel, embedding: torch.Tensor, frame: ImageFrame, sample: Sample, loss: str
) -> torch.Tensor:
    """The task loss of all instances of one image, prepared as the trainer prepares it."""
    boxes = model.boxes_to_input(boxes_for_sample(sample.masks), frame)
    out = model.decode(embedding, boxes=boxes)
    targets, valid = model.masks_to_input(sample.masks, frame)
    return task_loss(model.upscale_to_input(out.low_res_logits)[:, 0], targets, valid, loss)


@METHODS.register("fisher-tune", "train only the top-Fisher elements of the mask decoder (FisherTune, simplified)")
class FisherTune(Method):
    name = "fisher-tune"
    paper = (
        "Zhao et al., FisherTune: Fisher-Guided Robust Tuning of Vision Foundation Models for Domain "
        "Generalized Segmentation, CVPR 2025"
    )
    Settings = FisherTuneSettings

    def prepare(self, model: SamModel, context: MethodContext) -> None:
        settings = self.settings
        if not 0.0 < settings.fraction <= 1.0:
            raise ConfigError(f"fisher-tune fraction must lie in (0, 1], got {settings.fraction}")
        if settings.images < 1 or settings.shift < 0:
            raise ConfigError(f"fisher-tune needs images >= 1 and shift >= 0, got {settings.images}, {settings.shift}")
        prefixes = ("sam.mask_decoder.", "sam.image_encoder.") if settings.encoder else ("sam.mask_decoder.",)
        candidates = {name: p for name, p in model.named_parameters() if name.startswith(prefixes)}
        model.requires_grad_(False)
        for parameter in candidates.values():
            parameter.requires_grad_(True)
        samples = self._fisher_samples(context)
        cache = EmbeddingCache(model)
        self.loss = context.train_config.loss
        clean = diagonal_fisher(candidates, self._losses(model, cache, samples, None))
        shifted = clean
        if settings.shift > 0:
            seed = int(np.random.default_rng([context.seed, SHIFT_STREAM]).integers(2**31))
            generator = torch.Generator().manual_seed(seed)
            shifted = diagonal_fisher(candidates, self._losses(model, cache, samples, generator))
        masks = top_fraction(domain_related_fisher(clean, shifted, settings.shift), settings.fraction)
        self.masks = {name: mask for name, mask in masks.items() if mask.any()}
        self.selected = {name: candidates[name] for name in self.masks}
        self.candidate_elements = sum(p.numel() for p in candidates.values())
        self.fisher_images = len(samples)
        self._hooks = [
            # Tensor.mul of the mask: the hook returns mask * grad, zero on unselected elements
            self.selected[name].register_hook(mask.to(self.selected[name].dtype).mul)
            for name, mask in self.masks.items()
            if not mask.all()
        ]

    def _fisher_samples(self, context: MethodContext) -> list[Sample]:
        order = np.random.default_rng([context.seed, SAMPLE_STREAM]).permutation(len(context.train_data))
        samples = []
        for index in order:
            sample = context.train_data[int(index)]
            if sample.masks.shape[0] > 0:
                samples.append(sample)
            if len(samples) == self.settings.images:
                break
        if not samples:
            raise ConfigError("the training split has no instance to estimate the Fisher information on")
        return samples

    def _losses(
        self, model: SamModel, cache: EmbeddingCache, samples: list[Sample], generator: torch.Generator | None
    ) -> Iterator[torch.Tensor]:
        for sample in samples:
            # encoder elements need the encoder in the graph; otherwise the cached embedding serves both passes
            (image,) = cache.encode([sample], use_cache=not self.settings.encoder)
            embedding = image.embedding
            if generator is not None:
                embedding = shift_statistics(embedding, self.settings.shift, generator)
            yield image_task_loss(model, embedding, image.frame, sample, self.loss)

    def select_trainable(self, model: SamModel) -> None:
        model.requires_grad_(False)
        for parameter in self.selected.values():
            parameter.requires_grad_(True)

    def parameter_groups(self, model: SamModel) -> list[dict[str, Any]]:
        return [{"params": [p for p in model.parameters() if p.requires_grad], "weight_decay": 0.0}]

    def finalize(self, model: SamModel) -> SamModel:
        for hook in self._hooks:
            hook.remove()
        return model

    def outputs(self) -> dict[str, Any]:
        counts = {name: int(mask.sum()) for name, mask in self.masks.items()}
        return {
            "selected_elements": sum(counts.values()),
            "candidate_elements": self.candidate_elements,
            "selected_by_tensor": counts,
            "fisher_images": self.fisher_images,
            "score": f"F + exp(-2*shift)*|F - F'|/(min(F, F') + {SCORE_EPSILON}), F in units of the mean clean Fisher",
            "simplification": SIMPLIFICATION,
        }
