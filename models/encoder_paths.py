"""The image encoder's fast paths: precision, attention kernel and ``torch.compile``.

A run chooses them (``--precision``, ``--attention``, ``--compile``); they change an embedding by
float rounding only, so they are recorded, part of the run's identity and of the embedding cache's
key, and a leaderboard never mixes runs that differ in them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch._dynamo
from torch import nn

from sherpa_bench.harness.errors import ConfigError
from sherpa_bench.models.fast_attention import check_attention

PRECISIONS = ("fp32", "bf16")


def check_precision(precision: str) -> None:
    if precision not in PRECISIONS:
        raise ConfigError(f"encoder precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")


@dataclass(frozen=True)
class EncoderPaths:
    """precision: fp32, or bf16 autocast around the encoder (its output cast back to float32: the
    prompt encoder and mask decoder always run in float32). attention: segment_anything's
    ("reference") or SDPA (``models/fast_attention.py``). compile: the encoder through
    ``torch.compile`` (:func:`run_encoder`)."""

    precision: str = "fp32"
    attention: str = "reference"
    compile: bool = False

    def __post_init__(self) -> None:
        check_precision(self.precision)
        check_attention(self.attention)

    def cache_key(self) -> str:
        # The reference paths keep the key they had before compile existed, so caches stay valid.
        return f"{self.precision}|{self.attention}" + ("|compiled" if self.compile else "")

    def autocast(self, device: torch.device) -> torch.autocast:
        return torch.autocast(device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16")


def _call(encoder: nn.Module, images: torch.Tensor):
    return encoder(images)


# One compiled function for every model: the module is an argument (its parameters are inputs of
# the graph), so a copied model (InfoSAM's teacher, a guide) runs its own encoder, never the one
# compiled first, and further models of the same architecture reuse the graph.
_compiled_call: Callable = torch.compile(_call, dynamic=False)


def run_encoder(encoder: nn.Module, images: torch.Tensor, paths: EncoderPaths):
    """``encoder(images)`` through the fast paths ``paths`` selects (attention is set on the modules
    themselves, ``models/fast_attention.py``).

    Dynamo by default does not guard on forward hooks attached after a module was compiled
    (``torch._dynamo.config.skip_nnmodule_hook_guards``): a hook that a method attaches later (the
    Adapter branch of methods/peft.py) would be silently left out of a graph compiled before it.
    Compiled calls here turn those guards on, so a changed set of hooks recompiles instead
    (tests/test_encoder_paths.py attaches one after the first call).
    """
    with paths.autocast(images.device):
        if not paths.compile:
            return encoder(images)
        with torch._dynamo.config.patch(skip_nnmodule_hook_guards=False):
            return _compiled_call(encoder, images)
