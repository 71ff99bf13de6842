"""The evaluation loop: samples -> prompts -> masks -> per-instance table -> dataset metrics.

Images are encoded one at a time (bit-reproducible embeddings: ``harness/embeddings.py``); all
prompts of an image are decoded in one call; the chosen mask output is scored at the original
resolution. The default is SHERPA's protocol (App. H): one tight
box per instance and the single-mask output.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import pandas as pd
import torch

from sherpa_bench.datasets.types import Sample, SegmentationDataset
from sherpa_bench.harness.embedding_store import EmbeddingStore
from sherpa_bench.harness.embeddings import EmbeddingCache
from sherpa_bench.harness.errors import ConfigError
from sherpa_bench.harness.registry import METRICS, PROMPTS
from sherpa_bench.metrics import pair_counts
from sherpa_bench.metrics.boundary_iou import boundary_iou_counts
from sherpa_bench.models.sam import DecoderOutput
from sherpa_bench.prompts import boxes_for_sample, sample_rng
from sherpa_bench.prompts.encode import prompts_to_input

INSTANCE_COLUMNS = [
    "dataset", "split", "image_id", "instance_id",
    "box_x0", "box_y0", "box_x1", "box_y1",
    "tp", "fp", "fn", "biou_inter", "biou_union", "predicted_iou", "prompt",
]  # fmt: skip

# Which mask is scored: "single" = SAM's single-mask output (multimask_output=False, what
# SamPredictor returns by default and what the paper's tables score); "first" / "second" / "third"
# = the three ambiguity outputs (SHERPA Tables 9-10); "best" = the ambiguity output with the highest
# predicted IoU (SAM's own choice for a single click).
MASK_OUTPUTS = ("single", "first", "second", "third", "best")


@dataclass
class Predictions:
    """table: one row per prompted instance; content_hash: over every visited sample's pixels and
    masks, so two runs with equal hashes provably saw the same data; images: images with >= 1 scored
    instance."""

    table: pd.DataFrame
    content_hash: str
    images: int


@dataclass(frozen=True)
class EvalProtocol:
    """How instances are prompted and which mask output is scored; seeded, identical for every method.

    max_instances: score at most this many instances per dataset: images in a seeded order, every
    instance of an image until the cap, the last image's instances a seeded draw (None = all).
    """

    prompt: str = "box"
    mask_output: str = "single"
    seed: int = 0
    max_instances: int | None = None

    def __post_init__(self) -> None:
        PROMPTS.entry(self.prompt)
        if self.mask_output not in MASK_OUTPUTS:
            raise ConfigError(f"unknown mask output {self.mask_output!r}; choose one of {', '.join(MASK_OUTPUTS)}")


def select_output(out: DecoderOutput, mask_output: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(N x 1 x h x w low-res logits, N predicted IoUs) of the scored output."""
    if mask_output == "single":
        return out.low_res_logits[:, :1], out.iou_predictions[:, 0]
    if mask_output == "best":
        index = out.iou_predictions.argmax(dim=1)
    else:
        index = torch.full((out.iou_predictions.shape[0],), MASK_OUTPUTS.index(mask_output) - 1)
    rows = torch.arange(index.shape[0])
    return out.low_res_logits[rows, index][:, None], out.iou_predictions[rows, index]


def _scored_instances(
    dataset: SegmentationDataset, protocol: EvalProtocol, digest
) -> Iterator[tuple[Sample, np.ndarray]]:
    """(sample, indices of its scored instances) in evaluation order, honouring the instance cap."""
    capped = protocol.max_instances is not None
    order = np.random.default_rng([protocol.seed, 11]).permutation(len(dataset)) if capped else range(len(dataset))
    remaining = protocol.max_instances if capped else None
    for index in order:
        sample = dataset[int(index)]
        digest.update(sample.content_hash().encode())
        count = sample.masks.shape[0]
        if count == 0:
            continue
        chosen = np.arange(count)
        if remaining is not None:
            if count > remaining:
                rng = sample_rng(protocol.seed, dataset.name, dataset.split, f"{sample.sample_id}/cap")
                chosen = np.sort(rng.choice(count, remaining, replace=False))
            remaining -= len(chosen)
        yield sample, chosen
        if remaining == 0:
            return


@torch.no_grad()
def predict_dataset(
    model,
    dataset: SegmentationDataset,
    protocol: EvalProtocol = EvalProtocol(),
    images_per_batch: int = 8,
    progress: Callable[[int, int], None] | None = None,
    disk: EmbeddingStore | None = None,
) -> Predictions:
    """Prompt every scored instance, keep its prompt and the TP/FP/FN of its predicted mask.
    ``disk``: read and write image embeddings there (only valid for the model's current encoder)."""
    model.eval()
    cache = EmbeddingCache(model, disk=disk, remember=False)
    prompt_protocol = PROMPTS.get(protocol.prompt)
    multimask = protocol.mask_output != "single"
    rows: list[dict] = []
    digest = hashlib.sha256()
    images = 0
    batch: list[tuple[Sample, np.ndarray]] = []

    def flush() -> None:
        for (sample, chosen), image in zip(batch, cache.encode([s for s, _ in batch], use_cache=disk is not None)):
            truth = sample.masks[chosen]
            rng = sample_rng(protocol.seed, dataset.name, dataset.split, sample.sample_id)
            prompts = prompt_protocol.make(sample.masks, rng).subset(chosen)
            out = model.decode(
                image.embedding, multimask_output=multimask, **prompts_to_input(model, prompts, image.frame)
            )
            low_res, ious = select_output(out, protocol.mask_output)
            predicted = model.logits_to_original(low_res, image.frame)[:, 0] > model.mask_threshold
            counts = pair_counts(predicted, truth, sample.ignore)
            bands = boundary_iou_counts(predicted, truth, sample.ignore)
            boxes = prompts.boxes if prompts.boxes is not None else boxes_for_sample(truth)
            for k, instance in enumerate(chosen):
                rows.append(
                    {
                        "dataset": dataset.name, "split": dataset.split, "image_id": sample.sample_id,
                        "instance_id": sample.instance_ids[instance],
                        "box_x0": boxes[k, 0], "box_y0": boxes[k, 1], "box_x1": boxes[k, 2], "box_y1": boxes[k, 3],
                        "tp": counts[k, 0], "fp": counts[k, 1], "fn": counts[k, 2],
                        "biou_inter": bands[k, 0], "biou_union": bands[k, 1],
                        "predicted_iou": float(ious[k]), "prompt": prompts.describe(k),
                    }
                )  # fmt: skip
        batch.clear()

    for sample, chosen in _scored_instances(dataset, protocol, digest):
        batch.append((sample, chosen))
        images += 1
        if len(batch) == images_per_batch:
            flush()
            if progress is not None:
                progress(images, len(dataset))
    if batch:
        flush()
    return Predictions(pd.DataFrame(rows, columns=INSTANCE_COLUMNS), digest.hexdigest()[:16], images)


def score(table: pd.DataFrame, metrics: list[str]) -> dict[str, float]:
    """Dataset-level value of each named metric, from the per-instance table."""
    return {name: METRICS.get(name).aggregate(table) for name in metrics}
