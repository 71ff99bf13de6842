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
from typing import Optional

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
from sherpa_bench.models.encoder_paths import EncoderPaths


@dataclass(frozen=True)
class ProfileSetup:
    """What every profiled method shares: model, data, batch size, device and encoder paths."""

    model: str
    task: str
    images: int
    train: TrainConfig
    device: torch.device
    paths: EncoderPaths = EncoderPaths()
    data_root: Optional[Path] = None

    def load(self, name: str):
        return load_model(name, str(self.device), self.paths)

    def split(self, name: str) -> SegmentationDataset:
        return FirstImages(DATASETS.get(self.task)(name, self.data_root), self.images)


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


def _context(setup: ProfileSetup, data: SegmentationDataset, config: TrainConfig) -> MethodContext:
    def untrained(name: str, method: str, settings, epochs, label_noise) -> TrainedModel:
        return TrainedModel(setup.load(name), f"(profile: {name} untrained)")

    work_dir = Path(tempfile.mkdtemp(prefix="sherpa-bench-profile-"))  # a method's artefacts; not kept
    return MethodContext(setup.task, setup.model, config, data, 0, work_dir, setup.load, untrained)


def _train_once(method_name: str, setup: ProfileSetup, data: SegmentationDataset, epochs: int):
    torch.manual_seed(0)
    config = replace(setup.train, epochs=epochs)
    model = setup.load(setup.model)
    method = resolve_method(method_name).from_options({})
    context = _context(setup, data, config)
    try:
        method.prepare(model, context)
        summary = train(model, method, data, config, seed=0)
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)  # before LoRA merges away
        return method.finalize(model), summary, trainable
    finally:
        shutil.rmtree(context.work_dir, ignore_errors=True)


def _flops(method_name: str, setup: ProfileSetup, data: SegmentationDataset, epochs: int) -> int:
    counter = FlopCounterMode(display=False)
    with counter:
        _train_once(method_name, setup, data, epochs)
    return counter.get_total_flops()


def profile_method(method_name: str, setup: ProfileSetup, dataset_size: int, epochs: int) -> MethodProfile:
    """Profile one method on the first ``setup.images`` training images of ``setup.task``."""
    data = setup.split("train")
    if setup.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(setup.device)
    model, summary, trainable = _train_once(method_name, setup, data, epochs=2)
    peak = peak_memory_mb(model.device)
    steps_per_epoch = max(1, -(-len(data) // setup.train.images_per_step))
    flops = (_flops(method_name, setup, data, 2) - _flops(method_name, setup, data, 1)) / steps_per_epoch
    first, later = summary.seconds_by_epoch or [0.0, 0.0]
    per_image_first = first / len(data)
    per_image_later = later / len(data)
    projected = dataset_size * (per_image_first + (epochs - 1) * per_image_later)
    evaluation = setup.split(DATASETS.get(setup.task).eval_split)
    if setup.device.type == "cuda":
        torch.cuda.synchronize(setup.device)
    started = time.perf_counter()
    predict_dataset(model, evaluation)
    if setup.device.type == "cuda":
        torch.cuda.synchronize(setup.device)
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


def render_profiles(profiles: list[MethodProfile], setup: ProfileSetup, dataset_size: int, epochs: int) -> str:
    on_cuda = setup.device.type == "cuda"
    device = torch.cuda.get_device_name(setup.device) if on_cuda else (platform.processor() or "CPU")
    cuda = torch.version.cuda or "none"
    config, paths = setup.train, setup.paths
    encoder = f"image encoder {paths.precision}, {paths.attention} attention{', compiled' if paths.compile else ''}"
    header = (
        f"**Overhead of each method (SHERPA Table 15 shape)**: model `{setup.model}`, task `{setup.task}` (first "
        f"{setup.images} training images), batch {config.images_per_step} images x up to "
        f"{config.instances_per_image} prompts, {encoder}, decoder float32, device {device}, torch "
        f"{torch.__version__}, CUDA {cuda}, {torch.get_num_threads()} CPU threads. "
        f"Projected: {epochs} epochs over {dataset_size} images (first epoch encodes, later epochs reuse embeddings). "
        + (
            "Peak memory: CUDA memory allocated by the method's run."
            if on_cuda
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
