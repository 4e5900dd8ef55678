"""Mean average precision, written out: VOC AP@0.5 and COCO AP@[.5:.95].

Every detector in the book is scored by :func:`mean_average_precision`, a direct, readable
implementation of the two standard protocols (no ``crowd`` or ``difficult`` annotations and one
area range, which the synthetic scenes do not need):

1. **Matching.** For one class and one image, detections are taken in decreasing score order
   (at most ``max_detections`` of them, COCO's ``maxDets``). COCO matches each to the
   *unmatched* ground-truth box of that class it overlaps most, if that IoU is at least the
   threshold. VOC looks at the ground-truth box it overlaps most, matched or not: if the IoU
   exceeds 0.5 (strictly) and the box is still free the detection matches it, otherwise it is
   a false positive (a duplicate). A matched detection is a true positive.
2. **Precision/recall curve.** Over all images, the class's detections are sorted by score
   (a stable sort, images in order); cumulative true and false positives give precision
   ``tp / (tp + fp)`` and recall ``tp / n_gt`` after each detection.
3. **Average precision** summarises the curve, after replacing precision by its running
   maximum from the right (the "interpolated" precision, a monotone envelope):

   - ``"coco"``: the mean of the envelope at the 101 recalls 0, 0.01, …, 1 (pycocotools);
   - ``"voc"``: the exact area under the envelope (VOC devkit 2010–2012);
   - ``"voc07"``: the mean of the envelope at the 11 recalls 0, 0.1, …, 1 (VOC 2007 devkit,
     the protocol of the R-CNN, Fast/Faster R-CNN, YOLO and SSD papers).

4. **Means.** A class without ground truth in the test set is left out of the mean. COCO's
   "AP" is the mean over classes *and* the ten IoU thresholds 0.50, 0.55, …, 0.95.

``tests/test_detection.py`` checks the three summaries on examples worked by hand and the
COCO numbers against pycocotools' ``COCOeval`` on random detections.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
import torch
from torchvision.ops import box_iou

# pycocotools' thresholds, bit for bit (0.6000000000000001 and all)
COCO_IOUS = tuple(np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True).tolist())
METHODS = ("coco", "voc", "voc07")


def pairwise_mask_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """IoU of every pair of two sets of binary masks ``(N, H, W)`` and ``(M, H, W)`` -> ``(N, M)``
    (as ``torchvision.ops.box_iou`` for boxes); a pair of empty masks has IoU 0 (nothing to match).
    For one IoU per aligned pair see :func:`dcnn_lib.metrics.elementwise_mask_iou`."""
    a = a.flatten(1).float()
    b = b.flatten(1).float()
    inter = a @ b.T
    union = a.sum(1)[:, None] + b.sum(1)[None, :] - inter
    return torch.where(union > 0, inter / union.clamp(min=1e-9), torch.zeros_like(inter))


def match_detections(ious: torch.Tensor, threshold: float, rule: str = "coco") -> torch.Tensor:
    """Greedy matching of detections (rows, already in decreasing score order) to ground truth
    (columns). Returns a bool vector: which detections are true positives.

    ``rule="coco"``: a detection takes the *unmatched* ground truth it overlaps most, if that
    IoU is ``>= threshold``. ``rule="voc"``: it looks at the ground truth it overlaps most; a hit
    if that IoU is ``> threshold`` and the ground truth is still free, else a false positive.
    """
    if rule not in ("coco", "voc"):
        raise ValueError(f"match_detections: rule must be 'coco' or 'voc', got {rule!r}")
    n_det, n_gt = ious.shape
    taken = torch.zeros(n_gt, dtype=torch.bool)
    tp = torch.zeros(n_det, dtype=torch.bool)
    if n_gt == 0:
        return tp
    for d in range(n_det):
        row = ious[d].clone()
        if rule == "coco":
            row[taken] = -math.inf
            best = int(row.argmax())
            hit = bool(row[best] >= threshold)
        else:
            best = int(row.argmax())
            hit = bool(row[best] > threshold) and not bool(taken[best])
        if hit:
            taken[best] = True
            tp[d] = True
    return tp


def precision_recall(tp: np.ndarray, scores: np.ndarray, n_gt: int) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall after each detection, detections sorted by decreasing score
    (stable: ties keep their order)."""
    order = np.argsort(-scores, kind="mergesort")
    tp = tp[order].astype(np.float64)
    ctp, cfp = np.cumsum(tp), np.cumsum(1.0 - tp)
    recall = ctp / max(n_gt, 1)
    precision = ctp / np.maximum(ctp + cfp, np.finfo(np.float64).eps)
    return precision, recall


def average_precision(precision: Sequence[float], recall: Sequence[float], method: str = "coco") -> float:
    """Area under a precision/recall curve (points in detection order), by ``method``:
    ``"coco"`` (101 recall points), ``"voc"`` (exact area) or ``"voc07"`` (11 points).
    The precision is first made monotone: at each point, the best precision at any recall
    at least as large."""
    if method not in METHODS:
        raise ValueError(f"average_precision: method must be one of {METHODS}, got {method!r}")
    p = np.asarray(precision, dtype=np.float64)
    r = np.asarray(recall, dtype=np.float64)
    if p.size == 0:
        return 0.0
    envelope = np.maximum.accumulate(p[::-1])[::-1]
    if method == "voc":
        # area of the step function recall -> envelope, with recall starting at 0
        r_steps = np.concatenate([[0.0], r])
        return float(np.sum((r_steps[1:] - r_steps[:-1]) * envelope))
    points = np.linspace(0, 1, 101 if method == "coco" else 11)
    idx = np.searchsorted(r, points, side="left")
    values = np.where(idx < len(envelope), envelope[np.minimum(idx, len(envelope) - 1)], 0.0)
    return float(values.mean())


@dataclass
class DetectionMetrics:
    """What :func:`mean_average_precision` returns. All APs are in [0, 1].

    ``ap``: COCO AP@[.5:.95]; ``ap50`` / ``ap75``: COCO (101-point) AP at IoU 0.5 / 0.75;
    ``ap50_voc``: VOC 2010+ AP@0.5 (exact area); ``ap50_voc07``: VOC 2007 11-point AP@0.5;
    ``per_class``: class label -> ``{"ap", "ap50", "ap50_voc", "ap50_voc07", "n_gt", "precision",
    "recall"}`` (the last two: the VOC curve at IoU 0.5); ``n_images``, ``n_gt``.
    """

    ap: float
    ap50: float
    ap75: float
    ap50_voc: float
    ap50_voc07: float
    per_class: dict[int, dict[str, float]] = field(default_factory=dict)
    n_images: int = 0
    n_gt: int = 0

    def as_dict(self) -> dict[str, float]:
        return {"AP": self.ap, "AP50": self.ap50, "AP75": self.ap75, "AP50 (VOC)": self.ap50_voc,
                "AP50 (VOC07)": self.ap50_voc07}

    def __str__(self) -> str:
        return (f"AP@[.5:.95] {self.ap:.3f} · AP@0.5 {self.ap50:.3f} · AP@0.75 {self.ap75:.3f} · "
                f"VOC AP@0.5 {self.ap50_voc:.3f} · VOC07 11-point AP@0.5 {self.ap50_voc07:.3f} "
                f"({self.n_images} images, {self.n_gt} objects)")


def _check(predictions: Sequence[Mapping], targets: Sequence[Mapping], key: str) -> None:
    if len(predictions) != len(targets):
        raise ValueError(f"mean_average_precision: {len(predictions)} predictions for {len(targets)} targets "
                         "(one dict per image each)")
    for i, (p, t) in enumerate(zip(predictions, targets)):
        for name, d, keys in (("prediction", p, (key, "labels", "scores")), ("target", t, (key, "labels"))):
            missing = [k for k in keys if k not in d]
            if missing:
                raise ValueError(f"mean_average_precision: {name} {i} has no {', '.join(missing)} "
                                 f"(keys: {', '.join(d)})")


def mean_average_precision(predictions: Sequence[Mapping[str, torch.Tensor]],
                           targets: Sequence[Mapping[str, torch.Tensor]], *,
                           iou_type: str = "bbox", max_detections: int = 100,
                           iou_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
                           ) -> DetectionMetrics:
    """VOC and COCO average precision of ``predictions`` against ``targets``.

    Args:
        predictions: one dict per image with ``boxes`` ``(N, 4)`` (x1, y1, x2, y2), ``labels``
            ``(N,)`` and ``scores`` ``(N,)`` — what every detector returns in eval mode.
        targets: one dict per image with ``boxes`` and ``labels`` (``masks`` for ``"segm"``).
        iou_type: ``"bbox"`` (box IoU) or ``"segm"`` (mask IoU; predictions need ``masks``
            ``(N, 1, H, W)`` or ``(N, H, W)``, thresholded at 0.5 when not boolean).
        max_detections: detections kept per image and class, best first (COCO's 100).
        iou_fn: a custom overlap ``(pred, gt) -> (N, M)`` in place of box or mask IoU.
    """
    if iou_type not in ("bbox", "segm"):
        raise ValueError(f"mean_average_precision: iou_type must be 'bbox' or 'segm', got {iou_type!r}")
    key = "boxes" if iou_type == "bbox" else "masks"
    _check(predictions, targets, key)
    if iou_fn is None:
        iou_fn = box_iou if iou_type == "bbox" else pairwise_mask_iou

    def prep(x: torch.Tensor) -> torch.Tensor:
        x = x.detach().cpu()
        if iou_type == "segm":
            if x.ndim == 4:
                x = x[:, 0]
            if x.dtype != torch.bool:
                x = x > 0.5
        else:
            x = x.float()
        return x

    classes = sorted({int(c) for t in targets for c in t["labels"].tolist()}
                     | {int(c) for p in predictions for c in p["labels"].tolist()})
    thresholds = COCO_IOUS
    # per class: per threshold, lists of tp flags and scores; n_gt
    per_class: dict[int, dict[str, float]] = {}
    table = {m: [] for m in ("coco", "voc", "voc07")}
    ap_by_t = {t: [] for t in thresholds}
    for c in classes:
        n_gt = 0
        tps = {t: [] for t in thresholds}
        tps_voc: list[np.ndarray] = []
        scores: list[np.ndarray] = []
        for p, g in zip(predictions, targets):
            gm = g["labels"].cpu() == c
            pm = p["labels"].cpu() == c
            gt = prep(g[key])[gm]
            n_gt += int(gm.sum())
            s = p["scores"].detach().cpu().float()[pm]
            order = torch.argsort(-s, stable=True)[:max_detections]
            s = s[order]
            if len(s) == 0:
                continue
            dt = prep(p[key])[pm][order]
            ious = iou_fn(dt, gt) if len(gt) else torch.zeros(len(dt), 0)
            for t in thresholds:
                tps[t].append(match_detections(ious, t).numpy())
            tps_voc.append(match_detections(ious, 0.5, rule="voc").numpy())
            scores.append(s.numpy())
        if n_gt == 0:
            continue  # a class absent from the ground truth does not enter the mean (COCO, VOC)
        all_scores = np.concatenate(scores) if scores else np.zeros(0)
        row: dict[str, float] = {"n_gt": n_gt}
        def curve(flags: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
            tp = np.concatenate(flags) if flags else np.zeros(0, dtype=bool)
            return precision_recall(tp, all_scores, n_gt)

        for t in thresholds:
            ap_by_t[t].append(average_precision(*curve(tps[t]), "coco"))
        prec, rec = curve(tps_voc)
        row["ap50"] = ap_by_t[thresholds[0]][-1]
        row["ap50_voc"] = average_precision(prec, rec, "voc")
        row["ap50_voc07"] = average_precision(prec, rec, "voc07")
        row["precision"], row["recall"] = prec, rec
        row["ap"] = float(np.mean([ap_by_t[t][-1] for t in thresholds]))
        per_class[c] = row
        table["voc"].append(row["ap50_voc"])
        table["voc07"].append(row["ap50_voc07"])

    def mean(values: list[float]) -> float:
        return float(np.mean(values)) if values else 0.0

    return DetectionMetrics(
        ap=mean([mean(ap_by_t[t]) for t in thresholds]) if per_class else 0.0,
        ap50=mean(ap_by_t[thresholds[0]]), ap75=mean(ap_by_t[thresholds[5]]),
        ap50_voc=mean(table["voc"]), ap50_voc07=mean(table["voc07"]),
        per_class=per_class, n_images=len(targets), n_gt=sum(int(r["n_gt"]) for r in per_class.values()),
    )


def point_f1(pred_points: torch.Tensor, gt_points: torch.Tensor, radius: float,
             scores: torch.Tensor | None = None) -> dict[str, float]:
    """Precision, recall and F1 of point detections: a predicted point is a hit when it is
    within ``radius`` of a ground-truth point not yet taken (greedy, best score first) —
    the cell-level measure of nucleus-detection papers."""
    pred_points = pred_points.float().reshape(-1, 2)
    gt_points = gt_points.float().reshape(-1, 2)
    if scores is not None and len(pred_points):
        pred_points = pred_points[torch.argsort(-scores.float(), stable=True)]
    if len(pred_points) and len(gt_points):
        closeness = -torch.cdist(pred_points, gt_points)
        hits = int(match_detections(closeness, -radius).sum())
    else:
        hits = 0
    precision = hits / len(pred_points) if len(pred_points) else 0.0
    recall = hits / len(gt_points) if len(gt_points) else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "hits": hits,
            "predicted": len(pred_points), "objects": len(gt_points)}
