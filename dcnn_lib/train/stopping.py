"""Ending a run early: :class:`StopTraining`, which a callback raises, and :class:`EarlyStopping`.

    fit(model, train, 50, val_loader=test, early_stopping=EarlyStopping("val_loss", patience=3))

    def enough(epoch, history):
        if history.last["train_acc"] > 0.99:
            raise StopTraining("train_acc above 0.99")
    fit(model, train, 50, callbacks=[enough])

Either way :func:`~dcnn_lib.train.fit` finishes the epoch (its checkpoint is written first),
returns the :class:`~dcnn_lib.train.History` with ``stopped_early`` set to the reason, and a
checkpoint of a stopped run resumes to "nothing left to do".
"""
from __future__ import annotations

import math

from ..errors import DcnnValueError
from .history import History


class StopTraining(Exception):
    """Raised by a callback (``f(epoch, history)``) to end a :func:`~dcnn_lib.train.fit` run
    after the current epoch; the message is recorded as ``history.stopped_early``."""


class EarlyStopping:
    """Stop when ``monitor`` (a History column) has not improved for ``patience`` epochs.

    ``mode``: ``"min"`` (losses) or ``"max"`` (accuracies); an epoch improves when it beats the
    best so far by more than ``min_delta``. The decision is computed from the History alone,
    so a resumed run stops where an uninterrupted one would.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, mode: str | None = None,
                 min_delta: float = 0.0) -> None:
        if mode is None:
            mode = "max" if monitor.endswith(("acc", "miou", "dice", "ap")) else "min"
        if mode not in ("min", "max"):
            raise DcnnValueError(f"EarlyStopping: mode must be 'min' or 'max', got {mode!r}")
        if not isinstance(patience, int) or patience < 1:
            raise DcnnValueError(f"EarlyStopping: patience must be an int >= 1, got {patience!r}")
        if min_delta < 0:
            raise DcnnValueError(f"EarlyStopping: min_delta must be >= 0, got {min_delta!r}")
        self.monitor, self.patience, self.mode, self.min_delta = monitor, patience, mode, min_delta

    def best_epoch(self, history: History) -> int | None:
        """Index of the best epoch so far (improvements smaller than ``min_delta`` ignored)."""
        if self.monitor not in history.columns:
            raise DcnnValueError(f"EarlyStopping: History has no column {self.monitor!r} (columns: "
                                 f"{', '.join(history.columns)}); monitor a val_ column only with a val_loader")
        sign = 1.0 if self.mode == "min" else -1.0
        best, best_i = math.inf, None
        for i, v in enumerate(history[self.monitor]):
            if not math.isnan(v) and sign * v < best - self.min_delta:
                best, best_i = sign * v, i
        return best_i

    def __call__(self, epoch: int, history: History) -> None:
        best = self.best_epoch(history)
        waited = len(history) - 1 - best if best is not None else len(history)
        if waited >= self.patience:
            raise StopTraining(f"{self.monitor} has not improved for {waited} epochs "
                               f"(best: epoch {best + 1 if best is not None else 'none'})")

    def __repr__(self) -> str:
        return (f"EarlyStopping({self.monitor!r}, patience={self.patience}, mode={self.mode!r}, "
                f"min_delta={self.min_delta})")


__all__ = ["EarlyStopping", "StopTraining"]
