"""Shared fixtures: small seeded models and data that every test can afford on a CPU."""

from __future__ import annotations

import pytest
import torch

from sherpa_bench.datasets.toy_generic import ToyGeneric
from sherpa_bench.datasets.types import SegmentationDataset
from sherpa_bench.models.toy import load_toy


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def device(request) -> torch.device:
    """Each test that takes it runs on the CPU, and again on CUDA where there is a GPU (``-m gpu``)."""
    if request.param == "cuda" and not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    return torch.device(request.param)


@pytest.fixture
def random_toy():
    """toy-small with seeded random weights: needs no shipped file, same every time."""
    torch.manual_seed(0)
    return load_toy("toy-small", pretrained=False)


@pytest.fixture
def generic_samples():
    data = ToyGeneric("valid")
    return [data[i] for i in range(6)]


class ListDataset(SegmentationDataset):
    """A fixed list of samples as a dataset (tests only)."""

    name = "list"
    splits = ("train", "valid", "test")

    def __init__(self, samples, split="train"):
        super().__init__(split)
        self.samples = samples

    def __len__(self):
        return len(self.samples)

    def _load(self, index):
        return self.samples[index]


@pytest.fixture
def tiny_train_set(generic_samples):
    return ListDataset(generic_samples[:4])


@pytest.fixture
def prompt_logits():
    """(model, sample) -> low-res mask logits and IoU predictions of every box prompt of the sample."""
    from sherpa_bench.prompts import boxes_for_sample

    def compute(model, sample):
        with torch.no_grad():
            prepared, frame = model.prepare_image(sample.image)
            boxes = model.boxes_to_input(boxes_for_sample(sample.masks), frame)
            out = model.decode(model.encode(prepared[None]), boxes=boxes)
        return torch.cat([out.low_res_logits.flatten(), out.iou_predictions.flatten()])

    return compute
