"""`sherpa-bench profile`: each method's cost measured on the same model, data and batch."""

from __future__ import annotations

import pytest
import torch

from sherpa_bench.harness.config import TrainConfig
from sherpa_bench.harness.profile import ProfileSetup, profile_method, render_profiles
from sherpa_bench.models.encoder_paths import EncoderPaths
from sherpa_bench.models.toy import load_toy

pytestmark = pytest.mark.slow
CONFIG = TrainConfig(images_per_step=2)
CPU = torch.device("cpu")
SETUP = ProfileSetup(model="toy-large", task="toy-thin", images=4, train=CONFIG, device=CPU)


@pytest.fixture(scope="module")
def profiles():
    return {m: profile_method(m, SETUP, 3000, 20) for m in ("zero-shot", "std-ft", "sherpa")}


def test_trainable_parameters_are_what_each_method_trains(profiles):
    decoder = sum(p.numel() for p in load_toy("toy-large").mask_decoder.parameters())
    assert profiles["zero-shot"].trainable == 0
    assert profiles["std-ft"].trainable == decoder == profiles["sherpa"].trainable
    assert profiles["std-ft"].total == sum(p.numel() for p in load_toy("toy-large").parameters())


def test_a_step_costs_flops_and_sherpa_adds_its_guide(profiles):
    assert profiles["zero-shot"].flops_per_step == 0  # nothing trains
    assert profiles["std-ft"].flops_per_step > 0
    # SHERPA runs the frozen guide's decoder on the same prompts and adds the guiding loss
    assert profiles["sherpa"].flops_per_step > profiles["std-ft"].flops_per_step


def test_the_projection_scales_per_image_times_to_the_named_schedule(profiles):
    p = profiles["std-ft"]
    assert p.projected_s == pytest.approx(3000 * (p.first_epoch_s / 4 + 19 * p.later_epoch_s / 4))


def test_the_table_has_its_header_and_one_row_per_method(profiles):
    text = render_profiles(list(profiles.values()), SETUP, 3000, 20)
    assert "model `toy-large`" in text and "batch 2 images" in text and "torch " in text
    assert "image encoder fp32, reference attention," in text and "compiled" not in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| Method")]
    assert [row.split("|")[1].strip() for row in rows] == ["zero-shot", "std-ft", "sherpa"]


def test_lora_counts_its_trained_adapters_not_the_merged_result():
    setup = ProfileSetup(model="toy-small", task="toy-thin", images=2, train=CONFIG, device=CPU)
    lora = profile_method("lora-decoder", setup, 100, 2)
    assert 0 < lora.trainable < sum(p.numel() for p in load_toy("toy-small").mask_decoder.parameters())


def test_the_header_names_the_encoder_paths_profiled():
    fast = ProfileSetup(
        model="toy-small", task="toy-thin", images=2, train=CONFIG, device=CPU,
        paths=EncoderPaths(precision="bf16", attention="sdpa"),
    )  # fmt: skip
    text = render_profiles([profile_method("zero-shot", fast, 100, 2)], fast, 100, 2)
    assert "image encoder bf16, sdpa attention," in text
