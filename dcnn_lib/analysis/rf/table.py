"""The result of :func:`~dcnn_lib.analysis.receptive_field`: a row per layer, and the boxes.

Conventions: pixels are indexed 0..H-1 and a field ``[lo, hi]`` includes both ends, so its
size is ``hi - lo + 1`` and unit *o*'s field centre is ``o * j - P + (r - 1) / 2``. Fields are
*structural*: they contain every input pixel the unit is computed from, whatever the weights.
Padding of any kind is treated as virtual pixels outside the image, so a field can reach past
the border (ResNet-50's last layer sees 427×427 "pixels" of a 224×224 image); ``clip=True``
gives the part inside the image.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ...errors import DcnnValueError
from ..table import RowTable, fmt_call, fmt_pair, fmt_shape, num
from .geometry import Geom


@dataclass(frozen=True)
class Box:
    """A field in input pixels: ``lo`` and ``hi`` (inclusive) per axis, ``(y, x)`` in 2-D."""

    lo: tuple[float, ...]
    hi: tuple[float, ...]

    @property
    def size(self) -> tuple[float, ...]:
        return tuple(num(h - l + 1) for l, h in zip(self.lo, self.hi))

    @property
    def centre(self) -> tuple[float, ...]:
        return tuple(num((l + h) / 2) for l, h in zip(self.lo, self.hi))

    def slices(self) -> tuple[slice, ...]:
        """Index an image with it (``image[box.slices()]``; clip first)."""
        return tuple(slice(int(math.floor(l)), int(math.floor(h)) + 1) for l, h in zip(self.lo, self.hi))


@dataclass(frozen=True, eq=False)
class RFRow:
    """One layer's receptive field. Sizes, strides and paddings are ``(h, w)`` in input pixels.

    Attributes:
        name: module path (``"layer1.0.conv2"``), or ``"<module>.<op>"`` for an operation in a
            module's ``forward`` (``"layer1.0.add"``, ``"Mixed_5b.cat"``, ``"flatten"``).
        type: the module's class, or the operation.
        output_size: the output map's spatial size; ``(1, 1)`` for a tensor without spatial
            axes (flatten, linear), each of whose values sees the union of everything.
        shape: the whole output shape.
        size: RF size (the largest field where fields differ).
        stride: effective stride (jump) between neighbouring units' fields.
        padding: effective padding: unit 0's field starts at ``-padding``.
        aligned: False when the row, or a row it is computed from, merges paths whose fields
            have different strides or centres (see the module's docs).
        uniform: every unit's field has the same size and fields step by the same amount.
        note: what happened in this layer worth knowing (unaligned merges, global context...).
        call: 2, 3... for a module that runs more than once (indexed as ``"name#2"``).
    """

    name: str
    type: str
    output_size: tuple[int, ...]
    shape: tuple[int, ...]
    size: tuple[float, ...]
    stride: tuple[float, ...]
    padding: tuple[float, ...]
    aligned: bool
    uniform: bool
    spatial: bool
    input_size: tuple[int, ...]
    note: str = ""
    call: int = 1
    lo: tuple[np.ndarray, ...] = field(default=(), repr=False)
    hi: tuple[np.ndarray, ...] = field(default=(), repr=False)

    @classmethod
    def from_geom(cls, name: str, type_: str, g: Geom, shape: tuple[int, ...], input_size: tuple[int, ...],
                  call: int = 1, note: str = "") -> "RFRow":
        sizes = [a.sizes for a in g.axes]
        steps = [np.diff(a.centres) for a in g.axes if len(a) > 2]
        with np.errstate(invalid="ignore"):
            size = tuple(num(np.nanmax(s)) for s in sizes)
            uniform = all(np.nanmax(s) - np.nanmin(s) < 1e-9 for s in sizes + steps)
        return cls(name=name, type=type_, output_size=g.shape if g.spatial else (1,) * len(g.axes), shape=shape,
                   size=size, stride=tuple(num(a.jump) for a in g.axes),
                   padding=tuple(num(-a.lo[0]) for a in g.axes), aligned=g.aligned, uniform=uniform,
                   spatial=g.spatial, input_size=input_size, note=note, call=call,
                   lo=tuple(a.lo for a in g.axes), hi=tuple(a.hi for a in g.axes))

    def checked_unit(self, coord: Sequence[Any]) -> tuple[Any, ...]:
        """Output unit ``coord`` with negative indexes wrapped; an error if it is not one."""
        if not self.spatial:
            return (0,) * len(self.lo)
        if len(coord) != len(self.lo):
            raise DcnnValueError(f"{self.name}: give one coordinate per spatial axis ({len(self.lo)}), got {coord!r}")
        out = []
        for c, n in zip(coord, self.output_size):
            c = np.asarray(c)
            if np.any((c < -n) | (c >= n)):
                raise IndexError(f"{self.name}: unit {tuple(coord)} is outside the {fmt_shape(self.output_size)} output")
            out.append(c % n)
        return tuple(out)

    def input_box(self, *coord: Any, clip: bool = False) -> Box:
        """The field of output unit ``coord`` (``(y, x)``) as a :class:`Box` of input pixels.

        ``clip=True`` keeps the part inside the input image. Coordinates may be arrays (then
        the box holds arrays)."""
        unit = self.checked_unit(coord)
        lo = [l[u] for l, u in zip(self.lo, unit)]
        hi = [h[u] for h, u in zip(self.hi, unit)]
        if clip:
            lo = [np.maximum(v, 0) for v in lo]
            hi = [np.minimum(v, n - 1) for v, n in zip(hi, self.input_size)]
        conv = (lambda v: num(v)) if all(np.ndim(v) == 0 for v in lo) else (lambda v: v)
        return Box(tuple(conv(v) for v in lo), tuple(conv(v) for v in hi))

    def input_centre(self, *coord: Any) -> tuple[float, ...]:
        """Input coordinates of the centre of unit ``coord``'s field."""
        box = self.input_box(*coord)
        return tuple(num((l + h) / 2) if np.ndim(l) == 0 else (l + h) / 2 for l, h in zip(box.lo, box.hi))

    def feature_coord(self, *point: float) -> tuple[int, ...]:
        """The unit whose field centre is nearest to input ``point`` (the inverse of
        :meth:`input_centre`)."""
        if len(point) != len(self.lo):
            raise DcnnValueError(f"{self.name}: give one coordinate per spatial axis ({len(self.lo)}), got {point!r}")
        return tuple(int(np.nanargmin(np.abs((l + h) / 2 - p))) for l, h, p in zip(self.lo, self.hi, point))

    @property
    def start(self) -> tuple[float, ...]:
        """Centre of unit 0's field (Araujo et al.'s "start"): ``(r - 1) / 2 - P`` for uniform rows."""
        return self.input_centre(*(0,) * len(self.lo))

    @property
    def centre_unit(self) -> tuple[int, ...]:
        return tuple(n // 2 for n in self.output_size)

    @property
    def covers_input(self) -> bool:
        """True when the centre unit's field contains the whole input image."""
        box = self.input_box(*self.centre_unit)
        return all(l <= 0 and h >= n - 1 for l, h, n in zip(box.lo, box.hi, self.input_size))

    @property
    def key(self) -> str:
        """The name this row is indexed by: ``name``, or ``name#2``... for a later call."""
        return self.name if self.call == 1 else f"{self.name}#{self.call}"

    def as_dict(self) -> dict[str, Any]:
        keys = ("type", "output_size", "size", "stride", "padding", "aligned", "uniform", "note")
        return {"name": self.key, **{k: getattr(self, k) for k in keys}}


@dataclass(repr=False)
class ReceptiveFields(RowTable):
    """What :func:`receptive_field` returns: one :class:`RFRow` per layer, in execution order.

    Index by position (``rf[0]``, ``rf[-1]``) or by name: a module (``rf["features.0"]``), an
    operation in a module's forward (``rf["layer1.0.add"]``), or a container module, whose
    output is reported under its own name (``rf["layer4"]``). A module's later calls are
    ``"name#2"``... Prints as a text table; renders as HTML in notebooks.
    """

    _TABLE = "receptive-field table"
    _COLUMNS = ("name", "type", "output", "RF", "stride", "padding", "note")
    _RIGHT = frozenset({2, 3, 4, 5})
    _CSS = "dcnn-rf"
    _OPTIONAL_LAST = True

    rows: list[RFRow]
    aliases: dict[str, RFRow] = field(default_factory=dict)
    traced_on: str = "meta"
    merges: int = 0          # operations joining paths whose fields differ (0: a plain chain)

    def _extra_row(self, key: str) -> RFRow | None:
        return self.aliases.get(key)             # containers are indexable too, but are not rows

    def all_names(self) -> list[str]:
        return [*self._index, *self.aliases]

    def __contains__(self, key: str) -> bool:
        return key in self._index or key in self.aliases

    @property
    def unaligned(self) -> list[RFRow]:
        """Rows where paths with different strides or centres merge."""
        return [r for r in self.rows if "unaligned merge" in r.note]

    # ---- rendering -------------------------------------------------------------------------
    def _cells(self, r: RFRow) -> list[str]:
        note = r.note
        if not r.aligned and "unaligned" not in note:
            note = "; ".join(filter(None, ["after an unaligned merge", note]))
        return [fmt_call(r.name, r.call), r.type, fmt_shape(r.output_size) if r.spatial else "—", fmt_pair(r.size),
                fmt_pair(r.stride), fmt_pair(r.padding), note]

    def _footer(self) -> str:
        last = self.rows[-1] if self.rows else None
        s = f"{self.model_name}, input {fmt_shape(self.input_size)}: {len(self.rows)} layers"
        if last is not None:
            s += f"; last layer's field {fmt_pair(last.size)} px, stride {fmt_pair(last.stride)}"
        if self.unaligned:
            s += f"; {len(self.unaligned)} unaligned merge(s)"
        return s


__all__ = ["Box", "RFRow", "ReceptiveFields"]
