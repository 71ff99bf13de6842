"""The ``a+b`` combination: names resolve, settings find their part, the union trains, every loss term
applies, and the PEFT part is prepared first and finalised last."""

from __future__ import annotations

import copy

import pytest
import torch

from sherpa_bench.harness.config import TrainConfig
from sherpa_bench.harness.errors import ConfigError
from sherpa_bench.harness.registry import METHODS, UnknownNameError
from sherpa_bench.harness.trainer import train
from sherpa_bench.methods.base import Method, MethodContext, TrainedModel
from sherpa_bench.methods.combined import Combination, Combined, resolve_method
from sherpa_bench.models.toy import load_toy

FAST = TrainConfig(epochs=1, lr=1e-3, images_per_step=2)
# The IoU head is outside the task loss's graph (no gradient, AdamW skips it).
OUTSIDE_THE_LOSS = "sam.mask_decoder.iou_prediction_head."


def test_a_plain_name_resolves_to_its_registered_class_and_a_plus_name_to_its_parts():
    assert resolve_method("std-ft") is METHODS.get("std-ft")
    combination = resolve_method("sherpa+lora-encoder")
    assert isinstance(combination, Combination) and combination.name == "sherpa+lora-encoder"
    assert combination.parts == (METHODS.get("sherpa"), METHODS.get("lora-encoder"))


@pytest.mark.parametrize(
    ("name", "error"), [("sherpa+", ConfigError), ("std-ft+std-ft", ConfigError), ("sherpa+lora", UnknownNameError)]
)
def test_malformed_combinations_are_refused(name, error):
    with pytest.raises(error):
        resolve_method(name)


def test_settings_go_to_the_part_that_declares_them():
    method = resolve_method("sherpa+lora-encoder").from_options({"rank": "8", "lam": "1", "samples": "8"})
    assert method.settings_dict()["lora-encoder"]["rank"] == 8
    assert method.settings_dict()["sherpa"]["lam"] == 1.0 and method.settings_dict()["sherpa"]["samples"] == 8


def test_an_undeclared_setting_is_refused_with_what_each_part_declares():
    with pytest.raises(ConfigError, match="lora-encoder: rank, alpha"):
        resolve_method("sherpa+lora-encoder").from_options({"bottleneck": "8"})


def test_a_setting_two_parts_declare_needs_the_part_named():
    with pytest.raises(ConfigError, match="kl-sp.layer or sherpa.layer"):
        resolve_method("kl-sp+sherpa").from_options({"layer": "final"})
    method = resolve_method("kl-sp+sherpa").from_options({"kl-sp.layer": "final"})
    assert (
        method.settings_dict()["kl-sp"]["layer"] == "final" and method.settings_dict()["sherpa"]["layer"] == "layers.1"
    )


def lora_tensors(model):
    return sum(".lora_" in n for n, _ in model.named_parameters())


class Recorder(Method):
    """A stand-in part that logs its stages (with the LoRA tensors it finds) and adds loss terms."""

    def __init__(self, name: str, log: list[str]) -> None:
        super().__init__()
        self.name, self.log = name, log

    def prepare(self, model, context):
        self.log.append((f"prepare {self.name}", lora_tensors(model)))

    def regularizers(self, step):
        return {"penalty": torch.tensor(1.0), f"only-{self.name}": torch.tensor(2.0)}

    def finalize(self, model):
        self.log.append((f"finalize {self.name}", lora_tensors(model)))
        return model


def test_loss_terms_of_all_parts_apply_and_clashing_names_are_prefixed():
    combined = Combined([Recorder("a", []), Recorder("b", [])])
    assert set(combined.regularizers(None)) == {"a:penalty", "b:penalty", "only-a", "only-b"}


def test_the_injecting_part_is_prepared_first_and_finalised_last(random_toy):
    log: list[tuple[str, int]] = []
    combined = Combined([Recorder("regulariser", log), METHODS.get("lora-decoder")()])
    assert combined.name == "regulariser+lora-decoder"
    combined.prepare(random_toy, None)
    combined.finalize(random_toy)
    injected = 2 * 4 * 7  # A and B on four projections of seven decoder attentions
    assert log == [("prepare regulariser", injected), ("finalize regulariser", injected)]
    assert lora_tensors(random_toy) == 0  # merged after the regulariser finished


def test_each_tensor_is_optimised_once_in_the_last_group_that_lists_it(random_toy):
    method = resolve_method("l2-sp+lora-decoder")()
    method.prepare(random_toy, None)
    method.select_trainable(random_toy)
    groups = method.parameter_groups(random_toy)
    listed = [id(p) for group in groups for p in group["params"]]
    assert sorted(listed) == sorted(id(p) for p in random_toy.parameters() if p.requires_grad)
    (group,) = groups  # L2-SP lists the whole decoder, injected factors included: its weight decay 0 wins
    assert group["weight_decay"] == 0.0
    torch.optim.AdamW(groups, lr=1e-3, weight_decay=0.01)


def sherpa_with_encoder_lora(tmp_path, train_set):
    torch.manual_seed(0)
    large = load_toy("toy-large", pretrained=False)
    torch.manual_seed(1)
    guide = load_toy("toy-small", pretrained=False)
    context = MethodContext(
        "toy-thin",
        "toy-large",
        TrainConfig(),
        train_set,
        0,
        tmp_path,
        lambda n: load_toy(n, False),
        lambda *a: TrainedModel(guide, "guide-run"),
    )
    method = resolve_method("sherpa+lora-encoder").from_options({"samples": "8"})
    method.prepare(large, context)
    return method, large, guide


def test_sherpa_with_encoder_lora_trains_the_union_and_keeps_the_guiding_term(tmp_path, tiny_train_set):
    method, large, guide = sherpa_with_encoder_lora(tmp_path, tiny_train_set)
    lora = {n for n, _ in large.named_parameters() if ".lora_" in n}
    decoder = {n for n, _ in large.named_parameters() if n.startswith("sam.mask_decoder.")}
    guide_before, before = copy.deepcopy(guide.state_dict()), copy.deepcopy(large.state_dict())
    terms, regularizers = [], method.regularizers

    def recorded(step):
        terms.append(regularizers(step))
        return terms[-1]

    method.regularizers = recorded
    train(large, method, tiny_train_set, FAST, seed=0)
    moved = {n for n in before if not torch.equal(before[n], large.state_dict()[n])}
    assert {n for n, p in large.named_parameters() if p.requires_grad} == lora | decoder
    assert moved == lora | {n for n in decoder if not n.startswith(OUTSIDE_THE_LOSS)}
    assert all(set(t) == {"guiding"} and float(t["guiding"].detach()) > 0 for t in terms) and terms
    assert all(torch.equal(t, guide.state_dict()[n]) for n, t in guide_before.items())


def test_the_combination_finalises_into_a_plain_sam_and_records_both_parts(tmp_path, tiny_train_set):
    method, large, _ = sherpa_with_encoder_lora(tmp_path, tiny_train_set)
    keys = {n.replace(".base_layer", "") for n in large.state_dict() if ".lora_" not in n}
    train(large, method, tiny_train_set, FAST, seed=0)
    assert set(method.finalize(large).state_dict()) == keys
    outputs = method.outputs()
    assert outputs["guide_run"] == "guide-run" and outputs["merged_into_weights"] is True
    assert set(method.settings_dict()) == {"sherpa", "lora-encoder"}
