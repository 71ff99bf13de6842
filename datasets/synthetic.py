"""The engine behind every synthetic suite: shapes, textures and scene composition from a seed.

A suite is a :class:`SceneStyle` (which shapes, textures, sizes, how many objects) plus a seed.
Sample ``i`` of a split is rendered from its own generator seeded by (suite seed, split, i), so
any sample can be produced alone, in any order, and always identically.

Hand-written on purpose: no maintained package generates instance-annotated synthetic scenes of
controlled style; PIL draws the primitives, numpy makes the textures.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from functools import partial
from typing import Callable, ClassVar

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from scipy import ndimage

from sherpa_bench.datasets.types import Sample, SegmentationDataset

ShapeFn = Callable[[np.random.Generator, int, int, float], np.ndarray]
TextureFn = Callable[[np.random.Generator, int, int], np.ndarray]


# --------------------------------------------------------------------------- shapes
# Each shape draws one object: a bool H x W mask, centred at a random point, about `scale` pixels
# across.


def _canvas(height: int, width: int) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("L", (width, height), 0)
    return image, ImageDraw.Draw(image)


def _centre(rng: np.random.Generator, height: int, width: int, scale: float) -> tuple[float, float]:
    margin = scale / 3
    return (
        float(rng.uniform(margin, max(margin + 1, width - margin))),
        float(rng.uniform(margin, max(margin + 1, height - margin))),
    )


def _polygon_mask(height: int, width: int, points: np.ndarray) -> np.ndarray:
    image, draw = _canvas(height, width)
    draw.polygon([tuple(p) for p in points.tolist()], fill=1)
    return np.asarray(image, dtype=bool)


def _radial(rng: np.random.Generator, height: int, width: int, scale: float, radii: np.ndarray) -> np.ndarray:
    cx, cy = _centre(rng, height, width, scale)
    angles = np.linspace(0, 2 * np.pi, len(radii), endpoint=False) + rng.uniform(0, 2 * np.pi)
    aspect = rng.uniform(0.6, 1.4)
    points = np.stack([cx + radii * np.cos(angles) * aspect, cy + radii * np.sin(angles) / aspect], 1)
    return _polygon_mask(height, width, points)


def ellipse(rng: np.random.Generator, height: int, width: int, scale: float) -> np.ndarray:
    return _radial(rng, height, width, scale, np.full(48, scale / 2))


def polygon(rng: np.random.Generator, height: int, width: int, scale: float) -> np.ndarray:
    corners = int(rng.integers(3, 8))
    return _radial(rng, height, width, scale, scale / 2 * rng.uniform(0.7, 1.0, corners))


def star(rng: np.random.Generator, height: int, width: int, scale: float) -> np.ndarray:
    spikes = int(rng.integers(4, 8))
    radii = np.tile([scale / 2, scale / 2 * rng.uniform(0.35, 0.6)], spikes)
    return _radial(rng, height, width, scale, radii)


def blob(rng: np.random.Generator, height: int, width: int, scale: float) -> np.ndarray:
    """A smooth random outline: a radius made of a few low-frequency harmonics."""
    angles = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    radius = np.ones_like(angles)
    for harmonic in range(2, 5):
        radius += rng.uniform(-0.18, 0.18) * np.cos(harmonic * angles + rng.uniform(0, 2 * np.pi))
    return _radial(rng, height, width, scale, scale / 2 * np.clip(radius, 0.4, 1.6))


def rectangle(rng: np.random.Generator, height: int, width: int, scale: float) -> np.ndarray:
    cx, cy = _centre(rng, height, width, scale)
    half_w, half_h = scale / 2, scale / 2 * rng.uniform(0.35, 1.0)
    theta = rng.uniform(0, np.pi)
    corners = np.array([[-half_w, -half_h], [half_w, -half_h], [half_w, half_h], [-half_w, half_h]])
    rotation = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    return _polygon_mask(height, width, corners @ rotation.T + [cx, cy])


def organelle(rng: np.random.Generator, height: int, width: int, scale: float) -> np.ndarray:
    """An elongated smooth blob at any orientation: a mitochondrion cut by an EM section."""
    cx, cy = _centre(rng, height, width, scale)
    angles = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    wobble = 1 + rng.uniform(-0.08, 0.08) * np.cos(2 * angles + rng.uniform(0, 2 * np.pi))
    half_length, half_breadth = scale / 2, scale / 2 * rng.uniform(0.35, 0.7)
    outline = np.stack([half_length * wobble * np.cos(angles), half_breadth * wobble * np.sin(angles)], 1)
    return _polygon_mask(height, width, _rotate(outline, rng.uniform(0, np.pi)) + [cx, cy])


def frilly(rng: np.random.Generator, height: int, width: int, scale: float) -> np.ndarray:
    """A blob whose outline carries high-frequency detail (fringe, serration, fur)."""
    angles = np.linspace(0, 2 * np.pi, 360, endpoint=False)
    radius = np.ones_like(angles)
    for harmonic in range(2, 5):
        radius += rng.uniform(-0.15, 0.15) * np.cos(harmonic * angles + rng.uniform(0, 2 * np.pi))
    for harmonic in rng.integers(12, 48, size=3):
        radius += rng.uniform(0.03, 0.1) * np.cos(harmonic * angles + rng.uniform(0, 2 * np.pi))
    radius += rng.normal(0, 0.025, angles.shape)
    return _radial(rng, height, width, scale, scale / 2 * np.clip(radius, 0.3, 1.7))


def upright_box(rng: np.random.Generator, height: int, width: int, scale: float) -> np.ndarray:
    """An axis-aligned box standing on the lower part of the frame (car, pedestrian, pole, sign).

    The lower its base, the nearer it is, so the larger: a crude perspective below a horizon at
    about mid-height.
    """
    base = rng.uniform(0.55, 1.0) * height
    scale *= (base / height - 0.4) / 0.6
    aspect = math.exp(rng.uniform(math.log(0.3), math.log(2.5)))
    half_w, box_h = scale * math.sqrt(aspect) / 2, scale / math.sqrt(aspect)
    cx = rng.uniform(0, width)
    image, draw = _canvas(height, width)
    draw.rectangle([cx - half_w, base - box_h, cx + half_w, base], fill=1)
    return np.asarray(image, dtype=bool)


# Thin shapes (toy DIS5K): strokes 2-5 px wide, so a box around one holds mostly background.
# Each is drawn around the origin and then placed; polylines are (K, 2) arrays of XY points.


def _rotate(points: np.ndarray, theta: float) -> np.ndarray:
    rotation = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    return points @ rotation.T


def _loop(radius_x: float, radius_y: float, points: int = 48) -> np.ndarray:
    angles = np.linspace(0, 2 * np.pi, points + 1)
    return np.stack([radius_x * np.cos(angles), radius_y * np.sin(angles)], 1)


def _place_drawing(
    rng: np.random.Generator,
    height: int,
    width: int,
    scale: float,
    strokes: list[tuple[np.ndarray, int]],
    fills: tuple[np.ndarray, ...] = (),
) -> np.ndarray:
    """Centre a drawing of (polyline, stroke width) pairs and filled polygons at a random point."""
    cx, cy = _centre(rng, height, width, scale)
    every_point = np.concatenate([line for line, _ in strokes] + list(fills))
    offset = np.array([cx, cy]) - (every_point.min(0) + every_point.max(0)) / 2
    image, draw = _canvas(height, width)
    for polygon_points in fills:
        draw.polygon([tuple(p) for p in (polygon_points + offset).tolist()], fill=1)
    for line, stroke in strokes:
        draw.line([tuple(p) for p in (line + offset).tolist()], fill=1, width=stroke, joint="curve")
    return np.asarray(image, dtype=bool)


def _stroke_width(rng: np.random.Generator) -> int:
    return int(rng.integers(2, 6))


def wire(rng: np.random.Generator, height: int, width: int, scale: float) -> np.ndarray:
    """A curved wire or cable about 1.5 x `scale` long, its bend varying smoothly along it."""
    steps = 48
    bend = rng.uniform(-0.06, 0.06) + rng.uniform(0.05, 0.2) * np.sin(
        np.linspace(0, rng.uniform(3, 12), steps) + rng.uniform(0, 2 * np.pi)
    )
    heading = rng.uniform(0, 2 * np.pi) + np.cumsum(bend)
    line = np.cumsum(np.stack([np.cos(heading), np.sin(heading)], 1) * (1.5 * scale / steps), 0)
    return _place_drawing(rng, height, width, scale, [(line, _stroke_width(rng))])


def twig(rng: np.random.Generator, height: int, width: int, scale: float) -> np.ndarray:
    """A branching twig: each branch ends in two or three shorter ones, thinner from the trunk out."""
    trunk = _stroke_width(rng)
    strokes: list[tuple[np.ndarray, int]] = []

    def grow(start: np.ndarray, heading: float, length: float, depth: int) -> None:
        end = start + length * np.array([math.cos(heading), math.sin(heading)])
        strokes.append((np.stack([start, end]), max(1, trunk - depth)))
        if depth < 3:
            for _ in range(int(rng.integers(2, 4))):
                grow(end, heading + rng.uniform(-0.9, 0.9), length * rng.uniform(0.5, 0.75), depth + 1)

    grow(np.zeros(2), rng.uniform(0, 2 * np.pi), 0.4 * scale, 0)
    return _place_drawing(rng, height, width, scale, strokes)


def ring(rng: np.random.Generator, height: int, width: int, scale: float) -> np.ndarray:
    """A thin closed loop (hoop, bangle, frame) seen at an angle."""
    loop = _rotate(_loop(scale / 2, scale / 2 * rng.uniform(0.45, 1.0)), rng.uniform(0, np.pi))
    return _place_drawing(rng, height, width, scale, [(loop, _stroke_width(rng))])


def wheel(rng: np.random.Generator, height: int, width: int, scale: float) -> np.ndarray:
    """A spoked wheel seen at an angle: thin rim, 3-10 thin spokes, a small solid hub."""
    squash, theta, stroke = rng.uniform(0.5, 1.0), rng.uniform(0, np.pi), _stroke_width(rng)
    radius = scale / 2
    spoke_angles = np.linspace(0, 2 * np.pi, int(rng.integers(3, 11)), endpoint=False) + rng.uniform(0, np.pi)
    spokes = [np.array([[0, 0], [radius * math.cos(a), radius * squash * math.sin(a)]]) for a in spoke_angles]
    strokes = [(_rotate(line, theta), stroke) for line in [_loop(radius, radius * squash), *spokes]]
    hub = _rotate(_loop(scale * 0.06, scale * 0.06 * squash, 12), theta)
    return _place_drawing(rng, height, width, scale, strokes, (hub,))


def lattice(rng: np.random.Generator, height: int, width: int, scale: float) -> np.ndarray:
    """A fence or grille: thin posts at a regular spacing joined by two or more thin rails."""
    half_w, half_h = scale / 2, scale / 2 * rng.uniform(0.4, 1.0)
    spacing, stroke = rng.uniform(8, 16), _stroke_width(rng)
    posts = [np.array([[x, -half_h], [x, half_h]]) for x in np.arange(-half_w, half_w + 1e-6, spacing)]
    rail_count = int(rng.integers(2, max(3, int(2 * half_h / spacing)) + 1))
    rails = [np.array([[-half_w, y], [half_w, y]]) for y in np.linspace(-half_h, half_h, rail_count)]
    theta = rng.uniform(-0.5, 0.5) + rng.choice([0.0, np.pi / 4])
    strokes = [(_rotate(line, theta), stroke) for line in posts + rails]
    return _place_drawing(rng, height, width, scale, strokes)


def legged(rng: np.random.Generator, height: int, width: int, scale: float) -> np.ndarray:
    """A small solid body on 3-6 long, thin, bent legs (stool, insect, tripod)."""
    body_radius, stroke = scale * rng.uniform(0.07, 0.14), _stroke_width(rng)
    body = _loop(body_radius * rng.uniform(1.0, 1.8), body_radius, 16)
    legs = []
    for angle in np.linspace(0, 2 * np.pi, int(rng.integers(3, 7)), endpoint=False) + rng.uniform(0, np.pi):
        knee_angle = angle + rng.uniform(-0.6, 0.6)
        knee = scale * 0.25 * np.array([math.cos(angle), math.sin(angle)])
        foot = knee + scale * rng.uniform(0.15, 0.3) * np.array([math.cos(knee_angle), math.sin(knee_angle)])
        legs.append((np.stack([np.zeros(2), knee, foot]), stroke))
    return _place_drawing(rng, height, width, scale, legs, (body,))


SHAPES: dict[str, ShapeFn] = {
    "ellipse": ellipse,
    "polygon": polygon,
    "star": star,
    "blob": blob,
    "rectangle": rectangle,
    "organelle": organelle,
    "frilly": frilly,
    "upright_box": upright_box,
    "wire": wire,
    "twig": twig,
    "ring": ring,
    "wheel": wheel,
    "lattice": lattice,
    "legged": legged,
}


# --------------------------------------------------------------------------- textures
# Each texture is an H x W x 3 float image in [0, 255].


def _colour(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(0, 255, 3)


def solid(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    return np.broadcast_to(_colour(rng), (height, width, 3)).astype(np.float32)


def gradient(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    a, b = _colour(rng), _colour(rng)
    theta = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:height, 0:width]
    t = (xx * math.cos(theta) + yy * math.sin(theta)).astype(np.float32)
    t = (t - t.min()) / max(1.0, float(t.max() - t.min()))
    return (a * (1 - t[..., None]) + b * t[..., None]).astype(np.float32)


def stripes(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    a, b = _colour(rng), _colour(rng)
    period = rng.uniform(4, 14)
    theta = rng.uniform(0, np.pi)
    yy, xx = np.mgrid[0:height, 0:width]
    phase = (xx * math.cos(theta) + yy * math.sin(theta)) / period
    t = (np.sin(2 * np.pi * phase) > 0).astype(np.float32)[..., None]
    return (a * (1 - t) + b * t).astype(np.float32)


def checker(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    a, b = _colour(rng), _colour(rng)
    cell = int(rng.integers(4, 12))
    yy, xx = np.mgrid[0:height, 0:width]
    t = (((yy // cell) + (xx // cell)) % 2).astype(np.float32)[..., None]
    return (a * (1 - t) + b * t).astype(np.float32)


def noise(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    base = _colour(rng)
    grain = rng.normal(0, rng.uniform(10, 40), (height, width, 1))
    return np.clip(base + grain, 0, 255).astype(np.float32)


def _smooth_noise(rng: np.random.Generator, height: int, width: int, cells: int) -> np.ndarray:
    """H x W float noise in about [-1, 1], varying over about `cells` blobs across the image."""
    grid = rng.uniform(-1, 1, (cells + 1, cells + 1)).astype(np.float32)
    return np.asarray(Image.fromarray(grid).resize((width, height), Image.Resampling.BICUBIC))


def clouds(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Two colours mixed by multi-scale smooth noise: an out-of-focus natural backdrop or surface."""
    a, b = _colour(rng), _colour(rng)
    octaves = ((3, 0.6), (9, 0.3), (27, 0.15))
    t = sum(weight * _smooth_noise(rng, height, width, cells) for cells, weight in octaves)
    t = np.clip(0.5 + 0.5 * t, 0, 1)[..., None]
    return (a * (1 - t) + b * t).astype(np.float32)


def street(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A pale sky above a horizon at 35-55 % height, a grainy grey road below."""
    horizon = rng.uniform(0.35, 0.55) * height
    yy = np.arange(height, dtype=np.float32)[:, None, None]
    sky_top, sky_low = rng.uniform([90, 130, 190], [170, 200, 255]), rng.uniform(190, 250, 3)
    sky = sky_top + (sky_low - sky_top) * np.clip(yy / horizon, 0, 1)
    road_far, road_near = rng.uniform(100, 160), rng.uniform(50, 100)
    road = road_far + (road_near - road_far) * np.clip((yy - horizon) / (height - horizon), 0, 1)
    road = road + rng.normal(0, 6, (height, width, 1))
    return np.where(yy < horizon, sky, road).astype(np.float32) * np.ones((1, width, 3), np.float32)


def membranes(rng: np.random.Generator, height: int, width: int, cell_size: float) -> np.ndarray:
    """Cytoplasm under an electron microscope: mottled grey crossed by dark, wavy closed membranes.

    The membranes are the zero crossings of smooth noise, which wind around cells about
    `cell_size` pixels across.
    """
    tone = rng.uniform(140, 185) + 18 * _smooth_noise(rng, height, width, 4)
    field = _smooth_noise(rng, height, width, max(2, round(max(height, width) / cell_size)))
    sign = field > 0
    membrane = np.zeros_like(sign)
    membrane[:-1] |= sign[:-1] != sign[1:]
    membrane[:, :-1] |= sign[:, :-1] != sign[:, 1:]
    gray = np.where(membrane, tone - rng.uniform(70, 100), tone)
    return np.repeat(gray[..., None], 3, axis=2).astype(np.float32)


TEXTURES: dict[str, TextureFn] = {
    "solid": solid,
    "gradient": gradient,
    "stripes": stripes,
    "checker": checker,
    "noise": noise,
    "clouds": clouds,
    "street": street,
    "membranes": partial(membranes, cell_size=36),
    "dense_membranes": partial(membranes, cell_size=16),
}


# --------------------------------------------------------------------------- scenes


@dataclass(frozen=True)
class SceneStyle:
    """What a suite's scenes look like. Sizes are in pixels of the generated image.

    Attributes:
        shapes: names in :data:`SHAPES` objects are drawn from.
        textures: names in :data:`TEXTURES` object fills are drawn from.
        backgrounds: names in :data:`TEXTURES` the background is drawn from.
        objects: inclusive range of the number of objects painted (before occlusion drops some).
        object_scale: range of object size as a fraction of the image's shorter side.
        height, width: inclusive ranges of the image size.
        min_visible: instances with fewer visible pixels after occlusion are dropped.
        grayscale: render in gray (channels equal).
        blur: Gaussian blur radius applied to the finished image (0: none).
        pixel_noise: standard deviation of per-pixel Gaussian noise added last.
    """

    shapes: tuple[str, ...]
    textures: tuple[str, ...]
    backgrounds: tuple[str, ...]
    objects: tuple[int, int] = (1, 4)
    object_scale: tuple[float, float] = (0.2, 0.5)
    height: tuple[int, int] = (96, 144)
    width: tuple[int, int] = (96, 144)
    min_visible: int = 24
    grayscale: bool = False
    blur: float = 0.0
    pixel_noise: float = 0.0


def render_scene(
    rng: np.random.Generator,
    style: SceneStyle,
    shapes: dict[str, ShapeFn] = SHAPES,
    textures: dict[str, TextureFn] = TEXTURES,
) -> tuple[np.ndarray, np.ndarray]:
    """Paint a background, then objects one over the other; return (image, visible instance masks)."""
    height = int(rng.integers(style.height[0], style.height[1] + 1))
    width = int(rng.integers(style.width[0], style.width[1] + 1))
    canvas = textures[str(rng.choice(style.backgrounds))](rng, height, width).copy()
    masks: list[np.ndarray] = []
    for _ in range(int(rng.integers(style.objects[0], style.objects[1] + 1))):
        scale = rng.uniform(*style.object_scale) * min(height, width)
        mask = shapes[str(rng.choice(style.shapes))](rng, height, width, scale)
        fill = textures[str(rng.choice(style.textures))](rng, height, width)
        canvas[mask] = fill[mask]
        masks = [previous & ~mask for previous in masks]
        masks.append(mask)
    kept = [m for m in masks if m.sum() >= style.min_visible]
    image = _finish(rng, canvas, style)
    stack = np.stack(kept) if kept else np.zeros((0, height, width), dtype=bool)
    return image, stack


def _finish(rng: np.random.Generator, canvas: np.ndarray, style: SceneStyle) -> np.ndarray:
    if style.grayscale:
        canvas = np.repeat(canvas.mean(axis=2, keepdims=True), 3, axis=2)
    if style.blur > 0:
        pil = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8))
        canvas = np.asarray(pil.filter(ImageFilter.GaussianBlur(style.blur)), dtype=np.float32)
    if style.pixel_noise > 0:
        grain = rng.normal(0, style.pixel_noise, canvas.shape[:2] + (1,))
        canvas = canvas + (grain if style.grayscale else rng.normal(0, style.pixel_noise, canvas.shape))
    return np.clip(np.round(canvas), 0, 255).astype(np.uint8)


def split_seed(seed: int, name: str, split: str, index: int) -> int:
    """A seed per (suite, split, sample): stable across Python versions and processes."""
    key = f"{seed}/{name}/{split}/{index}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "little")


class SyntheticDataset(SegmentationDataset):
    """A dataset generated on the fly from a :class:`SceneStyle`; subclasses set the class attributes.

    ``sizes`` gives the number of samples per split; ``seed`` fixes every pixel.
    Override :meth:`render` for scenes that :func:`render_scene` cannot express.
    """

    style: SceneStyle
    sizes: dict[str, int]
    seed: int = 0
    generated = True

    def __len__(self) -> int:
        return self.sizes[self.split]

    def render(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return render_scene(rng, self.style)

    def _load(self, index: int) -> Sample:
        rng = np.random.default_rng(split_seed(self.seed, self.name, self.split, index))
        image, masks = self.render(rng)
        return Sample(
            sample_id=f"{self.split}-{index:05d}",
            image=image,
            masks=masks,
            instance_ids=tuple(range(1, masks.shape[0] + 1)),
            meta={"source": f"synthetic:{self.name}/{self.split}/{index}", "seed": self.seed},
        )


# --------------------------------------------------------------------------- other scene kinds
# Scenes that render_scene cannot express; each is a SceneFn drawing from a SceneStyle.

SceneFn = Callable[[np.random.Generator, SceneStyle], tuple[np.ndarray, np.ndarray]]


def _large_enough(mask: np.ndarray, style: SceneStyle) -> bool:
    return int(mask.sum()) >= style.min_visible


def _stack(masks: list[np.ndarray], height: int, width: int) -> np.ndarray:
    return np.stack(masks) if masks else np.zeros((0, height, width), dtype=bool)


def _image_size(rng: np.random.Generator, style: SceneStyle) -> tuple[int, int]:
    height = int(rng.integers(style.height[0], style.height[1] + 1))
    return height, int(rng.integers(style.width[0], style.width[1] + 1))


def _bounding_box(mask: np.ndarray, pad: int = 0) -> tuple[slice, slice]:
    """Slices of the smallest box holding a non-empty mask, grown by `pad` pixels within the image."""
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    return (
        slice(max(0, rows[0] - pad), rows[-1] + pad + 1),
        slice(max(0, cols[0] - pad), cols[-1] + pad + 1),
    )


def paint_organelle(rng: np.random.Generator, gray: np.ndarray, mask: np.ndarray) -> None:
    """Paint a mitochondrion into `mask` of an H x W grey canvas: dark outer and inner membranes
    with a light gap between them, and a darker matrix crossed by cristae running across the
    organelle's long axis."""
    box = _bounding_box(mask)
    inside = mask[box]
    depth = ndimage.distance_transform_cdt(inside, metric="taxicab")
    # The long axis is the leading eigenvector of the pixel coordinates' covariance.
    rows, cols = np.nonzero(inside)
    _, vectors = np.linalg.eigh(np.cov(np.stack([cols, rows])))
    along_x, along_y = vectors[:, -1]
    yy, xx = np.mgrid[0 : inside.shape[0], 0 : inside.shape[1]]
    period, phase = rng.uniform(3.5, 6), rng.uniform(0, 2 * np.pi)
    cristae = np.sin(2 * np.pi * (xx * along_x + yy * along_y) / period + phase) > 0.4
    dark, gap, matrix = rng.uniform(35, 65), rng.uniform(70, 100), rng.uniform(95, 130)
    membrane_by_depth = np.array([0.0, dark, dark + gap, dark])
    shade = np.where(
        depth > 3,
        np.where(cristae, matrix - rng.uniform(25, 45), matrix),
        membrane_by_depth[np.minimum(depth, 3)],
    )
    gray[box][inside] = shade[inside]


def render_em_scene(rng: np.random.Generator, style: SceneStyle) -> tuple[np.ndarray, np.ndarray]:
    """An electron-microscopy section: a grey membrane background with organelles that never touch.

    Up to ``style.objects`` organelles are placed by rejection, with three tries per organelle
    wanted: one that would come within two pixels of another, or show fewer than
    ``style.min_visible`` pixels inside the frame, is not painted, so every painted organelle is
    an annotated instance.
    Painting works on one channel, since EM backgrounds (``membranes``) are grey.
    """
    height, width = _image_size(rng, style)
    gray = TEXTURES[str(rng.choice(style.backgrounds))](rng, height, width)[..., 0].copy()
    wanted = int(rng.integers(style.objects[0], style.objects[1] + 1))
    taken = np.zeros((height, width), dtype=bool)
    masks: list[np.ndarray] = []
    for _ in range(3 * wanted):
        if len(masks) == wanted:
            break
        scale = rng.uniform(*style.object_scale) * min(height, width)
        mask = SHAPES[str(rng.choice(style.shapes))](rng, height, width, scale)
        if not _large_enough(mask, style):
            continue
        near = _bounding_box(mask, pad=2)
        if (ndimage.binary_dilation(mask[near], iterations=2) & taken[near]).any():
            continue
        paint_organelle(rng, gray, mask)
        taken |= mask
        masks.append(mask)
    canvas = np.repeat(gray[..., None], 3, axis=2)
    return _finish(rng, canvas, style), _stack(masks, height, width)


def render_partition(rng: np.random.Generator, style: SceneStyle) -> tuple[np.ndarray, np.ndarray]:
    """The image tiled into ``style.objects`` textured regions, each one instance ("stuff").

    Regions are Voronoi cells of random seeds, measured in coordinates displaced by smooth noise
    so that borders wander like those between sky, grass, wall and road. Every pixel belongs to
    a region; a region under ``style.min_visible`` pixels stays painted but unannotated.
    """
    height, width = _image_size(rng, style)
    count = int(rng.integers(style.objects[0], style.objects[1] + 1))
    seeds = rng.uniform([0, 0], [width, height], (count, 2))
    wander = 0.15 * min(height, width)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    xx += wander * _smooth_noise(rng, height, width, 4)
    yy += wander * _smooth_noise(rng, height, width, 4)
    distance = (xx[None] - seeds[:, 0, None, None]) ** 2 + (yy[None] - seeds[:, 1, None, None]) ** 2
    region_of = distance.argmin(axis=0)
    canvas = np.empty((height, width, 3), dtype=np.float32)
    masks = []
    for region in range(count):
        mask = region_of == region
        canvas[mask] = TEXTURES[str(rng.choice(style.textures))](rng, height, width)[mask]
        if _large_enough(mask, style):
            masks.append(mask)
    return _finish(rng, canvas, style), _stack(masks, height, width)


class NonEmptySyntheticDataset(SyntheticDataset):
    """A synthetic dataset whose every sample has at least one instance.

    ``draw_scene(rng, style)`` makes a scene (:func:`render_scene` unless a subclass sets another,
    e.g. ``staticmethod(render_em_scene)``); a scene left with no instance (all dropped under
    ``style.min_visible``) is drawn again from the same generator, so every sample stays
    deterministic.
    """

    draw_scene: ClassVar[SceneFn] = staticmethod(render_scene)
    max_draws: ClassVar[int] = 20

    def render(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        for _ in range(self.max_draws):
            image, masks = self.draw_scene(rng, self.style)
            if masks.shape[0] > 0:
                return image, masks
        raise RuntimeError(
            f"{self.name}: {self.max_draws} scenes in a row had no instance; the style's objects are "
            f"too small for min_visible={self.style.min_visible}"
        )
