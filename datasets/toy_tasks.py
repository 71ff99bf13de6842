"""The two toy fine-tuning tasks: toy stand-ins for DIS5K (thin objects) and Lucchi (EM mitochondria).

Each is far enough from ``toy-generic`` (the pre-training distribution of the toy SAM pair) that
zero-shot box-prompted segmentation is poor and fine-tuning has something to gain, as on the
real tasks. Their generalization suites live in :mod:`toy_suites`, grouped as in the SHERPA
paper's Tables 1 and 2.
"""

from sherpa_bench.datasets.synthetic import NonEmptySyntheticDataset, SceneStyle, render_em_scene
from sherpa_bench.harness.registry import DATASETS

THIN_STYLE = SceneStyle(
    shapes=("wire", "twig", "ring", "wheel", "lattice", "legged"),
    textures=("solid", "gradient"),
    backgrounds=("clouds", "clouds", "noise", "gradient"),
    objects=(1, 2),
    object_scale=(0.45, 0.8),
    height=(96, 160),
    width=(96, 160),
)

EM_STYLE = SceneStyle(
    shapes=("organelle", "organelle", "blob"),
    textures=(),
    backgrounds=("membranes",),
    objects=(2, 6),
    object_scale=(0.18, 0.38),
    height=(112, 160),
    width=(112, 160),
    min_visible=40,
    grayscale=True,
    blur=0.6,
    pixel_noise=9.0,
)


@DATASETS.register("toy-thin")
class ToyThin(NonEmptySyntheticDataset):
    """Imitates DIS5K: 1-2 thin, wiry objects (wires, twigs, rings, fences) on textured backdrops.

    Strokes are 2-5 px wide at 96-160 px image sizes, so the box around an object is mostly
    background: a SAM pre-trained on blobby objects fills it, and fine-tuning teaches it not to.
    """

    name = "toy-thin"
    description = "Imitates DIS5K: 1-2 thin, wiry objects (wires, twigs, rings, fences) on textured backdrops"
    splits = ("train", "valid")
    eval_split = "valid"
    sizes = {"train": 160, "valid": 48}
    style = THIN_STYLE
    seed = 5000
    generalization = {
        "Group 1": ("toy-scenes", "toy-street", "toy-stuff"),
        "Group 2": ("toy-salient", "toy-fss", "toy-big"),
    }


@DATASETS.register("toy-em")
class ToyEM(NonEmptySyntheticDataset):
    """Imitates Lucchi (EM): grey, noisy membrane texture with 2-6 mitochondria-like blobs.

    Each organelle has a dark double membrane and cristae; organelles never touch, as in a tissue
    section. Every organelle is an instance; membranes are background.
    """

    name = "toy-em"
    description = "Imitates Lucchi (EM): grey, noisy membrane texture with 2-6 mitochondria-like blobs"
    splits = ("train", "valid")
    eval_split = "valid"
    sizes = {"train": 160, "valid": 48}
    style = EM_STYLE
    seed = 5001
    generalization = {
        "Group 1": ("toy-scenes", "toy-salient", "toy-fss"),
        "Group 2": ("toy-em-vnc", "toy-em-mito"),
    }
    draw_scene = staticmethod(render_em_scene)
