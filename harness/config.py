"""Training settings: plain data, importable without torch (the CLI reads its defaults from here)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sherpa_bench.harness.errors import ConfigError

TASK_LOSSES = ("bce-dice", "mse")


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings, identical for every method of a leaderboard.

    loss: "bce-dice" (default) or "mse" (SHERPA Eq. 6); see ``harness/losses.py`` and
        docs/CHOICES.md for why MSE is not the default.
    instances_per_image: at most this many instances of an image per step (seeded choice).
    prompt: the prompt protocol of training (``sherpa-bench list prompts``; "mixed" = Stable-SAM's mix).
    """

    epochs: int = 10
    lr: float = 1e-4
    weight_decay: float = 0.01
    images_per_step: int = 4
    instances_per_image: int = 8
    loss: str = "bce-dice"
    prompt: str = "box"

    def __post_init__(self) -> None:
        if self.loss not in TASK_LOSSES:
            raise ConfigError(f"unknown task loss {self.loss!r}; choose one of {', '.join(TASK_LOSSES)}")
        if self.epochs < 0 or self.images_per_step < 1 or self.instances_per_image < 1:
            raise ConfigError(f"epochs must be >= 0 and batch sizes >= 1, got {asdict(self)}")
