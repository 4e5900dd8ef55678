"""What a training run records: one row per epoch (:class:`History`), as a table or curves."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

COLUMNS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds")
_HEADS = ("epoch", "train loss", "train acc", "val loss", "val acc", "lr", "s")
_FORMATS = ("d", ".4f", ".4f", ".4f", ".4f", ".2e", ".1f")


@dataclass
class History:
    """Per-epoch records of a :func:`~dcnn_lib.train.fit` run.

    ``h["val_acc"]`` is a column (list), ``h[-1]`` the last epoch (dict), ``len(h)`` the number
    of epochs. ``seconds`` is the wall-clock time of the epoch (training and validation).
    Columns beyond :data:`COLUMNS` (validation metrics such as ``val_miou``, the loss terms of
    a detector) are kept too. ``stopped_early`` says why a run ended before its last epoch
    (a :class:`~dcnn_lib.train.StopTraining` message), ``None`` otherwise.
    """

    records: list[dict[str, float]] = field(default_factory=list)
    name: str = ""
    resumed_at: int | None = None  # epoch the run was resumed after, if it was
    stopped_early: str | None = None

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
        return {"records": [dict(r) for r in self.records], "name": self.name,
                "stopped_early": self.stopped_early}

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> "History":
        return cls(records=[dict(r) for r in state["records"]], name=state.get("name", ""),
                   stopped_early=state.get("stopped_early"))

    def plot(self, axes=None, label: str | None = None):
        """Loss and accuracy curves (train solid, validation dashed). Returns the figure."""
        from ..viz import plot_history

        return plot_history([self], axes=axes, labels=[label] if label else None)

    # ---- rendering: the same cells as text (print) and as HTML (notebooks) -------------------
    def _table(self) -> tuple[list[str], list[list[str]]]:
        extra = self.columns[len(COLUMNS):]
        heads = [*_HEADS, *(k.replace("_", " ") for k in extra)]
        formats = [*_FORMATS, *(".4f" for _ in extra)]

        def cell(v: float, fmt: str) -> str:
            return "" if math.isnan(v) else format(int(v) if fmt == "d" else v, fmt)

        rows = [[cell(r.get(k, math.nan), f) for k, f in zip(self.columns, formats)] for r in self.records]
        return heads, rows

    def __str__(self) -> str:
        heads, rows = self._table()
        rows = [heads, *rows]
        widths = [max(len(r[i]) for r in rows) for i in range(len(heads))]
        return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows)

    def __repr__(self) -> str:
        return f"History({self.name!r}, {len(self)} epochs)"

    def _repr_html_(self) -> str:
        heads, rows = self._table()
        heads[len(_HEADS) - 1] = "seconds"
        head = "".join(f"<th>{h}</th>" for h in heads)
        body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


__all__ = ["COLUMNS", "History"]
