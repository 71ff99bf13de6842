"""Time the per-instance metrics of one image's worth of instances; print JSON.

    python bench/bench_metrics.py                       # small defaults, well under a minute on a CPU
    python bench/bench_metrics.py --instances 1000 --size 1024 --device cuda

Each instance is an ellipse (ground truth) and a perturbed ellipse (prediction) on a size x size canvas.
Timed: TP/FP/FN counts (``pair_counts``, torch on --device), boundary F and boundary IoU counts on the
numpy/scipy path (CPU) and, when --device is an accelerator, on the torch path there (whose results are
checked against the numpy ones). Reports the best of --repeat runs, total and per instance, with the
versions, device and thread count.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from typing import Callable

import numpy as np
import scipy
import torch

from sherpa_bench.metrics import pair_counts
from sherpa_bench.metrics.boundary_iou import boundary_iou_counts
from sherpa_bench.metrics.davis import boundary_f


def ellipses(rng: np.random.Generator, count: int, size: int, jitter: float) -> tuple[np.ndarray, np.ndarray]:
    """(truth, prediction), each count x size x size bool: random ellipses and perturbed copies."""
    rows = np.arange(size, dtype=np.float32)[:, None]
    columns = np.arange(size, dtype=np.float32)[None, :]
    truth = np.empty((count, size, size), dtype=bool)
    predicted = np.empty_like(truth)
    for index in range(count):  # one instance at a time: a batched float grid would need count x size² floats
        centre = rng.uniform(0.2, 0.8, 2) * size
        radii = rng.uniform(0.05, 0.3, 2) * size
        for target, scale in ((truth, 0.0), (predicted, jitter)):
            c = centre + rng.normal(0, scale, 2) * radii
            r = radii * (1 + rng.normal(0, scale, 2))
            target[index] = ((rows - c[0]) / r[0]) ** 2 + ((columns - c[1]) / r[1]) ** 2 <= 1
    return truth, predicted


def best_seconds(run: Callable[[], object], repeat: int, device: torch.device) -> float:
    times = []
    for _ in range(repeat):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        run()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=32, help="instances of one image (default 32)")
    parser.add_argument("--size", type=int, default=256, help="image side in pixels (default 256)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", help="torch device")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is kept (default 3)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's own choice)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    device = torch.device(args.device)
    truth, predicted = ellipses(np.random.default_rng(args.seed), args.instances, args.size, jitter=0.05)
    truth_t, predicted_t = torch.from_numpy(truth).to(device), torch.from_numpy(predicted).to(device)

    measurements = {
        f"counts_torch_{device.type}": lambda: pair_counts(predicted_t, truth_t),
        "boundary_f_numpy": lambda: boundary_f(truth, predicted),
        "boundary_iou_numpy": lambda: boundary_iou_counts(predicted, truth),
    }
    agreement = {}
    if device.type != "cpu":  # CPU tensors take the scipy path for the morphology, so only time the kernels here
        measurements[f"boundary_f_torch_{device.type}"] = lambda: boundary_f(truth_t, predicted_t)
        measurements[f"boundary_iou_torch_{device.type}"] = lambda: boundary_iou_counts(predicted_t, truth_t)
        agreement = {
            "boundary_f_max_abs_diff": float(
                np.abs(boundary_f(truth, predicted) - boundary_f(truth_t, predicted_t)).max()
            ),
            "boundary_iou_counts_equal": bool(
                np.array_equal(boundary_iou_counts(predicted, truth), boundary_iou_counts(predicted_t, truth_t))
            ),
        }
    seconds = {name: best_seconds(run, args.repeat, device) for name, run in measurements.items()}
    print(
        json.dumps(
            {
                "instances": args.instances,
                "size": args.size,
                "device": str(device) if device.type != "cuda" else torch.cuda.get_device_name(device),
                "torch_threads": torch.get_num_threads(),
                "versions": {
                    "python": platform.python_version(),
                    "torch": torch.__version__,
                    "numpy": np.__version__,
                    "scipy": scipy.__version__,
                },
                "cpu": platform.processor() or platform.machine(),
                "seconds_total": {name: round(value, 4) for name, value in seconds.items()},
                "ms_per_instance": {name: round(1000 * value / args.instances, 3) for name, value in seconds.items()},
                "agreement": agreement,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
