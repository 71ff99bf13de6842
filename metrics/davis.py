"""DAVIS J&F (davis2017-evaluation semantics) and VOST's J / J_last for video object segmentation.

Written from the definitions in ``shared/notes/metrics.md`` §5 (davis2017-evaluation @ ac7c43f) and
TRI-ML/VOST ``evaluation/source/evaluation.py``. Neither evaluator is on PyPI (davis2017 installs from
git with cv2/skimage/sklearn; VOST ships no package), so the few lines below are written here with numpy
and scipy only; the tests check per-frame J and F against a slow reference written from the definitions
and against ``vos-benchmark`` (davis2017's per-frame code) where it is installed.

Per frame, for boolean masks ``G`` (truth) and ``P`` (prediction), optional void ``V``:

* ``J = |G∩P∖V| / |(G∪P)∖V|``; an empty union gives 1.
* ``F``: void pixels become background in both masks; boundaries by ``boundary_map`` (seg2bmap: a pixel
  differing from its east, south or south-east neighbour; **image borders are never boundary**, so a
  full-image mask has no boundary and full G vs empty P gives F = 1 while J = 0); tolerance radius
  ``r = ceil(0.008 · sqrt(H² + W²))`` (or ``bound_th`` pixels when ``bound_th >= 1``); a boundary pixel
  is matched when the other boundary lies within the disk ``dy² + dx² <= r²``; precision / recall are
  the matched fractions (an empty boundary has precision resp. recall 1); ``F = 2PR / (P + R)``, 0 when
  ``P + R = 0``. F is symmetric in its arguments.

Per object over its per-frame values v₀…v_{N−1}: Mean = nanmean(v), Recall = mean(v > 0.5) (strict),
Decay = nanmean(first quarter bin) − nanmean(last quarter bin) with the bins of davis2017's
``db_statistics``. **Intentional deviation:** davis2017 casts the bin indices to uint8, which wraps for
N >= 256 frames (NaN or a wrong finite Decay); here they are int64, so Decay is right for long videos.
For N <= 255 the numbers are identical.

Sequence protocols (semi-supervised):

* DAVIS: objects are 1..max(label of ground-truth frame 0); an id missing from a frame is an empty mask
  there (both empty scores 1); the first and last frames are not scored; a predicted id above the
  object count is an error (davis2017 exits). Global values are means over all objects of all sequences
  (object-weighted), J&F = (J-Mean + F-Mean) / 2.
* VOST: the same per-object J over the *annotated* frames (pass only those), first and last excluded;
  predicted ids above the object count are ignored (VOST truncates); J = mean over objects of the
  object's mean J; J_last = the same over the last 25 % of the evaluated frames,
  ``frames[floor(0.75 · N):]``. VOST reports no F.

Both reference evaluators pass no void to the semi-supervised metrics (VOST folds label 255 into
background). ``VideoPair.void`` is therefore optional: leave it None to reproduce their numbers.

Arrays may be numpy or torch tensors. On an accelerator the disk dilation is a batched convolution on
the tensors' device; on the CPU it is scipy's distance transform over each pair's bounding box. Both
give identical numbers.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as functional
from scipy import ndimage

from sherpa_bench.harness.registry import METRICS
from sherpa_bench.metrics._arrays import (
    Array,
    as_mask,
    bounding_window,
    chunk_slices,
    on_accelerator,
    pixel_counts,
    ratio,
    same_kind,
    to_numpy,
    zeros_like,
)


def jaccard(truth: Array, predicted: Array, void: Array | None = None) -> np.ndarray:
    """Per-frame J of stacked masks.

    Arguments:
        truth, predicted: (..., H, W) bool (numpy or torch, same device).
        void: bool mask broadcastable to them, or None; void pixels leave both counts.

    Returns:
        float64 array (...); 1 where the union (outside void) is empty.
    """
    truth, predicted = as_mask(truth), as_mask(predicted)
    intersection, union = truth & predicted, truth | predicted
    if void is not None:
        keep = ~same_kind(void, truth)
        intersection, union = intersection & keep, union & keep
    return ratio(pixel_counts(intersection), pixel_counts(union), empty=1.0)


def boundary_map(masks: Array) -> Array:
    """seg2bmap boundary of (..., H, W) bool masks: 1 px wide, shifted half a pixel toward the origin.

    A pixel is boundary when it differs from its east, south or south-east neighbour (outside = 0);
    the last row compares with east only, the last column with south only, the bottom-right pixel is
    never boundary. Hence the image border never produces boundary pixels.
    """
    masks = as_mask(masks)
    east, south, south_east = zeros_like(masks), zeros_like(masks), zeros_like(masks)
    east[..., :, :-1] = masks[..., :, 1:]
    south[..., :-1, :] = masks[..., 1:, :]
    south_east[..., :-1, :-1] = masks[..., 1:, 1:]
    boundary = (masks ^ east) | (masks ^ south) | (masks ^ south_east)
    boundary[..., -1, :] = masks[..., -1, :] ^ east[..., -1, :]
    boundary[..., :, -1] = masks[..., :, -1] ^ south[..., :, -1]
    boundary[..., -1, -1] = False
    return boundary


def tolerance_radius(height: int, width: int, bound_th: float = 0.008) -> int:
    """Boundary tolerance in pixels: ``bound_th`` itself when >= 1 (must be whole), else ceil(bound_th · diagonal)."""
    if bound_th >= 1:
        if bound_th != int(bound_th):
            raise ValueError(f"a tolerance of {bound_th} pixels must be a whole number")
        return int(bound_th)
    # np.linalg.norm, as davis2017 uses, so that a diagonal near an integer rounds the same way.
    return int(np.ceil(bound_th * np.linalg.norm((height, width))))


def dilate_disk(masks: Array, radius: int) -> Array:
    """Dilation of (..., H, W) bool masks by the disk {dy² + dx² <= radius²} (skimage ``disk``).

    numpy: ``distance_transform_edt(~mask) <= radius`` per mask, exact because squared distances are
    integers. torch (any device): a convolution with the disk counts the pixels in reach; the counts are
    small integers, so thresholding at 0.5 is exact even with TF32 or FFT convolutions.
    """
    flat = masks.reshape(-1, *masks.shape[-2:])
    if isinstance(flat, torch.Tensor):
        offsets = torch.arange(-radius, radius + 1, device=flat.device)
        disk = (offsets[:, None] ** 2 + offsets[None, :] ** 2 <= radius**2).float()[None, None]
        parts = [
            functional.conv2d(flat[part, None].float(), disk, padding=radius)[:, 0] > 0.5
            for part in chunk_slices(flat.shape[0], flat.shape[-2] * flat.shape[-1])
        ]
        return (torch.cat(parts) if parts else flat).reshape(masks.shape)
    dilated = np.zeros_like(flat)
    for index, mask in enumerate(flat):
        if mask.any():  # the transform of a mask with no zero pixel is undefined
            dilated[index] = ndimage.distance_transform_edt(~mask) <= radius
    return dilated.reshape(masks.shape)


def boundary_hits(predicted_boundary: Array, truth_boundary: Array, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixels of each boundary within ``radius`` of the other one: (predicted, truth), int64 (...).

    On the CPU each pair is cropped to the bounding box of its two boundaries first: every boundary
    pixel lies inside it, so distances measured inside the crop are the true ones.
    """
    if on_accelerator(predicted_boundary):
        return (
            pixel_counts(predicted_boundary & dilate_disk(truth_boundary, radius)),
            pixel_counts(truth_boundary & dilate_disk(predicted_boundary, radius)),
        )
    shape = predicted_boundary.shape
    predicted_flat = to_numpy(predicted_boundary).reshape(-1, *shape[-2:])
    truth_flat = to_numpy(truth_boundary).reshape(-1, *shape[-2:])
    hits = np.zeros((predicted_flat.shape[0], 2), dtype=np.int64)
    for index, (predicted, truth) in enumerate(zip(predicted_flat, truth_flat)):
        window = bounding_window(predicted | truth)
        if window is not None:
            predicted, truth = predicted[window], truth[window]
            hits[index] = (predicted & dilate_disk(truth, radius)).sum(), (truth & dilate_disk(predicted, radius)).sum()
    return hits[:, 0].reshape(shape[:-2]), hits[:, 1].reshape(shape[:-2])


def boundary_f(truth: Array, predicted: Array, void: Array | None = None, bound_th: float = 0.008) -> np.ndarray:
    """Per-frame boundary F (davis2017 ``f_measure``) of stacked masks.

    Arguments:
        truth, predicted: (..., H, W) bool (numpy or torch, same device).
        void: bool mask broadcastable to them, or None; void pixels become background before the
            boundaries are taken.
        bound_th: tolerance as a fraction of the image diagonal (< 1) or in whole pixels (>= 1).

    Returns:
        float64 array (...); both boundaries empty → 1, exactly one empty → 0.
    """
    truth, predicted = as_mask(truth), as_mask(predicted)
    if void is not None:
        keep = ~same_kind(void, truth)
        truth, predicted = truth & keep, predicted & keep
    radius = tolerance_radius(truth.shape[-2], truth.shape[-1], bound_th)
    truth_boundary, predicted_boundary = boundary_map(truth), boundary_map(predicted)
    predicted_hits, truth_hits = boundary_hits(predicted_boundary, truth_boundary, radius)
    precision = ratio(predicted_hits, pixel_counts(predicted_boundary), empty=1.0)
    recall = ratio(truth_hits, pixel_counts(truth_boundary), empty=1.0)
    # Same operation order as davis2017, so that the floats agree bit for bit.
    return ratio(2 * precision * recall, precision + recall, empty=0.0)


@dataclass(frozen=True)
class FrameStatistics:
    """davis2017 ``db_statistics`` of one object's per-frame values."""

    mean: float
    recall: float
    decay: float


def frame_statistics(values: np.ndarray) -> FrameStatistics:
    """Mean (NaN-ignoring), Recall (fraction > 0.5; NaN counts as a miss), Decay (first − last quarter bin).

    The 4 Decay bins ``values[ids[i] : ids[i+1] + 1]`` share their end points, with
    ``ids = round(linspace(1, N, 5) + 1e-10) − 1`` kept as int64 (davis2017's uint8 wraps at N >= 256).
    N = 1 gives Decay 0; N = 2 gives v₀ − v₁.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        raise ValueError("frame statistics need at least one frame")
    ids = np.round(np.linspace(1, values.size, 5) + 1e-10).astype(np.int64) - 1
    bins = [values[ids[i] : ids[i + 1] + 1] for i in range(4)]
    with warnings.catch_warnings():  # an all-NaN bin is NaN, as in davis2017
        warnings.simplefilter("ignore", RuntimeWarning)
        return FrameStatistics(
            mean=float(np.nanmean(values)),
            recall=float(np.mean(values > 0.5)),
            decay=float(np.nanmean(bins[0]) - np.nanmean(bins[3])),
        )


@dataclass(frozen=True)
class VideoPair:
    """One sequence to score.

    truth, predicted: (T, H, W) integer label maps, 0 = background, objects 1..K (numpy or torch).
    void: (T, H, W) or (H, W) bool, or None (the DAVIS and VOST protocols use none).
    For VOST pass only the annotated frames.
    """

    name: str
    truth: Array
    predicted: Array
    void: Array | None = None


@dataclass(frozen=True)
class ObjectFrames:
    """Per-frame scores of one object over the evaluated frames 1..T−2 of its sequence."""

    sequence: str
    object_id: int
    j: np.ndarray
    f: np.ndarray | None


def object_frames(video: VideoPair, *, with_boundary: bool, extra_ids_are_errors: bool) -> list[ObjectFrames]:
    """Semi-supervised per-object J (and F) of a sequence: objects from ground-truth frame 0, ends dropped."""
    truth, predicted = video.truth, video.predicted
    if tuple(truth.shape) != tuple(predicted.shape) or len(truth.shape) != 3:
        raise ValueError(
            f"{video.name}: truth {tuple(truth.shape)} and prediction {tuple(predicted.shape)} must both be T x H x W"
        )
    if truth.shape[0] < 3:
        raise ValueError(f"{video.name}: {truth.shape[0]} frames; the first and last are not scored, so 3 are needed")
    objects = int(truth[0].max())
    highest = int(predicted.max())
    if extra_ids_are_errors and highest > objects:
        raise ValueError(
            f"{video.name}: predicted label {highest} but ground-truth frame 0 has {objects} objects (davis2017 stops here)"
        )
    scored = slice(1, truth.shape[0] - 1)
    void = None if video.void is None else (video.void[scored] if len(video.void.shape) == 3 else video.void)
    results = []
    for object_id in range(1, objects + 1):
        truth_mask, predicted_mask = truth[scored] == object_id, predicted[scored] == object_id
        results.append(
            ObjectFrames(
                video.name,
                object_id,
                jaccard(truth_mask, predicted_mask, void),
                boundary_f(truth_mask, predicted_mask, void) if with_boundary else None,
            )
        )
    return results


@dataclass(frozen=True)
class DavisSummary:
    """davis2017 semi-supervised results. per_object: one row per (sequence, object) with its
    j_mean, j_recall, j_decay, f_mean, f_recall, f_decay; global values are object-weighted means."""

    per_object: pd.DataFrame

    def _global(self, column: str) -> float:
        return float(self.per_object[column].mean()) if len(self.per_object) else float("nan")

    j_mean = property(lambda self: self._global("j_mean"))
    j_recall = property(lambda self: self._global("j_recall"))
    j_decay = property(lambda self: self._global("j_decay"))
    f_mean = property(lambda self: self._global("f_mean"))
    f_recall = property(lambda self: self._global("f_recall"))
    f_decay = property(lambda self: self._global("f_decay"))
    jf_mean = property(lambda self: (self.j_mean + self.f_mean) / 2)


def davis_summary(videos: Iterable[VideoPair]) -> DavisSummary:
    rows = []
    for video in videos:
        for scores in object_frames(video, with_boundary=True, extra_ids_are_errors=True):
            j, f = frame_statistics(scores.j), frame_statistics(scores.f)
            rows.append(
                {
                    "sequence": scores.sequence,
                    "object_id": scores.object_id,
                    "j_mean": j.mean,
                    "j_recall": j.recall,
                    "j_decay": j.decay,
                    "f_mean": f.mean,
                    "f_recall": f.recall,
                    "f_decay": f.decay,
                }  # fmt: skip
            )
    columns = ["sequence", "object_id", "j_mean", "j_recall", "j_decay", "f_mean", "f_recall", "f_decay"]
    return DavisSummary(pd.DataFrame(rows, columns=columns))


@dataclass(frozen=True)
class VostSummary:
    """VOST results. per_object: one row per (sequence, object) with j_mean and j_last (its mean J over the
    last 25 % of evaluated frames); global values are object-weighted means."""

    per_object: pd.DataFrame

    j_mean = property(lambda self: float(self.per_object["j_mean"].mean()) if len(self.per_object) else float("nan"))
    j_last = property(lambda self: float(self.per_object["j_last"].mean()) if len(self.per_object) else float("nan"))


def vost_summary(videos: Iterable[VideoPair]) -> VostSummary:
    rows = []
    for video in videos:
        for scores in object_frames(video, with_boundary=False, extra_ids_are_errors=False):
            last_quarter = scores.j[math.floor(scores.j.size * 0.75) :]
            rows.append(
                {
                    "sequence": scores.sequence,
                    "object_id": scores.object_id,
                    "j_mean": frame_statistics(scores.j).mean,
                    "j_last": frame_statistics(last_quarter).mean,
                }
            )
    return VostSummary(pd.DataFrame(rows, columns=["sequence", "object_id", "j_mean", "j_last"]))


@dataclass(frozen=True)
class VideoMetric:
    """A video metric: ``score(videos)`` is one field of a protocol's summary."""

    name: str
    label: str
    formula: str
    summarise: Callable[[Iterable[VideoPair]], DavisSummary | VostSummary]
    field: str
    higher_is_better: bool = True
    kind: str = "video"

    def score(self, videos: Iterable[VideoPair]) -> float:
        return float(getattr(self.summarise(videos), self.field))


_DAVIS = "davis2017 semi-supervised"
for _name, _label, _field, _higher, _formula in [
    ("davis-jf", "J&F", "jf_mean", True, "(J-Mean + F-Mean) / 2"),
    ("davis-j", "J-Mean", "j_mean", True, "mean over objects of the mean per-frame J"),
    ("davis-j-recall", "J-Recall", "j_recall", True, "mean over objects of the fraction of frames with J > 0.5"),
    (
        "davis-j-decay",
        "J-Decay",
        "j_decay",
        False,
        "mean over objects of mean J (first quarter) − mean J (last quarter)",
    ),
    ("davis-f", "F-Mean", "f_mean", True, "mean over objects of the mean per-frame boundary F"),
    ("davis-f-recall", "F-Recall", "f_recall", True, "mean over objects of the fraction of frames with F > 0.5"),
    (
        "davis-f-decay",
        "F-Decay",
        "f_decay",
        False,
        "mean over objects of mean F (first quarter) − mean F (last quarter)",
    ),
]:
    METRICS.register(_name, f"DAVIS {_label} ({_DAVIS}, object-weighted; int64 Decay bins)")(
        VideoMetric(_name, _label, _formula, davis_summary, _field, _higher)
    )
for _name, _label, _field, _formula in [
    ("vost-j", "J", "j_mean", "mean over objects of the mean J over annotated frames (first, last excluded)"),
    ("vost-j-last", "J_last", "j_last", "mean over objects of the mean J over the last 25 % of evaluated frames"),
]:
    METRICS.register(_name, f"VOST {_label}: {_formula}")(VideoMetric(_name, _label, _formula, vost_summary, _field))
