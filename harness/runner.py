"""One run, end to end: build -> prepare -> train -> evaluate -> record. Owns seeding and provenance."""

from __future__ import annotations

import hashlib
import io
import json
import platform
import random
import resource
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd
import torch

from sherpa_bench.datasets.check import verify_training_split
from sherpa_bench.datasets.label_noise import NoisyLabels
from sherpa_bench.datasets.suites import get_suite
from sherpa_bench.datasets.types import FirstImages, SegmentationDataset
from sherpa_bench.harness.atomic import atomic_write_bytes
from sherpa_bench.harness.config import TrainConfig
from sherpa_bench.harness.embedding_store import EmbeddingStore
from sherpa_bench.harness.embeddings import EmbeddingCache
from sherpa_bench.harness.errors import ConfigError, DatasetNotFoundError, UserError
from sherpa_bench.harness.evaluate import EvalProtocol, predict_dataset, score
from sherpa_bench.harness.records import RECORD_FILE, DatasetResult, RunRecord, read_record, write_run
from sherpa_bench.harness.registry import DATASETS, METRICS, MODELS, PROMPTS
from sherpa_bench.harness.trainer import train
from sherpa_bench.methods.base import Method, MethodContext, TrainedModel, trainable_by_module
from sherpa_bench.methods.combined import resolve_method
from sherpa_bench.models.encoder_paths import EncoderPaths
from sherpa_bench.models.sam import SamModel

DEFAULT_METRICS = ("f1", "miou", "dice", "biou")
TRAINED_FILE = "trained.pt"
EMBEDDINGS_DIR = ".embeddings"  # under the runs folder: image embeddings shared by runs (harness/embedding_store.py)
DATA_CHECKS_DIR = ".data-checks"  # under the runs folder: training splits that passed the data check
Progress = Callable[[str], None]


@dataclass(frozen=True)
class RunConfig:
    """Everything that changes a run's numbers (hashed into its name), plus where data lives."""

    method: str
    finetune: str
    model: str = "toy-large"
    settings: dict[str, str] = field(default_factory=dict)
    seed: int = 0
    train: TrainConfig = field(default_factory=TrainConfig)
    metrics: tuple[str, ...] = DEFAULT_METRICS
    max_images: int | None = None
    label_noise: float = 0.0
    prompt: str = "box"
    mask_output: str = "single"
    max_instances: int | None = None
    suite: str | None = None
    precision: str = "fp32"
    attention: str = "reference"
    compile: bool = False
    data_root: str | None = None
    device: str | None = None  # None: CUDA when present, else CPU; recorded, not part of the run's name

    def __post_init__(self) -> None:
        # every setting checked before any run starts (and before a sub-run inherits it)
        self.encoder_paths()
        PROMPTS.entry(self.train.prompt)
        resolve_device(self.device)

    def identity(self) -> dict[str, Any]:
        """The settings that determine the result (not where the data happens to live). Method
        settings count as parsed, so `lam=3`, `lam=3.0` and leaving the default are one run."""
        data = asdict(self)
        data.pop("data_root")
        data.pop("device")
        data["suite"] = self.effective_suite()
        data["settings"] = resolve_method(self.method).from_options(self.settings).settings_dict()
        return data

    def encoder_paths(self) -> EncoderPaths:
        return EncoderPaths(self.precision, self.attention, self.compile)

    def effective_suite(self) -> str | None:
        """The suite the run is scored on: the one asked for, else the task's own (None: the task's
        ``generalization`` datasets)."""
        return self.suite or DATASETS.get(self.finetune).suite

    def run_name(self) -> str:
        """Method, seed and a hash of the identity and of the model's weights."""
        identity = {**self.identity(), "weights": MODELS.get(self.model).fingerprint()}
        digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:8]
        return f"{self.method}-seed{self.seed}-{digest}"


def run_directory(runs_dir: Path, config: RunConfig) -> Path:
    return Path(runs_dir) / config.finetune / config.model / config.run_name()


def execute(
    config: RunConfig,
    runs_dir: Path,
    command: str,
    force: bool = False,
    progress: Progress | None = None,
    embedding_cache: bool = True,
) -> RunRecord:
    """Run ``config`` unless its record exists (then read it back); ``force`` recomputes.

    ``embedding_cache``: read and write image embeddings under ``runs_dir/.embeddings`` whenever the
    image encoder is frozen (``harness/embedding_store.py``); off, every image is encoded afresh."""
    say = progress or (lambda message: None)
    directory = run_directory(runs_dir, config)
    if (directory / RECORD_FILE).exists() and not force:
        say(f"{config.method}: reusing {directory} (pass --force to recompute)")
        return read_record(directory / RECORD_FILE)
    for name in config.metrics:
        METRICS.entry(name)
    protocol = EvalProtocol(config.prompt, config.mask_output, config.seed, config.max_instances)
    method_class = resolve_method(config.method)
    method: Method = method_class.from_options(config.settings)
    task = DATASETS.get(config.finetune)
    if not task.is_finetune_task():
        tasks = ", ".join(e.name for e in DATASETS if e.obj.is_finetune_task())
        raise UserError(
            f"{config.finetune!r} is not a fine-tuning task (it needs train and valid splits and generalization datasets); fine-tuning tasks: {tasks}"
        )
    data_root = Path(config.data_root) if config.data_root else None
    train_split = task("train", data_root)  # listed once, for the check and for training
    verify_training_split(train_split, Path(runs_dir) / DATA_CHECKS_DIR, say)
    train_data = _limited(train_split, config.max_images)
    if config.label_noise > 0:
        train_data = NoisyLabels(train_data, config.label_noise, config.seed)
    valid_data = _limited(task("valid", data_root), config.max_images)
    generalization, missing = _generalization_sets(task, config.effective_suite(), data_root)
    generalization = [(role, group, _limited(d, config.max_images)) for role, group, d in generalization]

    for name, why in missing.items():
        say(f"{config.method}: not evaluated on {name}: {why.splitlines()[0]}")
    started = time.time()
    if resolve_device(config.device).type == "cuda":
        torch.cuda.reset_peak_memory_stats()  # this run's peak, not the process's
    _seed_everything(config.seed)
    model: SamModel = load_model(config.model, config.device, config.encoder_paths())
    context = _context(config, train_data, directory / "method", runs_dir, say, embedding_cache)
    start = {n: t.detach().cpu().clone() for n, t in model.state_dict().items()}
    say(f"{config.method}: preparing")
    method.prepare(model, context)
    say(f"{config.method}: training on {config.finetune}/train ({len(train_data)} images)")
    summary = train(
        model, method, train_data, config.train, config.seed,
        checkpoint_dir=directory / "checkpoints",
        progress=lambda text: say(f"{config.method}: {text}"),
        embedding_dir=Path(runs_dir) / EMBEDDINGS_DIR if embedding_cache else None,
    )  # fmt: skip
    parameters = {
        "total": sum(p.numel() for p in model.parameters()),
        "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "trainable_by_module": trainable_by_module(model),
    }
    model = method.finalize(model)
    # every tensor of the evaluated model that is not the registered one: what trained, what finalize
    # changed (WiSE-ft's interpolation, merged LoRA) or added (adapters)
    changed = [n for n, t in model.state_dict().items() if n not in start or not torch.equal(t.cpu(), start[n])]
    save_trained(directory, model, sorted(changed))

    results, tables = [], []
    eval_store = _embedding_store(runs_dir, model) if embedding_cache else None
    for role, group, dataset in [("valid", None, valid_data)] + generalization:
        say(f"{config.method}: evaluating {dataset.name}/{dataset.split}")
        predictions = predict_dataset(model, dataset, protocol, disk=eval_store)
        tables.append(predictions.table)
        results.append(
            DatasetResult(
                dataset=dataset.name,
                split=dataset.split,
                role=role,
                group=group,
                images=predictions.images,
                instances=len(predictions.table),
                metrics=score(predictions.table, list(config.metrics)),
                content_hash=predictions.content_hash,
            )
        )
    record = RunRecord(
        run_id=f"{config.finetune}/{config.model}/{config.run_name()}",
        command=command,
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        finetune=config.finetune,
        model=config.model,
        method=config.method,
        method_settings=method.settings_dict(),
        seed=config.seed,
        config={
            **asdict(config),
            "suite": config.effective_suite(),
            "weights_fingerprint": MODELS.get(config.model).fingerprint(),
            "embedding_cache": {
                "training": summary.embedding_cache,
                "evaluation": eval_store.summary() if eval_store else None,
            },
        },
        versions=package_versions(model.device),
        git_commit=git_commit(),
        wall_seconds=round(time.time() - started, 2),
        train_seconds=round(summary.seconds, 2),
        peak_memory_mb=peak_memory_mb(model.device),
        parameters=parameters,
        results=results,
        missing=missing,
        method_outputs={"train_loss_by_epoch": summary.loss_by_epoch, "train_steps": summary.steps, **method.outputs()},
    )
    write_run(directory, record, pd.concat(tables, ignore_index=True))
    say(f"{config.method}: record written to {directory / RECORD_FILE}")
    return record


def _generalization_sets(
    task: type[SegmentationDataset], suite_name: str | None, data_root: Path | None
) -> tuple[list[tuple[str, str, SegmentationDataset]], dict[str, str]]:
    """(role, group, dataset) of every generalization dataset that can be opened, and why each other
    one cannot. Role "generalization" counts in Average and Retention; role "side" is reported beside."""
    if suite_name is None:
        planned = [("generalization", task.generalization)]
    else:
        suite = get_suite(suite_name)
        planned = [("generalization", suite.groups), ("side", suite.side_groups)]
    found, missing = [], {}
    for role, groups in planned:
        for group, names in sorted(groups.items()):
            for name in names:
                if name not in DATASETS:
                    missing[name] = f"no loader for {name!r} is registered in this version of sherpa-bench"
                    continue
                dataset_class = DATASETS.get(name)
                try:
                    found.append((role, group, dataset_class(dataset_class.eval_split, data_root)))
                except DatasetNotFoundError as error:
                    missing[name] = str(error)
    return found, missing


def _limited(dataset: SegmentationDataset, max_images: int | None) -> SegmentationDataset:
    return dataset if max_images is None else FirstImages(dataset, max_images)


def resolve_device(device: str | None) -> torch.device:
    """The device a run uses: the one asked for, else CUDA when present, else the CPU."""
    try:
        return torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    except RuntimeError as error:
        raise ConfigError(f"unknown device {device!r}: use cpu, cuda or cuda:N") from error


def load_model(name: str, device: str | None = None, paths: EncoderPaths = EncoderPaths()):
    """A registered model, pre-trained weights loaded, on the run's device, with the image encoder's
    fast paths set (``SamModel.configure_encoder``)."""
    model = MODELS.get(name).load().to(resolve_device(device))
    model.configure_encoder(paths)
    return model


def _embedding_store(runs_dir: Path, model) -> EmbeddingStore | None:
    """The on-disk embeddings of ``model``'s current encoder, or None when it trains (nothing to reuse)."""
    if not EmbeddingCache.encoder_is_frozen(model):
        return None
    return EmbeddingStore(Path(runs_dir) / EMBEDDINGS_DIR, model)


def _context(
    config: RunConfig,
    data: SegmentationDataset,
    work_dir: Path,
    runs_dir: Path,
    say: Progress,
    embedding_cache: bool,
) -> MethodContext:
    def train_model(
        model_name: str, method_name: str, settings: dict[str, Any], epochs: int | None, label_noise: float
    ) -> TrainedModel:
        # Another model trained on this task by a run of its own (SHERPA's guide stage).
        train = config.train if epochs is None else replace(config.train, epochs=epochs)
        sub_config = replace(
            config, method=method_name, model=model_name, settings={k: str(v) for k, v in settings.items()},
            train=train, label_noise=label_noise,
        )  # fmt: skip
        command = f"(stage of the {config.method} run {config.run_name()})"
        with _random_state_kept():
            record = execute(sub_config, runs_dir, command=command, progress=say, embedding_cache=embedding_cache)
            model = load_model(model_name, config.device, config.encoder_paths())
            load_trained(run_directory(runs_dir, sub_config), model)
        return TrainedModel(model, record.run_id)

    return MethodContext(
        finetune=config.finetune,
        model_name=config.model,
        train_config=config.train,
        train_data=data,
        seed=config.seed,
        work_dir=work_dir,
        load_model=lambda name: load_model(name, config.device, config.encoder_paths()),
        train_model=train_model,
        embedding_cache=lambda model: EmbeddingCache(
            model, disk=_embedding_store(runs_dir, model) if embedding_cache else None, remember=not embedding_cache
        ),
    )


def save_trained(directory: Path, model: SamModel, names: list[str]) -> None:
    """The evaluated values of every tensor the run trained (the rest is the registered model's)."""
    state = model.state_dict()
    buffer = io.BytesIO()
    torch.save({name: state[name].detach().cpu() for name in names}, buffer)
    atomic_write_bytes(Path(directory) / TRAINED_FILE, buffer.getvalue())


def load_trained(directory: Path, model: SamModel) -> None:
    """Put a finished run's trained tensors into a freshly loaded copy of its model."""
    trained = torch.load(Path(directory) / TRAINED_FILE, map_location=model.device, weights_only=True)
    missing = set(trained) - set(model.state_dict())
    if missing:
        raise UserError(f"{directory / TRAINED_FILE} holds tensors this model lacks: {sorted(missing)[:5]}")
    model.load_state_dict(trained, strict=False)
    model.eval()


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@contextmanager
def _random_state_kept() -> Iterator[None]:
    """The global generators as they were before the block. A stage run (SHERPA's guide) seeds and
    draws from them when it trains and not when its record is reused: without this, the outer run's
    numbers would depend on whether its stage was already on disk."""
    python_state, numpy_state = random.getstate(), np.random.get_state()
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    try:
        with torch.random.fork_rng(devices=devices):
            yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)


def package_versions(device: torch.device) -> dict[str, str]:
    versions = {"python": sys.version.split()[0], "platform": platform.platform()}
    for package in ("sherpa-bench", "torch", "torchvision", "segment-anything", "sam2", "numpy", "pandas"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    versions["torch_threads"] = str(torch.get_num_threads())
    versions["device"] = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    versions["cuda"] = torch.version.cuda or "none"
    return versions


def git_commit() -> str:
    """The checkout's commit (with '+dirty' when it has uncommitted changes), or 'unknown'."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def peak_memory_mb(device: torch.device) -> float:
    """Peak GPU memory when on CUDA, else the process's peak resident memory (Linux: KiB)."""
    if device.type == "cuda":
        return round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
