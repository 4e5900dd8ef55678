"""Training and evaluation of every detector (the contract of
:mod:`dcnn_lib.detection.contract`).

- :func:`fit` trains any model that returns a dict of losses in training mode with the library's
  one loop (:func:`dcnn_lib.train.fit`) and a :class:`DetectionStep`: the losses are summed,
  backpropagated and logged one by one (a per-epoch record of every loss term).
- :func:`predict` runs any detector in eval mode over images, a data set or a loader.
- :func:`evaluate` is predict + :func:`~dcnn_lib.detection.metrics.mean_average_precision`
  + inference speed: the numbers of the chapter's comparison table.
- :func:`random_detections` is the floor every detector must clear: boxes of plausible
  sizes at random places with random labels and scores.
"""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

import torch
import torch.nn as nn

from ..data.loaders import shard_indices
from ..runtime import DRY_RUN_STEPS, dry_run
from ..train.steps import StepContext, StepOutput
from .metrics import DetectionMetrics, mean_average_precision

if TYPE_CHECKING:
    from ..train import History


class EpochShuffle(torch.utils.data.Sampler):
    """Shuffled sample indices whose order in epoch ``e`` depends on ``(seed, e)`` alone: the
    order a ``DataLoader(shuffle=True, generator=torch.Generator().manual_seed(seed))`` gives
    in its pass number ``e`` (its draws are replayed), so a run resumed at epoch ``e`` reads
    what an uninterrupted one would. ``set_epoch`` (called by :func:`dcnn_lib.train.fit`)
    picks the epoch; without it every pass advances one. ``shard`` keeps one process's share
    (:func:`dcnn_lib.data.loaders.shard_indices`) under ``torchrun``."""

    def __init__(self, n: int, seed: int = 0) -> None:
        self.n, self.seed, self.epoch, self._epoch_set = n, seed, 0, False
        self.rank, self.num_replicas = 0, 1

    def set_epoch(self, epoch: int) -> None:
        self.epoch, self._epoch_set = epoch, True

    def shard(self, rank: int, num_replicas: int) -> None:
        shard_indices(torch.arange(0), rank, num_replicas)       # checks the arguments
        self.rank, self.num_replicas = rank, num_replicas

    def __len__(self) -> int:
        return -(-self.n // self.num_replicas)

    def __iter__(self):
        g = torch.Generator().manual_seed(self.seed)
        sampler = torch.utils.data.RandomSampler(range(self.n), generator=g)
        for _ in range(self.epoch + 1):
            torch.empty((), dtype=torch.int64).random_(generator=g)   # a DataLoader's base seed draw
            order = torch.tensor(list(sampler), dtype=torch.long)
        if not self._epoch_set:
            self.epoch += 1
        self._epoch_set = False
        return iter(shard_indices(order, self.rank, self.num_replicas).tolist())


def detection_loader(dataset, batch_size: int = 8, shuffle: bool = False, seed: int = 0,
                     num_workers: int = 0) -> torch.utils.data.DataLoader:
    """A ``DataLoader`` of ``(list of images, list of targets)`` batches; ``shuffle``: in an
    order seeded by ``(seed, epoch)`` (:class:`EpochShuffle`)."""
    from ..data import collate_detection

    sampler = EpochShuffle(len(dataset), seed) if shuffle else None
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, sampler=sampler,
                                       generator=torch.Generator().manual_seed(seed),
                                       collate_fn=collate_detection, num_workers=num_workers)


def _targets_to(targets: Sequence[dict], keys: Sequence[str], dev: torch.device) -> list[dict]:
    return [{k: t[k].to(dev) for k in keys if k in t} for t in targets]


class DetectionStep:
    """The training step of a detector (:mod:`dcnn_lib.train.steps`): a batch of ``(images,
    targets)`` lists goes to the model, whose dict of losses (training mode, the contract) is
    summed into the loss to minimise and logged term by term. Only the target fields in
    ``target_keys`` (the model's declared ones) are moved to the device."""

    def __init__(self, target_keys: Sequence[str] = ("boxes", "labels")) -> None:
        self.target_keys = tuple(target_keys)

    def __call__(self, model: nn.Module, batch: Any, ctx: StepContext) -> StepOutput:
        images, targets = batch
        losses = model([img.to(ctx.device) for img in images], _targets_to(targets, self.target_keys, ctx.device))
        return StepOutput(sum(losses.values()), len(images), terms=losses)


def fit(model: nn.Module, train_loader: Iterable, epochs: int, *, optimizer: str | Callable = "adamw",
        lr: float = 1e-3, weight_decay: float = 1e-4, momentum: float = 0.9,
        schedule: str | None = "onecycle", grad_clip: float | None = 10.0,
        device: torch.device | str | None = None, seed: int | None = 0, progress: bool = True,
        name: str | None = None, callbacks: Sequence[Callable[[int, "History"], None]] = (),
        checkpoint: str | None = None, resume: bool = True, early_stopping: Any = None,
        amp: bool | str = False) -> "History":
    """Train a detector for ``epochs`` passes over ``train_loader`` (batches of ``(images,
    targets)`` lists) with :func:`dcnn_lib.train.fit` and a :class:`DetectionStep`; returns
    the model in eval mode and a :class:`dcnn_lib.train.History` whose ``train_loss`` is the
    summed loss and whose extra columns are the loss terms (``loss_classifier``,
    ``loss_box_reg``...), per epoch, averaged over images.

    The model must follow the contract (a dict of losses in training mode). Every argument is
    :func:`dcnn_lib.train.fit`'s, with a detector's defaults: weight decay 1e-4, gradient
    clipping at norm 10, no mixed precision, channels-first memory. The schedule is stepped
    every batch; a one-cycle schedule on a run too short to warm up (under 4 batches) keeps
    the rate constant. ``callbacks``: ``f(epoch, history)`` after every epoch (e.g. to save
    the model); ``checkpoint``, ``resume``, ``early_stopping`` (on ``train_loss``): as in
    :func:`dcnn_lib.train.fit`.
    """
    from ..train import fit as train_fit

    history = train_fit(
        model, train_loader, epochs, step=DetectionStep(getattr(model, "target_keys", ("boxes", "labels"))),
        optimizer=optimizer, lr=lr, weight_decay=weight_decay, momentum=momentum, schedule=schedule,
        grad_clip=grad_clip, device=device, amp=amp, channels_last=False, seed=seed, progress=progress,
        name=name or getattr(model, "detector_name", type(model).__name__), callbacks=callbacks,
        checkpoint=checkpoint, resume=resume, early_stopping=early_stopping)
    model.eval()
    return history


def _batches(data: Any, batch_size: int) -> Iterable[list[torch.Tensor]]:
    """Images in lists of ``batch_size`` from a tensor, a list of images, a data set of
    ``(image, target)`` or a loader of ``(images, targets)`` (under ``DCNN_DRY_RUN``: the first
    batches only)."""
    batches = _all_batches(data, batch_size)
    return itertools.islice(batches, DRY_RUN_STEPS) if dry_run() else batches


def _all_batches(data: Any, batch_size: int) -> Iterable[list[torch.Tensor]]:
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
    Under ``DCNN_DRY_RUN`` only the first two batches are detected and scored.
    """
    n = min(len(dataset), DRY_RUN_STEPS * batch_size) if dry_run() else len(dataset)
    dataset = dataset if n == len(dataset) else [dataset[i] for i in range(n)]
    targets = [dataset[i][1] for i in range(n)]
    t0 = time.perf_counter()
    predictions = predict(model, dataset, batch_size=batch_size, device=device)
    speed = n / max(time.perf_counter() - t0, 1e-9)
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


__all__ = ["DetectionReport", "DetectionStep", "EpochShuffle", "detection_loader", "fit", "predict", "evaluate",
           "random_detections", "throughput"]
