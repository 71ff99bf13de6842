"""Coarse-mask prompts: the ground truth degraded along its boundary (SHERPA Table 8, Stable-SAM's
"Gaussian noise in the boundary regions").

Degradation (a choice, documented in docs/PROMPTS.md): with d the signed distance to the boundary
(pixels, positive inside) and n a Gaussian random field (white noise smoothed by a Gaussian of
``smoothing`` px, scaled to unit standard deviation), the coarse mask is ``d + a·n > 0`` with
``a = max(1, noise · sqrt(area))``: the boundary moves by a smooth random displacement whose size
grows with the object, so small objects keep their shape and large ones get visibly wrong borders.
A degradation that erases the object falls back to the ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from sherpa_bench.harness.registry import PROMPTS
from sherpa_bench.prompts.types import PromptProtocol, Prompts


def degrade(mask: np.ndarray, rng: np.random.Generator, noise: float, smoothing: float) -> np.ndarray:
    """One coarse version of a bool H x W mask (see the module docstring)."""
    signed = ndimage.distance_transform_edt(mask) - ndimage.distance_transform_edt(~mask)
    field = ndimage.gaussian_filter(rng.standard_normal(mask.shape), smoothing)
    field /= max(float(field.std()), 1e-12)
    amplitude = max(1.0, noise * float(np.sqrt(mask.sum())))
    coarse = signed + amplitude * field > 0
    return coarse if coarse.any() else mask.copy()


@dataclass(frozen=True)
class CoarseMask(PromptProtocol):
    """The ground truth degraded along its boundary (SHERPA Table 8's coarse-mask prompt)."""

    noise: float = 0.1
    smoothing: float = 4.0

    def make(self, masks: np.ndarray, rng: np.random.Generator) -> Prompts:
        return Prompts(masks=np.stack([degrade(m, rng, self.noise, self.smoothing) for m in masks]))


PROMPTS.register("coarse-mask")(CoarseMask())
