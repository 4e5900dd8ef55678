"""The dispatch tracer: runs a model's real ``forward`` once and carries a field on every tensor.

The model runs under a :class:`~dcnn_lib.analysis.forward.OpMode` (a
:class:`~torch.utils._python_dispatch.TorchDispatchMode`) that sees every ATen operation
(``convolution``, ``max_pool2d_with_indices``, ``add_``, ``cat``, ``upsample_nearest2d``,
``view``...) with its arguments, and stores a :class:`~.geometry.Geom` on every tensor that
derives from the input (:func:`~.rules.propagate` computes it). Module forward hooks say which
module is running, which names the rows. Why not the alternatives:

- ``torch.fx`` symbolic tracing fails on control flow that depends on inputs or shapes and
  sees ``F.relu(x)``, ``x + y``, ``torch.cat`` as many Python-level spellings; ATen ops are
  few and normalised (``nn.Conv2d``, ``F.conv2d`` and ``padding="same"`` all arrive as
  ``convolution`` with explicit padding).
- Module hooks alone never see the functional parts of ``forward``: ResNet's ``out +=
  identity``, Inception's ``torch.cat`` and ``F.avg_pool2d``, ``torch.flatten``.
- ``__torch_function__`` sees those, but above the decompositions, so every spelling of an
  operation would need a rule.

Rows: one per row module (leaves, or ``depth`` levels down), and one per operation in a
container's ``forward`` that changes the fields (pooling, ``+`` of two paths, ``cat``,
``flatten``...), named ``"<container>.<op>"``. A container's output is indexable by its name
(an alias, not a row).
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable

import torch
import torch.nn as nn

from ..forward import OpMode, hooked_modules, hooks, preserved, tensors
from .geometry import ATTR, Axis, Geom, geom_of
from .rules import propagate
from .table import RFRow


class Stop(Exception):
    """Raised by the tracer once the captured layer has run (nothing after it is needed)."""


class Tracer(OpMode):
    """Carries a :class:`Geom` on every tensor computed from the input; makes the rows.

    ``merges`` counts the operations that join two or more paths whose fields differ (a
    residual ``+``, a concatenation of branches, a squeeze-and-excitation gate): zero for a
    plain chain of layers.
    """

    def __init__(self, n_spatial: int, in_ndim: int, meta: bool, input_size: tuple[int, ...],
                 capture: str | None = None) -> None:
        super().__init__(meta)
        self.n, self.in_ndim, self.input_size = n_spatial, in_ndim, input_size
        self.capture, self.captured = capture, None
        self.rows: list[RFRow] = []
        self.aliases: dict[str, RFRow] = {}
        self.stack: list[str] = []
        self.in_row = 0
        self.calls: dict[str, int] = {}
        self.notes: list[str] = []
        self.merges = 0

    # -- rows ---------------------------------------------------------------------------------
    def _key(self, name: str) -> tuple[str, int]:
        self.calls[name] = self.calls.get(name, 0) + 1
        k = self.calls[name]
        return (name if k == 1 else f"{name}#{k}"), k

    def _row(self, name: str, type_: str, g: Geom, tensor: torch.Tensor, alias: bool = False) -> None:
        key, call = self._key(name)
        row = RFRow.from_geom(name, type_, g, tuple(int(s) for s in tensor.shape), self.input_size,
                              call=call, note="; ".join(dict.fromkeys(self.notes)))
        if alias:
            self.aliases[key] = row
        else:
            self.rows.append(row)
            self.notes = []
        if self.capture is not None and self.captured is None and key == self.capture:
            self.captured = tensor
            if not self.meta:
                raise Stop

    def pre_hook(self, name: str, is_row: bool) -> Callable:
        def hook(module: nn.Module, args: Any) -> None:
            self.stack.append(name)
            self.in_row += is_row
        return hook

    def post_hook(self, name: str, is_row: bool) -> Callable:
        def hook(module: nn.Module, args: Any, out: Any) -> None:
            self.stack.pop()
            self.in_row -= is_row
            if self.in_row or (not is_row and not name):
                return
            t = next((t for t in tensors(out) if geom_of(t) is not None), None)
            if t is not None:
                self._row(name or type(module).__name__, type(module).__name__, geom_of(t), t, alias=not is_row)
        return hook

    # -- operations ---------------------------------------------------------------------------
    def on_op(self, func, args, kwargs, given):
        out = func(*args, **kwargs)
        traced_in = [g for g in (geom_of(t) for t in tensors((args, kwargs))) if g is not None]
        if not traced_in:
            return out
        notes: list[str] = []
        label, g = propagate(func, args, kwargs, out, self.n, self.in_ndim, notes)
        if g is None:
            return out
        outs = tensors(out)
        for t in outs:
            if t.shape == outs[0].shape:
                setattr(t, ATTR, g)
        self.notes.extend(notes)
        joins = len({id(x) for x in traced_in}) > 1
        self.merges += joins
        if not self.in_row and (joins or all(g is not x for x in traced_in)):
            if label in ("view", "unsafe_view", "reshape") and not g.spatial:
                label = "flatten"
            parent = self.stack[-1] if self.stack else ""
            self._row(f"{parent}.{label}" if parent else label, label, g, outs[0])
        return out


def trace(model: nn.Module, x: torch.Tensor, n_spatial: int, depth: int | None, meta: bool,
          capture: str | None = None) -> Tracer:
    """Run ``model`` on ``x`` (the caller sets eval mode and gradients) under a tracer; with
    ``capture``, stop once the row or container of that key has run (its output is
    ``tracer.captured``)."""
    tracer = Tracer(n_spatial, x.ndim, meta, tuple(int(s) for s in x.shape[-n_spatial:]), capture)
    modules = [(m, tracer.pre_hook(name, is_row), tracer.post_hook(name, is_row))
               for name, m, is_row in hooked_modules(model, depth)]
    setattr(x, ATTR, Geom(tuple(Axis.identity(int(s)) for s in x.shape[-n_spatial:])))
    try:
        with preserved(model) if meta else contextlib.nullcontext(), hooks(modules), tracer:
            model(x)
    except Stop:
        pass
    return tracer


__all__ = ["Tracer", "trace"]
