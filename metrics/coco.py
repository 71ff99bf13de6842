"""COCO mask AP through pycocotools (``COCOeval(iouType="segm")``), class-agnostic.

Every mask goes to pycocotools as a Fortran-ordered uint8 array (C order raises), its RLE ``counts``
decoded to str so that the dictionaries are JSON-serialisable, and every ground-truth annotation gets
``area = mask.area(rle)`` (COCOeval reads the GT area from that field for its small / medium / large
ranges) and ``bbox = mask.toBbox(rle)``. All instances share one category, so the evaluation is class
agnostic, as for SAM's automatic masks.

Conventions that come from pycocotools and are kept: IoU thresholds ``linspace(.5, .95, 10)`` (0.7 is
exact there, unlike ``np.arange``), 101 recall points, at most ``max_detections`` detections per image
(highest scores first), and pycocotools' IoU of two empty masks, 0. A value that pycocotools reports
as −1 (no ground truth in that area range) is NaN here.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from sherpa_bench.harness.registry import METRICS


@dataclass(frozen=True)
class DetectionImage:
    """One image: truth (G, H, W) bool ground-truth instances, predicted (D, H, W) bool masks with
    scores (D,) float (higher = more confident). G or D may be 0; H and W must agree."""

    truth: np.ndarray
    predicted: np.ndarray
    scores: np.ndarray


def encode_masks(masks: np.ndarray) -> list[dict]:
    """COCO RLEs of (N, H, W) bool masks, ``counts`` as str (JSON-ready)."""
    masks = np.asarray(masks, dtype=bool)
    if masks.shape[0] == 0:
        return []
    rles = mask_utils.encode(np.asfortranarray(masks.transpose(1, 2, 0).astype(np.uint8)))
    return [{"size": rle["size"], "counts": rle["counts"].decode("ascii")} for rle in rles]


@dataclass(frozen=True)
class CocoSummary:
    """COCOeval's 12 numbers (AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl), −1 → NaN."""

    stats: np.ndarray

    ap = property(lambda self: float(self.stats[0]))
    ap50 = property(lambda self: float(self.stats[1]))
    ap75 = property(lambda self: float(self.stats[2]))
    ap_small = property(lambda self: float(self.stats[3]))
    ap_medium = property(lambda self: float(self.stats[4]))
    ap_large = property(lambda self: float(self.stats[5]))


def coco_mask_ap(images: Sequence[DetectionImage], max_detections: int = 100) -> CocoSummary:
    """Class-agnostic COCO mask AP of a dataset of images."""
    truth = {"images": [], "annotations": [], "categories": [{"id": 1, "name": "object"}]}
    detections = []
    for image_id, image in enumerate(images, start=1):
        if image.truth.shape[1:] != image.predicted.shape[1:] or len(image.scores) != image.predicted.shape[0]:
            raise ValueError(
                f"image {image_id}: truth {image.truth.shape}, predicted {image.predicted.shape} and "
                f"{len(image.scores)} scores do not agree"
            )
        height, width = image.truth.shape[1:]
        truth["images"].append({"id": image_id, "height": int(height), "width": int(width)})
        for rle in encode_masks(image.truth):
            truth["annotations"].append(
                {
                    "id": len(truth["annotations"]) + 1,
                    "image_id": image_id,
                    "category_id": 1,
                    "segmentation": rle,
                    "area": float(mask_utils.area(rle)),
                    "bbox": [float(v) for v in mask_utils.toBbox(rle)],
                    "iscrowd": 0,
                }  # fmt: skip
            )
        for rle, score in zip(encode_masks(image.predicted), image.scores):
            detections.append({"image_id": image_id, "category_id": 1, "segmentation": rle, "score": float(score)})

    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress
        coco_truth = COCO()
        coco_truth.dataset = truth
        coco_truth.createIndex()
        if detections:
            coco_detections = coco_truth.loadRes(detections)
        else:  # loadRes cannot take an empty list; an empty result set scores AP 0
            coco_detections = COCO()
            coco_detections.dataset = {**truth, "annotations": []}
            coco_detections.createIndex()
        evaluation = COCOeval(coco_truth, coco_detections, iouType="segm")
        evaluation.params.maxDets = [1, 10, max_detections]
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    stats = np.asarray(evaluation.stats, dtype=np.float64)
    return CocoSummary(np.where(stats == -1, np.nan, stats))


@dataclass(frozen=True)
class DetectionMetric:
    """A COCO number: ``score(images)`` runs COCOeval and reads one field of its summary."""

    name: str
    label: str
    formula: str
    field: str
    higher_is_better: bool = True
    kind: str = "detection"

    def score(self, images: Sequence[DetectionImage]) -> float:
        return getattr(coco_mask_ap(images), self.field)


for _name, _label, _field, _formula in [
    ("coco-map", "mAP", "ap", "COCO mask AP averaged over IoU thresholds .50:.05:.95, class agnostic"),
    ("coco-map50", "mAP50", "ap50", "COCO mask AP at IoU 0.5, class agnostic"),
    ("coco-map75", "mAP75", "ap75", "COCO mask AP at IoU 0.75, class agnostic"),
]:
    METRICS.register(_name, f"{_formula} (pycocotools)")(DetectionMetric(_name, _label, _formula, _field))
