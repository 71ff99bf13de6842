"""``sherpa-bench profile``: what each method costs, in the shape of SHERPA Table 15.

Per method, on the same model, data and batch size: seconds per epoch (the first, which encodes
every image, and a later one, from cached embeddings), the projected time of the paper's schedule
(``--epochs`` over ``--dataset-size`` images), peak memory, trainable and total parameters, FLOPs of
a steady-state training step, and inference latency per image (every box of it in one call).

Profiling measures cost, not quality: a method that trains another model first (SHERPA's guide,
WiSE-ft's Std-ft run) gets that model untrained, so that the profile times the method's own steps.
FLOPs come from ``torch.utils.flop_counter`` as the difference between a two-epoch and a one-epoch
run of the same seed, divided by the steps of one epoch (the second epoch is the steady state).
"""

from __future__ import annotations

import platform
import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from sherpa_bench.datasets.types import FirstImages, SegmentationDataset
from sherpa_bench.harness.config import TrainConfig
from sherpa_bench.harness.evaluate import predict_dataset
from sherpa_bench.harness.registry import DATASETS
from sherpa_bench.harness.runner import load_model, peak_memory_mb
from sherpa_bench.harness.trainer import train
from sherpa_bench.methods.base import MethodContext, TrainedModel
from sherpa_bench.methods.combined import resolve_method


@dataclass
class MethodProfile:
    method: str
    first_epoch_s: float
    later_epoch_s: float
    projected_s: float
    peak_memory_mb: float
    trainable: int
    total: int
    flops_per_step: float
    inference_ms_per_image: float


def _context(model_name: str, task: str, data: SegmentationDataset, config: TrainConfig) -> MethodContext:
    def untrained(name: str, method: str, settings, epochs, label_noise) -> TrainedModel:
        return TrainedModel(load_model(name), f"(profile: {name} untrained)")

    work_dir = Path(tempfile.mkdtemp(prefix="sherpa-bench-profile-"))  # a method's artefacts; not kept
    return MethodContext(task, model_name, config, data, 0, work_dir, load_model, untrained)


def _train_once(method_name: str, model_name: str, task: str, data: SegmentationDataset, config: TrainConfig):
    torch.manual_seed(0)
    model = load_model(model_name)
    method = resolve_method(method_name).from_options({})
    context = _context(model_name, task, data, config)
    try:
        method.prepare(model, context)
        summary = train(model, method, data, config, seed=0)
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)  # before LoRA merges away
        return method.finalize(model), summary, trainable
    finally:
        shutil.rmtree(context.work_dir, ignore_errors=True)


def _flops(
    method_name: str, model_name: str, task: str, data: SegmentationDataset, config: TrainConfig, epochs: int
) -> int:
    counter = FlopCounterMode(display=False)
    with counter:
        _train_once(method_name, model_name, task, data, replace(config, epochs=epochs))
    return counter.get_total_flops()


def profile_method(
    method_name: str, model_name: str, task: str, images: int, config: TrainConfig, dataset_size: int, epochs: int,
    data_root=None,
) -> MethodProfile:  # fmt: skip
    """Profile one method on the first ``images`` training images of ``task``."""
    data = FirstImages(DATASETS.get(task)("train", data_root), images)
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    model, summary, trainable = _train_once(method_name, model_name, task, data, replace(config, epochs=2))
    peak = peak_memory_mb(model.device)
    steps_per_epoch = max(1, -(-len(data) // config.images_per_step))
    flops = (
        _flops(method_name, model_name, task, data, config, 2) - _flops(method_name, model_name, task, data, config, 1)
    ) / steps_per_epoch
    first, later = summary.seconds_by_epoch or [0.0, 0.0]
    per_image_first = first / len(data)
    per_image_later = later / len(data)
    projected = dataset_size * (per_image_first + (epochs - 1) * per_image_later)
    evaluation = FirstImages(DATASETS.get(task)(DATASETS.get(task).eval_split, data_root), images)
    started = time.perf_counter()
    predict_dataset(model, evaluation)
    latency = (time.perf_counter() - started) / len(evaluation) * 1000
    return MethodProfile(
        method=method_name,
        first_epoch_s=first,
        later_epoch_s=later,
        projected_s=projected,
        peak_memory_mb=peak,
        trainable=trainable,
        total=sum(p.numel() for p in model.parameters()),
        flops_per_step=flops,
        inference_ms_per_image=latency,
    )


def render_profiles(profiles: list[MethodProfile], model: str, task: str, images: int, config: TrainConfig,
                    dataset_size: int, epochs: int) -> str:  # fmt: skip
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else (platform.processor() or "CPU")
    cuda = torch.version.cuda or "none"
    header = (
        f"**Overhead of each method (SHERPA Table 15 shape)**: model `{model}`, task `{task}` (first {images} "
        f"training images), batch {config.images_per_step} images x up to {config.instances_per_image} prompts, "
        f"float32, device {device}, torch {torch.__version__}, CUDA {cuda}, {torch.get_num_threads()} CPU threads. "
        f"Projected: {epochs} epochs over {dataset_size} images (first epoch encodes, later epochs reuse embeddings). "
        + (
            "Peak memory: CUDA memory allocated by the method's run."
            if torch.cuda.is_available()
            else "Peak memory: the process's peak resident memory so far (CPU: cumulative over the rows, not per method)."
        )
    )
    lines = [
        header,
        "",
        "| Method | 1st epoch (s) | later epoch (s) | projected (h) | peak memory (MiB) | trainable | total | GFLOPs / step | inference (ms / image) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in profiles:
        lines.append(
            f"| {p.method} | {p.first_epoch_s:.2f} | {p.later_epoch_s:.2f} | {p.projected_s / 3600:.2f} | "
            f"{p.peak_memory_mb:,.0f} | {p.trainable:,} | {p.total:,} | {p.flops_per_step / 1e9:.3f} | "
            f"{p.inference_ms_per_image:.1f} |"
        )
    return "\n".join(lines) + "\n"
