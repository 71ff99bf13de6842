"""The ``sherpa-bench`` command line. Heavy imports happen inside each command so ``--help`` is instant."""

from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path
from typing import List, Optional

import typer

from sherpa_bench.harness.config import TASK_LOSSES, TrainConfig
from sherpa_bench.harness.errors import UserError

TRAIN = TrainConfig()

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Fine-tune Segment Anything Models and measure how much general ability each method keeps.",
)


@app.callback()
def root() -> None:
    """Fine-tune Segment Anything Models and measure how much general ability each method keeps."""


def _say(message: str) -> None:
    typer.echo(message, err=True)


def _parse_settings(pairs: list[str]) -> dict[str, str]:
    settings = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UserError(f"--set takes KEY=VALUE, got {pair!r}")
        settings[key.strip()] = value.strip()
    return settings


RUNS_HELP = "Folder of run records (env SHERPA_BENCH_RUNS)."
DATA_HELP = "Folder holding the real datasets, e.g. DIR/DIS5K (env SHERPA_BENCH_DATA)."
DEVICE_HELP = "cuda, cuda:1 or cpu [default: cuda when present, else cpu]."
PRECISION_HELP = "Image encoder precision: fp32 or bf16 (autocast; the decoder stays fp32)."
ATTENTION_HELP = "SAM ViT attention: reference (segment_anything's) or sdpa."
COMPILE_HELP = "Run the image encoder through torch.compile (first call compiles: pays off on a GPU and long runs)."
CACHE_HELP = "Reuse image embeddings of a frozen encoder across runs (RUNS/.embeddings); --no-cache encodes afresh."
CHECKPOINT_HELP = (
    "Folder holding released SAM / SAM 2 checkpoints under their official names (env SHERPA_BENCH_CHECKPOINTS)."
)


def _use_checkpoint_dir(folder: Optional[Path]) -> None:
    """Every model lookup of this process (sub-runs included) reads checkpoints from ``folder``."""
    import os

    from sherpa_bench.models.zoo import CHECKPOINT_ENV

    if folder is not None:
        if not folder.is_dir():
            raise UserError(f"checkpoint folder {folder} does not exist (--checkpoint-dir / {CHECKPOINT_ENV})")
        os.environ[CHECKPOINT_ENV] = str(folder)


@app.command()
def run(
    method: List[str] = typer.Option(
        ["std-ft"], "--method", "-m", help="Method(s) to run; `sherpa-bench list methods`."
    ),
    finetune: str = typer.Option(
        "toy-thin", "--finetune", "-f", help="Fine-tuning task; `sherpa-bench list datasets`."
    ),
    model: str = typer.Option("toy-large", help="Model to fine-tune; `sherpa-bench list models`."),
    setting: List[str] = typer.Option([], "--set", help="Method setting KEY=VALUE (repeatable)."),
    seed: int = typer.Option(0, help="Seed of initialisation, data order and instance sampling."),
    epochs: int = typer.Option(TRAIN.epochs, help="Training epochs."),
    lr: float = typer.Option(TRAIN.lr, help="AdamW learning rate."),
    loss: str = typer.Option(TRAIN.loss, help=f"Task loss: {' or '.join(TASK_LOSSES)} (mse = SHERPA Eq. 6)."),
    images_per_step: int = typer.Option(TRAIN.images_per_step, help="Images per optimisation step."),
    max_images: Optional[int] = typer.Option(None, help="Use only the first N images of every split (a quick look)."),
    max_instances: Optional[int] = typer.Option(
        None, help="Score at most N instances per evaluated dataset (a seeded sub-sample; recorded)."
    ),
    prompt: str = typer.Option("box", help="Evaluation prompt protocol; `sherpa-bench list prompts`."),
    train_prompt: str = typer.Option(TRAIN.prompt, help="Training prompt protocol (mixed = Stable-SAM's recipe)."),
    mask_output: str = typer.Option("single", help="Scored mask: single | first | second | third | best."),
    suite: Optional[str] = typer.Option(None, help="Evaluation suite: natural | biomedical [default: the task's]."),
    metric: str = typer.Option("f1", help="Metric of the printed leaderboard."),
    reference: bool = typer.Option(True, help="Also run zero-shot when missing (retention needs it)."),
    force: bool = typer.Option(False, help="Recompute runs whose record already exists."),
    cache: bool = typer.Option(True, "--cache/--no-cache", help=CACHE_HELP),
    device: Optional[str] = typer.Option(None, help=DEVICE_HELP),
    precision: str = typer.Option("fp32", help=PRECISION_HELP),
    attention: str = typer.Option("reference", help=ATTENTION_HELP),
    compile: bool = typer.Option(False, "--compile/--no-compile", help=COMPILE_HELP),
    runs_dir: Path = typer.Option(Path("runs"), envvar="SHERPA_BENCH_RUNS", help=RUNS_HELP),
    data_root: Optional[Path] = typer.Option(None, envvar="SHERPA_BENCH_DATA", help=DATA_HELP),
    checkpoint_dir: Optional[Path] = typer.Option(None, envvar="SHERPA_BENCH_CHECKPOINTS", help=CHECKPOINT_HELP),
) -> None:
    """Fine-tune MODEL on a task with each METHOD, evaluate on the task and its generalization suites,
    write run records and print the retention leaderboard.

    Example: sherpa-bench run --method std-ft --finetune toy-thin
    """
    from dataclasses import replace

    from sherpa_bench.datasets.suites import get_suite
    from sherpa_bench.harness.evaluate import EvalProtocol
    from sherpa_bench.harness.registry import DATASETS, MODELS
    from sherpa_bench.harness.runner import RunConfig, execute
    from sherpa_bench.methods.combined import resolve_method

    _use_checkpoint_dir(checkpoint_dir)
    train_config = TrainConfig(epochs=epochs, lr=lr, loss=loss, images_per_step=images_per_step, prompt=train_prompt)
    for name in method:  # refuse every bad name before any run starts
        resolve_method(name)
    DATASETS.entry(finetune)
    MODELS.entry(model)
    evaluation = dict(prompt=prompt, mask_output=mask_output, max_instances=max_instances, suite=suite)
    EvalProtocol(prompt=prompt, mask_output=mask_output)
    if suite is not None:
        get_suite(suite)
    methods = list(method)
    if reference and "zero-shot" not in methods:
        methods.insert(0, "zero-shot")
    command = shlex.join(["sherpa-bench", *sys.argv[1:]])
    settings = _parse_settings(setting)
    for name in methods:
        config = RunConfig(
            method=name,
            finetune=finetune,
            model=model,
            settings=settings if name in method else {},
            seed=seed,
            train=train_config,
            max_images=max_images,
            data_root=str(data_root) if data_root else None,
            device=device,
            precision=precision,
            attention=attention,
            compile=compile,
            **evaluation,
        )
        execute(config, runs_dir, command, force=force, progress=_say, embedding_cache=cache)
    _print_leaderboard(runs_dir, metric, replace(config, method="zero-shot", settings={}))


EVALUATION_KEYS = ("prompt", "mask_output", "max_instances", "suite", "precision", "attention", "compile")


def _print_leaderboard(runs_dir: Path, metric: str, reference) -> None:
    """The leaderboard of ``reference``'s task and model, from the runs that share its protocol
    (training settings, data limits, weights, evaluation protocol), so a table never mixes them."""
    from dataclasses import asdict

    from sherpa_bench.harness.atomic import atomic_write_text
    from sherpa_bench.harness.records import find_records
    from sherpa_bench.harness.registry import MODELS
    from sherpa_bench.leaderboards.table import build_table, render_markdown
    from sherpa_bench.leaderboards.uncertainty import valid_uncertainty

    finetune, model = reference.finetune, reference.model
    identity = reference.identity()
    protocol = {
        "train": asdict(reference.train),
        "max_images": reference.max_images,
        "weights_fingerprint": MODELS.get(model).fingerprint(),
        **{key: identity[key] for key in EVALUATION_KEYS},
    }
    records = find_records(runs_dir, finetune, model, protocol=protocol)
    if not records:
        raise UserError(f"no run records for {finetune} / {model} under {runs_dir}; run `sherpa-bench run` first")
    text = render_markdown(build_table(records, metric)) + "\n" + valid_uncertainty(records, runs_dir, metric)
    path = Path(runs_dir) / finetune / model / f"leaderboard-{metric}.md"
    atomic_write_text(path, text)
    typer.echo(text)
    _say(f"leaderboard written to {path}")


@app.command()
def experiment(
    name: str = typer.Argument(..., help="table4 | table5 | table6 | table17 | table18 | table19 | table20"),
    finetune: str = typer.Option("toy-thin", "--finetune", "-f", help="Fine-tuning task."),
    model: str = typer.Option("toy-large", help="Model to fine-tune."),
    seed: int = typer.Option(0, help="Seed of every run."),
    epochs: int = typer.Option(TRAIN.epochs, help="Training epochs of every run."),
    max_images: Optional[int] = typer.Option(None, help="Use only the first N images of every split."),
    cache: bool = typer.Option(True, "--cache/--no-cache", help=CACHE_HELP),
    runs_dir: Path = typer.Option(Path("runs"), envvar="SHERPA_BENCH_RUNS", help=RUNS_HELP),
    data_root: Optional[Path] = typer.Option(None, envvar="SHERPA_BENCH_DATA", help=DATA_HELP),
    checkpoint_dir: Optional[Path] = typer.Option(None, envvar="SHERPA_BENCH_CHECKPOINTS", help=CHECKPOINT_HELP),
) -> None:
    """Run one of the SHERPA paper's ablation tables and write it in the paper's shape.

    Example: sherpa-bench experiment table5 --finetune toy-thin
    """
    _use_checkpoint_dir(checkpoint_dir)
    from dataclasses import replace

    from sherpa_bench.harness.atomic import atomic_write_text
    from sherpa_bench.harness.experiments import experiment as find_experiment
    from sherpa_bench.harness.experiments import render
    from sherpa_bench.harness.runner import RunConfig, execute

    spec = find_experiment(name)
    base = RunConfig(
        method="zero-shot", finetune=finetune, model=model, seed=seed, train=replace(TRAIN, epochs=epochs),
        max_images=max_images, data_root=str(data_root) if data_root else None,
    )  # fmt: skip
    command = shlex.join(["sherpa-bench", *sys.argv[1:]])
    records = [
        execute(
            replace(base, method=v.method, settings=v.settings), runs_dir, command, progress=_say, embedding_cache=cache
        )
        for v in spec.variants
    ]
    text = render(spec, records, finetune, model)
    path = Path(runs_dir) / finetune / model / f"experiment-{name}.md"
    atomic_write_text(path, text)
    typer.echo(text)
    _say(f"table written to {path}")


@app.command()
def leaderboard(
    finetune: str = typer.Option("toy-thin", "--finetune", "-f", help="Fine-tuning task."),
    model: str = typer.Option("toy-large", help="Fine-tuned model."),
    metric: str = typer.Option("f1", help="Metric of the table: f1, miou or dice."),
    epochs: int = typer.Option(TRAIN.epochs, help="Only runs trained with this many epochs (one protocol per table)."),
    lr: float = typer.Option(TRAIN.lr, help="Only runs trained with this learning rate."),
    loss: str = typer.Option(TRAIN.loss, help="Only runs trained with this task loss."),
    images_per_step: int = typer.Option(TRAIN.images_per_step, help="Only runs trained with this batch size."),
    max_images: Optional[int] = typer.Option(None, help="Only runs limited to this many images per split."),
    train_prompt: str = typer.Option(TRAIN.prompt, help="Only runs trained with this prompt protocol."),
    prompt: str = typer.Option("box", help="Only runs evaluated with this prompt protocol."),
    mask_output: str = typer.Option("single", help="Only runs scoring this mask output."),
    max_instances: Optional[int] = typer.Option(None, help="Only runs with this instance cap."),
    suite: Optional[str] = typer.Option(None, help="Only runs scored on this suite [default: the task's]."),
    precision: str = typer.Option("fp32", help="Only runs with this image encoder precision."),
    attention: str = typer.Option("reference", help="Only runs with this encoder attention."),
    compile: bool = typer.Option(
        False, "--compile/--no-compile", help="Only runs with (or without) a compiled encoder."
    ),
    runs_dir: Path = typer.Option(Path("runs"), envvar="SHERPA_BENCH_RUNS", help=RUNS_HELP),
) -> None:
    """Rebuild the retention leaderboard (SHERPA Table 1 shape) of a task from its run records."""
    from sherpa_bench.harness.runner import RunConfig

    train_config = TrainConfig(epochs=epochs, lr=lr, loss=loss, images_per_step=images_per_step, prompt=train_prompt)
    reference = RunConfig(
        method="zero-shot", finetune=finetune, model=model, train=train_config, max_images=max_images,
        prompt=prompt, mask_output=mask_output, max_instances=max_instances, suite=suite,
        precision=precision, attention=attention, compile=compile,
    )  # fmt: skip
    _print_leaderboard(runs_dir, metric, reference)


@app.command()
def check(
    update: bool = typer.Option(False, help="Re-run the toy leaderboards and rewrite their baselines and tables."),
    baseline_dir: Path = typer.Option(None, help="Folder of baselines (default: the package's leaderboards/toy)."),
    runs_dir: Path = typer.Option(Path("runs"), envvar="SHERPA_BENCH_RUNS", help=RUNS_HELP),
) -> None:
    """Re-run the toy leaderboards and compare every cell with its committed baseline.

    Exits 1 naming each cell that moved beyond its tolerance, either way: an intended change is
    recorded with --update and committed.
    """
    from sherpa_bench.harness import regression
    from sherpa_bench.leaderboards.check import format_report
    from sherpa_bench.leaderboards.table import render_markdown

    folder = baseline_dir or regression.TOY_DIR
    if update:
        for path, board in regression.update(folder, runs_dir, _say):
            typer.echo(render_markdown(board))
            typer.echo(f"baseline written: {path}\n")
        return
    failed = False
    for outcome in regression.check(folder, runs_dir, _say):
        typer.echo(render_markdown(outcome.board))
        typer.echo(f"compared with {outcome.baseline}:")
        typer.echo(format_report(outcome.changes) + "\n")
        failed = failed or outcome.failed
    if failed:
        typer.secho(
            "regression check FAILED; if the change is intended, run `sherpa-bench check --update` and commit",
            fg=typer.colors.RED, err=True,
        )  # fmt: skip
        raise typer.Exit(1)
    typer.echo("regression check passed")


def _step_reporter(name: str, total: int, started: float):
    def report(step: int, loss: float) -> None:
        if step % 50 == 0 or step == total - 1:
            typer.echo(f"[{name}] step {step + 1}/{total} loss {loss:.4f} ({time.time() - started:.0f}s)")

    return report


@app.command("pretrain-toy")
def pretrain_toy(
    model: List[str] = typer.Option(["toy-small", "toy-large"], help="Toy model(s) to pre-train."),
    steps: Optional[int] = typer.Option(None, help="Optimiser steps of 8 images [default: 3000 small, 4000 large]."),
    seed: int = typer.Option(0, help="Seed of initialisation and prompt sampling."),
    threads: int = typer.Option(1, help="Torch CPU threads (recorded: results depend on it)."),
) -> None:
    """Re-make the shipped toy SAM weights from the recorded recipe (CPU, about 15-30 min each)."""
    import torch

    from sherpa_bench.models.pretrain_toy import DEFAULT_STEPS, PretrainRecipe, pretrain, save_pretrained

    torch.set_num_threads(threads)
    for name in model:
        recipe = PretrainRecipe(model=name, steps=steps or DEFAULT_STEPS[name], seed=seed)
        started = time.time()
        trained = pretrain(recipe, progress=_step_reporter(name, recipe.steps, started))
        command = f"sherpa-bench pretrain-toy --model {name} --steps {recipe.steps} --seed {seed} --threads {threads}"
        path = save_pretrained(trained, recipe, time.time() - started, command)
        typer.echo(f"[{name}] weights written to {path}")


@app.command()
def export(
    run_dir: Path = typer.Argument(..., help="A finished run's folder, runs/<task>/<model>/<run>/."),
    out: Optional[Path] = typer.Option(None, help="Folder of the exported file [default: RUN/export/]."),
    checkpoint_dir: Optional[Path] = typer.Option(None, envvar="SHERPA_BENCH_CHECKPOINTS", help=CHECKPOINT_HELP),
) -> None:
    """Write a run's fine-tuned model as a file the stock segment_anything / sam2 builders load, with a
    manifest (base model hash, method, run id) beside it."""
    from sherpa_bench.harness.export import export_run

    _use_checkpoint_dir(checkpoint_dir)
    exported = export_run(run_dir, out)
    manifest = json.loads(exported.manifest.read_text())
    typer.echo(f"weights:  {exported.weights}\nmanifest: {exported.manifest}\nload with: {manifest['load_with']}")


def _list_models(registry) -> None:
    """Each model, and for released checkpoints whether the file is present, its size and hash."""
    from sherpa_bench.models.checkpoints import file_sha256
    from sherpa_bench.models.zoo import CHECKPOINT_ENV, checkpoint_dir

    folder = checkpoint_dir()
    typer.echo(f"checkpoint folder: {folder or f'not set (--checkpoint-dir or {CHECKPOINT_ENV})'}")
    for entry in registry:
        line = f"{entry.name:<16} {entry.description}"
        file_name = getattr(entry.obj, "file_name", None)
        if file_name is not None:
            path = folder / file_name if folder else None
            if path is not None and path.is_file():
                size = path.stat().st_size / 2**20
                line += f"\n{'':<16} present: {path} ({size:,.1f} MiB, sha256 {file_sha256(path)[:16]})"
            else:
                line += f"\n{'':<16} missing: {file_name} (download from {entry.obj.source})"
        typer.echo(line)


@app.command("list")
def list_entries(
    kind: str = typer.Argument(..., help="methods | models | datasets | metrics | prompts"),
    checkpoint_dir: Optional[Path] = typer.Option(None, envvar="SHERPA_BENCH_CHECKPOINTS", help=CHECKPOINT_HELP),
) -> None:
    """List what is registered, one line each (models: which checkpoint files are present)."""
    from sherpa_bench.harness.registry import DATASETS, METHODS, METRICS, MODELS, PROMPTS

    registries = {"methods": METHODS, "models": MODELS, "datasets": DATASETS, "metrics": METRICS, "prompts": PROMPTS}
    if kind not in registries:
        raise UserError(f"cannot list {kind!r}; choose one of {', '.join(registries)}")
    _use_checkpoint_dir(checkpoint_dir)
    if kind == "models":
        _list_models(MODELS)
        return
    for entry in registries[kind]:
        extra = ""
        if kind == "datasets":
            task = "fine-tuning task; " if entry.obj.is_finetune_task() else ""
            extra = f" [{task}splits: {', '.join(entry.obj.splits)}]"
        if kind == "methods" and entry.obj.paper:
            extra = f" [{entry.obj.paper}]"
        typer.echo(f"{entry.name:<14} {entry.description}{extra}")


@app.command()
def profile(
    method: List[str] = typer.Option(["zero-shot", "std-ft", "sherpa"], "--method", "-m", help="Method(s) to profile."),
    model: str = typer.Option("toy-large", help="Model; `sherpa-bench list models`."),
    finetune: str = typer.Option("toy-thin", "--finetune", "-f", help="Task whose training images are used."),
    images: int = typer.Option(8, help="Training images profiled (two epochs over them)."),
    images_per_step: int = typer.Option(TRAIN.images_per_step, help="Images per optimisation step."),
    dataset_size: int = typer.Option(3000, help="Images of the real training set, for the projection (DIS-TR: 3000)."),
    epochs: int = typer.Option(20, help="Epochs of the projection (the paper: 20)."),
    out: Optional[Path] = typer.Option(None, help="Also write the table to this file."),
    device: Optional[str] = typer.Option(None, help=DEVICE_HELP),
    precision: str = typer.Option("fp32", help=PRECISION_HELP),
    attention: str = typer.Option("reference", help=ATTENTION_HELP),
    compile: bool = typer.Option(False, "--compile/--no-compile", help=COMPILE_HELP),
    data_root: Optional[Path] = typer.Option(None, envvar="SHERPA_BENCH_DATA", help=DATA_HELP),
    checkpoint_dir: Optional[Path] = typer.Option(None, envvar="SHERPA_BENCH_CHECKPOINTS", help=CHECKPOINT_HELP),
) -> None:
    """Time, memory, parameters and FLOPs of each method, as SHERPA Table 15.

    Example: sherpa-bench profile -m std-ft -m sherpa --model sam-vit-h -f disk5k --dataset-size 3000
    """
    from sherpa_bench.harness.atomic import atomic_write_text
    from sherpa_bench.harness.profile import ProfileSetup, profile_method, render_profiles
    from sherpa_bench.harness.runner import resolve_device
    from sherpa_bench.methods.combined import resolve_method
    from sherpa_bench.models.encoder_paths import EncoderPaths

    _use_checkpoint_dir(checkpoint_dir)
    for name in method:
        resolve_method(name)
    setup = ProfileSetup(
        model=model, task=finetune, images=images, train=TrainConfig(images_per_step=images_per_step),
        device=resolve_device(device), paths=EncoderPaths(precision, attention, compile), data_root=data_root,
    )  # fmt: skip
    profiles = []
    for name in method:
        _say(f"profiling {name}")
        profiles.append(profile_method(name, setup, dataset_size, epochs))
    text = render_profiles(profiles, setup, dataset_size, epochs)
    if out is not None:
        atomic_write_text(out, text)
    typer.echo(text)


data_app = typer.Typer(no_args_is_help=True, help="Inspect the real datasets on disk.")
app.add_typer(data_app, name="data")


@data_app.command("check")
def data_check(
    names: List[str] = typer.Argument(None, help="Datasets to check [default: every dataset read from disk]."),
    limit: Optional[int] = typer.Option(
        None, help="Decode at most N samples per split (the listing is always complete)."
    ),
    data_root: Optional[Path] = typer.Option(None, envvar="SHERPA_BENCH_DATA", help=DATA_HELP),
) -> None:
    """For each dataset: where it looked, what it found (counts against the official release, image
    modes and sizes, raw mask values, empty masks) and the fix for every problem. Exits 1 when a
    named dataset (or, with no names, a dataset that is on disk) has a problem.

    Example: sherpa-bench data check disk5k ecssd --data-root /data
    """
    from sherpa_bench.datasets.check import check_dataset, format_report
    from sherpa_bench.harness.registry import DATASETS

    chosen = list(names) if names else [e.name for e in DATASETS if not e.obj.generated]
    for name in chosen:
        DATASETS.entry(name)
    failed, absent = [], []
    for name in chosen:
        report = check_dataset(name, data_root, limit, progress=_say)
        if report.absent and not names:
            absent.append(name)
            continue
        typer.echo(format_report(report) + "\n")
        if report.failed:
            failed.append(name)
    if absent:
        typer.echo(
            f"not on disk (nothing checked): {', '.join(absent)}; `sherpa-bench data check NAME` shows where each is looked for"
        )
    if failed:
        typer.secho(f"data check FAILED for: {', '.join(failed)}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    typer.echo("data check passed")


def main() -> None:
    try:
        app()
    except UserError as error:
        typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
        sys.exit(2)
