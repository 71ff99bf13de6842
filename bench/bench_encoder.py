"""Image encoder throughput, in images/s and TFLOP/s against the device's own matmul peak; print JSON.

    python bench/bench_encoder.py                                   # toy-large on the CPU, seconds
    python bench/bench_encoder.py --model sam-vit-h --device cuda --batch 1 --batch 8 \
        --path fp32/reference --path bf16/sdpa --path bf16/sdpa/compile

Per encoder path (``precision/attention[/compile]``, ``models/encoder_paths.py``) and batch size: the
best of ``--repeat`` timed forward passes under ``no_grad`` after two warm-ups (the first compiles),
peak memory on CUDA, and agreement with the reference path (fp32, segment_anything's attention,
eager) on the same images: largest absolute difference and smallest cosine similarity per image.

FLOPs per image are counted once, on the reference path, by ``torch.utils.flop_counter`` (the useful
work; a fused kernel does the same maths). The peak is a square matmul timed in the same process
(bf16 8192 on CUDA, fp32 2048 on the CPU), so the fraction does not depend on a datasheet.

Batch 1 is what the harness runs (one encoder call per image, so that an embedding depends on the
image only: docs/CHOICES.md); the larger batches show what that choice costs.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from sherpa_bench.harness.runner import load_model
from sherpa_bench.models.encoder_paths import EncoderPaths


def parse_path(text: str) -> EncoderPaths:
    parts = text.split("/")
    if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] != "compile"):
        raise SystemExit(f"--path {text!r}: expected PRECISION/ATTENTION or PRECISION/ATTENTION/compile")
    return EncoderPaths(parts[0], parts[1], compile=len(parts) == 3)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def best_seconds(run, device: torch.device, repeat: int) -> float:
    for _ in range(2):
        run()
    times = []
    for _ in range(repeat):
        synchronize(device)
        started = time.perf_counter()
        run()
        synchronize(device)
        times.append(time.perf_counter() - started)
    return min(times)


def matmul_peak_tflops(device: torch.device, repeat: int) -> tuple[float, str]:
    size, dtype = (8192, torch.bfloat16) if device.type == "cuda" else (2048, torch.float32)
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    seconds = best_seconds(lambda: a @ b, device, repeat)
    return 2 * size**3 / seconds / 1e12, f"{str(dtype).removeprefix('torch.')} {size}x{size}x{size} matmul"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="toy-large")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch", type=int, action="append", help="batch sizes (repeatable; default 1 and 8)")
    parser.add_argument("--path", action="append", help="encoder paths (repeatable; default fp32/reference, bf16/sdpa)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    device = torch.device(args.device)
    batches = args.batch or [1, 8]
    paths = [parse_path(p) for p in (args.path or ["fp32/reference", "bf16/sdpa"])]

    model = load_model(args.model, args.device).eval()
    generator = torch.Generator().manual_seed(args.seed)
    size = model.image_size
    images = torch.randn(max(batches), 3, size, size, generator=generator).to(device)

    with torch.no_grad():
        counter = FlopCounterMode(display=False)
        with counter:
            model.encode(images[:1])
        flops_per_image = counter.get_total_flops()
        reference = torch.cat([model.encode(images[i : i + 1]) for i in range(len(images))]).flatten(1)
        peak, peak_what = matmul_peak_tflops(device, args.repeat)

        rows = []
        for paths_ in paths:
            model.configure_encoder(paths_)
            for batch in batches:
                if device.type == "cuda":
                    torch.cuda.reset_peak_memory_stats(device)
                seconds = best_seconds(lambda batch=batch: model.encode(images[:batch]), device, args.repeat)
                embeddings = model.encode(images[:batch]).flatten(1)
                cosine = torch.nn.functional.cosine_similarity(embeddings, reference[:batch], dim=1)
                tflops = flops_per_image * batch / seconds / 1e12
                rows.append(
                    {
                        "precision": paths_.precision,
                        "attention": paths_.attention,
                        "compile": paths_.compile,
                        "batch": batch,
                        "img_per_s": round(batch / seconds, 3),
                        "tflops": round(tflops, 3),
                        "fraction_of_peak": round(tflops / peak, 4),
                        "peak_memory_mib": round(torch.cuda.max_memory_allocated(device) / 2**20)
                        if device.type == "cuda"
                        else None,
                        "max_abs_diff_vs_reference": float((embeddings - reference[:batch]).abs().max()),
                        "min_cosine_vs_reference": float(cosine.min()),
                    }
                )

    report = {
        "model": args.model,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "threads": torch.get_num_threads(),
        "input_size": size,
        "gflop_per_image": round(flops_per_image / 1e9, 2),
        "peak_tflops": round(peak, 3),
        "peak_measured_with": peak_what,
        "paths": rows,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
