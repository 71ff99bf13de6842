"""SHERPA Table 1 (fine-tuning set DIS5K) as run records: the leaderboard and regression-check tests
build their tables from the paper's own numbers."""

from __future__ import annotations

from typing import Any

from sherpa_bench.harness.records import DatasetResult, RunRecord

GROUPS = {"Group 1": ("ADE20K", "Citys", "COCO"), "Group 2": ("ECSSD", "FSS", "BIG")}
GENERALIZATION = [dataset for datasets in GROUPS.values() for dataset in datasets]

# SHERPA paper, Table 1, fine-tuning dataset DIS5K: Valid, then the six generalization datasets.
PAPER_DIS5K = {
    "zero-shot": [0.6570, 0.8552, 0.7335, 0.6921, 0.9293, 0.9434, 0.9363],
    "std-ft": [0.8728, 0.5062, 0.4390, 0.6186, 0.9405, 0.9151, 0.9222],
    "kl-sp": [0.8621, 0.6012, 0.5581, 0.6732, 0.9513, 0.9131, 0.7512],
    "l2-sp": [0.8571, 0.5201, 0.4710, 0.6202, 0.9620, 0.9370, 0.8709],
    "ft-last": [0.8495, 0.6468, 0.5387, 0.6730, 0.9538, 0.9344, 0.9121],
    "fishertune": [0.8732, 0.6242, 0.5643, 0.6334, 0.9344, 0.9070, 0.9031],
    "infosam": [0.8834, 0.6398, 0.5485, 0.6842, 0.9541, 0.9361, 0.8765],
    "ours": [0.8855, 0.6553, 0.5729, 0.6917, 0.9643, 0.9407, 0.9331],
}


def make_record(
    method: str,
    scores: list[float],
    *,
    seed: int = 0,
    settings: dict[str, Any] | None = None,
    finetune: str = "dis5k",
    model: str = "sam-vit-h",
    missing: dict[str, str] | None = None,
    metric: str = "f1",
) -> RunRecord:
    """A run record whose F1 is ``scores`` = [Valid, ADE20K, Citys, COCO, ECSSD, FSS, BIG].

    A dataset named in ``missing`` gets no result, as when its evaluation failed.
    """
    missing = missing or {}
    results = [DatasetResult(finetune, "valid", "valid", None, 10, 20, {metric: scores[0]}, "hash")]
    for group, datasets in GROUPS.items():
        for dataset in datasets:
            if dataset not in missing:
                score = scores[1 + GENERALIZATION.index(dataset)]
                result = DatasetResult(dataset, "test", "generalization", group, 10, 20, {metric: score}, "hash")
                results.append(result)
    return RunRecord(
        run_id=f"{method}-{seed}",
        command="sherpa-bench run",
        created="2025-01-01T00:00:00",
        finetune=finetune,
        model=model,
        method=method,
        method_settings=settings or {},
        seed=seed,
        config={},
        versions={},
        git_commit="0" * 40,
        wall_seconds=1.0,
        train_seconds=1.0,
        peak_memory_mb=1.0,
        parameters={},
        results=results,
        missing=missing,
    )
