"""The geometry a traced tensor carries: for every unit, the input pixels it sees.

:class:`Axis` holds, along one spatial axis, the field ``[lo, hi]`` (inclusive, in input
pixels) of every unit, and how a window, a transposed convolution, adaptive bins or a
reduction maps it to the next layer's units. :class:`Geom` is one ``Axis`` per spatial axis,
stored on each tensor under :data:`ATTR`. :func:`merge` joins paths.

Merges of unaligned paths
-------------------------
When the inputs of a merge (residual add, concatenation) have different effective strides or
field centres, the merged unit no longer has one centre (Araujo et al. define none, and
google-research/receptive_field raises). Here the merged geometry is the *union* of the
fields — still exactly the pixels the unit depends on — marked ``aligned=False``, with a note
saying by how much the paths disagree. Raising would make U-Nets, FPNs and networks with
cropping unanalysable; the union keeps every answer correct as a set of pixels while flagging
that "the centre" has become a convention (the middle of the union). Fields that are unions of
unaligned or resampled paths need not step evenly from unit to unit.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch

from ..table import fmt_num


class Axis:
    """Fields along one axis: unit ``o`` sees input pixels ``lo[o]..hi[o]`` (NaN: no pixel).

    ``jump`` is the nominal distance between neighbouring fields, used to place the virtual
    units that padding adds beyond either end of the map.
    """

    __slots__ = ("lo", "hi", "jump")

    def __init__(self, lo: np.ndarray, hi: np.ndarray, jump: float) -> None:
        self.lo, self.hi, self.jump = lo, hi, float(jump)

    @classmethod
    def identity(cls, n: int) -> "Axis":
        a = np.arange(n, dtype=np.float64)
        return cls(a, a.copy(), 1.0)

    def __len__(self) -> int:
        return len(self.lo)

    def _ext(self, arr: np.ndarray, idx: np.ndarray) -> np.ndarray:
        # Units outside 0..n-1 (padding) continue the map with the nominal jump.
        inside = np.clip(idx, 0, len(arr) - 1)
        return arr[inside] + (idx - inside) * self.jump

    def gather(self, a: np.ndarray, b: np.ndarray, jump: float) -> "Axis":
        """Output unit ``o`` reads input units ``a[o]..b[o]`` (none where ``b < a``)."""
        with np.errstate(invalid="ignore"):
            lo = np.fmin(self._ext(self.lo, a), self._ext(self.lo, b))
            hi = np.fmax(self._ext(self.hi, a), self._ext(self.hi, b))
        empty = b < a
        if empty.any():
            lo, hi = lo.astype(np.float64), hi.astype(np.float64)
            lo[empty] = np.nan
            hi[empty] = np.nan
        return Axis(lo, hi, jump)

    def window(self, n_out: int, k: int, s: int, p: int, d: int) -> "Axis":
        """Convolution / pooling: unit ``o`` reads ``o s - p + t d`` for ``t = 0..k-1``."""
        a = np.arange(n_out) * s - p
        return self.gather(a, a + (k - 1) * d, self.jump * s)

    def transposed(self, n_out: int, k: int, s: int, p: int, d: int) -> "Axis":
        """Transposed convolution: input unit ``i`` writes to ``i s - p + t d``."""
        o = np.arange(n_out)
        a = np.full(n_out, np.iinfo(np.int64).max)
        b = np.full(n_out, np.iinfo(np.int64).min)
        for t in range(k):
            num = o + p - t * d
            i = num // s
            ok = (num % s == 0) & (i >= 0) & (i < len(self))
            a = np.where(ok, np.minimum(a, i), a)
            b = np.where(ok, np.maximum(b, i), b)
        return self.gather(a, b, self.jump / s)

    def bins(self, n_out: int) -> "Axis":
        """Adaptive pooling: unit ``o`` pools ``floor(o n / m) .. ceil((o + 1) n / m) - 1``."""
        n, o = len(self), np.arange(n_out)
        return self.gather((o * n) // n_out, -((-(o + 1) * n) // n_out) - 1, self.jump * n / n_out)

    def collapse(self) -> "Axis":
        """One unit that sees every unit of this axis (a reduction, flatten, a global pool)."""
        with np.errstate(invalid="ignore"):
            lo, hi = np.nanmin(self.lo), np.nanmax(self.hi)
        return Axis(np.array([lo]), np.array([hi]), self.jump * len(self))

    def broadcast(self, n: int) -> "Axis":
        if len(self) == n:
            return self
        return Axis(np.repeat(self.lo, n), np.repeat(self.hi, n), self.jump)

    @property
    def centres(self) -> np.ndarray:
        return (self.lo + self.hi) / 2

    @property
    def sizes(self) -> np.ndarray:
        return self.hi - self.lo + 1


def union(axes: Sequence[Axis]) -> Axis:
    if len(axes) == 1:
        return axes[0]
    lo = np.fmin.reduce([a.lo for a in axes])
    hi = np.fmax.reduce([a.hi for a in axes])
    return Axis(lo, hi, max(a.jump for a in axes))


@dataclass(frozen=True, eq=False)
class Geom:
    """The RF description a traced tensor carries: one :class:`Axis` per spatial axis.

    ``spatial=False``: a tensor without spatial axes (after flatten, linear...): each axis
    holds one "unit", the union of everything it was computed from.
    """

    axes: tuple[Axis, ...]
    spatial: bool = True
    aligned: bool = True

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(a) for a in self.axes)

    def collapsed(self, aligned: bool | None = None) -> "Geom":
        return Geom(tuple(a.collapse() for a in self.axes), False, self.aligned if aligned is None else aligned)


ATTR = "_dcnn_rf_geom"


def geom_of(t: Any) -> Geom | None:
    return getattr(t, ATTR, None) if isinstance(t, torch.Tensor) else None


def merge(geoms: Sequence[Geom], shape: tuple[int, ...], notes: list[str]) -> Geom:
    """Elementwise op or channel concatenation: the union of the inputs' fields, broadcasting."""
    distinct = list({id(g): g for g in geoms}.values())
    if len(distinct) == 1 and distinct[0].shape == shape:
        return distinct[0]
    axes = []
    aligned = all(g.aligned for g in distinct)
    spread = [g for g in distinct if g.shape == shape]  # paths with their own unit per position
    for i, n in enumerate(shape):
        axes.append(union([g.axes[i].broadcast(n) for g in distinct]))
    if len(spread) > 1:
        problems = []
        for i, n in enumerate(shape):
            jumps = sorted({g.axes[i].jump for g in spread})
            c = [g.axes[i].centres for g in spread]
            with np.errstate(invalid="ignore"):
                off = max(float(np.nanmax(np.abs(x - c[0]))) for x in c[1:])
            if len(jumps) > 1:
                problems.append(f"axis {i}: strides {', '.join(fmt_num(j) for j in jumps)}")
            elif off > 1e-9:
                problems.append(f"axis {i}: centres {fmt_num(off)} px apart")
        if problems:
            aligned = False
            notes.append(f"unaligned merge of {len(spread)} paths ({'; '.join(problems)}): union of their fields")
    if len(spread) < len(distinct):
        notes.append("merges a global context (broadcast): every field becomes the union")
    return Geom(tuple(axes), True, aligned)


__all__ = ["ATTR", "Axis", "Geom", "geom_of", "merge", "union"]
