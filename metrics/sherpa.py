"""The SHERPA paper's three segmentation metrics (App. G), named as in its tables.

* ``f1`` — instance-level F1: per prompted instance F1 = 2TP / (2TP + FP + FN), mean over every
  instance of the dataset (each instance weighs the same).
* ``miou`` — per instance IoU = TP / (TP + FP + FN), mean over instances.
* ``dice`` — pixel-level Dice: per image, the pixel-weighted (pooled) combination of its instances,
  2ΣTP / (2ΣTP + ΣFP + ΣFN), then the mean over images. ("Pixel-weighted average of all instances on
  each image": pooling the counts is exactly the average of per-instance Dice weighted by
  |G_i| + |P_i|.)

Empty masks: when prediction and ground truth are both empty the score is 1 (nothing to find, nothing
found); one empty and the other not gives 0. Prompts come from non-empty instances, so the first case
only arises with void regions covering an instance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from sherpa_bench.harness.registry import METRICS


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    return np.divide(numerator, denominator, out=np.ones_like(numerator), where=denominator > 0)


@dataclass(frozen=True)
class InstanceMetric:
    """A score per instance, averaged over all instances of the dataset."""

    name: str
    label: str
    formula: str
    score: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    higher_is_better: bool = True

    def per_instance(self, table: pd.DataFrame) -> np.ndarray:
        return self.score(*(table[column].to_numpy() for column in ("tp", "fp", "fn")))

    def aggregate(self, table: pd.DataFrame) -> float:
        return float(self.per_instance(table).mean()) if len(table) else float("nan")


@dataclass(frozen=True)
class PooledImageDice:
    """Dice pooled over the instances of each image, averaged over images."""

    name: str = "dice"
    label: str = "Dice"
    formula: str = "mean over images of 2ΣTP / (2ΣTP + ΣFP + ΣFN) over the image's instances"
    higher_is_better: bool = True

    def per_image(self, table: pd.DataFrame) -> pd.Series:
        sums = table.groupby("image_id", sort=False)[["tp", "fp", "fn"]].sum()
        return pd.Series(_ratio(2 * sums.tp, 2 * sums.tp + sums.fp + sums.fn), index=sums.index)

    def aggregate(self, table: pd.DataFrame) -> float:
        return float(self.per_image(table).mean()) if len(table) else float("nan")


METRICS.register("f1", "instance-level F1 (SHERPA App. G): 2TP/(2TP+FP+FN) per instance, mean over instances")(
    InstanceMetric(
        "f1", "F1", "mean over instances of 2TP / (2TP + FP + FN)", lambda tp, fp, fn: _ratio(2 * tp, 2 * tp + fp + fn)
    )
)
METRICS.register("miou", "mIoU (SHERPA App. G): TP/(TP+FP+FN) per instance, mean over instances")(
    InstanceMetric(
        "miou", "mIoU", "mean over instances of TP / (TP + FP + FN)", lambda tp, fp, fn: _ratio(tp, tp + fp + fn)
    )
)
METRICS.register("dice", "pixel-level Dice (SHERPA App. G): pooled over each image's instances, mean over images")(
    PooledImageDice()
)
