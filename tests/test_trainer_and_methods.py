"""Training moves what the method declares and nothing else; the loop is seeded and checkpoints."""

from __future__ import annotations

import copy

import pytest
import torch

from sherpa_bench.harness.config import TrainConfig
from sherpa_bench.harness.errors import ConfigError
from sherpa_bench.harness.registry import METHODS
from sherpa_bench.harness.trainer import train

FAST = TrainConfig(epochs=2, lr=1e-3, images_per_step=2)


def changed_modules(before: dict, model) -> set[str]:
    after = model.state_dict()
    return {name.split(".")[1] for name in before if not torch.equal(before[name], after[name])}


def test_std_ft_changes_the_mask_decoder_and_nothing_else(random_toy, tiny_train_set):
    before = copy.deepcopy(random_toy.state_dict())
    train(random_toy, METHODS.get("std-ft")(), tiny_train_set, FAST, seed=0)
    assert changed_modules(before, random_toy) == {"mask_decoder"}
    decoder_tensors = [n for n in before if n.startswith("sam.mask_decoder.")]
    still = {n for n in decoder_tensors if torch.equal(before[n], random_toy.state_dict()[n])}
    # The task loss scores masks only, so the IoU-prediction head gets no gradient; all else moves.
    assert still == {n for n in decoder_tensors if ".iou_prediction_head." in n}


def test_zero_shot_trains_nothing(random_toy, tiny_train_set):
    before = copy.deepcopy(random_toy.state_dict())
    summary = train(random_toy, METHODS.get("zero-shot")(), tiny_train_set, FAST, seed=0)
    assert summary.steps == 0
    assert changed_modules(before, random_toy) == set()


def test_training_lowers_the_task_loss(random_toy, tiny_train_set):
    config = TrainConfig(epochs=6, lr=2e-3, images_per_step=2)
    summary = train(random_toy, METHODS.get("std-ft")(), tiny_train_set, config, seed=0)
    assert summary.loss_by_epoch[-1] < summary.loss_by_epoch[0]


def test_same_seed_gives_the_same_weights_and_another_seed_does_not(tiny_train_set):
    from sherpa_bench.models.toy import load_toy

    def trained(seed):
        torch.manual_seed(0)
        model = load_toy("toy-small", pretrained=False)
        train(
            model,
            METHODS.get("std-ft")(),
            tiny_train_set,
            TrainConfig(epochs=1, images_per_step=1, instances_per_image=1),
            seed,
        )
        return model.sam.mask_decoder.state_dict()

    first, again, other = trained(0), trained(0), trained(1)
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert any(not torch.equal(first[k], other[k]) for k in first)


def test_a_checkpoint_per_epoch_holds_exactly_the_trained_tensors(random_toy, tiny_train_set, tmp_path):
    train(random_toy, METHODS.get("std-ft")(), tiny_train_set, FAST, seed=0, checkpoint_dir=tmp_path)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["epoch-01.pt", "epoch-02.pt"]
    state = torch.load(tmp_path / "epoch-02.pt", weights_only=True)
    assert state["epoch"] == 2
    assert set(state["trained"]) == {n for n, _ in random_toy.named_parameters() if n.startswith("sam.mask_decoder.")}
    torch.testing.assert_close(
        state["trained"]["sam.mask_decoder.iou_token.weight"], random_toy.sam.mask_decoder.iou_token.weight
    )


def test_regularizers_of_a_method_enter_the_loss(tiny_train_set):
    """A method whose extra term pulls the mask token to zero ends nearer zero than Std-ft does."""
    from sherpa_bench.methods.std_ft import StdFt
    from sherpa_bench.models.toy import load_toy

    class PullMaskTokens(StdFt):
        def regularizers(self, step):
            self.seen_steps = getattr(self, "seen_steps", 0) + 1
            return {"pull": 1e3 * self.model.sam.mask_decoder.mask_tokens.weight.pow(2).sum()}

    def final_norm(method):
        torch.manual_seed(0)
        model = load_toy("toy-small", pretrained=False)
        method.model = model
        train(model, method, tiny_train_set, TrainConfig(epochs=3, lr=1e-2, images_per_step=2), seed=0)
        return model.sam.mask_decoder.mask_tokens.weight.detach().norm()

    pulled = PullMaskTokens()
    assert final_norm(pulled) < final_norm(StdFt()) - 0.1
    assert pulled.seen_steps == 6  # called once per step: 3 epochs x 2 steps


def test_unknown_setting_and_bad_value_are_refused_with_the_name():
    with pytest.raises(ConfigError, match="no setting 'alpha'"):
        METHODS.get("std-ft").from_options({"alpha": "1"})
    with pytest.raises(ConfigError, match="unknown task loss"):
        TrainConfig(loss="hinge")
