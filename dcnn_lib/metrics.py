"""Segmentation metrics from a confusion matrix: pixel accuracy, per-class IoU, mIoU, Dice.

Everything is computed from one ``(K, K)`` confusion matrix ``cm`` (row = true class, column =
predicted class), accumulated over a whole test set before any ratio is taken — the standard
"dataset-level" definition of PASCAL VOC and Cityscapes (a per-image average weights small
images and rare classes differently). With ``TP_c = cm[c, c]``, ``FP_c`` = column sum − TP,
``FN_c`` = row sum − TP:

- pixel accuracy = ``Σ TP_c / Σ cm`` (dominated by the background in most data sets);
- IoU (Jaccard) of class c = ``TP_c / (TP_c + FP_c + FN_c)``;
- Dice (F1) of class c = ``2 TP_c / (2 TP_c + FP_c + FN_c)`` = ``2 IoU / (1 + IoU)``;
- mIoU, mean Dice: means over the classes that occur in the truth or the prediction. A class
  that occurs in neither has no defined IoU (0/0): it is ``nan`` in the per-class vector and
  left out of the mean.

Pixels whose target is ``ignore_index`` (255, the VOC convention for object borders) are not
counted. The tests check these functions on hand-worked examples and against scikit-learn.
"""
from __future__ import annotations

from typing import Any

import torch

IGNORE_INDEX = 255


def _as_labels(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    if pred.ndim == target.ndim + 1:             # scores (N, K, H, W) -> labels (N, H, W)
        pred = pred.argmax(1)
    if pred.shape != target.shape:
        raise ValueError(f"prediction of shape {tuple(pred.shape)} does not match target {tuple(target.shape)}")
    return pred


def confusion_matrix(pred: torch.Tensor, target: torch.Tensor, num_classes: int,
                     ignore_index: int | None = IGNORE_INDEX) -> torch.Tensor:
    """``(K, K)`` int64 counts, row = true class, column = predicted class.

    ``pred`` holds labels ``(N, H, W)`` or scores ``(N, K, H, W)``; ``target`` labels.
    """
    pred = _as_labels(pred, target).reshape(-1).long()
    target = target.reshape(-1).long()
    keep = torch.ones_like(target, dtype=torch.bool) if ignore_index is None else target != ignore_index
    pred, target = pred[keep], target[keep]
    if len(target) and (target.min() < 0 or target.max() >= num_classes):
        raise ValueError(f"target labels must be in 0..{num_classes - 1} (or {ignore_index}), "
                         f"got {int(target.min())}..{int(target.max())}")
    if len(pred) and (pred.min() < 0 or pred.max() >= num_classes):
        raise ValueError(f"predicted labels must be in 0..{num_classes - 1}, got {int(pred.min())}..{int(pred.max())}")
    return torch.bincount(target * num_classes + pred, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def pixel_accuracy(cm: torch.Tensor) -> float:
    """Fraction of (non-ignored) pixels labelled correctly."""
    total = cm.sum()
    return float(cm.diag().sum() / total) if total else float("nan")


def iou_per_class(cm: torch.Tensor) -> torch.Tensor:
    """``(K,)`` float64 IoU of each class; ``nan`` where the class is in neither truth nor prediction."""
    cm = cm.double()
    tp = cm.diag()
    union = cm.sum(0) + cm.sum(1) - tp
    return torch.where(union > 0, tp / union.clamp(min=1), torch.full_like(tp, float("nan")))


def dice_per_class(cm: torch.Tensor) -> torch.Tensor:
    """``(K,)`` float64 Dice (F1) of each class; ``nan`` where the class is in neither."""
    cm = cm.double()
    tp = cm.diag()
    denom = cm.sum(0) + cm.sum(1)
    return torch.where(denom > 0, 2 * tp / denom.clamp(min=1), torch.full_like(tp, float("nan")))


def mean_iou(cm: torch.Tensor) -> float:
    """Mean of :func:`iou_per_class` over the classes that occur (nan-mean)."""
    return float(iou_per_class(cm).nanmean())


def mean_dice(cm: torch.Tensor) -> float:
    """Mean of :func:`dice_per_class` over the classes that occur (nan-mean)."""
    return float(dice_per_class(cm).nanmean())


class SegmentationMetrics:
    """Accumulate a confusion matrix batch by batch; :meth:`compute` gives the summary.

    ``update(out, target)`` takes a model's raw output — scores ``(N, K, H, W)``, labels, or
    torchvision's ``{"out": scores, ...}`` dict — so it can be handed to
    ``dcnn_lib.train.fit(..., metrics=lambda: SegmentationMetrics(K))``.
    """

    def __init__(self, num_classes: int, ignore_index: int | None = IGNORE_INDEX) -> None:
        self.num_classes, self.ignore_index = num_classes, ignore_index
        self.cm = torch.zeros(num_classes, num_classes, dtype=torch.long)

    def reset(self) -> None:
        self.cm.zero_()

    @torch.no_grad()
    def update(self, out: Any, target: torch.Tensor) -> None:
        scores = out["out"] if isinstance(out, dict) else out
        self.cm += confusion_matrix(scores.detach().cpu(), target.detach().cpu(), self.num_classes,
                                    self.ignore_index)

    def compute(self) -> dict[str, float]:
        """``{"pixel_acc", "miou", "dice"}`` (dice = mean Dice)."""
        return {"pixel_acc": pixel_accuracy(self.cm), "miou": mean_iou(self.cm), "dice": mean_dice(self.cm)}

    def per_class(self) -> dict[str, torch.Tensor]:
        return {"iou": iou_per_class(self.cm), "dice": dice_per_class(self.cm)}


def elementwise_mask_iou(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """IoU of each binary mask ``(..., H, W)`` (bool, or logits thresholded at 0) with the
    target mask at the same position (broadcasting): one value per mask.

    Two empty masks have IoU 1 (they agree perfectly). For the ``(N, M)`` IoUs of every pair of
    two sets of masks (detection matching, where empty is 0) see
    :func:`dcnn_lib.detection.pairwise_mask_iou`.
    """
    if pred.is_floating_point():
        pred = pred > 0
    target = target.bool()
    inter = (pred & target).flatten(-2).sum(-1).double()
    union = (pred | target).flatten(-2).sum(-1).double()
    return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union))


class PromptedMaskIoU:
    """Mask IoU of a promptable model (SAM) over a set of prompts.

    ``update(out, target)`` takes ``{"out": (N, M, H, W) mask logits, "iou": (N, M)}`` and the
    ``(N, H, W)`` masks the prompts point at. ``compute()`` gives ``miou``: the mean IoU of the
    mask the model itself ranks best (highest predicted IoU, as SAM picks its answer), and
    ``oracle_miou``: the mean IoU of the best of the M masks (what SAM's loss trains).
    """

    def __init__(self) -> None:
        self.chosen: list[torch.Tensor] = []
        self.oracle: list[torch.Tensor] = []

    @torch.no_grad()
    def update(self, out: dict[str, torch.Tensor], target: torch.Tensor) -> None:
        ious = elementwise_mask_iou(out["out"].detach().cpu(), target.detach().cpu()[:, None])     # N x M
        pick = out["iou"].detach().cpu().argmax(1)
        self.chosen.append(ious[torch.arange(len(ious)), pick])
        self.oracle.append(ious.max(1).values)

    def compute(self) -> dict[str, float]:
        return {"miou": float(torch.cat(self.chosen).mean()), "oracle_miou": float(torch.cat(self.oracle).mean())}


__all__ = ["IGNORE_INDEX", "PromptedMaskIoU", "confusion_matrix", "pixel_accuracy", "iou_per_class", "dice_per_class",
           "mean_iou", "mean_dice", "SegmentationMetrics", "elementwise_mask_iou"]
