"""Metrics: each module registers metrics in ``METRICS`` (imported on the first registry lookup).

Every registered metric exposes ``name``, ``label``, ``formula`` and ``higher_is_better``. What it
scores depends on its kind:

* instance-table metrics (no ``kind`` attribute): ``aggregate(table) -> float`` over the evaluator's
  per-instance table (image_id, instance_id, tp, fp, fn, ...), plus ``per_instance`` or ``per_image``
  scores for the bootstrap. ``f1``, ``miou``, ``dice`` (sherpa.py), ``biou`` (boundary_iou.py, reads
  the columns biou_inter, biou_union).
* ``kind == "matching"``: ``aggregate(table)`` over a per-image matching table (image_id, threshold,
  tp, fp, fn) built by ``matching.matching_table`` from label images. ``matched-f1@0.5``,
  ``matched-precision@0.5``, ``matched-recall@0.5``, ``msa``, ``sa50``, ``sa75``,
  ``pooled-matched-f1@0.5``.
* ``kind == "video"``: ``score(videos: Iterable[davis.VideoPair]) -> float``. ``davis-jf``,
  ``davis-j``, ``davis-j-recall``, ``davis-j-decay``, ``davis-f``, ``davis-f-recall``,
  ``davis-f-decay``, ``vost-j``, ``vost-j-last``; ``davis.davis_summary`` / ``davis.vost_summary`` give
  all numbers of a protocol at once.
* ``kind == "detection"``: ``score(images: Sequence[coco.DetectionImage]) -> float``. ``coco-map``,
  ``coco-map50``, ``coco-map75``; ``coco.coco_mask_ap`` gives all 12 COCO numbers.
* ``kind == "soft-map"``: ``score(pairs: Iterable[(prediction, truth)]) -> float``. ``s-alpha``,
  ``e-phi-mean``, ``e-phi-adaptive``, ``weighted-f``, ``mae``; ``sod.sod_summary`` gives all at once.
* ``kind == "stability"``: ``score(groups: Iterable[K x H x W masks]) -> float``. ``stability``.

Shared conventions: masks are bool; a score whose union is empty (nothing to find, nothing found) is 1,
except where a reference implementation fixes another value (documented per module and in
docs/METRICS.md). ``uncertainty`` adds seeded bootstrap intervals to any table metric that is a mean of
unit scores.
"""

from sherpa_bench.harness.registry import METRICS
from sherpa_bench.metrics.overlap import pair_counts

__all__ = ["METRICS", "pair_counts"]
