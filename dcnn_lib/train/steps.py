"""Steps: what one batch does to a model. :func:`~dcnn_lib.train.fit` is the same loop for every
task; a *step* turns a batch into the loss to minimise and the numbers to log.

A step is a callable ``step(model, batch, ctx) -> StepOutput``: ``batch`` is whatever the loader
yields, ``ctx`` a :class:`StepContext` (the device, the memory format). The loop does the rest
(mixed precision, backward, clipping, the optimiser and schedule, averaging over the epoch).

- :class:`SupervisedStep` (the default): ``(inputs, targets)`` batches of a classifier or a
  dense (segmentation) model; cross-entropy, auxiliary heads, accuracy.
- :class:`dcnn_lib.detection.DetectionStep`: a detector that returns a dict of losses.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import DcnnTypeError, DcnnValueError
from ..metrics import IGNORE_INDEX


@dataclass(frozen=True)
class StepContext:
    """Where a step runs: ``device`` and whether 4-D inputs go ``channels_last``."""

    device: torch.device
    channels_last: bool = False


@dataclass
class StepOutput:
    """What a step returns.

    ``loss``: the scalar to minimise (mean over the batch). ``size``: samples (images) in the
    batch, the weight of this batch in the epoch's means. ``correct`` / ``counted``: hits and
    how many were counted, for ``train_acc`` (``counted=0``: no accuracy). ``terms``: scalar
    loss terms (batch means) to log, each as an extra History column (``loss_box_reg``...).
    """

    loss: torch.Tensor
    size: int
    correct: torch.Tensor | int = 0
    counted: int = 0
    terms: dict[str, torch.Tensor] = field(default_factory=dict)


def to_device(x: Any, dev: torch.device, channels_last: bool = False) -> Any:
    """``x`` on ``dev``: a tensor (4-D ones channels-last if asked) or a dict of them."""
    if isinstance(x, dict):                    # keyword inputs, e.g. an image and its prompts
        return {k: to_device(v, dev, channels_last) for k, v in x.items()}
    x = x.to(dev, non_blocking=True)
    if channels_last and x.ndim == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    return x


def call_model(model: nn.Module, x: Any) -> Any:
    """``model(**x)`` for a dict of inputs, ``model(x)`` otherwise."""
    return model(**x) if isinstance(x, dict) else model(x)


def split_outputs(out: Any) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """``(logits, [aux, ...])`` of a model's output: a tensor is the logits; a tuple or list
    (torchvision's ``GoogLeNetOutputs`` / ``InceptionOutputs`` included) is the logits
    followed by auxiliary logits (``None`` entries are skipped); a dict (torchvision's
    segmentation models) holds the logits under ``"out"`` and an auxiliary head's under ``"aux"``."""
    if isinstance(out, dict):
        return out["out"], [out["aux"]] if out.get("aux") is not None else []
    if isinstance(out, (tuple, list)):
        return out[0], [a for a in out[1:] if a is not None]
    return out, []


def autocast(dev: torch.device, enabled: bool):
    """bfloat16 autocast on CUDA where supported (float16 otherwise) when ``enabled``."""
    if not enabled or dev.type != "cuda":
        return torch.autocast(dev.type, enabled=False)
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.autocast("cuda", dtype=dtype)


def cross_entropy(logits: torch.Tensor, y: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    """The library's one default loss: cross-entropy; dense labels ``(N, H, W)`` skip
    ``IGNORE_INDEX`` (255) pixels (object borders in VOC, Pets); float targets of the logits'
    shape are class probabilities."""
    ignore = IGNORE_INDEX if y.ndim >= 2 and not y.is_floating_point() else -100
    return F.cross_entropy(logits, y, ignore_index=ignore, label_smoothing=label_smoothing)


def check_labels(y: Any, logits: torch.Tensor, where: str = "fit") -> None:
    """Targets for :func:`cross_entropy` and ``logits`` ``(N, C, ...)``: int64 class labels in
    ``0..C-1`` (255 allowed in dense label maps ``(N, H, W)``), or float class probabilities of
    the logits' own shape. Raises :class:`~dcnn_lib.errors.DcnnTypeError` / ``DcnnValueError``."""
    if not isinstance(y, torch.Tensor):
        raise DcnnTypeError(f"{where}: targets must be a tensor of class labels, got {type(y).__name__}")
    if y.is_floating_point() and y.shape == logits.shape:
        return                                 # class probabilities (soft labels)
    num_classes = logits.shape[1]
    if y.dtype != torch.int64:
        hint = (f"float targets must be class probabilities of the logits' shape {tuple(logits.shape)}, got "
                f"{tuple(y.shape)}; give int64 labels (labels.long()) or a loss_fn for these targets"
                if y.is_floating_point() else "convert them with labels.long()")
        raise DcnnTypeError(f"{where}: class labels must be int64 (torch.long), got {y.dtype}; {hint}")
    labels = y[y != IGNORE_INDEX] if y.ndim >= 2 else y
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        extra = f" (or {IGNORE_INDEX}: ignored pixel)" if y.ndim >= 2 else ""
        raise DcnnValueError(f"{where}: labels must lie in 0..{num_classes - 1}{extra} for a model with "
                             f"{num_classes} outputs, got labels {int(labels.min())}..{int(labels.max())}")


def hits(logits: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor | int, int]:
    """Correct predictions and how many were counted: per sample for classification, per pixel
    (without ``IGNORE_INDEX`` pixels) for dense labels; ``(0, 0)`` when labels are not classes."""
    if y.is_floating_point() or logits.ndim != y.ndim + 1:
        return 0, 0
    hit = logits.argmax(1) == y
    if y.ndim >= 2:
        valid = y != IGNORE_INDEX
        return (hit & valid).sum(), int(valid.sum())
    return hit.sum(), y.numel()


class SupervisedStep:
    """The step of a classifier or a dense model on ``(inputs, targets)`` batches.

    Loss: ``loss_fn(logits, targets)`` (default :func:`cross_entropy` with ``label_smoothing``,
    whose labels are checked by :func:`check_labels`) plus ``aux_weight`` times the loss of each
    auxiliary output (see :func:`split_outputs`); or, when ``loss_fn.takes_raw_output`` is true,
    ``loss_fn(output, targets)`` on the model's whole output (SAM's masks and IoU predictions).
    Inputs may be a dict of tensors (``model(**x)``).
    """

    def __init__(self, loss_fn: Callable | None = None, aux_weight: float = 0.3,
                 label_smoothing: float = 0.0) -> None:
        self.loss_fn, self.aux_weight, self.label_smoothing = loss_fn, aux_weight, label_smoothing
        self.raw = getattr(loss_fn, "takes_raw_output", False)
        self.checks_labels = loss_fn is None or isinstance(loss_fn, nn.CrossEntropyLoss)

    def loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.loss_fn is not None:
            return self.loss_fn(logits, y)
        return cross_entropy(logits, y, self.label_smoothing)

    def __call__(self, model: nn.Module, batch: Any, ctx: StepContext) -> StepOutput:
        x, y = batch
        raw = call_model(model, to_device(x, ctx.device, ctx.channels_last))
        out, aux = split_outputs(raw)
        if self.checks_labels:                  # checked on the loader's (CPU) copy: no sync
            check_labels(y, out)
        y = y.to(ctx.device, non_blocking=True)
        if self.raw:
            loss = self.loss_fn(raw, y)
        else:
            loss = self.loss(out, y)
            for a in aux:
                loss = loss + self.aux_weight * self.loss(a, y)
        correct, counted = hits(out.detach(), y)
        return StepOutput(loss, len(y), correct, counted)


__all__ = ["StepContext", "StepOutput", "SupervisedStep", "autocast", "call_model", "check_labels",
           "cross_entropy", "hits", "split_outputs", "to_device"]
