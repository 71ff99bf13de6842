"""Stochastic-ft: a seeded random subset of the mask decoder's layers trains (SHERPA App. M).

The paper "randomly fine-tune[s] a certain percentage of the blocks in the pre-trained network" and
gives neither the blocks nor the percentage. Choices: the blocks are the five decoder layers of
Ft-last (``decoder_layers``: heads, final attention, two-way block 1, two-way block 0, tokens), so
the two baselines share one vocabulary; ``fraction`` of them, rounded half up and at least one,
are drawn without replacement by the run's seed, so each seed is one draw and a sweep over seeds
is a sweep over subsets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sherpa_bench.harness.errors import ConfigError
from sherpa_bench.harness.registry import METHODS
from sherpa_bench.methods.base import Method, MethodContext
from sherpa_bench.methods.ft_last import decoder_layers
from sherpa_bench.models.sam import SamModel

# Mixed into the seed so that this draw is independent of the data order drawn from the same seed.
DRAW_STREAM = 11


@dataclass(frozen=True)
class StochasticFtSettings:
    """fraction: share of the five decoder layers that train (0.5 -> 3 of 5)."""

    fraction: float = 0.5


def drawn_layers(count: int, fraction: float, seed: int) -> list[int]:
    """Indices (0 = the output side, as in ``decoder_layers``) of the layers that train."""
    if not 0.0 < fraction <= 1.0:
        raise ConfigError(f"stochastic-ft fraction must lie in (0, 1], got {fraction}")
    chosen = max(1, math.floor(fraction * count + 0.5))
    rng = np.random.default_rng([seed, DRAW_STREAM])
    return sorted(int(i) for i in rng.choice(count, size=chosen, replace=False))


@METHODS.register("stochastic-ft", "a seeded random subset of the mask decoder's layers trains (SHERPA App. M)")
class StochasticFt(Method):
    name = "stochastic-ft"
    paper = "SHERPA App. M (Stochastic-ft baseline)"
    Settings = StochasticFtSettings

    def prepare(self, model: SamModel, context: MethodContext) -> None:
        self.seed = context.seed
        layers = decoder_layers(model)
        self.layers = drawn_layers(len(layers), self.settings.fraction, self.seed)
        names = {id(module): name for name, module in model.named_modules()}
        self.modules = [names[id(module)] for index in self.layers for module in layers[index]]

    def select_trainable(self, model: SamModel) -> None:
        model.requires_grad_(False)
        layers = decoder_layers(model)
        for index in self.layers:
            for module in layers[index]:
                module.requires_grad_(True)

    def outputs(self) -> dict[str, Any]:
        # 1-based and counted from the output, as Ft-last's k: layer 1 = heads, 5 = tokens
        return {"seed": self.seed, "trained_layers": [i + 1 for i in self.layers], "trained_modules": self.modules}
