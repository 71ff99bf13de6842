"""The toy regression suite: leaderboards re-run from scratch and compared with committed baselines.

Each entry of :data:`TOY_LEADERBOARDS` is one committed table ``leaderboards/toy/<task>.md`` and its
baseline ``leaderboards/toy/<task>.json``. A new method joins the check by adding its name here and
running ``sherpa-bench check --update``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from sherpa_bench.harness.atomic import atomic_write_text
from sherpa_bench.harness.errors import UserError
from sherpa_bench.harness.records import RunRecord
from sherpa_bench.harness.runner import RunConfig, execute
from sherpa_bench.harness.trainer import TrainConfig
from sherpa_bench.leaderboards.check import (
    IMPROVED,
    CellChange,
    baseline_from,
    compare,
    load_baseline,
    save_baseline,
)
from sherpa_bench.leaderboards.table import Leaderboard, build_table, render_markdown

TOY_DIR = Path(__file__).resolve().parent.parent / "leaderboards" / "toy"
SCORE_TOLERANCE = 0.01
RETENTION_TOLERANCE = 1.0


@dataclass(frozen=True)
class ToyLeaderboard:
    finetune: str
    methods: tuple[str, ...]
    model: str = "toy-large"
    metric: str = "f1"
    seed: int = 0

    @property
    def table_path(self) -> Path:
        return TOY_DIR / f"{self.finetune}.md"

    @property
    def baseline_path(self) -> Path:
        return TOY_DIR / f"{self.finetune}.json"


TOY_LEADERBOARDS = (
    ToyLeaderboard("toy-thin", ("zero-shot", "std-ft")),
    ToyLeaderboard("toy-em", ("zero-shot", "std-ft")),
)


def run_leaderboard(spec: ToyLeaderboard, runs_dir: Path, say: Callable[[str], None]) -> Leaderboard:
    records: list[RunRecord] = []
    for method in spec.methods:
        config = RunConfig(method=method, finetune=spec.finetune, model=spec.model, seed=spec.seed, train=TrainConfig())
        records.append(execute(config, runs_dir, command="sherpa-bench check", progress=say))
    return build_table(records, spec.metric)


@dataclass
class CheckOutcome:
    spec: ToyLeaderboard
    board: Leaderboard
    changes: list[CellChange]

    @property
    def failed(self) -> bool:
        # An improvement beyond tolerance fails too: the baseline must be updated on purpose.
        return any(c.is_failure or c.direction == IMPROVED for c in self.changes)


def check(runs_dir: Path, update: bool, say: Callable[[str], None]) -> list[CheckOutcome]:
    outcomes = []
    for spec in TOY_LEADERBOARDS:
        board = run_leaderboard(spec, runs_dir, say)
        if update:
            save_baseline(spec.baseline_path, {**baseline_from(board, SCORE_TOLERANCE, RETENTION_TOLERANCE), "run": asdict(spec)})
            atomic_write_text(spec.table_path, render_markdown(board))
            outcomes.append(CheckOutcome(spec, board, []))
            continue
        if not spec.baseline_path.exists():
            raise UserError(f"no baseline {spec.baseline_path}; write it with `sherpa-bench check --update`")
        outcomes.append(CheckOutcome(spec, board, compare(board, load_baseline(spec.baseline_path))))
    return outcomes
