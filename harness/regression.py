"""The toy regression suite: leaderboards re-run from scratch and compared with committed baselines.

Each baseline ``leaderboards/toy/<task>.json`` holds the numbers of one leaderboard, the tolerances
and (under ``run``) exactly how it was produced; ``<task>.md`` beside it is the rendered table.
``check`` re-runs what each baseline describes and compares cell by cell. A new method joins the
suite by adding its name to :data:`TOY_LEADERBOARDS` and running ``sherpa-bench check --update``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from sherpa_bench.harness.atomic import atomic_write_text
from sherpa_bench.harness.config import TrainConfig
from sherpa_bench.harness.errors import UserError
from sherpa_bench.harness.runner import RunConfig, execute
from sherpa_bench.leaderboards.check import IMPROVED, CellChange, baseline_from, compare, load_baseline, save_baseline
from sherpa_bench.leaderboards.table import Leaderboard, build_table, render_markdown

TOY_DIR = Path(__file__).resolve().parent.parent / "leaderboards" / "toy"
SCORE_TOLERANCE = 0.01
RETENTION_TOLERANCE = 1.0


@dataclass(frozen=True)
class ToyLeaderboard:
    """How one regression leaderboard is produced."""

    finetune: str
    methods: tuple[str, ...]
    model: str = "toy-large"
    metric: str = "f1"
    seed: int = 0
    train: TrainConfig = field(default_factory=TrainConfig)
    max_images: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ToyLeaderboard:
        return cls(**{**data, "methods": tuple(data["methods"]), "train": TrainConfig(**data["train"])})


# toy-thin holds every registered method (tests/test_regression_check.py keeps it so); toy-em the
# methods of SHERPA's Table 1 that run there in the paper.
EVERY_METHOD = (
    "zero-shot", "std-ft", "kl-sp", "l2-sp", "ft-last", "stochastic-ft", "wise-ft", "fisher-tune", "infosam",
    "bitfit", "lora-decoder", "lora-encoder", "adapter-decoder", "adapter-encoder", "sherpa",
)  # fmt: skip
TOY_LEADERBOARDS = (
    ToyLeaderboard("toy-thin", EVERY_METHOD),
    ToyLeaderboard("toy-em", ("zero-shot", "std-ft", "kl-sp", "l2-sp", "ft-last", "sherpa")),
)


def run_leaderboard(spec: ToyLeaderboard, runs_dir: Path, say: Callable[[str], None]) -> Leaderboard:
    records = []
    for method in spec.methods:
        config = RunConfig(
            method=method, finetune=spec.finetune, model=spec.model, seed=spec.seed,
            train=spec.train, max_images=spec.max_images,
        )  # fmt: skip
        records.append(execute(config, runs_dir, command="sherpa-bench check", progress=say))
    return build_table(records, spec.metric)


def write_baseline(spec: ToyLeaderboard, board: Leaderboard, baseline_dir: Path) -> Path:
    path = Path(baseline_dir) / f"{spec.finetune}.json"
    save_baseline(path, {**baseline_from(board, SCORE_TOLERANCE, RETENTION_TOLERANCE), "run": asdict(spec)})
    atomic_write_text(path.with_suffix(".md"), render_markdown(board))
    return path


@dataclass
class CheckOutcome:
    baseline: Path
    board: Leaderboard
    changes: list[CellChange]

    @property
    def failed(self) -> bool:
        # An improvement beyond tolerance fails too: a baseline changes only on purpose (--update).
        return any(c.is_failure or c.direction == IMPROVED for c in self.changes)


def check(baseline_dir: Path, runs_dir: Path, say: Callable[[str], None]) -> list[CheckOutcome]:
    """Re-run every leaderboard that ``baseline_dir`` holds a baseline for and compare."""
    paths = sorted(Path(baseline_dir).glob("*.json"))
    if not paths:
        raise UserError(f"no baselines in {baseline_dir}; write them with `sherpa-bench check --update`")
    outcomes = []
    for path in paths:
        baseline = load_baseline(path)
        if "run" not in baseline:
            raise UserError(f"baseline {path} does not say how it was produced (no 'run'); rewrite it with --update")
        board = run_leaderboard(ToyLeaderboard.from_dict(baseline["run"]), runs_dir, say)
        outcomes.append(CheckOutcome(path, board, compare(board, baseline)))
    return outcomes


def update(baseline_dir: Path, runs_dir: Path, say: Callable[[str], None]) -> list[tuple[Path, Leaderboard]]:
    """Re-run :data:`TOY_LEADERBOARDS` and write their baselines and tables."""
    written = []
    for spec in TOY_LEADERBOARDS:
        board = run_leaderboard(spec, runs_dir, say)
        written.append((write_baseline(spec, board, baseline_dir), board))
    return written
