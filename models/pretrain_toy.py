"""How the shipped toy weights were made: ``sherpa-bench pretrain-toy`` re-makes them.

The whole model (encoder, prompt encoder, decoder) trains on ``toy-generic`` as SAM trained on
SA-1B: per instance either a jittered box (single-mask output) or one random interior point
(three ambiguity masks, only the best one back-propagated), BCE + Dice on the mask plus MSE on the
IoU head. Every random choice comes from the recipe's seed.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from sherpa_bench.datasets.toy_generic import ToyGeneric
from sherpa_bench.harness.atomic import atomic_write_bytes, atomic_write_text
from sherpa_bench.harness.losses import soft_iou, task_loss_per_instance
from sherpa_bench.models.checkpoints import file_sha256
from sherpa_bench.models.sam import SamModel
from sherpa_bench.models.toy import build_toy_sam, recipe_path, weights_path
from sherpa_bench.prompts import boxes_for_sample, jitter_boxes

FINGERPRINT_SAMPLES = 16
# The large model gets more steps: with the small one's budget it matched toy-small on toy-generic
# but stayed behind it on the generalization suites.
DEFAULT_STEPS = {"toy-small": 3000, "toy-large": 4000}


def data_fingerprint(samples: int = FINGERPRINT_SAMPLES) -> str:
    """Hash of the first pre-training samples: proves the generator still makes the data the weights saw."""
    data = ToyGeneric("train")
    return hashlib.sha256("".join(data[i].content_hash() for i in range(samples)).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class PretrainRecipe:
    model: str
    steps: int = 3000
    images_per_step: int = 8
    prompts_per_image: int = 4
    lr: float = 5e-4
    weight_decay: float = 0.01
    warmup_steps: int = 100
    box_jitter: float = 0.08
    point_fraction: float = 0.4
    seed: int = 0
    dataset: str = ToyGeneric.name
    validation_images: int = 128


def _learning_rate(recipe: PretrainRecipe, step: int) -> float:
    if step < recipe.warmup_steps:
        return recipe.lr * (step + 1) / recipe.warmup_steps
    progress = (step - recipe.warmup_steps) / max(1, recipe.steps - recipe.warmup_steps)
    return recipe.lr * 0.5 * (1 + math.cos(math.pi * progress))


def _random_interior_points(masks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    points = []
    for mask in masks:
        rows, cols = np.nonzero(mask)
        pick = int(rng.integers(rows.size))
        points.append([[cols[pick] + 0.5, rows[pick] + 0.5]])
    return np.asarray(points)


def _step_loss(model: SamModel, data: ToyGeneric, recipe: PretrainRecipe, step: int) -> torch.Tensor:
    rng = np.random.default_rng([recipe.seed, step])
    samples = [data[step * recipe.images_per_step + j] for j in range(recipe.images_per_step)]
    prepared = [model.prepare_image(s.image) for s in samples]
    embeddings = model.encode(torch.stack([p[0] for p in prepared]))
    terms = []
    for index, (sample, (_, frame)) in enumerate(zip(samples, prepared)):
        count = sample.masks.shape[0]
        if count == 0:
            continue
        chosen = rng.permutation(count)[: recipe.prompts_per_image]
        masks = sample.masks[chosen]
        targets, valid = model.masks_to_input(masks, frame)
        by_point = rng.random(len(chosen)) < recipe.point_fraction
        embedding = embeddings[index : index + 1]
        if (~by_point).any():
            boxes = jitter_boxes(boxes_for_sample(masks[~by_point]), rng, recipe.box_jitter, sample.size)
            out = model.decode(embedding, boxes=model.boxes_to_input(boxes, frame))
            logits = model.upscale_to_input(out.low_res_logits)[:, 0]
            truth = targets[~torch.as_tensor(by_point)]
            terms.append(task_loss_per_instance(logits, truth, valid, "bce-dice"))
            iou = soft_iou(logits.detach(), truth, valid)
            terms.append((out.iou_predictions[:, 0] - iou) ** 2)
        if by_point.any():
            points = model.points_to_input(_random_interior_points(masks[by_point], rng), frame)
            labels = torch.ones(points.shape[:2], dtype=torch.int, device=points.device)
            out = model.decode(embedding, points=(points, labels), multimask_output=True)
            logits = model.upscale_to_input(out.low_res_logits)
            truth = targets[torch.as_tensor(by_point)]
            per_mask = torch.stack(
                [task_loss_per_instance(logits[:, k], truth, valid, "bce-dice") for k in range(3)], 1
            )
            terms.append(per_mask.min(dim=1).values)
            ious = torch.stack([soft_iou(logits[:, k].detach(), truth, valid) for k in range(3)], 1)
            terms.append(((out.iou_predictions - ious) ** 2).mean(dim=1))
    return torch.cat(terms).mean()


@torch.no_grad()
def validation_iou(model: SamModel, images: int) -> float:
    """Mean IoU of box-prompted masks on ``toy-generic``'s validation split."""
    data = ToyGeneric("valid")
    scores = []
    for index in range(min(images, len(data))):
        sample = data[index]
        if sample.masks.shape[0] == 0:
            continue
        predicted = model.predict_boxes(sample.image, boxes_for_sample(sample.masks))
        intersection = (predicted & sample.masks).sum(axis=(1, 2))
        union = (predicted | sample.masks).sum(axis=(1, 2))
        scores.extend((intersection / np.maximum(union, 1)).tolist())
    return float(np.mean(scores))


def pretrain(recipe: PretrainRecipe, progress: Callable[[int, float], None] | None = None) -> SamModel:
    torch.manual_seed(recipe.seed)
    model = SamModel(build_toy_sam(recipe.model), recipe.model)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    data = ToyGeneric("train")
    for step in range(recipe.steps):
        for group in optimizer.param_groups:
            group["lr"] = _learning_rate(recipe, step)
        loss = _step_loss(model, data, recipe, step)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if progress is not None:
            progress(step, float(loss.detach()))
    model.eval()
    return model


def save_pretrained(model: SamModel, recipe: PretrainRecipe, seconds: float, command: str) -> Path:
    """Write the weights and, beside them, the recipe that regenerates them."""
    path = weights_path(recipe.model)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    torch.save(model.sam.state_dict(), buffer)
    atomic_write_bytes(path, buffer.getvalue())
    record = {
        "command": command,
        "recipe": asdict(recipe),
        "validation_mean_iou": validation_iou(model, recipe.validation_images),
        "data_fingerprint": data_fingerprint(),
        "train_seconds": round(seconds, 1),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.machine(),
        "sha256": file_sha256(path),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    atomic_write_text(recipe_path(recipe.model), json.dumps(record, indent=2) + "\n")
    return path
