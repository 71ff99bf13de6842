"""Prepared images and their embeddings, computed once per image when the encoder does not train."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from sherpa_bench.datasets.types import Sample
from sherpa_bench.harness.embedding_store import EmbeddingStore
from sherpa_bench.models.sam import ImageFrame, SamModel


@dataclass
class EncodedImage:
    frame: ImageFrame
    embedding: torch.Tensor  # 1 x C x h x w (SAM 2: its multi-level features of one image)


class EmbeddingCache:
    """In-memory cache of one model's image embeddings, keyed by sample id.

    Only valid while the model's image encoder is frozen: the caller asks :meth:`encoder_is_frozen`
    and bypasses the cache otherwise. With ``disk`` (an :class:`EmbeddingStore` of this model's
    encoder), embeddings missing in memory are read from disk, and computed ones written there.
    """

    def __init__(self, model: SamModel, disk: EmbeddingStore | None = None, remember: bool = True) -> None:
        self.model = model
        self.disk = disk
        self.remember = remember  # keep in memory (training revisits images; evaluation does not)
        self._store: dict[str, EncodedImage] = {}

    @staticmethod
    def encoder_is_frozen(model: SamModel) -> bool:
        return not any(p.requires_grad for p in model.image_encoder.parameters())

    def encode(self, samples: list[Sample], use_cache: bool = True) -> list[EncodedImage]:
        """Encode the samples not cached, one encoder call per image (see below)."""
        missing = [s for s in samples if not use_cache or s.sample_id not in self._store]
        fresh: dict[str, EncodedImage] = {}
        if use_cache and self.disk is not None and missing:
            for sample in missing:
                stored = self.disk.get(sample.image)
                if stored is not None:
                    fresh[sample.sample_id] = EncodedImage(*stored)
            missing = [s for s in missing if s.sample_id not in fresh]
        if missing:
            prepared = [self.model.prepare_image(s.image) for s in missing]
            with torch.set_grad_enabled(not use_cache and torch.is_grad_enabled()):
                # one image per encoder call: a batched call changes an embedding in its last float
                # bits with the batch's other images, and a fine-tuning run amplifies that (SHERPA on
                # the toy task: ±0.01 F1). One at a time, an embedding is a function of the encoder
                # and the image only, so cached, fresh and differently ordered runs agree bit for bit.
                embeddings = [self.model.per_image(self.model.encode(image[None]))[0] for image, _ in prepared]
            for sample, (_, frame), embedding in zip(missing, prepared, embeddings):
                fresh[sample.sample_id] = EncodedImage(frame, embedding)
                if use_cache and self.disk is not None:
                    self.disk.put(sample.image, frame, embedding)
        if use_cache and self.remember:
            self._store.update(fresh)
        return [fresh.get(s.sample_id) or self._store[s.sample_id] for s in samples]
