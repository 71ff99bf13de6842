"""Image embeddings on disk: exact on reuse, keyed by the encoder's tensors, refused when stale."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sherpa_bench.harness.config import TrainConfig
from sherpa_bench.harness.embedding_store import EmbeddingStore, encoder_key
from sherpa_bench.harness.embeddings import EmbeddingCache
from sherpa_bench.harness.registry import METHODS
from sherpa_bench.harness.trainer import train
from sherpa_bench.models.toy import load_toy
from tests.conftest import ListDataset


def test_a_stored_embedding_reads_back_exactly(random_toy, generic_samples, tmp_path):
    store = EmbeddingStore(tmp_path, random_toy)
    computed = EmbeddingCache(random_toy).encode(generic_samples[:2])
    for sample, encoded in zip(generic_samples, computed):
        store.put(sample.image, encoded.frame, encoded.embedding)
    for sample, encoded in zip(generic_samples, computed):
        frame, embedding = store.get(sample.image)
        assert frame == encoded.frame and torch.equal(embedding, encoded.embedding)
    assert store.summary()["hits"] == 2
    # one image's file, not the batch the embedding was a view of
    sizes = [p.stat().st_size for p in store.folder.iterdir()]
    assert max(sizes) < 2 * computed[0].embedding.numel() * 4


def test_another_encoder_has_another_key_and_sees_nothing(random_toy, generic_samples, tmp_path):
    store = EmbeddingStore(tmp_path, random_toy)
    encoded = EmbeddingCache(random_toy).encode(generic_samples[:1])[0]
    store.put(generic_samples[0].image, encoded.frame, encoded.embedding)
    with torch.no_grad():
        random_toy.image_encoder.neck[0].weight[0, 0, 0, 0] += 1e-3
    changed = EmbeddingStore(tmp_path, random_toy)
    assert changed.key != store.key and changed.get(generic_samples[0].image) is None
    assert encoder_key(load_toy("toy-small")) != encoder_key(load_toy("toy-large"))


def test_on_the_cpu_another_thread_count_has_another_key(random_toy):
    threads = torch.get_num_threads()
    key = encoder_key(random_toy)
    try:
        torch.set_num_threads(threads + 1)
        assert encoder_key(random_toy) != key
    finally:
        torch.set_num_threads(threads)
    assert encoder_key(random_toy) == key


def test_a_corrupt_or_foreign_file_is_refused_not_used(random_toy, generic_samples, tmp_path):
    store = EmbeddingStore(tmp_path, random_toy)
    image = generic_samples[0].image
    encoded = EmbeddingCache(random_toy).encode(generic_samples[:1])[0]
    store.put(image, encoded.frame, encoded.embedding)
    path = next(store.folder.iterdir())
    path.write_bytes(path.read_bytes()[:100])
    assert store.get(image) is None and store.refused == 1
    payload = {"key": "another-encoder", "image": "x", "original_size": [1, 1], "input_size": [1, 1], "tensors": {}}
    torch.save(payload, path)
    assert store.get(image) is None and store.refused == 2


def _std_ft_weights(samples, embedding_dir):
    torch.manual_seed(0)
    model = load_toy("toy-small")
    method = METHODS.get("std-ft").from_options({})
    summary = train(
        model, method, ListDataset(samples), TrainConfig(epochs=2, images_per_step=2), 0, embedding_dir=embedding_dir
    )
    return model.mask_decoder.state_dict(), summary


def test_training_from_stored_embeddings_gives_the_same_weights(generic_samples, tmp_path):
    plain, no_cache = _std_ft_weights(generic_samples, None)
    filled, first = _std_ft_weights(generic_samples, tmp_path)
    reused, second = _std_ft_weights(generic_samples, tmp_path)
    assert no_cache.embedding_cache is None
    # with the store, nothing is held in memory: epoch 1 computes and writes, epoch 2 reads back
    assert first.embedding_cache["misses"] == len(generic_samples) == first.embedding_cache["hits"]
    assert second.embedding_cache["hits"] == 2 * len(generic_samples) and second.embedding_cache["misses"] == 0
    for name in plain:
        assert torch.equal(plain[name], filled[name]) and torch.equal(plain[name], reused[name])


@pytest.mark.slow
def test_runs_of_one_model_share_embeddings_and_record_it(tmp_path):
    from sherpa_bench.harness.runner import RunConfig, execute

    quick = dict(finetune="toy-thin", model="toy-small", train=TrainConfig(epochs=1), max_images=2)
    zero_shot = execute(RunConfig(method="zero-shot", **quick), tmp_path, command="test")
    std_ft = execute(RunConfig(method="std-ft", **quick), tmp_path, command="test")
    assert zero_shot.config["embedding_cache"]["evaluation"]["misses"] > 0
    assert std_ft.config["embedding_cache"]["training"]["hits"] == 0  # zero-shot never read the train split
    # the fine-tuned decoder left the encoder as it was: every evaluated image comes from disk
    assert std_ft.config["embedding_cache"]["evaluation"]["misses"] == 0
    no_cache = execute(
        RunConfig(method="std-ft", seed=1, **quick), tmp_path / "fresh", command="t", embedding_cache=False
    )
    assert no_cache.config["embedding_cache"] == {"training": None, "evaluation": None}
    assert np.isfinite(std_ft.results[0].metrics["f1"])


def test_an_embedding_does_not_depend_on_the_other_images_it_is_encoded_with(generic_samples):
    model = load_toy("toy-small")
    alone = EmbeddingCache(model).encode(generic_samples[:1])[0].embedding
    with_others = EmbeddingCache(model).encode(generic_samples[:4])[0].embedding
    assert torch.equal(alone, with_others)
