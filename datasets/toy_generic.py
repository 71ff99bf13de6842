"""The generic distribution the toy SAM pair is pre-trained on (the toy stand-in for SA-1B)."""

from sherpa_bench.datasets.synthetic import SceneStyle, SyntheticDataset
from sherpa_bench.harness.registry import DATASETS

GENERIC_STYLE = SceneStyle(
    shapes=("ellipse", "polygon", "star", "blob", "rectangle"),
    textures=("solid", "gradient", "stripes", "checker", "noise"),
    backgrounds=("solid", "gradient", "stripes", "checker", "noise"),
    objects=(1, 6),
    object_scale=(0.15, 0.55),
    height=(80, 160),
    width=(80, 160),
)


@DATASETS.register("toy-generic")
class ToyGeneric(SyntheticDataset):
    """Pre-training data of the toy SAM pair: many objects of varied shape, colour, texture, occlusion."""

    name = "toy-generic"
    description = __doc__
    splits = ("train", "valid")
    sizes = {"train": 1_000_000, "valid": 256}
    style = GENERIC_STYLE
    seed = 20261125
