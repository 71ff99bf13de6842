"""Zero-shot: the pre-trained model, evaluated as it is (SHERPA App. M); the retention reference."""

from sherpa_bench.harness.registry import METHODS
from sherpa_bench.methods.base import Method


@METHODS.register("zero-shot", "pre-trained model, no fine-tuning: the 100% of retention (SHERPA App. M)")
class ZeroShot(Method):
    name = "zero-shot"
    paper = "Kirillov et al., Segment Anything, ICCV 2023"
