"""A run is found again only when everything that changes its numbers is the same."""

from __future__ import annotations

from sherpa_bench.harness.config import TrainConfig
from sherpa_bench.harness.registry import MODELS
from sherpa_bench.harness.runner import RunConfig


def test_same_config_same_name_and_the_data_location_does_not_matter():
    first = RunConfig(method="std-ft", finetune="toy-thin")
    assert first.run_name() == RunConfig(method="std-ft", finetune="toy-thin").run_name()
    assert first.run_name() == RunConfig(method="std-ft", finetune="toy-thin", data_root="/elsewhere").run_name()


def test_a_setting_given_at_its_default_is_the_same_run():
    default = RunConfig(method="sherpa", finetune="toy-thin")
    assert RunConfig(method="sherpa", finetune="toy-thin", settings={"lam": "3"}).run_name() == default.run_name()
    assert RunConfig(method="sherpa", finetune="toy-thin", settings={"lam": "3.0"}).run_name() == default.run_name()
    assert RunConfig(method="sherpa", finetune="toy-thin", settings={"lam": "1"}).run_name() != default.run_name()


def test_each_result_changing_setting_changes_the_name():
    base = RunConfig(method="std-ft", finetune="toy-thin")
    variants = [
        RunConfig(method="std-ft", finetune="toy-thin", seed=1),
        RunConfig(method="std-ft", finetune="toy-thin", train=TrainConfig(lr=1e-3)),
        RunConfig(method="std-ft", finetune="toy-thin", max_images=4),
        RunConfig(method="ft-last", finetune="toy-thin", settings={"k": "2"}),
        RunConfig(method="std-ft", finetune="toy-em"),
        RunConfig(method="std-ft", finetune="toy-thin", precision="bf16"),
        RunConfig(method="std-ft", finetune="toy-thin", attention="sdpa"),
        RunConfig(method="std-ft", finetune="toy-thin", compile=True),
    ]
    names = {v.run_name() for v in variants}
    assert base.run_name() not in names and len(names) == len(variants)


def test_other_model_weights_change_the_name(monkeypatch):
    config = RunConfig(method="std-ft", finetune="toy-thin")
    before = config.run_name()
    toy = MODELS.get("toy-large")
    monkeypatch.setattr(type(toy), "fingerprint", lambda self: "retrained")
    assert config.run_name() != before


def test_a_stage_run_leaves_the_global_generators_as_it_found_them():
    import random

    import numpy as np
    import torch

    from sherpa_bench.harness.runner import _random_state_kept

    states = random.getstate(), np.random.get_state(), torch.get_rng_state()
    try:
        random.seed(1), np.random.seed(1), torch.manual_seed(1)
        expected = (random.random(), np.random.rand(), torch.rand(1))
        random.seed(1), np.random.seed(1), torch.manual_seed(1)
        with _random_state_kept():  # what a stage does when it trains: reseed, then draw
            random.seed(0), np.random.seed(0), torch.manual_seed(0)
            random.random(), np.random.rand(3), torch.rand(3)
        assert (random.random(), np.random.rand(), torch.rand(1)) == expected
    finally:  # the tests after this one draw what they drew before it existed
        random.setstate(states[0]), np.random.set_state(states[1]), torch.set_rng_state(states[2])
