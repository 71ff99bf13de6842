"""Combinations of registered methods, named ``a+b`` (``--method sherpa+lora-encoder``).

The registry holds single methods; :func:`resolve_method` reads a ``+`` name as a combination of
them, so every pairing (SHERPA, KL-SP, InfoSAM, ... with LoRA, adapters, BitFit) exists without a
file of its own. A combination:

* prepares the parts that inject modules (``methods/peft.py``) first, the others after in the
  order named, so that reference copies and feature taps of the others see the injected modules
  (initialised to change nothing);
* trains the union of the parts' trainable sets;
* optimises each tensor in the group of the last part that lists it: injecting parts come first
  with default groups, a later part's group carries its own options (L2-SP's weight decay 0);
* adds every part's loss terms; a term name used by two parts is prefixed ``part:``;
* finalises in reverse order (taps are removed before LoRA is merged into the weights);
* records every part's outputs (prefixed on a clash) and settings (by part).

``--set key=value`` goes to the one part that declares ``key``; a key declared by several parts is
refused unless written ``part.key``.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from typing import Any, Sequence

import torch

from sherpa_bench.harness.errors import ConfigError
from sherpa_bench.harness.registry import METHODS
from sherpa_bench.methods.base import Method, MethodContext, TrainStep
from sherpa_bench.methods.peft import InjectedModules
from sherpa_bench.models.sam import SamModel

SEPARATOR = "+"


class Combined(Method):
    """Several methods trained as one (see the module docstring for how each stage combines)."""

    def __init__(self, parts: Sequence[Method]) -> None:
        if len(parts) < 2:
            raise ConfigError("a combination needs at least two methods")
        self.parts = sorted(parts, key=lambda part: not isinstance(part, InjectedModules))  # stable
        self.name = SEPARATOR.join(part.name for part in parts)
        self.paper = " + ".join(part.paper for part in parts if part.paper)
        self.settings = {part.name: part.settings for part in parts}

    def settings_dict(self) -> dict[str, Any]:
        return {part.name: part.settings_dict() for part in self.parts}

    def prepare(self, model: SamModel, context: MethodContext) -> None:
        for part in self.parts:
            part.prepare(model, context)

    def select_trainable(self, model: SamModel) -> None:
        self._own: list[list[torch.nn.Parameter]] = []
        for part in self.parts:
            part.select_trainable(model)
            self._own.append([p for p in model.parameters() if p.requires_grad])
        _train_only(model, [p for own in self._own for p in own])

    def parameter_groups(self, model: SamModel) -> list[dict[str, Any]]:
        union = [p for p in model.parameters() if p.requires_grad]
        groups_by_part = []
        for part, own in zip(self.parts, self._own):
            _train_only(model, own)  # each part names its groups as if it trained alone
            groups_by_part.append(part.parameter_groups(model))
        _train_only(model, union)
        claimed: set[int] = set()
        groups = []
        for part_groups in reversed(groups_by_part):
            for group in part_groups:
                params = [p for p in group["params"] if id(p) not in claimed]
                claimed.update(id(p) for p in params)
                if params:
                    groups.append({**group, "params": params})
        return groups

    def regularizers(self, step: TrainStep) -> dict[str, torch.Tensor]:
        return _merge([(part.name, part.regularizers(step)) for part in self.parts])

    def finalize(self, model: SamModel) -> SamModel:
        for part in reversed(self.parts):
            model = part.finalize(model)
        return model

    def outputs(self) -> dict[str, Any]:
        return _merge([(part.name, part.outputs()) for part in self.parts])


@dataclass(frozen=True)
class Combination:
    """A ``+`` name resolved to its registered parts; builds the :class:`Combined` like a method class."""

    parts: tuple[type[Method], ...]

    @property
    def name(self) -> str:
        return SEPARATOR.join(part.name for part in self.parts)

    def from_options(self, options: dict[str, str]) -> Combined:
        routed: dict[str, dict[str, str]] = {part.name: {} for part in self.parts}
        for key, value in options.items():
            part_name, setting = self._owner(key)
            routed[part_name][setting] = value
        return Combined([part.from_options(routed[part.name]) for part in self.parts])

    def __call__(self) -> Combined:
        return self.from_options({})

    def _owner(self, key: str) -> tuple[str, str]:
        """(part, setting) that ``key`` or ``part.key`` names."""
        prefix, dot, setting = key.partition(".")
        if dot and prefix in {part.name for part in self.parts}:
            return prefix, setting
        owners = [part.name for part in self.parts if key in _setting_names(part)]
        if len(owners) == 1:
            return owners[0], key
        if not owners:
            declared = "; ".join(f"{part.name}: {', '.join(_setting_names(part)) or 'none'}" for part in self.parts)
            raise ConfigError(f"no part of {self.name} has a setting {key!r} ({declared})")
        spelled = " or ".join(f"{owner}.{key}" for owner in owners)
        raise ConfigError(f"setting {key!r} of {self.name} is declared by {' and '.join(owners)}: write {spelled}")


def resolve_method(name: str) -> type[Method] | Combination:
    """The registered method class of ``name``, or the :class:`Combination` of an ``a+b`` name;
    both build the method with ``.from_options(settings)``."""
    if SEPARATOR not in name:
        return METHODS.get(name)
    names = name.split(SEPARATOR)
    if not all(names):
        raise ConfigError(
            f"{name!r} is not a combination: write registered methods joined by '+', e.g. sherpa+lora-encoder"
        )
    repeated = sorted(n for n, count in Counter(names).items() if count > 1)
    if repeated:
        raise ConfigError(f"{name!r} names {', '.join(repeated)} more than once")
    return Combination(tuple(METHODS.get(n) for n in names))


def _setting_names(method: type[Method]) -> list[str]:
    return [f.name for f in dataclasses.fields(method.Settings)]


def _train_only(model: SamModel, parameters: list[torch.nn.Parameter]) -> None:
    model.requires_grad_(False)
    for parameter in parameters:
        parameter.requires_grad_(True)


def _merge(named: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """One dict from several parts' dicts; a key two parts use becomes ``part:key`` in both."""
    counts = Counter(key for _, entries in named for key in entries)
    return {
        (f"{part}:{key}" if counts[key] > 1 else key): value
        for part, entries in named
        for key, value in entries.items()
    }
