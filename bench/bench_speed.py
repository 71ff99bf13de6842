"""Upstream SAM usage vs sherpa-bench's paths, side by side in one process; print JSON.

    python bench/bench_speed.py                                  # toy-large on CPU, about a minute
    python bench/bench_speed.py --model sam-vit-h --device cuda --images 16 --boxes 5 --size 1024x768

Two comparisons on the same images, boxes and weights:

* zero-shot evaluation (upstream: fp32 and segment_anything's attention; sherpa-bench: ``--precision``
  and ``--attention``): ``SamPredictor`` (``set_image`` + one ``predict`` per box: what a user writes)
  against ``harness.evaluate.predict_dataset`` (one encoder call per image, every box of an image in one decoder
  call); masks compared pairwise (IoU per mask: mean and minimum reported).
* a decoder-only fine-tuning step (Std-ft, ``--images-per-step`` images x ``--boxes`` boxes): the
  upstream loop re-runs the frozen encoder under ``no_grad`` at every step and decodes image by
  image; sherpa-bench's trainer reads the embeddings from its cache and decodes every image's
  prompts in one call.

Timings are the best of ``--repeat`` runs after one warm-up; on CUDA each is synchronised.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from typing import Callable

import numpy as np
import torch

from sherpa_bench.datasets.types import Sample, SegmentationDataset
from sherpa_bench.harness.config import TrainConfig
from sherpa_bench.harness.embeddings import EmbeddingCache
from sherpa_bench.harness.evaluate import predict_dataset
from sherpa_bench.harness.losses import task_loss
from sherpa_bench.harness.registry import MODELS
from sherpa_bench.harness.runner import load_model
from sherpa_bench.models.encoder_paths import EncoderPaths
from sherpa_bench.prompts import boxes_for_sample


class Images(SegmentationDataset):
    """Random images with ``boxes`` rectangular instances each (speed does not depend on content)."""

    name = "bench"
    splits = ("test",)

    def __init__(self, count: int, height: int, width: int, boxes: int, seed: int = 0) -> None:
        super().__init__("test")
        rng = np.random.default_rng(seed)
        self.samples = []
        for index in range(count):
            masks = np.zeros((boxes, height, width), dtype=bool)
            for k in range(boxes):
                y0, x0 = rng.integers(0, height // 2), rng.integers(0, width // 2)
                masks[k, y0 : y0 + rng.integers(8, height // 2), x0 : x0 + rng.integers(8, width // 2)] = True
            image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
            self.samples.append(Sample(str(index), image, masks, tuple(range(1, boxes + 1))))

    def __len__(self) -> int:
        return len(self.samples)

    def _load(self, index: int) -> Sample:
        return self.samples[index]


def best_of(repeat: int, run: Callable[[], object], device: torch.device) -> float:
    run()  # warm-up
    times = []
    for _ in range(repeat):
        if device.type == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        run()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    return min(times)


def upstream_masks(model, data: Images) -> list[np.ndarray]:
    """SamPredictor, one predict call per box, as the segment_anything README shows."""
    from segment_anything import SamPredictor

    predictor = SamPredictor(model.sam)
    masks = []
    for sample in data.samples:
        predictor.set_image(sample.image)
        for box in boxes_for_sample(sample.masks):
            mask, _, _ = predictor.predict(box=box, multimask_output=False)
            masks.append(mask[0])
    return masks


def harness_masks(model, data: Images) -> list[np.ndarray]:
    """The harness's evaluation path, masks kept for the agreement check."""
    masks = []
    cache = EmbeddingCache(model, remember=False)
    with torch.no_grad():
        for start in range(0, len(data), 8):
            samples = data.samples[start : start + 8]
            for sample, image in zip(samples, cache.encode(samples, use_cache=False)):
                out = model.decode(
                    image.embedding, boxes=model.boxes_to_input(boxes_for_sample(sample.masks), image.frame)
                )
                masks.extend((model.logits_to_original(out.low_res_logits, image.frame)[:, 0] > 0).cpu().numpy())
    return masks


def std_ft_step(model, samples: list[Sample], cache: EmbeddingCache | None, optimizer, upstream=None) -> None:
    """One decoder-only step. Upstream habit (no ``cache``): the frozen encoder of ``upstream`` (fp32,
    eager, same weights) runs again on the batch, then one decoder call per image. sherpa-bench's
    trainer: embeddings from the cache, every image's prompts in one decoder call."""
    if cache is None:
        prepared = [upstream.prepare_image(s.image) for s in samples]
        with torch.no_grad():
            batch = upstream.encode(torch.stack([p[0] for p in prepared]))
        frames, embeddings = [p[1] for p in prepared], upstream.per_image(batch)
    else:
        encoded = cache.encode(samples)
        frames, embeddings = [e.frame for e in encoded], [e.embedding for e in encoded]
    inputs = [{"boxes": model.boxes_to_input(boxes_for_sample(s.masks), f)} for s, f in zip(samples, frames)]
    if cache is None:
        outputs = [model.decode(embedding, **i) for embedding, i in zip(embeddings, inputs)]
    else:
        outputs = model.decode_images(embeddings, inputs)
    loss = 0.0
    for sample, frame, out in zip(samples, frames, outputs):
        targets, valid = model.masks_to_input(sample.masks, frame)
        loss = loss + task_loss(model.upscale_to_input(out.low_res_logits)[:, 0], targets, valid, TrainConfig().loss)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="toy-large")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--boxes", type=int, default=5)
    parser.add_argument("--size", default="96x128", help="HxW of the images")
    parser.add_argument("--images-per-step", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--precision", default="fp32", help="sherpa-bench's encoder precision: fp32 or bf16")
    parser.add_argument("--attention", default="reference", help="sherpa-bench's ViT attention: reference or sdpa")
    parser.add_argument("--compile", action="store_true", help="sherpa-bench's encoder through torch.compile")
    args = parser.parse_args()
    device = torch.device(args.device)
    height, width = (int(v) for v in args.size.split("x"))
    reference = MODELS.get(args.model).load().to(device).eval()  # upstream: fp32, segment_anything's attention
    paths = EncoderPaths(args.precision, args.attention, args.compile)
    model = load_model(args.model, args.device, paths).eval()
    data = Images(args.images, height, width, args.boxes)

    upstream = upstream_masks(reference, data)
    ours = harness_masks(model, data)
    ious = [(a & b).sum() / max((a | b).sum(), 1) for a, b in zip(upstream, ours)]
    t_upstream = best_of(args.repeat, lambda: upstream_masks(reference, data), device)
    t_ours = best_of(args.repeat, lambda: predict_dataset(model, data), device)

    model.train()
    model.requires_grad_(False)
    model.mask_decoder.requires_grad_(True)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-6)
    step_samples = data.samples[: args.images_per_step]
    cache = EmbeddingCache(model)
    cache.encode(step_samples)  # the cache is filled by the first epoch; steady-state steps are timed
    t_step_upstream = best_of(args.repeat, lambda: std_ft_step(model, step_samples, None, optimizer, reference), device)
    t_step_ours = best_of(args.repeat, lambda: std_ft_step(model, step_samples, cache, optimizer), device)

    report = {
        "model": args.model,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "images": args.images,
        "boxes_per_image": args.boxes,
        "size_hw": [height, width],
        "sherpa_bench_encoder": {"precision": args.precision, "attention": args.attention, "compile": args.compile},
        "zero_shot_eval": {
            "upstream_samppredictor_img_per_s": round(args.images / t_upstream, 3),
            "sherpa_bench_img_per_s": round(args.images / t_ours, 3),
            "ratio": round(t_upstream / t_ours, 3),
            "mask_iou_mean": float(np.mean(ious)),
            "mask_iou_min": float(np.min(ious)),
        },
        "std_ft_step": {
            "images_per_step": args.images_per_step,
            "upstream_encoder_rerun_s": round(t_step_upstream, 5),
            "sherpa_bench_cached_s": round(t_step_ours, 5),
            "ratio": round(t_step_upstream / t_step_ours, 3),
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
