"""The training loop, shared by every method: AdamW, seeded order, task loss + method regularizers.

With a frozen image encoder each image is encoded once (``EmbeddingCache``) and every later epoch
only runs the prompt encoder and mask decoder.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from sherpa_bench.datasets.types import SegmentationDataset
from sherpa_bench.harness.atomic import atomic_write_bytes
from sherpa_bench.harness.config import TrainConfig
from sherpa_bench.harness.embedding_store import EmbeddingStore
from sherpa_bench.harness.embeddings import EmbeddingCache
from sherpa_bench.harness.losses import task_loss
from sherpa_bench.harness.registry import PROMPTS
from sherpa_bench.methods.base import Method, TrainStep
from sherpa_bench.models.sam import SamModel
from sherpa_bench.prompts.encode import prompts_to_input


@dataclass
class TrainSummary:
    steps: int
    seconds: float
    final_loss: float
    loss_by_epoch: list[float]
    embedding_cache: dict | None = None
    seconds_by_epoch: list[float] | None = None


Progress = Callable[[str], None]


def train(
    model: SamModel,
    method: Method,
    data: SegmentationDataset,
    config: TrainConfig,
    seed: int,
    checkpoint_dir: Path | None = None,
    progress: Progress | None = None,
    embedding_dir: Path | None = None,
) -> TrainSummary:
    """Fine-tune ``model`` in place with ``method``; one checkpoint of the trained tensors per epoch.
    ``embedding_dir``: with a frozen encoder, image embeddings are read from and written there."""
    method.select_trainable(model)
    trainable = [p for p in model.parameters() if p.requires_grad]
    started = time.time()
    if not trainable or config.epochs == 0:
        return TrainSummary(steps=0, seconds=0.0, final_loss=float("nan"), loss_by_epoch=[])
    optimizer = torch.optim.AdamW(method.parameter_groups(model), lr=config.lr, weight_decay=config.weight_decay)
    use_cache = EmbeddingCache.encoder_is_frozen(model)
    disk = EmbeddingStore(embedding_dir, model) if use_cache and embedding_dir is not None else None
    # with the disk store, later epochs read embeddings back from it instead of holding every image's
    # embedding in (GPU) memory: DUTS-TR's 10,553 vit_h embeddings alone would take 42 GB there
    cache = EmbeddingCache(model, disk=disk, remember=disk is None)
    model.train()
    steps, losses_by_epoch, loss_value = 0, [], float("nan")
    batches = max(1, -(-len(data) // config.images_per_step))
    seconds_by_epoch: list[float] = []
    for epoch in range(config.epochs):
        epoch_started = time.time()
        rng = np.random.default_rng([seed, epoch])
        order = rng.permutation(len(data))
        epoch_losses = []
        for batch_index in range(batches):
            indices = order[batch_index * config.images_per_step : (batch_index + 1) * config.images_per_step]
            loss = _step_loss(model, method, data, indices, config, cache, use_cache, rng, epoch, steps)
            if loss is None:
                continue
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            steps += 1
            loss_value = float(loss.detach())
            epoch_losses.append(loss_value)
        losses_by_epoch.append(float(np.mean(epoch_losses)) if epoch_losses else float("nan"))
        seconds_by_epoch.append(time.time() - epoch_started)
        if checkpoint_dir is not None:
            _save_checkpoint(checkpoint_dir / f"epoch-{epoch + 1:02d}.pt", model, optimizer, epoch + 1)
        if progress is not None:
            progress(f"epoch {epoch + 1}/{config.epochs} loss {losses_by_epoch[-1]:.4f} ({time.time() - started:.0f}s)")
    model.eval()
    cache_summary = disk.summary() if disk else None
    return TrainSummary(steps, time.time() - started, loss_value, losses_by_epoch, cache_summary, seconds_by_epoch)


def _step_loss(
    model: SamModel,
    method: Method,
    data: SegmentationDataset,
    indices: np.ndarray,
    config: TrainConfig,
    cache: EmbeddingCache,
    use_cache: bool,
    rng: np.random.Generator,
    epoch: int,
    step: int,
) -> torch.Tensor | None:
    samples = [s for s in (data[int(i)] for i in indices) if s.masks.shape[0] > 0]
    if not samples:
        return None
    encoded = cache.encode(samples, use_cache=use_cache)
    protocol = PROMPTS.get(config.prompt)
    chosen_masks, prompts = [], []
    for sample, image in zip(samples, encoded):
        chosen = np.sort(rng.permutation(sample.masks.shape[0])[: config.instances_per_image])
        chosen_masks.append(sample.masks[chosen])
        prompts.append(prompts_to_input(model, protocol.make(chosen_masks[-1], rng), image.frame))
    # every image of the step in one decoder call (one per image when their prompts differ in kind)
    outputs = model.decode_images([e.embedding for e in encoded], prompts)
    task_terms = []
    for masks, image, out in zip(chosen_masks, encoded, outputs):
        targets, valid = model.masks_to_input(masks, image.frame)
        logits = model.upscale_to_input(out.low_res_logits)[:, 0]
        task_terms.append(task_loss(logits, targets, valid, config.loss) * len(masks))
    instances = sum(min(s.masks.shape[0], config.instances_per_image) for s in samples)
    loss = torch.stack(task_terms).sum() / instances
    step_view = TrainStep(
        epoch=epoch,
        step=step,
        samples=samples,
        frames=[e.frame for e in encoded],
        embeddings=[e.embedding for e in encoded],
        prompts=prompts,
        outputs=outputs,
    )
    for term in method.regularizers(step_view).values():
        loss = loss + term
    return loss


def _save_checkpoint(path: Path, model: SamModel, optimizer: torch.optim.Optimizer, epoch: int) -> None:
    """Trained tensors only (the frozen rest is the registered model's), plus optimiser state."""
    trained = {name: p.detach().cpu() for name, p in model.named_parameters() if p.requires_grad}
    buffer = io.BytesIO()
    torch.save({"epoch": epoch, "trained": trained, "optimizer": optimizer.state_dict()}, buffer)
    atomic_write_bytes(path, buffer.getvalue())
