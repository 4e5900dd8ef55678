"""One training loop for every chapter: :func:`fit`, :func:`evaluate`, :func:`predict`.

``fit`` picks the device (CUDA > MPS > CPU), uses mixed precision and channels-last memory on
CUDA, shows a ``tqdm.auto`` progress bar, records a :class:`History` (loss, accuracy, learning
rate and seconds per epoch) and, given ``checkpoint=path``, saves everything needed to resume
after every epoch: weights, optimiser, schedule, gradient scaler, history and the random
number generators. A resumed run ends with the same weights as an uninterrupted one.

Auxiliary classifiers: a model that returns a tuple ``(logits, aux_1, aux_2, ...)`` in training
mode (GoogLeNet, Inception v3) is trained on ``loss(logits) + aux_weight · Σ loss(aux_i)``; its
accuracy is that of ``logits``. In evaluation mode such models return the logits alone.
"""
from __future__ import annotations

import math
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .metrics import IGNORE_INDEX
from .runtime import device as default_device
from .runtime import seed_everything

COLUMNS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds")


@dataclass
class History:
    """Per-epoch records of a :func:`fit` run.

    ``h["val_acc"]`` is a column (list), ``h[-1]`` the last epoch (dict), ``len(h)`` the number
    of epochs. ``seconds`` is the wall-clock time of the epoch (training and validation).
    Columns beyond :data:`COLUMNS` (validation metrics such as ``val_miou``) are kept too.
    """

    records: list[dict[str, float]] = field(default_factory=list)
    name: str = ""
    resumed_at: int | None = None  # epoch the run was resumed after, if it was

    def append(self, **record: float) -> None:
        self.records.append({**{k: record.get(k, math.nan) for k in COLUMNS},
                             **{k: v for k, v in record.items() if k not in COLUMNS}})

    @property
    def columns(self) -> tuple[str, ...]:
        """:data:`COLUMNS` and any extra ones recorded (in order of appearance)."""
        extra = dict.fromkeys(k for r in self.records for k in r if k not in COLUMNS)
        return COLUMNS + tuple(extra)

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, key: int | str) -> Any:
        if isinstance(key, str):
            if key not in self.columns:
                raise KeyError(f"History has no column {key!r}; columns: {self.columns}")
            return [r.get(key, math.nan) for r in self.records]
        return self.records[key]

    @property
    def last(self) -> dict[str, float]:
        if not self.records:
            raise IndexError("History is empty: no epoch has finished")
        return self.records[-1]

    def best(self, metric: str = "val_acc", mode: str = "max") -> dict[str, float]:
        values = [v for v in self[metric] if not math.isnan(v)]
        if not values:
            raise ValueError(f"History: no {metric} recorded (was val_loader given?)")
        pick = max if mode == "max" else min
        return next(r for r in self.records if r[metric] == pick(values))

    @property
    def total_seconds(self) -> float:
        return float(sum(self["seconds"]))

    def state_dict(self) -> dict[str, Any]:
        return {"records": [dict(r) for r in self.records], "name": self.name}

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> "History":
        return cls(records=[dict(r) for r in state["records"]], name=state.get("name", ""))

    def plot(self, axes=None, label: str | None = None):
        """Loss and accuracy curves (train solid, validation dashed). Returns the figure."""
        from .viz import plot_history

        return plot_history([self], axes=axes, labels=[label] if label else None)

    def _rows(self) -> list[list[str]]:
        def f(v: float, fmt: str) -> str:
            return "" if math.isnan(v) else format(v, fmt)

        extra = self.columns[len(COLUMNS):]
        return [[str(int(r["epoch"])), f(r["train_loss"], ".4f"), f(r["train_acc"], ".4f"),
                 f(r["val_loss"], ".4f"), f(r["val_acc"], ".4f"), f(r["lr"], ".2e"),
                 f(r["seconds"], ".1f"), *(f(r.get(k, math.nan), ".4f") for k in extra)] for r in self.records]

    def _extra_heads(self) -> list[str]:
        return [k.replace("_", " ") for k in self.columns[len(COLUMNS):]]

    def __str__(self) -> str:
        head = ["epoch", "train loss", "train acc", "val loss", "val acc", "lr", "s", *self._extra_heads()]
        rows = [head] + self._rows()
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows)

    def __repr__(self) -> str:
        return f"History({self.name!r}, {len(self)} epochs)"

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{h}</th>" for h in ["epoch", "train loss", "train acc", "val loss",
                                                 "val acc", "lr", "seconds", *self._extra_heads()])
        body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in self._rows())
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# ---------------------------------------------------------------------------------------------
def _rng_state() -> dict[str, Any]:
    np_state = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {"keys": torch.from_numpy(np_state[1].astype(np.int64)), "pos": int(np_state[2]),
                  "has_gauss": int(np_state[3]), "cached_gauss": float(np_state[4])},
        "python": [list(random.getstate()[1]), random.getstate()[2]],
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["cached_gauss"]))
    internal, gauss = state["python"]
    random.setstate((3, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _save_atomic(obj: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _make_optimizer(optimizer: str | Callable, params: Iterable, lr: float, weight_decay: float,
                    momentum: float) -> torch.optim.Optimizer:
    if callable(optimizer) and not isinstance(optimizer, str):
        return optimizer(params)
    if optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=momentum > 0)
    if optimizer == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"fit: optimizer must be 'sgd', 'adam', 'adamw' or a callable, got {optimizer!r}")


def _make_schedule(schedule: str | None, opt: torch.optim.Optimizer, lr: float, total_steps: int):
    if schedule is None or schedule == "constant":
        return None
    if schedule == "onecycle":
        if total_steps < 4:                    # too short to warm up and anneal: keep lr constant
            return None
        # Warm up for a quarter of the run, but for at least two steps (OneCycleLR divides by
        # the length of each phase, so a phase of zero steps is an error).
        pct_start = min(0.5, max(0.25, 2 / total_steps))
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total_steps,
                                                   pct_start=pct_start, div_factor=25, final_div_factor=1e3)
    if schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total_steps)
    raise ValueError(f"fit: schedule must be 'onecycle', 'cosine', 'constant' or None, got {schedule!r}")


def _to(x: Any, dev: torch.device, channels_last: bool) -> Any:
    if isinstance(x, dict):                    # keyword inputs, e.g. an image and its prompts
        return {k: _to(v, dev, channels_last) for k, v in x.items()}
    x = x.to(dev, non_blocking=True)
    if channels_last and x.ndim == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    return x


def _call(model: nn.Module, x: Any) -> Any:
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


def _autocast(dev: torch.device, amp: bool):
    if not amp:
        return torch.autocast(dev.type, enabled=False)
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.autocast("cuda", dtype=dtype)


@torch.no_grad()
def predict(model: nn.Module, loader: Iterable, device: torch.device | str | None = None,
            amp: bool | str = "auto") -> tuple[torch.Tensor, torch.Tensor]:
    """Logits ``(N, classes)`` (float32, on the CPU) and targets ``(N,)`` over ``loader``."""
    dev = torch.device(device) if device is not None else next(model.parameters()).device
    use_amp = dev.type == "cuda" if amp == "auto" else bool(amp)
    was_training = model.training
    model.eval()
    logits, targets = [], []
    try:
        for x, y in loader:
            with _autocast(dev, use_amp and dev.type == "cuda"):
                out, _ = split_outputs(_call(model, _to(x, dev, False)))
            logits.append(out.float().cpu())
            targets.append(y.cpu())
    finally:
        model.train(was_training)
    return torch.cat(logits), torch.cat(targets)


def _hits(logits: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor | int, int]:
    """Correct predictions and how many were counted: per sample for classification, per pixel
    (without ``IGNORE_INDEX`` pixels) for dense labels; ``(0, 0)`` when labels are not classes."""
    if y.is_floating_point() or logits.ndim != y.ndim + 1:
        return 0, 0
    hit = logits.argmax(1) == y
    if y.ndim >= 2:
        valid = y != IGNORE_INDEX
        return (hit & valid).sum(), int(valid.sum())
    return hit.sum(), y.numel()


def _default_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy; dense labels skip ``IGNORE_INDEX`` pixels (object borders in VOC, Pets)."""
    return F.cross_entropy(logits, y, ignore_index=IGNORE_INDEX if y.ndim >= 2 else -100)


@torch.no_grad()
def evaluate(model: nn.Module, loader: Iterable, device: torch.device | str | None = None,
             loss_fn: Callable | None = None, metrics: Any = None) -> dict[str, float]:
    """Mean loss and accuracy of ``model`` over ``loader``: ``{"loss": ..., "acc": ...}``.

    Batch by batch, so dense outputs need no memory for the whole set. ``loss_fn(logits,
    targets)`` (default: cross-entropy), or ``loss_fn(output, targets)`` on the model's raw
    output when ``loss_fn.takes_raw_output`` is true. Accuracy is per sample, or per pixel for
    dense labels (``nan`` when the targets are not class labels). ``metrics``: an object with
    ``update(output, targets)`` and ``compute() -> dict`` (e.g.
    :class:`dcnn_lib.metrics.SegmentationMetrics`); its values are added to the result.
    """
    dev = torch.device(device) if device is not None else next(model.parameters()).device
    raw_loss = getattr(loss_fn, "takes_raw_output", False)
    loss_fn = loss_fn or _default_loss
    was_training = model.training
    model.eval()
    total, n, correct, counted = 0.0, 0, 0, 0
    try:
        for x, y in loader:
            x, y = _to(x, dev, False), y.to(dev)
            with _autocast(dev, dev.type == "cuda"):
                raw = _call(model, x)
            out, _ = split_outputs(raw)
            loss = loss_fn(raw, y) if raw_loss else loss_fn(out.float(), y)
            total += float(loss) * len(y)
            n += len(y)
            c, k = _hits(out, y)
            correct, counted = correct + int(c), counted + k
            if metrics is not None:
                metrics.update(raw, y)
    finally:
        model.train(was_training)
    result = {"loss": total / max(n, 1), "acc": correct / counted if counted else math.nan}
    if metrics is not None:
        result.update(metrics.compute())
    return result


def confusion_matrix(preds: torch.Tensor, targets: torch.Tensor, num_classes: int | None = None) -> torch.Tensor:
    """``(classes, classes)`` counts; row = true class, column = predicted class."""
    if preds.ndim == 2:
        preds = preds.argmax(1)
    k = num_classes or int(max(preds.max(), targets.max())) + 1
    return torch.bincount(targets * k + preds, minlength=k * k).reshape(k, k)


# ---------------------------------------------------------------------------------------------
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
        metrics: Callable[[], Any] | None = None) -> History:
    """Train ``model`` for ``epochs`` passes over ``train_loader``; returns a :class:`History`.

    Args:
        model: any classifier ``(N, ...) -> (N, classes)`` logits.
        train_loader: yields ``(inputs, targets)``; ``len()`` is needed for the schedule. If it
            has ``set_epoch`` it is called every epoch (seeded shuffling).
        epochs: total number of epochs (a resumed run continues up to this number).
        val_loader: evaluated after every epoch (``val_loss``, ``val_acc``).
        optimizer: ``"adamw"``, ``"adam"``, ``"sgd"`` (Nesterov momentum) or ``params -> Optimizer``.
        lr: peak learning rate (``"onecycle"``) or initial one.
        schedule: ``"onecycle"`` (warm-up then annealing, stepped every batch), ``"cosine"`` or
            ``None``.
        loss_fn: ``loss_fn(logits, targets)``; default cross-entropy (with ``label_smoothing``).
        aux_weight: weight of each auxiliary classifier's loss when the model returns
            ``(logits, aux, ...)`` in training mode (0.3: GoogLeNet's); the recorded
            ``train_loss`` is the total.
        label_smoothing, grad_clip, weight_decay, momentum: the usual.
        device: default: CUDA > MPS > CPU.
        amp: mixed precision, ``"auto"`` = on CUDA (bfloat16 where supported, else float16 with
            a gradient scaler).
        channels_last: ``"auto"`` = on CUDA.
        checkpoint: file to save after every epoch; with ``resume=True`` an existing file is
            loaded and training continues after its last epoch.
        seed: seeds Python, NumPy and torch before a fresh run (``None``: leave them).
        progress: show a ``tqdm.auto`` bar.
        callbacks: ``f(epoch, history)`` called after every epoch (and its checkpoint).
        metrics: a factory of validation metrics (``lambda: SegmentationMetrics(11)``): a fresh
            object every epoch is updated over ``val_loader`` (see :func:`evaluate`) and each value
            it computes is recorded as ``val_<name>`` (``history["val_miou"]``).

    Dense prediction: a model may return torchvision's ``{"out": logits, "aux": logits}`` (the
    auxiliary loss is weighted by ``aux_weight``), targets may be label maps ``(N, H, W)``
    (pixels labelled 255 are ignored; accuracy is per pixel), and inputs may be a dict of
    tensors (``model(**x)``: an image and its prompts). A ``loss_fn`` whose
    ``takes_raw_output`` attribute is true receives the model's whole output (SAM's masks and
    IoU predictions) and is also used for the validation loss.
    """
    if epochs < 1:
        raise ValueError(f"fit: epochs must be >= 1, got {epochs}")
    try:
        steps_per_epoch = len(train_loader)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError("fit: train_loader must have a length (len(loader) batches per epoch)") from None
    if steps_per_epoch == 0:
        raise ValueError("fit: train_loader yields no batches (empty data set, or drop_last with too little data)")
    dev = torch.device(device) if device is not None else default_device()
    use_amp = dev.type == "cuda" if amp == "auto" else bool(amp) and dev.type == "cuda"
    use_cl = dev.type == "cuda" if channels_last == "auto" else bool(channels_last)
    raw_loss = getattr(loss_fn, "takes_raw_output", False)
    if isinstance(loss_fn, nn.Module):
        loss_fn.to(dev)                        # e.g. class weights of a weighted cross-entropy
    if loss_fn is None:
        ce = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
        ce_dense = nn.CrossEntropyLoss(label_smoothing=label_smoothing, ignore_index=IGNORE_INDEX)

        def loss_fn(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return (ce_dense if y.ndim >= 2 else ce)(logits, y)
    name = name or type(model).__name__

    if seed is not None:
        seed_everything(seed)
    model.to(dev)
    if use_cl:
        model.to(memory_format=torch.channels_last)
    opt = _make_optimizer(optimizer, [p for p in model.parameters() if p.requires_grad], lr,
                          weight_decay, momentum)
    sched = _make_schedule(schedule, opt, lr, epochs * steps_per_epoch)
    use_scaler = use_amp and not torch.cuda.is_bf16_supported()
    scaler = torch.amp.GradScaler("cuda", enabled=use_scaler)
    history = History(name=name)
    start = 0

    ckpt = Path(checkpoint) if checkpoint is not None else None
    if ckpt is not None and resume and ckpt.exists():
        state = torch.load(ckpt, map_location=dev, weights_only=True)
        if state["epochs"] != epochs or state["steps_per_epoch"] != steps_per_epoch:
            raise ValueError(
                f"fit: checkpoint {ckpt} was written by a run of {state['epochs']} epochs × "
                f"{state['steps_per_epoch']} steps, this one is {epochs} × {steps_per_epoch}; "
                "delete it or pass resume=False to start again")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        if sched is not None and state.get("scheduler") is not None:
            sched.load_state_dict(state["scheduler"])
        if state.get("scaler"):
            scaler.load_state_dict(state["scaler"])
        history = History.from_state_dict(state["history"])
        history.resumed_at = start = state["epoch"]
        _set_rng_state(state["rng"])

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs * steps_per_epoch, initial=start * steps_per_epoch, desc=name,
                   unit="batch", dynamic_ncols=True)
        if start:
            bar.set_postfix_str(f"resumed after epoch {start}")
    try:
        for epoch in range(start, epochs):
            if hasattr(train_loader, "set_epoch"):
                train_loader.set_epoch(epoch)
            model.train()
            t0 = time.perf_counter()
            total_loss = torch.zeros((), device=dev)
            correct = torch.zeros((), device=dev, dtype=torch.long)
            seen = counted = 0
            for x, y in train_loader:
                x, y = _to(x, dev, use_cl), y.to(dev, non_blocking=True)
                with _autocast(dev, use_amp):
                    raw = _call(model, x)
                    out, aux = split_outputs(raw)
                    if raw_loss:
                        loss = loss_fn(raw, y)
                    else:
                        loss = loss_fn(out, y)
                        for a in aux:
                            loss = loss + aux_weight * loss_fn(a, y)
                if not torch.isfinite(loss):
                    raise FloatingPointError(
                        f"fit: loss became {loss.item()} in epoch {epoch + 1} (learning rate "
                        f"{opt.param_groups[0]['lr']:.3g} too high?)")
                opt.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                if grad_clip is not None:
                    scaler.unscale_(opt)
                    nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
                scaler.step(opt)
                scaler.update()
                if sched is not None:
                    sched.step()
                total_loss += loss.detach() * len(y)
                c, k = _hits(out.detach(), y)
                correct += c
                seen, counted = seen + len(y), counted + k
                if bar is not None:
                    bar.update(1)
            record = {"epoch": epoch + 1, "train_loss": total_loss.item() / seen,
                      "train_acc": correct.item() / counted if counted else math.nan,
                      "lr": opt.param_groups[0]["lr"]}
            if val_loader is not None:
                v = evaluate(model, val_loader, dev, loss_fn=loss_fn if raw_loss else None,
                             metrics=metrics() if metrics is not None else None)
                record.update(val_loss=v.pop("loss"), val_acc=v.pop("acc"), **{f"val_{k}": x for k, x in v.items()})
            record["seconds"] = time.perf_counter() - t0
            history.append(**record)
            if bar is not None:
                bar.set_postfix_str(
                    f"epoch {epoch + 1}/{epochs} loss {record['train_loss']:.3f} "
                    f"acc {record['train_acc']:.3f}"
                    + (f" val_acc {record['val_acc']:.3f}" if "val_acc" in record else ""))
            if ckpt is not None:
                _save_atomic({
                    "epoch": epoch + 1, "epochs": epochs, "steps_per_epoch": steps_per_epoch,
                    "model": model.state_dict(), "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict() if sched is not None else None,
                    "scaler": scaler.state_dict() if use_scaler else None,
                    "history": history.state_dict(), "rng": _rng_state(),
                }, ckpt)
            for cb in callbacks:
                cb(epoch + 1, history)
    finally:
        if bar is not None:
            bar.close()
    return history
