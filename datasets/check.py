"""``sherpa-bench data check``: what a dataset looks like on disk, and the fix for each problem.

For every split: where it looked, how many images it found against the official release (the
dataset's ``expected_counts``), the image modes and sizes, the raw values of the mask files, how many
masks are empty, and every file that cannot be used (corrupt, another size than its image, an
encoding value the release does not have) with the message that names it and says the fix.

``verify_training_split`` runs the same pass before training and refuses a split with problems; a
split that passed is remembered (its files' sizes and modification times) so that later runs do not
decode it again.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from sherpa_bench.datasets.files import DATA_ROOT_ENV, mask_values
from sherpa_bench.datasets.types import SegmentationDataset
from sherpa_bench.harness.atomic import atomic_write_text
from sherpa_bench.harness.errors import DatasetNotFoundError, MalformedDataError
from sherpa_bench.harness.registry import DATASETS

MAX_LISTED = 5  # problems and empty masks named one by one; the rest are counted
MAX_VALUES = 12  # distinct raw mask values shown
RAW_MASK_SUFFIXES = (".png", ".tif", ".tiff", ".bmp")


@dataclass
class SplitReport:
    split: str
    expected: int | None
    found: int | None = None
    checked: int = 0
    instances: int = 0
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    missing: str | None = None
    empty: list[str] = field(default_factory=list)
    empty_count: int = 0
    image_modes: dict[str, int] = field(default_factory=dict)
    smallest: tuple[int, int] | None = None
    largest: tuple[int, int] | None = None
    mask_values: list[int] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # every file the split's samples came from

    @property
    def failed(self) -> bool:
        return self.missing is not None or self.problem_count > 0

    @property
    def count_differs(self) -> bool:
        return self.expected is not None and self.found is not None and self.found != self.expected


@dataclass
class DatasetReport:
    name: str
    title: str
    source: str
    mask_encoding: str
    root: str | None
    splits: list[SplitReport]

    @property
    def failed(self) -> bool:
        return any(split.failed for split in self.splits)

    @property
    def absent(self) -> bool:
        """No split is on disk at all (as opposed to present with problems)."""
        return all(split.missing is not None for split in self.splits)


def first_line(error: Exception) -> str:
    """The problem itself, without the layout help that follows it in a loader's message."""
    return str(error).split("\nThe data root DIR")[0]


def check_split(
    dataset_class: type[SegmentationDataset],
    split: str,
    data_root: Path | None,
    limit: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> SplitReport:
    """Open one split and decode up to ``limit`` of its samples (all when None)."""
    report = SplitReport(split=split, expected=dataset_class.expected_counts.get(split))
    try:
        dataset = dataset_class(split, data_root)
    except DatasetNotFoundError as error:
        report.missing = str(error)
        return report
    except MalformedDataError as error:
        report.problems.append(first_line(error))
        report.problem_count = 1
        return report
    report.found = len(dataset)
    modes: Counter[str] = Counter()
    values: set[int] = set()
    files: dict[str, None] = {}
    total = len(dataset) if limit is None else min(limit, len(dataset))
    for index in range(total):
        if progress is not None and index and index % 200 == 0:
            progress(f"{dataset_class.name}/{split}: {index}/{total} checked")
        try:
            sample = dataset[index]
        except MalformedDataError as error:
            report.problem_count += 1
            if len(report.problems) < MAX_LISTED:
                report.problems.append(first_line(error))
            continue
        report.checked += 1
        report.instances += sample.masks.shape[0]
        if sample.masks.shape[0] == 0:
            report.empty_count += 1
            if len(report.empty) < MAX_LISTED:
                report.empty.append(sample.sample_id)
        size = sample.size
        report.smallest = size if report.smallest is None else min(report.smallest, size, key=lambda s: s[0] * s[1])
        report.largest = size if report.largest is None else max(report.largest, size, key=lambda s: s[0] * s[1])
        for key in ("source", "mask"):
            if key in sample.meta:
                files[str(sample.meta[key])] = None
        modes[_mode(sample.meta.get("source"))] += 1
        if len(values) <= MAX_VALUES:
            values |= _raw_values(sample.meta.get("mask"), int(sample.meta.get("slice", 0)))
    report.image_modes = dict(modes)
    report.mask_values = sorted(values)[: MAX_VALUES + 1]
    report.files = list(files)
    return report


def check_dataset(
    name: str, data_root: Path | None, limit: int | None = None, progress: Callable[[str], None] | None = None
) -> DatasetReport:
    dataset_class = DATASETS.get(name)
    root = data_root if data_root is not None else os.environ.get(DATA_ROOT_ENV)
    splits = [check_split(dataset_class, split, data_root, limit, progress) for split in dataset_class.splits]
    return DatasetReport(
        name=name,
        title=getattr(dataset_class, "title", name),
        source=dataset_class.source,
        mask_encoding=dataset_class.mask_encoding,
        root=str(root) if root is not None else None,
        splits=splits,
    )


def _mode(path: str | None) -> str:
    if not path:
        return "unknown"
    try:
        with Image.open(path) as image:
            return f"{image.mode} ({len(image.getbands())} channel{'s' if len(image.getbands()) > 1 else ''})"
    except OSError:
        return "unreadable"


def _raw_values(path: str | None, page: int = 0) -> set[int]:
    """Distinct stored values of a mask file (the sample's page of a stack), or nothing for other encodings."""
    if not path or Path(path).suffix.lower() not in RAW_MASK_SUFFIXES:
        return set()
    try:
        with Image.open(path) as image:
            if getattr(image, "n_frames", 1) > page > 0:
                image.seek(page)
            return {int(v) for v in np.unique(mask_values(image))[: MAX_VALUES + 1]}
    except OSError:
        return set()


def format_report(report: DatasetReport) -> str:
    """The report as text: one block per split, each problem with its fix."""
    status = "FAILED" if report.failed else "ok"
    lines = [f"{report.name} ({report.title}): {status}"]
    lines.append(f"  data root: {report.root or f'not set (--data-root or {DATA_ROOT_ENV})'}")
    lines.append(f"  masks: {report.mask_encoding}")
    lines.append(f"  official source: {report.source}")
    for split in report.splits:
        expected = f"{split.expected}" if split.expected is not None else "unknown"
        if split.missing is not None:
            lines.append(f"  [{split.split}] MISSING: {split.missing.splitlines()[0]}")
            continue
        found = "-" if split.found is None else str(split.found)
        lines.append(f"  [{split.split}] images: {found} (official release: {expected}); decoded {split.checked}")
        if split.count_differs:
            lines.append(
                f"    warning: {split.found} images where the release has {split.expected} "
                "(a partial download, a subset or another version? re-download from the source above if unintended)"
            )
        if split.checked:
            modes = ", ".join(f"{mode} x{count}" for mode, count in split.image_modes.items())
            lines.append(f"    images: {modes}; sizes (HxW) {_hw(split.smallest)} .. {_hw(split.largest)}")
            shown = ", ".join(str(v) for v in split.mask_values[:MAX_VALUES])
            more = " ..." if len(split.mask_values) > MAX_VALUES else ""
            lines.append(f"    instances: {split.instances}; raw mask values: {shown or 'n/a'}{more}")
        if split.empty_count:
            listed = ", ".join(split.empty) + (", ..." if split.empty_count > len(split.empty) else "")
            lines.append(f"    {split.empty_count} image(s) with no instance (scored as nothing): {listed}")
        for problem in split.problems:
            lines.append(f"    PROBLEM: {problem}")
        if split.problem_count > len(split.problems):
            lines.append(f"    ... and {split.problem_count - len(split.problems)} more problem(s)")
    return "\n".join(lines)


def _hw(size: tuple[int, int] | None) -> str:
    return "-" if size is None else f"{size[0]}x{size[1]}"


def _stamp(files: list[str]) -> list[list]:
    return [[path, Path(path).stat().st_size, Path(path).stat().st_mtime_ns] for path in files]


def verify_training_split(
    dataset: SegmentationDataset, cache_dir: Path, progress: Callable[[str], None] | None = None
) -> None:
    """Refuse to train on a split whose files fail the check, naming them; remember a split that
    passed, keyed by its files' sizes and modification times."""
    if dataset.generated:
        return
    key = cache_dir / f"{dataset.name}-{dataset.split}.json"
    if key.is_file():
        remembered = json.loads(key.read_text())
        try:
            unchanged = (
                remembered["count"] == len(dataset)
                and _stamp([f[0] for f in remembered["files"]]) == remembered["files"]
            )
        except OSError:
            unchanged = False
        if unchanged:
            return
    if progress is not None:
        progress(f"checking every file of {dataset.name}/{dataset.split} before training (once)")
    report = check_split(type(dataset), dataset.split, dataset.data_root, progress=progress)
    if report.failed:
        problems = "\n  ".join(report.problems) or (report.missing or "")
        raise MalformedDataError(
            f"training refused: {report.problem_count} file(s) of {dataset.name}/{dataset.split} cannot be used:\n  "
            f"{problems}\nFix them, or run `sherpa-bench data check {dataset.name}` for the full report"
        )
    atomic_write_text(
        key,
        json.dumps({"count": len(dataset), "files": _stamp(report.files), "report": asdict(report) | {"files": []}}),
    )
