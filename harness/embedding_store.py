"""Image embeddings on disk, shared by every run whose image encoder is the same.

A decoder-only method never changes the image encoder, so Zero-shot, Std-ft, KL-SP, L2-SP, Ft-last,
WiSE-ft and SHERPA on one model all encode the same images into the same embeddings: computed once,
they are read back by every later run, for training and for evaluation.

Key: ``<root>/<encoder key>/<image hash>.pt``. The encoder key hashes the encoder's tensors (not the
registered name: a method that changed the encoder gets its own key), the model's class and input
size and the package versions of the preprocessing; the image hash covers the pixels. Each file
also stores the key it was written under and the image's frame, and is checked on reuse: a file
whose stored key, image hash or tensors do not match is refused (recomputed and overwritten), never
used.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sherpa_bench.harness.atomic import atomic_write_bytes
from sherpa_bench.models.sam import ImageFrame

FORMAT_VERSION = 1


def encoder_key(model) -> str:
    """Hash of everything that decides an image's embedding: encoder tensors, model class, input size,
    encoder fast paths, preprocessing package versions, and on the CPU torch's thread count (its
    reductions are split by thread: 1 and 2 threads give embeddings that differ in the last bits,
    and a fine-tuned result amplifies that, so an embedding is only reused at the count it was made)."""
    digest = hashlib.sha256()
    versions = [metadata.version(p) for p in ("torch", "torchvision")]
    fast_paths = model.encoder_paths.cache_key()
    threads = f"|threads={torch.get_num_threads()}" if model.device.type == "cpu" else ""
    digest.update(
        f"{FORMAT_VERSION}|{type(model).__name__}|{model.image_size}|{fast_paths}|{versions}{threads}".encode()
    )
    for name, tensor in sorted(model.image_encoder.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:20]


def image_hash(image: np.ndarray) -> str:
    digest = hashlib.sha256(str(image.shape).encode())
    digest.update(np.ascontiguousarray(image).tobytes())
    return digest.hexdigest()[:24]


def _to_tensors(embedding: Any) -> dict[str, torch.Tensor]:
    """A model's per-image embedding (a tensor, or SAM 2's features) as named CPU tensors."""
    if isinstance(embedding, torch.Tensor):
        return {"embedding": embedding.detach().cpu().clone()}  # a clone: a view would save the whole batch
    tensors = {"image_embed": embedding.image_embed.detach().cpu().clone()}
    tensors.update({f"high_res_{i}": level.detach().cpu().clone() for i, level in enumerate(embedding.high_res)})
    return tensors


def _from_tensors(tensors: dict[str, torch.Tensor], like: type, device: torch.device) -> Any:
    if "embedding" in tensors:
        return tensors["embedding"].to(device)
    high_res = tuple(tensors[f"high_res_{i}"].to(device) for i in range(2))
    return like(tensors["image_embed"].to(device), high_res)


class EmbeddingStore:
    """The embeddings of one model's current image encoder under ``root``."""

    def __init__(self, root: Path, model) -> None:
        self.model = model
        self.key = encoder_key(model)
        self.folder = Path(root) / self.key
        self.hits = 0
        self.misses = 0
        self.refused = 0

    def _path(self, image: np.ndarray) -> Path:
        return self.folder / f"{image_hash(image)}.pt"

    def get(self, image: np.ndarray):
        """(frame, embedding) of this image, or None when absent or not valid for this encoder."""
        path = self._path(image)
        if not path.is_file():
            self.misses += 1
            return None
        try:
            stored = torch.load(path, map_location="cpu", weights_only=True)
            valid = stored["key"] == self.key and stored["image"] == image_hash(image)
        except (OSError, RuntimeError, EOFError, KeyError, pickle.UnpicklingError):  # truncated or foreign: refused
            valid = False
        if not valid:
            self.refused += 1
            self.misses += 1
            return None
        self.hits += 1
        frame = ImageFrame(tuple(stored["original_size"]), tuple(stored["input_size"]))
        like = _sam2_features() if "image_embed" in stored["tensors"] else None
        return frame, _from_tensors(stored["tensors"], like, self.model.device)

    def put(self, image: np.ndarray, frame: ImageFrame, embedding: Any) -> None:
        payload = {
            "key": self.key,
            "image": image_hash(image),
            "original_size": list(frame.original_size),
            "input_size": list(frame.input_size),
            "tensors": _to_tensors(embedding),
        }
        buffer = io.BytesIO()
        torch.save(payload, buffer)
        atomic_write_bytes(self._path(image), buffer.getvalue())

    def summary(self) -> dict[str, Any]:
        return {"folder": str(self.folder), "hits": self.hits, "misses": self.misses, "refused": self.refused}


def _sam2_features() -> type:
    from sherpa_bench.models.sam2_model import Sam2Features

    return Sam2Features
