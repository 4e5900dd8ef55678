"""One training loop and one evaluation loop for every detector (the contract of
:mod:`dcnn_lib.detection.contract`).

- :func:`fit` trains any model that returns a dict of losses in training mode: the losses
  are summed, backpropagated and logged one by one; AdamW or SGD, a one-cycle or cosine
  schedule, gradient clipping, a progress bar and a per-epoch record of every loss term.
- :func:`predict` runs any detector in eval mode over images, a data set or a loader.
- :func:`evaluate` is predict + :func:`~dcnn_lib.detection.metrics.mean_average_precision`
  + inference speed: the numbers of the chapter's comparison table.
- :func:`random_detections` is the floor every detector must clear: boxes of plausible
  sizes at random places with random labels and scores.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

import torch
import torch.nn as nn

from ..runtime import device as default_device
from ..runtime import seed_everything
from .metrics import DetectionMetrics, mean_average_precision

if TYPE_CHECKING:  # dcnn_lib.train pulls in tqdm: imported when fit runs
    from ..train import History


def detection_loader(dataset, batch_size: int = 8, shuffle: bool = False, seed: int = 0,
                     num_workers: int = 0) -> torch.utils.data.DataLoader:
    """A ``DataLoader`` of ``(list of images, list of targets)`` batches (seeded shuffling)."""
    from ..data import collate_detection

    gen = torch.Generator().manual_seed(seed)
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=gen,
                                       collate_fn=collate_detection, num_workers=num_workers)


def _targets_to(targets: Sequence[dict], keys: Sequence[str], dev: torch.device) -> list[dict]:
    return [{k: t[k].to(dev) for k in keys if k in t} for t in targets]


def fit(model: nn.Module, train_loader: Iterable, epochs: int, *, optimizer: str | Callable = "adamw",
        lr: float = 1e-3, weight_decay: float = 1e-4, momentum: float = 0.9,
        schedule: str | None = "onecycle", grad_clip: float | None = 10.0,
        device: torch.device | str | None = None, seed: int | None = 0, progress: bool = True,
        name: str | None = None, callbacks: Sequence[Callable[[int, "History"], None]] = ()) -> "History":
    """Train a detector for ``epochs`` passes over ``train_loader`` (batches of
    ``(images, targets)`` lists); returns a :class:`dcnn_lib.train.History` whose
    ``train_loss`` is the summed loss and whose extra columns are the loss terms
    (``loss_classifier``, ``loss_box_reg``...), per epoch, averaged over images.

    The model must follow the contract (a dict of losses in training mode). ``optimizer``,
    ``lr``, ``schedule``, ``weight_decay``, ``momentum`` are as in :func:`dcnn_lib.train.fit`
    (the schedule is stepped every batch; :func:`dcnn_lib.train.fit`'s schedule, which keeps
    the rate constant on runs too short for a one-cycle warm-up). Only the target fields the model declares in
    ``target_keys`` are moved to the device. ``callbacks``: ``f(epoch, history)`` after every
    epoch (e.g. to save the model).
    """
    from ..train import History, _make_optimizer, _make_schedule

    steps_per_epoch = len(train_loader)  # type: ignore[arg-type]   (the schedule needs it)
    if epochs < 1 or steps_per_epoch == 0:
        raise ValueError(f"fit: needs epochs >= 1 and batches to train on, got {epochs} epochs of "
                         f"{steps_per_epoch} batches")
    dev = torch.device(device) if device is not None else default_device()
    keys = getattr(model, "target_keys", ("boxes", "labels"))
    name = name or getattr(model, "detector_name", type(model).__name__)
    if seed is not None:
        seed_everything(seed)
    model.to(dev)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = _make_optimizer(optimizer, params, lr, weight_decay, momentum)
    sched = _make_schedule(schedule, opt, lr, epochs * steps_per_epoch)
    history = History(name=name)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs * steps_per_epoch, desc=name, unit="batch", dynamic_ncols=True)
    try:
        for epoch in range(epochs):
            model.train()
            t0 = time.perf_counter()
            sums: dict[str, float] = {}
            seen = 0
            for images, targets in train_loader:
                images = [img.to(dev) for img in images]
                losses = model(images, _targets_to(targets, keys, dev))
                loss = sum(losses.values())
                if not torch.isfinite(loss):
                    raise FloatingPointError(
                        f"fit: loss became {loss.item()} in epoch {epoch + 1} "
                        f"({ {k: round(float(v), 4) for k, v in losses.items()} }; learning rate "
                        f"{opt.param_groups[0]['lr']:.3g} too high?)")
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if grad_clip is not None:
                    nn.utils.clip_grad_norm_(params, grad_clip)
                opt.step()
                if sched is not None:
                    sched.step()
                n = len(images)
                seen += n
                sums["loss"] = sums.get("loss", 0.0) + float(loss.detach()) * n
                for k, v in losses.items():
                    sums[k] = sums.get(k, 0.0) + float(v.detach()) * n
                if bar is not None:
                    bar.update(1)
            terms = {k: v / seen for k, v in sums.items() if k != "loss"}
            history.append(epoch=epoch + 1, train_loss=sums["loss"] / seen, lr=opt.param_groups[0]["lr"],
                           seconds=time.perf_counter() - t0, **terms)
            if bar is not None:
                bar.set_postfix_str(f"epoch {epoch + 1}/{epochs} loss {history.last['train_loss']:.3f}")
            for cb in callbacks:
                cb(epoch + 1, history)
    finally:
        if bar is not None:
            bar.close()
    model.eval()
    return history


def _batches(data: Any, batch_size: int) -> Iterable[list[torch.Tensor]]:
    """Images in lists of ``batch_size`` from a tensor, a list of images, a data set of
    ``(image, target)`` or a loader of ``(images, targets)``."""
    if isinstance(data, torch.Tensor):
        data = list(data) if data.ndim == 4 else [data]
    if isinstance(data, (list, tuple)) and data and isinstance(data[0], torch.Tensor):
        for i in range(0, len(data), batch_size):
            yield list(data[i:i + batch_size])
        return
    if isinstance(data, torch.utils.data.DataLoader):
        for images, _ in data:
            yield list(images)
        return
    for i in range(0, len(data), batch_size):
        yield [data[j][0] for j in range(i, min(i + batch_size, len(data)))]


@torch.no_grad()
def predict(model: nn.Module, data: Any, *, batch_size: int = 8,
            device: torch.device | str | None = None) -> list[dict[str, torch.Tensor]]:
    """Eval-mode detections (on the CPU) for every image of ``data``: a ``(3, H, W)`` image, a
    list of them, a ``(N, 3, H, W)`` batch, a data set of ``(image, target)`` or a loader."""
    dev = torch.device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    out: list[dict[str, torch.Tensor]] = []
    try:
        for images in _batches(data, batch_size):
            for det in model([img.to(dev) for img in images]):
                out.append({k: v.detach().cpu() for k, v in det.items()})
    finally:
        model.train(was_training)
    return out


@dataclass
class DetectionReport:
    """What :func:`evaluate` returns: the metrics, the predictions and the inference speed."""

    metrics: DetectionMetrics
    predictions: list[dict[str, torch.Tensor]]
    images_per_second: float
    mask_metrics: DetectionMetrics | None = None

    def __str__(self) -> str:
        s = f"{self.metrics} · {self.images_per_second:.1f} images/s"
        if self.mask_metrics is not None:
            s += f"\nmasks: {self.mask_metrics}"
        return s


def evaluate(model: nn.Module, dataset: Sequence, *, batch_size: int = 8,
             device: torch.device | str | None = None, masks: bool | None = None) -> DetectionReport:
    """Detect every image of ``dataset`` (``(image, target)`` pairs) and score the detections.

    Returns a :class:`DetectionReport`: COCO and VOC average precisions, the predictions, and
    images per second of the eval-mode forward passes (pre- and post-processing included).
    ``masks``: also score masks (mask AP); default: when the predictions have ``masks``.
    """
    targets = [dataset[i][1] for i in range(len(dataset))]
    t0 = time.perf_counter()
    predictions = predict(model, dataset, batch_size=batch_size, device=device)
    speed = len(dataset) / max(time.perf_counter() - t0, 1e-9)
    metrics = mean_average_precision(predictions, targets)
    if masks is None:
        masks = bool(predictions) and "masks" in predictions[0] and "masks" in targets[0]
    mask_metrics = mean_average_precision(predictions, targets, iou_type="segm") if masks else None
    return DetectionReport(metrics, predictions, speed, mask_metrics)


def random_detections(targets: Sequence[dict], image_size: tuple[int, int], num_classes: int,
                      per_image: int = 10, seed: int = 0) -> list[dict[str, torch.Tensor]]:
    """The floor: ``per_image`` random boxes per image with random labels in ``1..num_classes``
    and random scores. Box sides are drawn from the ground truth's own range of sides (so the
    baseline knows the object sizes), positions uniformly inside the image."""
    g = torch.Generator().manual_seed(seed)
    h, w = image_size
    sides = torch.cat([t["boxes"][:, 2:] - t["boxes"][:, :2] for t in targets]) if targets else torch.ones(1, 2)
    lo, hi = sides.min(0).values, sides.max(0).values
    out = []
    for _ in targets:
        wh = lo + torch.rand(per_image, 2, generator=g) * (hi - lo)
        xy = torch.rand(per_image, 2, generator=g) * (torch.tensor([w, h]) - wh).clamp(min=0)
        out.append({"boxes": torch.cat([xy, xy + wh], 1),
                    "labels": torch.randint(1, num_classes + 1, (per_image,), generator=g),
                    "scores": torch.rand(per_image, generator=g)})
    return out


def throughput(model: nn.Module, images: Sequence[torch.Tensor], batch_size: int = 8,
               device: torch.device | str | None = None) -> float:
    """Images per second of eval-mode detection on ``images`` (one warm-up batch first)."""
    dev = torch.device(device) if device is not None else next(model.parameters()).device
    predict(model, list(images[:batch_size]), batch_size=batch_size, device=dev)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    predict(model, list(images), batch_size=batch_size, device=dev)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    return len(images) / max(time.perf_counter() - t0, 1e-9)


__all__ = ["DetectionReport", "detection_loader", "fit", "predict", "evaluate",
           "random_detections", "throughput"]
