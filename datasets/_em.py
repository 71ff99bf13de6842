"""Shared by the electron-microscopy (mitochondria) datasets: reading one page of a TIFF stack
without decoding the others, and turning a binary mitochondria mask into instances.

Not a dataset (leading underscore: the registry does not import it as one).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
from PIL import Image

from sherpa_bench.datasets.encodings import BINARY_THRESHOLD, connected_instances, tiff_page_count
from sherpa_bench.datasets.files import DatasetFiles

#: Connected pieces (or ids) with fewer pixels than this in a slice are not instances. A
#: mitochondrion's cross-section is a few hundred nm wide (tens of pixels at 4-8 nm per pixel,
#: hundreds to thousands of pixels in area); 64 pixels (8 x 8) only removes annotation specks and
#: the tips of mitochondria grazing the section, which no prompt can target (SAM also sees a 4096²
#: MitoEM slice downsized 4x, where 64 pixels become 4). Their pixels become the ignore region.
MIN_MITO_PIXELS = 64

#: What PIL raises on a broken TIFF: truncation shows up as OSError/EOFError, a damaged IFD chain
#: as TypeError/KeyError/struct.error (e.g. "Missing dimensions" while counting pages).
DECODE_ERRORS = (OSError, EOFError, SyntaxError, ValueError, TypeError, KeyError, struct.error)


def stack_shape(files: DatasetFiles, path: Path) -> tuple[int, tuple[int, int]]:
    """(number of pages, (H, W) of the first page) of a multi-page TIFF, reading headers only."""
    try:
        count = tiff_page_count(path)
        with Image.open(path) as stack:
            width, height = stack.size
    except DECODE_ERRORS as error:
        raise files.malformed(
            f"cannot read the TIFF stack {path} ({error}); replace the file with a valid copy"
        ) from error
    return count, (height, width)


def read_page(files: DatasetFiles, path: Path, index: int) -> Image.Image:
    """Page ``index`` (0-based) of a multi-page TIFF, decoded alone (the stack is not loaded)."""
    try:
        with Image.open(path) as stack:
            stack.seek(index)
            stack.load()
            return stack.copy()
    except DECODE_ERRORS as error:
        raise files.malformed(
            f"cannot read page {index} of the TIFF stack {path} ({error}); replace the file with a valid copy"
        ) from error


def binary_mito(files: DatasetFiles, image: Image.Image, where: str | Path) -> np.ndarray:
    """A 0/255 mitochondria mask (255 = mitochondrion) -> H x W bool foreground (> 127).

    A 1-bit image counts as 0/255. A mask whose only non-zero values are <= 127 (e.g. a 0/1 export)
    would silently lose every mitochondrion, so it is refused (``where`` names the file in the message).
    """
    if image.mode in ("1", "P", "LA", "PA"):
        image = image.convert("L")
    values = np.asarray(image)
    if values.ndim == 3:
        values = values[..., 0]
    foreground = values > BINARY_THRESHOLD
    if not foreground.any() and values.max(initial=0) > 0:
        raise files.malformed(
            f"mask {where} stores values 0..{int(values.max())} but mitochondria are 255 (0 = background); "
            "re-export it as 0/255"
        )
    return foreground


def mito_components(
    foreground: np.ndarray, min_pixels: int = MIN_MITO_PIXELS
) -> tuple[np.ndarray, tuple[int, ...], np.ndarray | None]:
    """(masks, ids, ignore) of a binary mask: each 8-connected piece of at least ``min_pixels``
    pixels is an instance (ids 1..N in raster order of their first pixel); the pixels of smaller
    pieces are the ignore region (None when there are none)."""
    masks, ids = connected_instances(foreground, min_pixels=min_pixels, connectivity=8)
    return masks, ids, dropped_pixels(foreground, masks)


def dropped_pixels(annotated: np.ndarray, masks: np.ndarray) -> np.ndarray | None:
    """Annotated pixels covered by no kept instance, or None when every annotated pixel is kept."""
    dropped = annotated & ~masks.any(axis=0) if len(masks) else annotated.copy()
    return dropped if dropped.any() else None
