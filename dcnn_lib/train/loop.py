"""The training loop: :func:`fit`, the same for classification, segmentation and detection.

A *step* (see :mod:`dcnn_lib.train.steps`) turns a batch into a loss; the loop around it is
written once: device, mixed precision and channels-last on CUDA, the optimiser and its
per-batch schedule, gradient clipping, a ``tqdm.auto`` progress bar, a :class:`History`,
validation, callbacks and early stopping, atomic checkpoints with an exact resume, and
``torchrun`` (DistributedDataParallel, see :mod:`dcnn_lib.train.distributed`).
"""
from __future__ import annotations

import math
import numbers
import os
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import torch
import torch.nn as nn

from ..errors import DcnnTypeError, DcnnValueError
from ..runtime import DRY_RUN_STEPS, dry_run, seed_everything
from ..runtime import device as default_device
from . import distributed as ddp
from .checkpoint import (check_resumable, check_writable, describe_model, load_checkpoint, rng_state,
                         save_atomic, set_rng_state)
from .evaluation import dry_run_batches, evaluate
from .history import History
from .optim import make_optimizer, make_schedule
from .steps import StepContext, StepOutput, SupervisedStep, autocast
from .stopping import EarlyStopping, StopTraining


def _check_arguments(train_loader: Any, epochs: Any) -> int:
    """``len(train_loader)`` after checking ``epochs`` and the loader."""
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral):
        raise DcnnTypeError(f"fit: epochs must be a whole number of epochs (int), got {epochs!r}")
    if epochs < 1:
        raise DcnnValueError(f"fit: epochs must be >= 1, got {epochs}")
    try:
        steps = len(train_loader)
    except TypeError:
        raise DcnnTypeError(f"fit: train_loader must have a length (len(loader) batches per epoch); "
                            f"got {type(train_loader).__name__}") from None
    if steps == 0:
        raise DcnnValueError("fit: train_loader yields no batches (empty data set, or drop_last with too "
                             "little data)")
    return steps


class _Run:
    """The state of one run: model (and its DDP wrapper), optimiser, schedule, scaler, History."""

    def __init__(self, model: nn.Module, step: Callable, ctx: StepContext, world: ddp.World, amp: bool,
                 grad_clip: float | None, opt: torch.optim.Optimizer, sched: Any, name: str) -> None:
        self.model, self.step, self.ctx, self.world, self.amp = model, step, ctx, world, amp
        self.net = ddp.wrap(model, world, ctx.device)
        self.grad_clip, self.opt, self.sched = grad_clip, opt, sched
        self.params = [p for g in opt.param_groups for p in g["params"]]
        self.scaler = torch.amp.GradScaler("cuda", enabled=amp and not torch.cuda.is_bf16_supported())
        self.history = History(name=name)

    @property
    def lr(self) -> float:
        return self.opt.param_groups[0]["lr"]

    def update(self, out: StepOutput, epoch: int) -> None:
        """Backpropagate ``out.loss`` and take one optimiser (and schedule) step."""
        if not torch.isfinite(out.loss):
            terms = f"{ {k: round(float(v), 4) for k, v in out.terms.items()} }; " if out.terms else ""
            raise FloatingPointError(f"fit: loss became {out.loss.item()} in epoch {epoch + 1} ({terms}learning "
                                     f"rate {self.lr:.3g} too high?)")
        self.opt.zero_grad(set_to_none=True)
        self.scaler.scale(out.loss).backward()
        if self.grad_clip is not None:
            self.scaler.unscale_(self.opt)
            nn.utils.clip_grad_norm_(self.params, self.grad_clip)
        self.scaler.step(self.opt)
        self.scaler.update()
        if self.sched is not None:
            self.sched.step()

    def train_epoch(self, loader: Iterable, epoch: int, bar: Any) -> dict[str, float]:
        """One pass over ``loader``; the epoch's means (added over every rank)."""
        self.net.train()
        dev = self.ctx.device
        # Sums stay on the device (no synchronisation per batch); counts are known on the host.
        loss = torch.zeros((), dtype=torch.float64, device=dev)
        correct = torch.zeros_like(loss)
        seen = counted = 0
        terms: dict[str, torch.Tensor] = {}
        for batch in dry_run_batches(loader, steps=1):         # a dry run: one batch an epoch
            with autocast(dev, self.amp):
                out = self.step(self.net, batch, self.ctx)
            self.update(out, epoch)
            loss += out.loss.detach().double() * out.size
            correct += out.correct
            seen, counted = seen + out.size, counted + out.counted
            for k, v in out.terms.items():
                terms[k] = terms.get(k, 0.0) + v.detach().double() * out.size
            if bar is not None:
                bar.update(1)
        sums = torch.stack([loss, correct, loss.new_tensor(seen), loss.new_tensor(counted), *terms.values()])
        loss, correct, seen, counted, *term_sums = ddp.all_sum(sums, self.world).tolist()
        if seen == 0:
            raise DcnnValueError(f"fit: train_loader has len() {len(loader)} but yielded no batch in "  # type: ignore
                                 f"epoch {epoch + 1} (an exhausted iterator? a loader must be re-iterable)")
        return {"epoch": epoch + 1, "train_loss": loss / seen,
                "train_acc": correct / counted if counted else math.nan, "lr": self.lr,
                **{k: v / seen for k, v in zip(terms, term_sums)}}

    def state(self, epoch: int, config: dict[str, Any]) -> dict[str, Any]:
        return {"epoch": epoch, "config": config, "model": self.model.state_dict(),
                "model_shapes": describe_model(self.model), "optimizer": self.opt.state_dict(),
                "scheduler": self.sched.state_dict() if self.sched is not None else None,
                "scaler": self.scaler.state_dict() if self.scaler.is_enabled() else None,
                "history": self.history.state_dict(), "rng": rng_state()}

    def resume(self, path: Path, config: dict[str, Any]) -> int:
        """Load the checkpoint at ``path`` (read on rank 0, sent to every rank); the epoch it
        ended, 0 when there is none."""
        found = None
        if self.world.main and path.exists():
            try:
                found = ("state", load_checkpoint(path))
            except DcnnValueError as e:                         # raised on every rank, not just 0
                found = ("error", str(e))
        found = ddp.broadcast(found, self.world)
        if found is None:
            return 0
        if found[0] == "error":
            raise DcnnValueError(found[1])
        state = found[1]
        check_resumable(state, path, config, self.model)
        self.model.load_state_dict(state["model"])
        try:
            self.opt.load_state_dict(state["optimizer"])
            if self.sched is not None and state.get("scheduler") is not None:
                self.sched.load_state_dict(state["scheduler"])
        except (KeyError, ValueError) as e:
            raise DcnnValueError(f"fit: checkpoint {path} holds the state of another optimiser or schedule "
                                 f"({type(e).__name__}: {e}); delete it or pass resume=False to start again") from None
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.history = History.from_state_dict(state["history"])
        self.history.resumed_at = state["epoch"]
        set_rng_state(state["rng"])
        return state["epoch"]


def _config(epochs: int, steps: int, optimizer: Any, lr: float, weight_decay: float, momentum: float,
            schedule: str | None, **rest: Any) -> dict[str, Any]:
    """The settings a checkpoint must share with the run that resumes it."""
    named = isinstance(optimizer, str)
    return {"epochs": epochs, "steps_per_epoch": steps,
            "optimizer": optimizer if named else getattr(optimizer, "__qualname__", type(optimizer).__name__),
            "lr": lr if named else None, "weight_decay": weight_decay if named else None,
            "momentum": momentum if optimizer == "sgd" else None, "schedule": schedule, **rest}


def _progress(name: str, epochs: int, steps: int, start: int):
    """A ``tqdm.auto`` bar over every batch of the run, ``start`` epochs done."""
    from tqdm.auto import tqdm

    bar = tqdm(total=epochs * steps, initial=start * steps, desc=name, unit="batch", dynamic_ncols=True)
    if start:
        bar.set_postfix_str(f"resumed after epoch {start}")
    return bar


def _postfix(record: dict[str, float], epochs: int) -> str:
    acc = "" if math.isnan(record["train_acc"]) else f" acc {record['train_acc']:.3f}"
    val = f" val_acc {record['val_acc']:.3f}" if not math.isnan(record.get("val_acc", math.nan)) else ""
    return f"epoch {int(record['epoch'])}/{epochs} loss {record['train_loss']:.3f}{acc}{val}"


def _callbacks(run: _Run, epoch: int, callbacks: Sequence[Callable]) -> bool:
    """Call every callback; ``True`` (and the reason in the History) when one stops the run."""
    try:
        for cb in callbacks:
            cb(epoch + 1, run.history)
    except StopTraining as e:
        run.history.stopped_early = str(e) or f"{type(e).__name__} after epoch {epoch + 1}"
        return True
    return False


def fit(model: nn.Module, train_loader: Sequence | Iterable, epochs: int, *,
        val_loader: Iterable | None = None,
        optimizer: str | Callable[[Iterable], torch.optim.Optimizer] = "adamw",
        lr: float = 1e-3, weight_decay: float = 5e-4, momentum: float = 0.9,
        schedule: str | None = "onecycle", loss_fn: Callable | None = None,
        aux_weight: float = 0.3, label_smoothing: float = 0.0, grad_clip: float | None = None,
        device: torch.device | str | None = None, amp: bool | str = "auto",
        channels_last: bool | str = "auto", checkpoint: str | os.PathLike | None = None,
        resume: bool = True, seed: int | None = 0, progress: bool = True, name: str | None = None,
        callbacks: Sequence[Callable[[int, History], None]] = (),
        metrics: Callable[[], Any] | None = None, step: Callable | None = None,
        early_stopping: EarlyStopping | None = None) -> History:
    """Train ``model`` for ``epochs`` passes over ``train_loader``; returns a :class:`History`.

    Args:
        model: a classifier ``(N, ...) -> (N, classes)`` logits, a dense model, or any model
            that ``step`` knows.
        train_loader: yields batches; ``len()`` is needed for the schedule. If it has
            ``set_epoch`` it is called every epoch (seeded shuffling).
        epochs: total number of epochs, an int (a resumed run continues up to this number).
        val_loader: evaluated after every epoch (``val_loss``, ``val_acc``; see :func:`evaluate`).
        optimizer, lr, weight_decay, momentum: see :func:`make_optimizer` (``lr``: peak rate of
            ``"onecycle"``, initial rate otherwise).
        schedule: ``"onecycle"``, ``"cosine"`` or ``None``, stepped every batch (:func:`make_schedule`).
        loss_fn, aux_weight, label_smoothing: the default step's (:class:`SupervisedStep`): loss
            (default cross-entropy), weight of each auxiliary output's loss (0.3: GoogLeNet's).
        grad_clip: clip the gradients' global norm to this value.
        device: default: CUDA > MPS > CPU (under ``torchrun``: the rank's GPU, else the CPU).
        amp: mixed precision, ``"auto"`` = on CUDA (bfloat16 where supported, else float16 with
            a gradient scaler). channels_last: ``"auto"`` = on CUDA.
        checkpoint: file written (atomically) after every epoch; with ``resume=True`` an existing
            file is loaded and training continues after its last epoch. A checkpoint of another
            run (other settings or model) or an unreadable file is refused with its name; a
            folder that cannot be written is refused before training.
        seed: seeds Python, NumPy and torch before a fresh run (``None``: leave them).
        progress: show a ``tqdm.auto`` bar. name: the History's and the bar's name.
        callbacks: ``f(epoch, history)`` after every epoch (and its checkpoint); one may raise
            :class:`StopTraining` to end the run. early_stopping: an :class:`EarlyStopping`.
        metrics: a factory of validation metrics (``lambda: SegmentationMetrics(11)``): each
            value it computes is recorded as ``val_<name>`` (``history["val_miou"]``).
        step: ``step(model, batch, ctx) -> StepOutput`` (:mod:`dcnn_lib.train.steps`), default
            :class:`SupervisedStep`; a detector's is :class:`dcnn_lib.detection.DetectionStep`.

    Under ``DCNN_DRY_RUN`` (:func:`dcnn_lib.runtime.dry_run`) at most two epochs of one batch
    run (validation: two batches of a few samples) and no checkpoint is read or written (its
    folder is still checked).
    """
    world = ddp.setup()
    if world.distributed:
        ddp.shard(train_loader, world)
    steps_per_epoch = _check_arguments(train_loader, epochs)
    dev = torch.device(device) if device is not None else ddp.device(world) if world.distributed else default_device()
    use_amp = dev.type == "cuda" and (amp == "auto" or bool(amp))
    ctx = StepContext(dev, dev.type == "cuda" if channels_last == "auto" else bool(channels_last))
    if isinstance(loss_fn, nn.Module):
        loss_fn.to(dev)                        # e.g. class weights of a weighted cross-entropy
    step = step if step is not None else SupervisedStep(loss_fn, aux_weight, label_smoothing)
    if checkpoint is not None and world.main:
        check_writable(checkpoint)             # fails now, not after the first epoch
    ckpt = Path(checkpoint) if checkpoint is not None and not dry_run() else None
    config = _config(epochs, steps_per_epoch, optimizer, lr, weight_decay, momentum, schedule,
                     grad_clip=grad_clip, label_smoothing=label_smoothing, aux_weight=aux_weight,
                     processes=world.size)

    if seed is not None:
        seed_everything(seed)
    model.to(dev)
    if ctx.channels_last:
        model.to(memory_format=torch.channels_last)
    opt = make_optimizer(optimizer, [p for p in model.parameters() if p.requires_grad], lr, weight_decay, momentum)
    run = _Run(model, step, ctx, world, use_amp, grad_clip, opt,
               make_schedule(schedule, opt, lr, epochs * steps_per_epoch), name or type(model).__name__)
    start = run.resume(ckpt, config) if ckpt is not None and resume else 0
    if run.history.stopped_early:
        return run.history
    end = min(epochs, start + DRY_RUN_STEPS) if dry_run() else epochs
    callbacks = [*callbacks, *([early_stopping] if early_stopping is not None else [])]
    bar = _progress(run.history.name, epochs, steps_per_epoch, start) if progress and world.main else None
    try:
        for epoch in range(start, end):
            for shuffled in (train_loader, getattr(train_loader, "sampler", None)):
                if hasattr(shuffled, "set_epoch"):
                    shuffled.set_epoch(epoch)
            t0 = time.perf_counter()
            record = run.train_epoch(train_loader, epoch, bar)
            if val_loader is not None:
                v = evaluate(model, val_loader, dev, loss_fn=loss_fn if getattr(loss_fn, "takes_raw_output", False)
                             else None, metrics=metrics() if metrics is not None else None)
                record.update(val_loss=v.pop("loss"), val_acc=v.pop("acc"), **{f"val_{k}": x for k, x in v.items()})
            record["seconds"] = time.perf_counter() - t0
            run.history.append(**record)
            if bar is not None:
                bar.set_postfix_str(_postfix(record, epochs))
            if ckpt is not None and world.main:
                save_atomic(run.state(epoch + 1, config), ckpt)
            ddp.barrier(world)
            if _callbacks(run, epoch, callbacks):
                if ckpt is not None and world.main:    # so that a resume finds nothing left to do
                    save_atomic(run.state(epoch + 1, config), ckpt)
                break
    finally:
        if bar is not None:
            bar.close()
    return run.history


__all__ = ["fit"]
