"""Mask encodings of the official releases, decoded once into instance masks (+ an ignore region).

A dataset module picks the decoder that matches how its authors store masks; these are the only
places where 0/255 polarity, palette indices, id maps, RLE and TIFF stacks are interpreted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageSequence
from pycocotools import mask as coco_mask
from scipy import ndimage

BINARY_THRESHOLD = 127


def binary_foreground(image: Image.Image) -> np.ndarray:
    """A 0/255 mask file -> H x W bool foreground (> 127, as DIS, HQ-SAM and CascadePSP binarise).

    A palette PNG is read through its grey values (what the 0/255 convention refers to), a
    multi-channel PNG through channel 0 (as the DIS loaders do).
    """
    if image.mode == "P":
        image = image.convert("L")
    array = np.asarray(image)
    if array.ndim == 3:
        array = array[..., 0]
    return array > BINARY_THRESHOLD


def one_instance(foreground: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
    """The whole foreground as ONE instance (id 1), however many pieces it has; none if empty."""
    if not foreground.any():
        return np.zeros((0, *foreground.shape), dtype=bool), ()
    return foreground[None].copy(), (1,)


def connected_instances(
    foreground: np.ndarray, min_pixels: int = 1, connectivity: int = 8
) -> tuple[np.ndarray, tuple[int, ...]]:
    """Each connected component of a binary mask as an instance, ids 1..N in raster order of their
    first pixel (scipy's labelling order); components smaller than ``min_pixels`` are dropped."""
    structure = np.ones((3, 3), dtype=bool) if connectivity == 8 else None
    labels, count = ndimage.label(foreground, structure=structure)
    return instances_from_ids(labels, min_pixels=min_pixels)


def instances_from_ids(
    id_map: np.ndarray,
    background: tuple[int, ...] = (0,),
    ignore_values: tuple[int, ...] = (),
    min_pixels: int = 1,
) -> tuple[np.ndarray, tuple[int, ...]]:
    """An instance-id map -> (N x H x W bool masks, N ids) in increasing id order, skipping the
    background and ignore values and ids with fewer than ``min_pixels`` pixels."""
    values, counts = np.unique(id_map, return_counts=True)
    skip = set(background) | set(ignore_values)
    keep = [int(v) for v, c in zip(values, counts) if int(v) not in skip and c >= min_pixels]
    if not keep:
        return np.zeros((0, *id_map.shape), dtype=bool), ()
    return np.stack([id_map == v for v in keep]), tuple(keep)


def decode_rle(segmentation: dict | list, height: int, width: int) -> np.ndarray:
    """A COCO segmentation (polygons, uncompressed or compressed RLE) -> H x W bool, via pycocotools."""
    if isinstance(segmentation, list):  # polygons
        rle = coco_mask.merge(coco_mask.frPyObjects(segmentation, height, width))
    elif isinstance(segmentation.get("counts"), list):  # uncompressed RLE
        rle = coco_mask.frPyObjects(segmentation, height, width)
    else:
        rle = dict(segmentation)
        if isinstance(rle["counts"], str):
            rle["counts"] = rle["counts"].encode("ascii")
    return coco_mask.decode(rle).astype(bool)


def tiff_pages(path: Path) -> list[np.ndarray]:
    """Every page of a (multi-page) TIFF stack, as stored (uint8, uint16 or int32 arrays)."""
    with Image.open(path) as stack:
        return [np.asarray(page).copy() for page in ImageSequence.Iterator(stack)]


def tiff_page_count(path: Path) -> int:
    with Image.open(path) as stack:
        return getattr(stack, "n_frames", 1)
