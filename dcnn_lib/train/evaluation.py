"""Evaluation-mode passes over a loader: :func:`evaluate` (loss, accuracy, metrics) and
:func:`predict` (the logits). Both restore the model's training mode afterwards."""
from __future__ import annotations

import contextlib
import itertools
import math
from typing import Any, Callable, Iterable, Iterator

import torch
import torch.nn as nn

from ..runtime import DRY_RUN_STEPS, dry_run
from .steps import autocast, call_model, check_labels, cross_entropy, hits, split_outputs, to_device


# Under DCNN_DRY_RUN an evaluation also keeps only the first samples of each batch: test loaders
# of 1,000 images a batch through a full-size network would cost more than the whole dry run.
DRY_RUN_SAMPLES = 16


def _head(batch: Any, n: int) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch[:n]
    if isinstance(batch, dict):
        return {k: _head(v, n) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(_head(v, n) for v in batch)
    return batch


def dry_run_batches(loader: Iterable, samples: int | None = None, steps: int = DRY_RUN_STEPS) -> Iterable:
    """``loader``, or under ``DCNN_DRY_RUN`` (:func:`dcnn_lib.runtime.dry_run`) its first
    ``steps`` batches, each cut to its first ``samples`` samples when ``samples`` is given."""
    if not dry_run():
        return loader
    batches = itertools.islice(loader, steps)
    return batches if samples is None else (_head(b, samples) for b in batches)


def _device_of(model: nn.Module, device: torch.device | str | None) -> torch.device:
    if device is not None:
        return torch.device(device)
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """``model`` in eval mode for the ``with`` block; its training mode is restored after."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def _forward(model: nn.Module, x: Any, dev: torch.device, amp: bool) -> tuple[Any, torch.Tensor]:
    with autocast(dev, amp):
        raw = call_model(model, to_device(x, dev))
    return raw, split_outputs(raw)[0]


@torch.no_grad()
def predict(model: nn.Module, loader: Iterable, device: torch.device | str | None = None,
            amp: bool | str = "auto") -> tuple[torch.Tensor, torch.Tensor]:
    """Logits ``(N, classes)`` (float32, on the CPU) and targets ``(N,)`` over ``loader``.
    ``amp``: mixed precision, ``"auto"`` = on CUDA."""
    dev = _device_of(model, device)
    use_amp = dev.type == "cuda" if amp == "auto" else bool(amp)
    logits, targets = [], []
    with eval_mode(model):
        for x, y in dry_run_batches(loader, DRY_RUN_SAMPLES):
            logits.append(_forward(model, x, dev, use_amp)[1].float().cpu())
            targets.append(y.cpu())
    return torch.cat(logits), torch.cat(targets)


@torch.no_grad()
def evaluate(model: nn.Module, loader: Iterable, device: torch.device | str | None = None,
             loss_fn: Callable | None = None, metrics: Any = None) -> dict[str, float]:
    """Mean loss and accuracy of ``model`` over ``loader``: ``{"loss": ..., "acc": ...}``.

    Batch by batch, so dense outputs need no memory for the whole set. ``loss_fn(logits,
    targets)`` (default: :func:`~dcnn_lib.train.cross_entropy`), or ``loss_fn(output,
    targets)`` on the model's raw output when ``loss_fn.takes_raw_output`` is true. Accuracy is
    per sample, or per pixel for dense labels (``nan`` when the targets are not class labels).
    ``metrics``: an object with ``update(output, targets)`` and ``compute() -> dict`` (e.g.
    :class:`dcnn_lib.metrics.SegmentationMetrics`); its values are added to the result.
    """
    dev = _device_of(model, device)
    raw_loss = getattr(loss_fn, "takes_raw_output", False)
    total, n, correct, counted = 0.0, 0, 0, 0
    with eval_mode(model):
        for x, y in dry_run_batches(loader, DRY_RUN_SAMPLES):
            raw, out = _forward(model, x, dev, dev.type == "cuda")
            if loss_fn is None:
                check_labels(y, out, "evaluate")
            y = y.to(dev)
            loss = loss_fn(raw, y) if raw_loss else (loss_fn or cross_entropy)(out.float(), y)
            total += float(loss) * len(y)
            n += len(y)
            c, k = hits(out, y)
            correct, counted = correct + int(c), counted + k
            if metrics is not None:
                metrics.update(raw, y)
    result = {"loss": total / max(n, 1), "acc": correct / counted if counted else math.nan}
    if metrics is not None:
        result.update(metrics.compute())
    return result


__all__ = ["DRY_RUN_SAMPLES", "dry_run_batches", "eval_mode", "evaluate", "predict"]
