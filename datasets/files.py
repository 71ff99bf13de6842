"""Where a real dataset lives and how its files are read, with errors that name the file and the fix.

Every loader of an official on-disk layout goes through these helpers, so that a missing folder or
a broken file reads the same way for every dataset: what was looked for, where, how to set the data
root, and the layout that was expected.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from sherpa_bench.harness.errors import DatasetNotFoundError, MalformedDataError

DATA_ROOT_ENV = "SHERPA_BENCH_DATA"
HOW_TO_SET_ROOT = f"--data-root DIR or {DATA_ROOT_ENV}=DIR"


class DatasetFiles:
    """One dataset's files under the data root: resolves the root and words every problem.

    Arguments:
        title: the dataset's name as its authors write it (used in messages).
        layout: the expected tree under DIR, drawn as text (shown with every problem).
        data_root: the root given on the command line, or None to read ``SHERPA_BENCH_DATA``.
    """

    def __init__(self, title: str, layout: str, data_root: Path | str | None) -> None:
        self.title = title
        self.layout = layout
        self.root = self._resolve(data_root)

    def _resolve(self, data_root: Path | str | None) -> Path:
        if data_root is not None:
            return Path(data_root)
        if os.environ.get(DATA_ROOT_ENV):
            return Path(os.environ[DATA_ROOT_ENV])
        raise self.not_found(f"no data root given (neither --data-root nor {DATA_ROOT_ENV} is set)")

    def _message(self, problem: str) -> str:
        return f"{self.title}: {problem}.\nThe data root DIR is set with {HOW_TO_SET_ROOT}.\nexpected layout:\n{self.layout}"

    def not_found(self, problem: str) -> DatasetNotFoundError:
        return DatasetNotFoundError(self._message(problem))

    def malformed(self, problem: str) -> MalformedDataError:
        return MalformedDataError(self._message(problem))

    def folder(self, *parts: str) -> Path:
        """A folder under the root that must exist."""
        path = self.root.joinpath(*parts)
        if not path.is_dir():
            raise self.not_found(f"folder {path} does not exist")
        return path

    def file(self, *parts: str) -> Path:
        """A file under the root that must exist."""
        path = self.root.joinpath(*parts)
        if not path.is_file():
            raise self.not_found(f"file {path} does not exist")
        return path

    def listing(self, folder: Path, suffixes: tuple[str, ...], what: str) -> list[Path]:
        """The sorted files of ``folder`` with one of ``suffixes`` (case-insensitive); none is an error."""
        found = sorted(p for p in folder.iterdir() if p.suffix.lower() in suffixes)
        if not found:
            raise self.not_found(f"no {'/'.join(suffixes)} {what} in {folder}")
        return found

    def pair_by_stem(self, images: list[Path], mask_dir: Path, mask_name) -> list[tuple[Path, Path]]:
        """(image, mask) pairs, the mask named ``mask_name(image)`` in ``mask_dir``; an image without
        its mask is an error that lists the first few."""
        present = {p.name for p in mask_dir.iterdir()}
        pairs = [(image, mask_dir / mask_name(image)) for image in images]
        unmatched = [image for image, mask in pairs if mask.name not in present]
        if unmatched:
            listed = ", ".join(str(p) for p in unmatched[:3]) + (", ..." if len(unmatched) > 3 else "")
            example = mask_name(unmatched[0])
            raise self.malformed(
                f"{len(unmatched)} image(s) have no mask in {mask_dir} (expected e.g. {example}): {listed}"
            )
        return pairs

    def read(self, path: Path) -> Image.Image:
        """Open and fully decode an image file, so that corruption is reported here, with the path."""
        try:
            with Image.open(path) as opened:
                opened.load()
                return opened.copy()
        except (OSError, SyntaxError, ValueError) as error:
            raise self.malformed(f"cannot read {path} ({error}); replace the file with a valid copy") from error

    def rgb(self, path: Path) -> np.ndarray:
        """An image file as H x W x 3 uint8 RGB. Greyscale is repeated over three channels; 16-bit
        greyscale (EM stacks) is scaled from its own min..max to 0..255, which is what SAM sees."""
        return to_rgb(self.read(path))

    def same_size(self, image_hw: tuple, mask_hw: tuple, image_path: Path, mask_path: Path) -> None:
        """Refuse a mask whose (H, W) differs from its image's, naming both files."""
        if tuple(image_hw) != tuple(mask_hw):
            (ih, iw), (mh, mw) = image_hw, mask_hw
            raise self.malformed(
                f"mask {mask_path} is {mw}x{mh} (WxH) but its image {image_path} is {iw}x{ih}; "
                "re-export the mask at the image's size"
            )


def to_rgb(image: Image.Image) -> np.ndarray:
    """PIL image -> H x W x 3 uint8 RGB (see :meth:`DatasetFiles.rgb`)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        low, high = float(values.min()), float(values.max())
        scaled = np.zeros_like(values) if high == low else (values - low) / (high - low) * 255.0
        grey = np.round(scaled).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def mask_values(image: Image.Image) -> np.ndarray:
    """The stored values of a mask file: palette indices for a palette PNG (not colours), channel 0
    of a multi-channel mask, else the single channel as stored."""
    array = np.asarray(image)
    return array[..., 0] if array.ndim == 3 else array
