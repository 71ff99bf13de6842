"""Salient-object metrics of the InfoSAM tables: S-α, E-φ, weighted F-β, MAE, through pysodmetrics.

pysodmetrics (``import py_sod_metrics``) reproduces the MATLAB semantics of Fan et al. (S-measure,
ICCV 2017; E-measure, IJCAI 2018), Margolin et al. (weighted F, CVPR 2014) and MAE; metrics.md §9 has
the formulas. It is called with ``normalize=False``: prediction float64 in [0, 1], ground truth bool.
Its default ``normalize=True`` expects 0–255 images, thresholds the ground truth at 128 and min-max
rescales the prediction, so a 0/1 ground truth silently becomes empty (a perfect prediction then
scores S = 0.84 instead of 1). ``soft_map_inputs`` therefore converts every pair explicitly:
ground truth ``!= 0`` (0/1 and 0/255 masks alike), prediction bool → 0/1 float, float kept, integer
maps refused (0/1 and 0/255 cannot be told apart).

Per-image values follow the library; dataset values are means over images, except E-φ, whose
256-threshold curve (``floor(255·P) >= t``) is averaged over images first, then reduced: E-φ mean =
mean of that curve, E-φ max = its maximum. E-φ adaptive binarises each map at min(2·mean(P), 1).

Edge cases kept from the library (tested): E-φ can exceed 1 (a perfect 10 x 10 map scores 100/99, the
MATLAB denominator N − 1); weighted F is 0 whenever the ground truth is empty, even for an empty
prediction; an all-zero prediction has adaptive threshold 0 and so counts as all foreground for
E-φ adaptive. For binary SAM masks, E-φ mean = (255·E(mask) + E(all foreground)) / 256.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pandas as pd

from sherpa_bench.harness.registry import METRICS


def soft_map_inputs(prediction: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(float64 prediction in [0, 1], bool ground truth), as pysodmetrics' ``normalize=False`` requires."""
    prediction, truth = np.asarray(prediction), np.asarray(truth)
    if prediction.shape != truth.shape or prediction.ndim != 2:
        raise ValueError(f"prediction {prediction.shape} and ground truth {truth.shape} must be the same H x W")
    if prediction.dtype == bool:
        prediction = prediction.astype(np.float64)
    elif not np.issubdtype(prediction.dtype, np.floating):
        raise TypeError(
            f"prediction of dtype {prediction.dtype}: give probabilities as floats in [0, 1] or a bool mask "
            "(an integer map could be 0/1 or 0/255)"
        )
    prediction = prediction.astype(np.float64)
    if prediction.size and (prediction.min() < 0 or prediction.max() > 1):
        raise ValueError(f"prediction values span [{prediction.min()}, {prediction.max()}], outside [0, 1]")
    return prediction, truth != 0


@dataclass(frozen=True)
class SodSummary:
    """per_image: s_alpha, e_phi_adaptive, weighted_f, mae per image; e_phi_curve: (256,) E-φ per
    threshold t = 0..255, averaged over images."""

    per_image: pd.DataFrame
    e_phi_curve: np.ndarray

    s_alpha = property(lambda self: float(self.per_image["s_alpha"].mean()))
    e_phi_adaptive = property(lambda self: float(self.per_image["e_phi_adaptive"].mean()))
    weighted_f = property(lambda self: float(self.per_image["weighted_f"].mean()))
    mae = property(lambda self: float(self.per_image["mae"].mean()))
    e_phi_mean = property(lambda self: float(self.e_phi_curve.mean()))
    e_phi_max = property(lambda self: float(self.e_phi_curve.max()))


def sod_summary(pairs: Iterable[tuple[np.ndarray, np.ndarray]]) -> SodSummary:
    """All four metrics over (prediction H x W float in [0, 1] or bool, ground truth H x W) pairs."""
    # Imported on first use: it loads OpenCV, scikit-image and scikit-learn, which every other
    # metric lookup (the registry imports all metric modules) would otherwise pay for.
    import py_sod_metrics

    rows, curves = [], []
    for prediction, truth in pairs:
        prediction, truth = soft_map_inputs(prediction, truth)
        measures = {
            "s_alpha": py_sod_metrics.Smeasure(),
            "e_phi": py_sod_metrics.Emeasure(),
            "weighted_f": py_sod_metrics.WeightedFmeasure(),
            "mae": py_sod_metrics.MAE(),
        }
        for measure in measures.values():
            measure.step(prediction, truth, normalize=False)
        e_phi = measures["e_phi"].get_results()["em"]
        curves.append(np.asarray(e_phi["curve"], dtype=np.float64))
        rows.append(
            {
                "s_alpha": float(measures["s_alpha"].get_results()["sm"]),
                "e_phi_adaptive": float(e_phi["adp"]),
                "weighted_f": float(measures["weighted_f"].get_results()["wfm"]),
                "mae": float(measures["mae"].get_results()["mae"]),
            }
        )
    if not rows:
        raise ValueError("no (prediction, ground truth) pairs to score")
    return SodSummary(pd.DataFrame(rows), np.mean(curves, axis=0))


@dataclass(frozen=True)
class SoftMapMetric:
    """A salient-object number: ``score(pairs)`` runs ``sod_summary`` and reads one field (call
    ``sod_summary`` once yourself to get all of them)."""

    name: str
    label: str
    formula: str
    field: str
    higher_is_better: bool = True
    kind: str = "soft-map"

    def score(self, pairs: Iterable[tuple[np.ndarray, np.ndarray]]) -> float:
        return getattr(sod_summary(pairs), self.field)


for _name, _label, _field, _higher, _formula in [
    ("s-alpha", "S-α", "s_alpha", True, "structure measure, α = 0.5 (Fan et al. 2017), mean over images"),
    ("e-phi-mean", "E-φ mean", "e_phi_mean", True, "mean over 256 thresholds of the image-averaged E-measure curve (may exceed 1)"),
    ("e-phi-adaptive", "E-φ adp", "e_phi_adaptive", True, "E-measure at threshold min(2·mean(P), 1), mean over images (may exceed 1)"),
    ("weighted-f", "F-β^w", "weighted_f", True, "weighted F-measure, β² = 1 (Margolin et al. 2014), mean over images"),
    ("mae", "MAE", "mae", False, "mean |P − G| per image, mean over images"),
]:  # fmt: skip
    METRICS.register(_name, f"{_label}: {_formula} (pysodmetrics, normalize=False)")(
        SoftMapMetric(_name, _label, _formula, _field, _higher)
    )
