"""FisherTune: the Fisher and the score are what the docstring says, the top fraction of elements is
selected, and only those elements ever move."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

from sherpa_bench.harness.config import TrainConfig
from sherpa_bench.harness.errors import ConfigError
from sherpa_bench.harness.registry import METHODS
from sherpa_bench.harness.trainer import train
from sherpa_bench.methods.base import MethodContext
from sherpa_bench.methods.fisher_tune import diagonal_fisher, domain_related_fisher, shift_statistics, top_fraction

FAST = TrainConfig(epochs=1, lr=1e-3, images_per_step=2)


class TwoTensors(nn.Module):
    """A model whose loss gradients are chosen by the test: loss = Σ a·g_a + Σ b·g_b."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Parameter(torch.zeros(4))
        self.b = nn.Parameter(torch.zeros(2, 2))

    def losses(self, gradients):
        for g_a, g_b in gradients:
            yield (self.a * torch.tensor(g_a)).sum() + (self.b * torch.tensor(g_b)).sum()


CLEAN = [([2.0, 1.0, 0.0, 3.0], [[0.5, 0.0], [0.0, 1.5]])] * 2  # Fisher a = [4, 1, 0, 9], b = [.25, 0, 0, 2.25]
SHIFTED = [([2.0, 2.0, 0.0, 3.0], [[0.5, 0.0], [0.0, 1.5]])] * 2  # only a[1] reacts to the shift: 1 -> 4


def fisher(gradients):
    model = TwoTensors()
    return diagonal_fisher(dict(model.named_parameters()), model.losses(gradients))


def test_the_fisher_is_the_mean_squared_gradient():
    model = TwoTensors()
    result = diagonal_fisher(
        dict(model.named_parameters()),
        model.losses([([1, 2, 0, 0], [[0, 0], [3, 0]]), ([3, 0, 0, 0], [[0, 0], [1, 0]])]),
    )
    assert torch.equal(result["a"], torch.tensor([5.0, 2.0, 0.0, 0.0]))
    assert torch.equal(result["b"], torch.tensor([[0.0, 0.0], [5.0, 0.0]]))


def test_the_score_follows_the_documented_formula():
    clean, shifted = fisher(CLEAN), fisher(SHIFTED)
    scores = domain_related_fisher(clean, shifted, shift=0.5)
    mean = 16.5 / 8  # clean Fisher over all eight elements
    f, f_shifted = 1 / mean, 4 / mean
    expected = f + math.exp(-1.0) * abs(f - f_shifted) / (min(f, f_shifted) + 1e-3)
    assert float(scores["a"][1]) == pytest.approx(expected, rel=1e-6)
    assert float(scores["b"][1, 1]) == pytest.approx(2.25 / mean, rel=1e-6)  # no shift reaction: F alone


def test_the_selected_set_is_the_top_fraction_by_score_with_known_gradients():
    clean, shifted = fisher(CLEAN), fisher(SHIFTED)
    # plain Fisher (shift 0): the three largest of 8 elements are a[3] = 9, a[0] = 4, b[1,1] = 2.25
    plain = top_fraction(domain_related_fisher(clean, clean, shift=0.0), 3 / 8)
    assert plain["a"].tolist() == [True, False, False, True]
    assert plain["b"].tolist() == [[False, False], [False, True]]
    # with the domain term a[1] (F = 1, four times larger under the shift) overtakes b[1,1]
    shifted_choice = top_fraction(domain_related_fisher(clean, shifted, shift=0.5), 3 / 8)
    assert shifted_choice["a"].tolist() == [True, True, False, True]
    assert not shifted_choice["b"].any()


def test_the_fraction_is_rounded_and_never_empty():
    scores = {"x": torch.arange(10.0), "y": torch.arange(10.0, 20.0)}
    assert int(sum(m.sum() for m in top_fraction(scores, 0.25).values())) == 5
    tiny = top_fraction(scores, 1e-6)
    assert not tiny["x"].any() and tiny["y"].tolist() == [False] * 9 + [True]


def test_the_shift_moves_channel_statistics_by_the_set_amount():
    embedding = torch.randn(1, 64, 16, 16) * 3 + 1
    same = shift_statistics(embedding, 0.0, torch.Generator().manual_seed(0))
    torch.testing.assert_close(same, embedding, atol=1e-5, rtol=0)
    moved = shift_statistics(embedding, 0.5, torch.Generator().manual_seed(0))
    noise_mean, noise_std = torch.randn((2, 1, 64), generator=torch.Generator().manual_seed(0))
    mean, std = embedding.mean(dim=(-2, -1)), embedding.std(dim=(-2, -1))
    torch.testing.assert_close(moved.mean(dim=(-2, -1)), mean + 0.5 * noise_mean * std)
    torch.testing.assert_close(moved.std(dim=(-2, -1)), std * torch.exp(0.5 * noise_std))


def prepared(model, data, **settings):
    method = METHODS.get("fisher-tune").from_options({k: str(v) for k, v in settings.items()})
    method.prepare(model, MethodContext("toy", "toy-small", TrainConfig(), data, 0, None, None, None))
    return method


def test_the_top_five_percent_of_decoder_elements_are_selected(random_toy, tiny_train_set):
    method = prepared(random_toy, tiny_train_set, images=4)
    decoder = sum(p.numel() for p in random_toy.sam.mask_decoder.parameters())
    outputs = method.outputs()
    assert outputs["candidate_elements"] == decoder
    assert outputs["selected_elements"] == round(0.05 * decoder)
    assert all(name.startswith("sam.mask_decoder.") for name in outputs["selected_by_tensor"])
    assert "variational step dropped" in outputs["simplification"]


def test_training_moves_only_the_selected_elements(random_toy, tiny_train_set):
    method = prepared(random_toy, tiny_train_set, images=4)
    before = copy.deepcopy(random_toy.state_dict())
    train(random_toy, method, tiny_train_set, FAST, seed=0)  # FAST keeps the default weight decay 0.01
    after = random_toy.state_dict()
    moved_elements = 0
    for name, start in before.items():
        moved = after[name] != start
        mask = method.masks.get(name, torch.zeros_like(moved))
        assert not (moved & ~mask).any(), f"unselected elements of {name} moved"
        moved_elements += int(moved.sum())
    assert moved_elements > 0.5 * method.outputs()["selected_elements"]
    method.finalize(random_toy)


def test_encoder_elements_join_the_candidates_when_asked(random_toy, tiny_train_set):
    method = prepared(random_toy, tiny_train_set, images=2, encoder="true")
    expected = sum(
        p.numel() for part in (random_toy.sam.mask_decoder, random_toy.sam.image_encoder) for p in part.parameters()
    )
    assert method.outputs()["candidate_elements"] == expected


@pytest.mark.parametrize("setting", [{"fraction": 0}, {"fraction": 1.5}, {"images": 0}, {"loss": "hinge"}])
def test_bad_settings_are_refused(random_toy, tiny_train_set, setting):
    with pytest.raises(ConfigError, match="fisher-tune"):
        prepared(random_toy, tiny_train_set, **setting)
