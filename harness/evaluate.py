"""The evaluation loop: samples -> box prompts -> masks -> per-instance table -> dataset metrics.

Images are encoded in batches; all prompts of an image are decoded in one call; the first (single)
mask output is scored at the original resolution, as the SHERPA paper does (App. H).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable

import pandas as pd
import torch

from sherpa_bench.datasets.types import SegmentationDataset
from sherpa_bench.harness.embeddings import EmbeddingCache
from sherpa_bench.harness.registry import METRICS
from sherpa_bench.metrics import pair_counts
from sherpa_bench.metrics.boundary_iou import boundary_iou_counts
from sherpa_bench.models.sam import SamModel
from sherpa_bench.prompts import boxes_for_sample

INSTANCE_COLUMNS = [
    "dataset", "split", "image_id", "instance_id",
    "box_x0", "box_y0", "box_x1", "box_y1",
    "tp", "fp", "fn", "biou_inter", "biou_union", "predicted_iou",
]  # fmt: skip


@dataclass
class Predictions:
    """table: one row per prompted instance; content_hash: over every sample's pixels and masks,
    so two runs with equal hashes provably saw the same data; images: images with >= 1 instance."""

    table: pd.DataFrame
    content_hash: str
    images: int


@torch.no_grad()
def predict_dataset(
    model: SamModel,
    dataset: SegmentationDataset,
    images_per_batch: int = 8,
    progress: Callable[[int, int], None] | None = None,
) -> Predictions:
    """Box-prompt every instance, keep its box and the TP/FP/FN of its predicted mask."""
    model.eval()
    cache = EmbeddingCache(model)
    rows: list[dict] = []
    digest = hashlib.sha256()
    images = 0
    for start in range(0, len(dataset), images_per_batch):
        samples = [dataset[i] for i in range(start, min(start + images_per_batch, len(dataset)))]
        for sample in samples:
            digest.update(sample.content_hash().encode())
        samples = [s for s in samples if s.masks.shape[0] > 0]
        images += len(samples)
        if not samples:
            continue
        for sample, image in zip(samples, cache.encode(samples, use_cache=False)):
            boxes = boxes_for_sample(sample.masks)
            out = model.decode(image.embedding, boxes=model.boxes_to_input(boxes, image.frame))
            logits = model.logits_to_original(out.low_res_logits, image.frame)[:, 0]
            predicted = logits > model.mask_threshold
            counts = pair_counts(predicted, sample.masks, sample.ignore)
            bands = boundary_iou_counts(predicted, sample.masks, sample.ignore)
            ious = out.iou_predictions[:, 0].float().cpu().numpy()
            for k, instance_id in enumerate(sample.instance_ids):
                rows.append(
                    {
                        "dataset": dataset.name,
                        "split": dataset.split,
                        "image_id": sample.sample_id,
                        "instance_id": instance_id,
                        "box_x0": boxes[k, 0],
                        "box_y0": boxes[k, 1],
                        "box_x1": boxes[k, 2],
                        "box_y1": boxes[k, 3],
                        "tp": counts[k, 0],
                        "fp": counts[k, 1],
                        "fn": counts[k, 2],
                        "biou_inter": bands[k, 0],
                        "biou_union": bands[k, 1],
                        "predicted_iou": float(ious[k]),
                    }
                )
        if progress is not None:
            progress(min(start + images_per_batch, len(dataset)), len(dataset))
    return Predictions(pd.DataFrame(rows, columns=INSTANCE_COLUMNS), digest.hexdigest()[:16], images)


def score(table: pd.DataFrame, metrics: list[str]) -> dict[str, float]:
    """Dataset-level value of each named metric, from the per-instance table."""
    return {name: METRICS.get(name).aggregate(table) for name in metrics}
