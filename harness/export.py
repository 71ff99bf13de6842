"""``sherpa-bench export RUN``: a finished run's evaluated model as a file the stock builders load.

SAM and MedSAM runs become a raw state dict (``segment_anything.sam_model_registry[arch](checkpoint=
file)``), SAM 2 runs ``{"model": state dict}`` (``sam2.build_sam.build_sam2(config, file)``), toy runs a
raw state dict for ``sherpa_bench.models.toy.build_toy_sam``. LoRA is already merged into the weights
by the method's ``finalize``; an adapter branch is non-linear and has no place in SAM's state dict,
so such runs are refused with the reason. A manifest beside the file names the base model and its
hash, the method and its settings, the run and the tensors that differ from the base.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import torch

from sherpa_bench.harness.atomic import atomic_write_bytes, atomic_write_text
from sherpa_bench.harness.errors import UserError
from sherpa_bench.harness.records import RECORD_FILE, read_record
from sherpa_bench.harness.registry import MODELS
from sherpa_bench.harness.runner import TRAINED_FILE
from sherpa_bench.models.checkpoints import file_sha256

EXPORT_DIR = "export"


@dataclass(frozen=True)
class Exported:
    weights: Path
    manifest: Path


def how_to_load(model_name: str, path: Path) -> str:
    """The stock call that builds the exported model (written into the manifest)."""
    entry = MODELS.get(model_name)
    family = getattr(entry, "family", "toy")
    if family in ("sam", "medsam"):
        return f'segment_anything.sam_model_registry["{entry.architecture}"](checkpoint="{path}")'
    if family == "sam2":
        config = f"configs/sam2.1/sam2.1_{entry.architecture}.yaml"
        return f'sam2.build_sam.build_sam2("{config}", ckpt_path="{path}")'
    return (
        f'm = sherpa_bench.models.toy.build_toy_sam("{model_name}"); '
        f'm.load_state_dict(torch.load("{path}", weights_only=True))'
    )


def export_run(run_dir: Path, out_dir: Path | None = None) -> Exported:
    """Write ``<model>-<method>.pth`` and its manifest (default: ``RUN/export/``)."""
    run_dir = Path(run_dir)
    if not (run_dir / RECORD_FILE).is_file():
        raise UserError(f"{run_dir} is not a finished run (no {RECORD_FILE}); pass a folder under runs/<task>/<model>/")
    record = read_record(run_dir / RECORD_FILE)
    entry = MODELS.get(record.model)
    if record.config.get("weights_fingerprint") not in (None, entry.fingerprint()):
        raise UserError(
            f"the run {record.run_id} was trained from other {record.model} weights "
            f"({record.config['weights_fingerprint']}) than the ones present now ({entry.fingerprint()}); "
            "export needs the base weights it was trained from"
        )
    model = entry.load()
    trained = _trained_tensors(run_dir)
    base = model.sam.state_dict()
    extra = sorted(name.removeprefix("sam.") for name in trained if name.removeprefix("sam.") not in base)
    if extra:
        raise UserError(
            f"{record.method} added modules that a stock SAM cannot hold ({', '.join(extra[:3])}, ...): "
            "adapters are non-linear and cannot be merged into SAM's weights. Evaluate this run inside "
            "sherpa-bench, or export a LoRA run (merged) instead"
        )
    state = {**base, **{name.removeprefix("sam."): tensor for name, tensor in trained.items()}}
    payload = {"model": state} if getattr(entry, "family", "toy") == "sam2" else state
    folder = Path(out_dir) if out_dir else run_dir / EXPORT_DIR
    weights = folder / f"{record.model}-{record.method}.pth"
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    atomic_write_bytes(weights, buffer.getvalue())
    manifest = {
        "file": weights.name,
        "sha256": file_sha256(weights),
        "load_with": how_to_load(record.model, weights),
        "base_model": record.model,
        "base_weights_sha256_prefix": entry.fingerprint(),
        "method": record.method,
        "method_settings": record.method_settings,
        "run_id": record.run_id,
        "run_git_commit": record.git_commit,
        "changed_tensors": sorted(name.removeprefix("sam.") for name in trained),
    }
    manifest_path = weights.with_suffix(".json")
    atomic_write_text(manifest_path, json.dumps(manifest, indent=2) + "\n")
    return Exported(weights, manifest_path)


def _trained_tensors(run_dir: Path) -> dict[str, torch.Tensor]:
    path = run_dir / TRAINED_FILE
    if not path.is_file():
        raise UserError(f"{path} is missing: the run's trained tensors are gone; re-run it with --force")
    return torch.load(path, map_location="cpu", weights_only=True)
