"""Stable-SAM's training recipe: every image gets a prompt type drawn from a mix.

Choice: one type per image (all its instances share it, so they decode in one call), drawn
uniformly from tight box, noisy box, 1 / 3 / 5 / 10 points and coarse mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sherpa_bench.harness.registry import PROMPTS
from sherpa_bench.prompts.types import PromptProtocol, Prompts

MIX = ("box", "noisy-box", "points-1", "points-3", "points-5", "points-10", "coarse-mask")


@dataclass(frozen=True)
class MixedPrompts(PromptProtocol):
    """A prompt type drawn per image from box, noisy box, 1/3/5/10 points, coarse mask (Stable-SAM)."""

    mix: tuple[str, ...] = MIX

    def make(self, masks: np.ndarray, rng: np.random.Generator) -> Prompts:
        chosen = self.mix[int(rng.integers(len(self.mix)))]
        return PROMPTS.get(chosen).make(masks, rng)


PROMPTS.register("mixed")(MixedPrompts())
