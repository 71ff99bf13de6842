"""Toy generalization suites: each imitates one real dataset of the SHERPA paper's Tables 1 and 2.

Every suite differs visibly from ``toy-generic`` (the pre-training distribution) and every image
has at least one instance: suites derive from :class:`NonEmptySyntheticDataset`, which draws a
scene again (same generator, so still deterministic) when all its objects were dropped.

- Group 1 of ``toy-thin`` (far from it; natural clutter): toy-scenes, toy-street, toy-stuff.
- Group 2 of ``toy-thin`` (near it; one salient object): toy-salient, toy-fss, toy-big.
- EM suites of ``toy-em``: toy-em-vnc, toy-em-mito.
"""

from dataclasses import replace

from sherpa_bench.datasets.synthetic import (
    NonEmptySyntheticDataset,
    SceneStyle,
    render_em_scene,
    render_partition,
)
from sherpa_bench.datasets.toy_tasks import EM_STYLE
from sherpa_bench.harness.registry import DATASETS

ALL_TEXTURES = ("solid", "gradient", "stripes", "checker", "noise", "clouds")


class ToySuite(NonEmptySyntheticDataset):
    """A test-only suite of 48 images."""

    splits = ("test",)
    eval_split = "test"
    sizes = {"test": 48}


@DATASETS.register("toy-scenes")
class ToyScenes(ToySuite):
    """Imitates ADE20K/COCO: 4-8 small, overlapping objects of varied shape and texture in clutter."""

    name = "toy-scenes"
    description = __doc__
    style = SceneStyle(
        shapes=("ellipse", "polygon", "star", "blob", "rectangle", "frilly"),
        textures=ALL_TEXTURES,
        backgrounds=("clouds", "noise"),
        objects=(4, 8),
        object_scale=(0.1, 0.3),
        height=(112, 160),
        width=(128, 176),
    )
    seed = 6001


@DATASETS.register("toy-street")
class ToyStreet(ToySuite):
    """Imitates Cityscapes: wide sky-over-road images, many upright boxes and ellipses, small far away."""

    name = "toy-street"
    description = __doc__
    style = SceneStyle(
        shapes=("upright_box", "upright_box", "upright_box", "ellipse"),
        textures=("solid", "solid", "gradient", "noise"),
        backgrounds=("street",),
        objects=(5, 10),
        object_scale=(0.15, 0.5),
        height=(88, 104),
        width=(160, 192),
    )
    seed = 6002


@DATASETS.register("toy-stuff")
class ToyStuff(ToySuite):
    """Imitates COCO-stuff: the image tiled into 3-6 large textured regions, each region an instance."""

    name = "toy-stuff"
    description = __doc__
    style = SceneStyle(
        shapes=(),
        textures=("clouds", "clouds", "stripes", "noise", "gradient", "checker"),
        backgrounds=(),
        objects=(3, 6),
        height=(96, 144),
        width=(112, 160),
        min_visible=64,
    )
    seed = 6003
    draw_scene = staticmethod(render_partition)


@DATASETS.register("toy-salient")
class ToySalient(ToySuite):
    """Imitates ECSSD: one large, compact salient object on a plain or gradient background."""

    name = "toy-salient"
    description = __doc__
    style = SceneStyle(
        shapes=("blob", "ellipse", "polygon"),
        textures=("solid", "gradient", "noise"),
        backgrounds=("solid", "gradient"),
        objects=(1, 1),
        object_scale=(0.6, 0.95),
        height=(96, 144),
        width=(96, 144),
        blur=0.7,
    )
    seed = 6004


@DATASETS.register("toy-fss")
class ToyFSS(ToySuite):
    """Imitates FSS-1000: one mid-sized object (one class per image), some legged, on a plain backdrop."""

    name = "toy-fss"
    description = __doc__
    style = SceneStyle(
        shapes=("star", "polygon", "blob", "ellipse", "legged"),
        textures=("solid", "stripes", "noise"),
        backgrounds=("solid", "clouds"),
        objects=(1, 1),
        object_scale=(0.35, 0.6),
        height=(112, 128),
        width=(112, 128),
    )
    seed = 6005


@DATASETS.register("toy-big")
class ToyBig(ToySuite):
    """Imitates BIG: large 192-256 px images of one object with a detailed, high-frequency outline."""

    name = "toy-big"
    description = __doc__
    style = SceneStyle(
        shapes=("frilly",),
        textures=("solid", "gradient", "clouds"),
        backgrounds=("clouds", "gradient"),
        objects=(1, 1),
        object_scale=(0.5, 0.8),
        height=(192, 256),
        width=(192, 256),
    )
    seed = 6006


@DATASETS.register("toy-em-vnc")
class ToyEMVNC(ToySuite):
    """Imitates VNC (Drosophila VNC, EM): denser, smaller membrane cells and smaller mitochondria."""

    name = "toy-em-vnc"
    description = __doc__
    style = replace(EM_STYLE, backgrounds=("dense_membranes",), objects=(3, 8), object_scale=(0.1, 0.2))
    seed = 6007
    draw_scene = staticmethod(render_em_scene)


@DATASETS.register("toy-em-mito")
class ToyEMMito(ToySuite):
    """Imitates MitoEM: larger EM images densely packed with mitochondria."""

    name = "toy-em-mito"
    description = __doc__
    style = replace(EM_STYLE, objects=(8, 16), object_scale=(0.12, 0.25), height=(176, 208), width=(176, 208))
    seed = 6008
    draw_scene = staticmethod(render_em_scene)
