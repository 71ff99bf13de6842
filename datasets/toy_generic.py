"""The generic distribution the toy SAM pair is pre-trained on (the toy stand-in for SA-1B)."""

from sherpa_bench.datasets.synthetic import SceneStyle, SyntheticDataset
from sherpa_bench.harness.registry import DATASETS

# Objects of every size from small to filling the frame, as in SA-1B: the generalization suites
# (one large salient object, regions tiling the image) must be in reach of a pre-trained model, and
# only the fine-tuning tasks (thin structures, EM texture) lie outside this distribution.
GENERIC_STYLE = SceneStyle(
    shapes=("ellipse", "polygon", "star", "blob", "rectangle", "frilly"),
    textures=("solid", "gradient", "stripes", "checker", "noise", "clouds"),
    backgrounds=("solid", "gradient", "stripes", "checker", "noise", "clouds"),
    objects=(1, 6),
    object_scale=(0.12, 0.85),
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
