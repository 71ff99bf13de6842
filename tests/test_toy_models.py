"""The shipped toy pair: loads strictly, matches its recorded hash, and the larger generalises better."""

from __future__ import annotations

import numpy as np
import pytest

from sherpa_bench.datasets.toy_tasks import ToyThin
from sherpa_bench.datasets.types import FirstImages
from sherpa_bench.harness.evaluate import predict_dataset, score
from sherpa_bench.harness.registry import DATASETS, MODELS
from sherpa_bench.models.checkpoints import file_sha256
from sherpa_bench.models.toy import toy_recipe, weights_path


@pytest.mark.parametrize("name", ["toy-small", "toy-large"])
def test_shipped_weights_match_their_recipe(name):
    recipe = toy_recipe(name)
    assert recipe["sha256"] == file_sha256(weights_path(name))
    assert recipe["recipe"]["model"] == name and "pretrain-toy" in recipe["command"]


@pytest.mark.parametrize("name", ["toy-small", "toy-large"])
def test_the_generator_still_makes_the_data_the_weights_were_trained_on(name):
    from sherpa_bench.models.pretrain_toy import data_fingerprint

    assert toy_recipe(name)["data_fingerprint"] == data_fingerprint()


def test_both_weight_files_together_stay_under_ten_megabytes():
    assert sum(weights_path(n).stat().st_size for n in ("toy-small", "toy-large")) < 10 * 2**20


@pytest.mark.slow
def test_large_beats_small_zero_shot_on_the_generalization_suites():
    suites = [name for group in ToyThin.generalization.values() for name in group]
    averages = {}
    for model_name in ("toy-small", "toy-large"):
        model = MODELS.get(model_name).load()
        scores = [
            score(predict_dataset(model, FirstImages(DATASETS.get(s)("test"), 16)).table, ["f1"])["f1"] for s in suites
        ]
        averages[model_name] = np.mean(scores)
    assert averages["toy-large"] > averages["toy-small"]
