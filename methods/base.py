"""The one interface every fine-tuning method implements.

The harness calls, in order:

1. ``prepare(model, context)`` — a stage before training: build reference copies (L2-SP weights,
   KL-SP features), train a guide model and compute its subspace (SHERPA), inject modules (LoRA).
   ``context`` is all the method may use of the harness: the task's training data, a way to load
   another registered model, a way to fine-tune a model with another method, a work folder.
2. ``select_trainable(model)`` — set ``requires_grad``; the trainer optimises exactly those tensors,
   grouped by ``parameter_groups(model)`` (e.g. L2-SP turns weight decay off on its tensors).
3. per training step, ``regularizers(step)`` — extra loss terms added to the shared task loss;
   ``step`` holds the samples, prompts, embeddings and decoder outputs of the step.
4. ``finalize(model)`` — the model that is evaluated (e.g. WiSE-ft's weight interpolation).
5. ``outputs()`` — what the method wants kept in the run record (chosen k, spectra, ...).

A method never sees the optimiser, the data order or the loop.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar

import torch

from sherpa_bench.datasets.types import Sample, SegmentationDataset
from sherpa_bench.harness.config import TrainConfig
from sherpa_bench.harness.embeddings import EmbeddingCache
from sherpa_bench.harness.errors import ConfigError
from sherpa_bench.models.sam import DecoderOutput, ImageFrame, SamModel


@dataclass
class TrainedModel:
    """A model fine-tuned by a run of its own, and that run's id (kept in the caller's record)."""

    model: SamModel
    run_id: str


@dataclass
class MethodContext:
    """The harness services a method may use in ``prepare``.

    model_name: the registered name of the model this run fine-tunes.
    train_config: the run's training settings (task loss, batch size, ...), read-only.
    load_model: name -> a fresh pre-trained :class:`SamModel` of that registered model.
    train_model: (model name, method name, settings, epochs or None, label noise) -> that model
        fine-tuned on this task by a run of its own (recorded, cached and reused like any run): how
        SHERPA trains its guide without touching the loop.
    embedding_cache: a frozen model -> a cache of its image embeddings (on disk, shared with other
        runs, when the run's cache is on; else in memory).
    """

    finetune: str
    model_name: str
    train_config: TrainConfig
    train_data: SegmentationDataset
    seed: int
    work_dir: Path
    load_model: Callable[[str], SamModel]
    train_model: Callable[[str, str, dict[str, Any], int | None, float], TrainedModel]
    embedding_cache: Callable[[SamModel], EmbeddingCache] = EmbeddingCache


@dataclass
class TrainStep:
    """One optimisation step as a method sees it: per image, the inputs and the decoder outputs."""

    epoch: int
    step: int
    samples: list[Sample]
    frames: list[ImageFrame]
    embeddings: list[torch.Tensor]
    prompts: list[dict[str, Any]]  # per image: ``decode`` keyword arguments (boxes / points / masks), input frame
    outputs: list[DecoderOutput]


@dataclass(frozen=True)
class NoSettings:
    """This method has no settings."""


class Method:
    """Base class: zero-shot behaviour (nothing trains, nothing is added)."""

    name: ClassVar[str]
    paper: ClassVar[str] = ""
    Settings: ClassVar[type] = NoSettings

    def __init__(self, settings: Any | None = None) -> None:
        self.settings = settings if settings is not None else self.Settings()

    @classmethod
    def from_options(cls, options: dict[str, str]) -> Method:
        """Build from ``--set key=value`` strings, converting each to its setting's type."""
        fields = {f.name: f for f in dataclasses.fields(cls.Settings)}
        values: dict[str, Any] = {}
        for key, text in options.items():
            if key not in fields:
                known = ", ".join(fields) or "none"
                raise ConfigError(f"method {cls.name!r} has no setting {key!r}; its settings: {known}")
            values[key] = _convert(text, fields[key].type, f"{cls.name}.{key}")
        return cls(cls.Settings(**values))

    def settings_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self.settings)

    def prepare(self, model: SamModel, context: MethodContext) -> None:
        """Stage before training; nothing by default."""

    def select_trainable(self, model: SamModel) -> None:
        """Freeze everything by default."""
        model.requires_grad_(False)

    def parameter_groups(self, model: SamModel) -> list[dict[str, Any]]:
        """Optimiser groups of the trainable tensors; a group may set its own ``weight_decay``."""
        return [{"params": [p for p in model.parameters() if p.requires_grad]}]

    def regularizers(self, step: TrainStep) -> dict[str, torch.Tensor]:
        """Extra loss terms of this step, by name; none by default."""
        return {}

    def finalize(self, model: SamModel) -> SamModel:
        return model

    def outputs(self) -> dict[str, Any]:
        return {}


def _convert(text: str, annotation: Any, where: str) -> Any:
    kind = {"int": int, "float": float, "str": str, "bool": bool}.get(str(annotation), annotation)
    try:
        if kind is bool:
            if text.lower() not in {"true", "false", "1", "0", "yes", "no"}:
                raise ValueError(text)
            return text.lower() in {"true", "1", "yes"}
        return kind(text)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"setting {where} needs a {getattr(kind, '__name__', kind)}, got {text!r}") from error


def trainable_by_module(model: torch.nn.Module) -> dict[str, int]:
    """Trainable parameter counts per top-level module of the wrapped SAM (for the run record)."""
    counts: dict[str, int] = {}
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            module = name.split(".")[1] if name.startswith("sam.") else name.split(".")[0]
            counts[module] = counts.get(module, 0) + parameter.numel()
    return counts
