"""Optimisers and learning-rate schedules by name, as :func:`~dcnn_lib.train.fit` builds them.

    opt = make_optimizer("sgd", model.parameters(), lr=0.1, weight_decay=1e-4, momentum=0.9)
    sched = make_schedule("onecycle", opt, lr=0.1, total_steps=epochs * len(loader))

A schedule is stepped once per batch (``sched.step()`` after ``opt.step()``); ``None`` means a
constant rate.
"""
from __future__ import annotations

from typing import Callable, Iterable

import torch

from ..errors import DcnnValueError

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("onecycle", "cosine", "constant", None)


def make_optimizer(optimizer: str | Callable[[Iterable], torch.optim.Optimizer], params: Iterable,
                   lr: float = 1e-3, weight_decay: float = 0.0, momentum: float = 0.9) -> torch.optim.Optimizer:
    """``"sgd"`` (Nesterov momentum when ``momentum > 0``), ``"adam"``, ``"adamw"``, or a
    callable ``params -> Optimizer`` (then ``lr``, ``weight_decay`` and ``momentum`` are unused)."""
    if callable(optimizer) and not isinstance(optimizer, str):
        return optimizer(params)
    if optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=momentum > 0)
    if optimizer == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    raise DcnnValueError(f"optimizer must be one of {OPTIMIZERS} or a callable params -> Optimizer, "
                         f"got {optimizer!r}")


def make_schedule(schedule: str | None, optimizer: torch.optim.Optimizer, lr: float,
                  total_steps: int) -> torch.optim.lr_scheduler.LRScheduler | None:
    """The per-batch schedule of a run of ``total_steps`` batches, or ``None`` (constant rate).

    - ``"onecycle"``: warm up from ``lr / 25`` to ``lr`` over a quarter of the run (at least two
      steps), then anneal to ``lr / 25,000``; runs of fewer than 4 steps keep ``lr`` constant
      (too short to warm up and anneal).
    - ``"cosine"``: cosine annealing from ``lr`` to 0 over the run.
    - ``"constant"`` or ``None``: no schedule.
    """
    if schedule is None or schedule == "constant":
        return None
    if schedule == "onecycle":
        if total_steps < 4:
            return None
        # OneCycleLR divides by the length of each phase, so a phase of zero steps is an error.
        pct_start = min(0.5, max(0.25, 2 / total_steps))
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total_steps,
                                                   pct_start=pct_start, div_factor=25, final_div_factor=1e3)
    if schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    raise DcnnValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")


__all__ = ["OPTIMIZERS", "SCHEDULES", "make_optimizer", "make_schedule"]
