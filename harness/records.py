"""Run records: what one run did and measured, written atomically as JSON + a per-instance CSV.

Layout: ``<runs>/<finetune>/<model>/<run name>/`` holding ``record.json``, ``instances.csv`` and
``checkpoints/``. The run name is the method plus a short hash of every setting that changes
results, so a run that exists is found again and not recomputed unless asked.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sherpa_bench.harness.atomic import atomic_write_text
from sherpa_bench.harness.errors import UserError

SCHEMA_VERSION = 1
RECORD_FILE = "record.json"
INSTANCES_FILE = "instances.csv"


@dataclass
class DatasetResult:
    """Scores of one evaluated dataset split.

    role: "valid" (the fine-tuning task's validation split), "generalization" (in Average and
        Retention) or "side" (reported beside them, e.g. Table 2's natural-image average).
    group: the generalization group label ("Group 1", "Group 2"), None for valid.
    metrics: metric name -> dataset-level value.
    """

    dataset: str
    split: str
    role: str
    group: str | None
    images: int
    instances: int
    metrics: dict[str, float]
    content_hash: str


@dataclass
class RunRecord:
    run_id: str
    command: str
    created: str
    finetune: str
    model: str
    method: str
    method_settings: dict[str, Any]
    seed: int
    config: dict[str, Any]
    versions: dict[str, str]
    git_commit: str
    wall_seconds: float
    train_seconds: float
    peak_memory_mb: float
    parameters: dict[str, Any]
    results: list[DatasetResult]
    missing: dict[str, str] = field(default_factory=dict)
    method_outputs: dict[str, Any] = field(default_factory=dict)
    schema: int = SCHEMA_VERSION

    def result(self, dataset: str) -> DatasetResult | None:
        return next((r for r in self.results if r.dataset == dataset), None)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=False) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        data = dict(data)
        data["results"] = [DatasetResult(**r) for r in data["results"]]
        return cls(**data)


def write_run(directory: Path, record: RunRecord, instances: pd.DataFrame) -> None:
    """Write the per-instance table first and the record last: a record on disk means a complete run."""
    atomic_write_text(directory / INSTANCES_FILE, instances.to_csv(index=False))
    atomic_write_text(directory / RECORD_FILE, record.to_json())


def read_record(path: Path) -> RunRecord:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise UserError(f"cannot read run record {path}: {error}; delete it and re-run") from error
    if data.get("schema") != SCHEMA_VERSION:
        raise UserError(
            f"run record {path} has schema {data.get('schema')}, this version reads {SCHEMA_VERSION}; "
            "re-run it with --force"
        )
    return RunRecord.from_dict(data)


def find_records(
    runs_dir: Path,
    finetune: str | None = None,
    model: str | None = None,
    protocol: dict[str, Any] | None = None,
) -> list[RunRecord]:
    """Run records under ``runs_dir``, optionally of one task and model, and of one protocol
    (config entries that must match, e.g. the training settings) so that a leaderboard never mixes
    protocols."""
    pattern = f"{finetune or '*'}/{model or '*'}/*/{RECORD_FILE}"
    records = [read_record(path) for path in sorted(Path(runs_dir).glob(pattern))]
    if protocol is not None:
        records = [r for r in records if all(r.config.get(k) == v for k, v in protocol.items())]
    return sorted(records, key=lambda r: r.created)
