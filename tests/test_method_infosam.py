"""InfoSAM: the matrix-based Rényi-2 quantities obey their identities, the method trains the decoder and
its relation module only, its losses reach what they should, and a one-image step is refused."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from sherpa_bench.harness.config import TrainConfig
from sherpa_bench.harness.embeddings import EmbeddingCache
from sherpa_bench.harness.errors import ConfigError
from sherpa_bench.harness.registry import METHODS
from sherpa_bench.harness.trainer import train
from sherpa_bench.methods.base import MethodContext, TrainStep
from sherpa_bench.methods.infosam import RELATION
from sherpa_bench.methods.matrix_entropy import gram, joint_entropy, mutual_information, renyi2_entropy
from sherpa_bench.prompts import boxes_for_sample

FAST = TrainConfig(epochs=1, lr=1e-3, images_per_step=2)
# The IoU head is outside the task loss's graph (no gradient, AdamW skips it); every other trainable
# tensor moves, the multimask heads by weight decay alone (their gradient is zero).
OUTSIDE_THE_LOSS = "sam.mask_decoder.iou_prediction_head."


def features(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def close(a, b):
    return float(torch.as_tensor(a).detach()) == pytest.approx(float(torch.as_tensor(b).detach()), abs=1e-5)


# ------------------------------------------------------------------ the entropies


@pytest.mark.parametrize("size", [1, 2, 4, 7, 16])
def test_the_identity_has_entropy_log2_of_its_size(size):
    assert close(renyi2_entropy(torch.eye(size)), math.log2(size))
    assert close(renyi2_entropy(5 * torch.eye(size)), math.log2(size))  # trace-normalised first


def test_a_rank_one_gram_matrix_has_entropy_zero():
    assert close(renyi2_entropy(gram(features(1, 8).expand(6, 8) * torch.arange(1.0, 7.0)[:, None])), 0.0)
    assert close(renyi2_entropy(torch.ones(5, 5)), 0.0)


def test_entropy_lies_between_zero_and_log2_of_the_batch():
    for seed in range(20):
        value = float(renyi2_entropy(gram(features(6, 3, seed=seed))))
        assert 0.0 <= value <= math.log2(6) + 1e-6


def test_the_gram_matrix_ignores_feature_scale_and_rotation():
    x = features(5, 4)
    rotation, _ = torch.linalg.qr(features(4, 4, seed=1))
    reference = renyi2_entropy(gram(x))
    assert close(renyi2_entropy(gram(x * torch.tensor([[1.0], [2.0], [0.5], [3.0], [9.0]]))), reference)
    assert close(renyi2_entropy(gram(x @ rotation)), reference)


def test_joint_entropy_with_itself_is_its_own_entropy_when_samples_are_identical_or_orthogonal():
    # rows 0 and 1 identical, 2 and 3 orthogonal to them and to each other, 4 the negative of 2
    x = torch.tensor([[1.0, 0, 0], [1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [0, -1.0, 0]])
    a = gram(x)
    assert close(joint_entropy(a, a), renyi2_entropy(a))
    assert close(mutual_information(a, a), renyi2_entropy(a))


def test_joint_entropy_with_itself_exceeds_its_entropy_otherwise():
    # Σg⁴ < Σg² as soon as an off-diagonal |g| lies strictly between 0 and 1
    a = gram(features(6, 4))
    assert float(joint_entropy(a, a)) > float(renyi2_entropy(a)) + 1e-3


def test_mutual_information_is_symmetric_and_bounded_by_each_entropy():
    for seed in range(10):
        a, b = gram(features(6, 3, seed=seed)), gram(features(6, 5, seed=100 + seed))
        assert close(mutual_information(a, b), mutual_information(b, a))
        assert close(joint_entropy(a, b), joint_entropy(b, a))
        assert float(joint_entropy(a, b)) >= max(float(renyi2_entropy(a)), float(renyi2_entropy(b))) - 1e-6
        assert float(mutual_information(a, b)) <= min(float(renyi2_entropy(a)), float(renyi2_entropy(b))) + 1e-6


def test_mutual_information_is_non_negative_where_the_definitions_guarantee_it():
    for seed in range(10):
        a, b = gram(features(6, 3, seed=seed)), gram(features(6, 5, seed=100 + seed))
        assert float(mutual_information(a, a)) >= -1e-6  # Cauchy–Schwarz: B²·Σg⁴ ≥ (Σg²)²
        pair_a, pair_b = gram(features(2, 3, seed=seed)), gram(features(2, 3, seed=50 + seed))
        assert float(mutual_information(pair_a, pair_b)) >= -1e-6  # B = 2: 4(1 − g²)(1 − h²) ≥ 0
        assert close(mutual_information(a, torch.eye(6)), renyi2_entropy(a))  # distinguishing every sample
        assert close(mutual_information(a, torch.ones(6, 6)), 0.0)  # a variable that says nothing
        assert close(mutual_information(a, b), renyi2_entropy(a) + renyi2_entropy(b) - joint_entropy(a, b))


def test_mutual_information_can_be_negative_unlike_shannon():
    # partitions {1,2,3}{4} and {1,2,4}{3}: I = log2(16·6 / 10²) = log2 0.96 (methods/matrix_entropy.py)
    a = gram(torch.tensor([[1.0, 0], [1.0, 0], [1.0, 0], [0, 1.0]]))
    b = gram(torch.tensor([[1.0, 0], [1.0, 0], [0, 1.0], [1.0, 0]]))
    assert close(mutual_information(a, b), math.log2(0.96))


# ------------------------------------------------------------------ the method


def prepared(model, data, **settings):
    method = METHODS.get("infosam").from_options({k: str(v) for k, v in settings.items()})
    method.prepare(model, MethodContext("toy", "toy-small", TrainConfig(), data, 0, None, None, None))
    return method


def step_of(model, samples):
    """A training step as the trainer builds it: every instance of each sample, with its box."""
    cache = EmbeddingCache(model)
    encoded = cache.encode(samples)
    boxes = [model.boxes_to_input(boxes_for_sample(s.masks), e.frame) for s, e in zip(samples, encoded)]
    outputs = [model.decode(e.embedding, boxes=b) for e, b in zip(encoded, boxes)]
    prompts = [{"boxes": b} for b in boxes]
    return TrainStep(0, 0, samples, [e.frame for e in encoded], [e.embedding for e in encoded], prompts, outputs)


def test_a_step_of_one_image_is_refused_naming_images_per_step(random_toy, tiny_train_set):
    method = prepared(random_toy, tiny_train_set)
    with pytest.raises(ConfigError, match="--images-per-step"):
        train(random_toy, method, tiny_train_set, TrainConfig(epochs=1, images_per_step=1), seed=0)


def test_training_moves_the_decoder_and_relation_module_only_and_leaves_a_plain_sam(random_toy, tiny_train_set):
    keys = set(random_toy.state_dict())
    method = prepared(random_toy, tiny_train_set)
    teacher_before = copy.deepcopy(method.teacher.state_dict())
    before = copy.deepcopy(random_toy.state_dict())
    train(random_toy, method, tiny_train_set, FAST, seed=0)
    moved = {n for n in before if not torch.equal(before[n], random_toy.state_dict()[n])}
    declared = {n for n in before if n.startswith(("sam.mask_decoder.", f"{RELATION}."))}
    assert moved == {n for n in declared if not n.startswith(OUTSIDE_THE_LOSS)}
    assert any(n.startswith(f"{RELATION}.") for n in moved)
    assert all(torch.equal(t, method.teacher.state_dict()[n]) for n, t in teacher_before.items())
    assert set(method.finalize(random_toy).state_dict()) == keys


def test_compression_reaches_only_the_relation_module_and_distillation_the_decoder(random_toy, tiny_train_set):
    method = prepared(random_toy, tiny_train_set)
    method.select_trainable(random_toy)
    terms = method.regularizers(step_of(random_toy, [tiny_train_set[0], tiny_train_set[1]]))

    def reached(term):
        random_toy.zero_grad(set_to_none=True)
        term.backward(retain_graph=True)
        return {
            n.split(".")[0] if n.startswith(RELATION) else n.split(".")[1]
            for n, p in random_toy.named_parameters()
            if p.grad is not None and p.grad.abs().sum() > 0
        }

    assert reached(terms["infosam_r"]) == {RELATION}
    assert reached(terms["infosam_d"]) == {RELATION, "mask_decoder"}
    assert all(p.grad is None for p in method.teacher.parameters())


def test_the_losses_are_the_documented_entropies_at_the_start(random_toy, tiny_train_set):
    method = prepared(random_toy, tiny_train_set, lambda_r=1, lambda_d=1)
    samples = [tiny_train_set[0], tiny_train_set[1]]
    terms = method.regularizers(step_of(random_toy, samples))
    # before any update the student is the teacher: r_S = r_T, so L_d = -I(r; r) = S(r, r) - 2 S(r)
    with torch.no_grad():
        step = step_of(method.teacher, samples)
        tokens = torch.cat(method.teacher_tap.take())
        relation = getattr(random_toy, RELATION)
        rows = [len(p["boxes"]) for p in step.prompts]
        r = torch.cat([relation(e, t) for e, t in zip(step.embeddings, tokens.split(rows))])
        z = torch.cat([e.expand(n, -1, -1, -1) for e, n in zip(step.embeddings, rows)])
    g = gram(r)
    assert close(terms["infosam_d"], joint_entropy(g, g) - 2 * renyi2_entropy(g))
    assert close(terms["infosam_r"], renyi2_entropy(g) - joint_entropy(gram(z), gram(tokens), g))
    assert sum(rows) > 2 and not close(terms["infosam_d"], 0.0)
