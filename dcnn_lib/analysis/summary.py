"""Per-layer summary of any ``nn.Module``: output shapes, parameters, multiply-adds, activations.

:func:`summary` runs one forward pass (eval mode, no gradients) with hooks on every leaf
module (a module without children; or stop higher with ``depth``) and every operation seen by
a dispatch mode, and returns a :class:`Summary`: one :class:`LayerRow` per call, in execution
order.

- ``params``: parameters of the row's module not counted on an earlier row (so a module
  called twice, or a weight shared by two layers, is counted once).
- ``macs``: multiply-accumulates of the call for one input (:mod:`.macs`: convolutions,
  matrix products and attention, fused kernels included, as torchvision's "GFLOPS" metadata
  counts; pooling, activations and normalisation count 0). A module with a ``macs(output)``
  method reports its own count instead (``PartialConv2d`` computes with a dense masked kernel
  but needs only its table's multiply-adds).
- ``activations``: elements of the layer's output for one input (tensors in a tuple, list or
  dict output are added up).

A container whose own ``forward`` does arithmetic with weights (torchvision's Swin attention
calls ``F.linear`` with its children's weights; a ViT adds its class token) gets a row of its
own, after its children's rows, holding those multiply-adds and the parameters it used that no
row has counted. So ``total_macs`` is every multiply-add of the forward pass.

By default the pass runs on the ``meta`` device (shapes only: a huge input costs no memory and
no time); a model whose forward needs real values (``.item()``, data-dependent control flow)
is re-run on random data where its parameters are.

Works on any model; imports no model file.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Sequence

import torch
import torch.nn as nn

from ..errors import DcnnValueError
from .forward import (OpMode, check_model, eval_mode, hooked_modules, hooks, make_input, param_device, param_dtype,
                      preserved, tensors)
from .macs import op_macs
from .table import RowTable, fmt_call, fmt_int, fmt_shape


@dataclass(frozen=True)
class LayerRow:
    """One call of one row module (a leaf, by default), or a container's own operations."""

    name: str
    type: str
    output_shape: tuple[int, ...] | tuple[tuple[int, ...], ...]
    params: int
    macs: int
    activations: int
    trainable: int = 0
    call: int = 1  # 2, 3, ... for a module that runs more than once

    @property
    def key(self) -> str:
        """The name this row is indexed by: ``name``, or ``name#2``... for a later call."""
        return self.name if self.call == 1 else f"{self.name}#{self.call}"

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(repr=False)
class Summary(RowTable):
    """The table :func:`summary` returns. Index rows by position (``s[0]``, ``s[-1]``) or by
    module name (``s["features.0"]``; a repeated module's later calls are ``"name#2"``...)."""

    _TABLE = "summary"
    _COLUMNS = ("name", "type", "output shape", "params", "MACs", "activations")
    _RIGHT = frozenset({3, 4, 5})
    _CSS = "dcnn-summary"

    rows: list[LayerRow]
    total_params: int
    trainable_params: int
    output_shape: Any = None
    traced_on: str = "meta"

    @property
    def total_macs(self) -> int:
        return sum(r.macs for r in self.rows)

    @property
    def total_activations(self) -> int:
        return sum(r.activations for r in self.rows)

    @property
    def leaf_params(self) -> int:
        """Parameters on the rows; less than ``total_params`` when a parameter is never used
        (e.g. an auxiliary head in eval mode)."""
        return sum(r.params for r in self.rows)

    def _cells(self, r: LayerRow) -> list[str]:
        return [fmt_call(r.name, r.call), r.type, fmt_shape(r.output_shape), fmt_int(r.params),
                fmt_int(r.macs), fmt_int(r.activations)]

    def _totals(self) -> list[str]:
        return ["total", "", "", fmt_int(self.total_params), fmt_int(self.total_macs),
                fmt_int(self.total_activations)]

    def _footer(self) -> str:
        extra = ""
        if self.leaf_params != self.total_params:
            extra = f" ({fmt_int(self.total_params - self.leaf_params)} not on any row)"
        return (f"{self.model_name}, input {fmt_shape(self.input_size)}: "
                f"{fmt_int(self.total_params)} parameters ({fmt_int(self.trainable_params)} trainable)"
                f"{extra}, {self.total_macs / 1e6:,.2f} M multiply-adds, "
                f"{self.total_activations:,} activation elements per image")


@dataclass
class _Frame:
    """A module running: the multiply-adds of its own operations and the parameters they used."""

    macs: int = 0
    used: dict[int, nn.Parameter] = field(default_factory=dict)


class _Counter(OpMode):
    """Prices every operation (:func:`~.macs.op_macs`) and charges it to the innermost running
    row, or to the container whose own ``forward`` runs it; makes the rows."""

    def __init__(self, model: nn.Module, meta: bool, batch: int) -> None:
        super().__init__(meta)
        self.model, self.batch = model, batch
        self.params = {id(p): p for p in model.parameters()}
        self.frames: list[_Frame] = []
        self.rows: list[LayerRow] = []
        self.calls: dict[str, int] = {}
        self.seen: set[int] = set()
        self.last_row_output: Any = None

    def on_op(self, func, args, kwargs, given):
        out = func(*args, **kwargs)
        if self.frames:
            frame = self.frames[-1]
            frame.macs += op_macs(func, args, kwargs, out)
            for t in tensors(given):
                if id(t) in self.params:
                    frame.used[id(t)] = self.params[id(t)]
        return out

    def pre(self, module: nn.Module, args: Any) -> None:
        self.frames.append(_Frame())

    def post(self, name: str, is_row: bool):
        def hook(module: nn.Module, args: Any, out: Any) -> None:
            frame = self.frames.pop()
            if is_row:
                own_macs = getattr(module, "macs", None)  # a layer that knows better than its kernel
                if callable(own_macs) and isinstance(out, torch.Tensor):
                    macs = int(own_macs(out)) * self.batch
                else:
                    macs = frame.macs
                self._row(name, module, out, list(module.parameters()), macs, own_output=True)
            else:
                new = [p for i, p in frame.used.items() if i not in self.seen]
                if frame.macs or new:  # a container's own arithmetic: a row of its own
                    own_output = not any(t is r for t in tensors(out) for r in tensors(self.last_row_output))
                    self._row(name, module, out, new, frame.macs, own_output)
        return hook

    def _row(self, name: str, module: nn.Module, out: Any, params: list[nn.Parameter], macs: int,
             own_output: bool) -> None:
        name = name or type(self.model).__name__
        self.calls[name] = self.calls.get(name, 0) + 1
        own = [p for p in params if id(p) not in self.seen]
        self.seen.update(id(p) for p in own)
        ts = tensors(out)
        shapes = tuple(tuple(t.shape) for t in ts)
        self.rows.append(LayerRow(
            name=name, type=type(module).__name__, output_shape=shapes[0] if len(shapes) == 1 else shapes,
            params=sum(p.numel() for p in own), trainable=sum(p.numel() for p in own if p.requires_grad),
            macs=macs // self.batch, activations=sum(t.numel() for t in ts) // self.batch if own_output else 0,
            call=self.calls[name]))
        self.last_row_output = out


def _run(model: nn.Module, x: torch.Tensor, depth: int | None, meta: bool) -> tuple[_Counter, Any]:
    counter = _Counter(model, meta, x.shape[0] if x.ndim else 1)
    modules = [(m, counter.pre, counter.post(name, is_row))
               for name, m, is_row in hooked_modules(model, depth)]
    with preserved(model) if meta else contextlib.nullcontext(), eval_mode(model), hooks(modules), counter:
        out = model(x)
    return counter, out


def summary(model: nn.Module, input_size: Sequence[int] | torch.Tensor, *,
            depth: int | None = None, device: torch.device | str | None = None,
            dtype: torch.dtype | None = None) -> Summary:
    """Run ``model`` once and tabulate every leaf module call.

    Args:
        model: any ``nn.Module`` taking one tensor.
        input_size: ``(C, H, W)`` (batch 1 is added) or ``(N, C, H, W)``, or an input tensor.
            MACs and activations are reported for one input whatever ``N`` is.
        depth: stop ``depth`` levels below the model (``depth=1``: one row per child of the
            model); default: down to the leaves. Modules whose class sets
            ``summary_leaf = True`` are always one row.
        device: ``None`` (default): on the ``meta`` device, falling back to random data where
            the parameters are when the forward needs real values; ``"meta"``: only there (no
            memory whatever the input size); any other device: a real pass there.
        dtype: of the random input (default: the parameters' dtype).

    Returns:
        :class:`Summary` (prints as a text table, renders as HTML in notebooks).
    """
    check_model(model, "summary")
    dtype = dtype or param_dtype(model)
    x = make_input(input_size, "summary", dtype, "meta")
    where = torch.device(device) if device is not None else None
    if where is None or where.type == "meta":
        try:
            counter, out = _run(model, x.to("meta"), depth, meta=True)
            where = torch.device("meta")
        except Exception as e:
            if where is not None:  # asked for meta only: say what happened there
                raise DcnnValueError(f"summary: {type(model).__name__}'s forward failed on the meta device "
                                     f"({type(e).__name__}: {e}); if it needs real values (.item(), data-dependent "
                                     "control flow), give device='cpu' (or 'cuda')") from e
            where = param_device(model)
            if where.type == "meta":   # nowhere else to run it: the model's own error
                raise
    if where.type != "meta":
        real = x if x.device.type != "meta" else make_input(tuple(x.shape), "summary", dtype, where, unbatched=())
        counter, out = _run(model, real.to(where), depth, meta=False)
    out_shapes = tuple(tuple(t.shape) for t in tensors(out))
    return Summary(
        model_name=type(model).__name__,
        input_size=tuple(x.shape[1:]),
        rows=counter.rows,
        total_params=sum(p.numel() for p in model.parameters()),
        trainable_params=sum(p.numel() for p in model.parameters() if p.requires_grad),
        output_shape=out_shapes[0] if len(out_shapes) == 1 else out_shapes,
        traced_on=str(where),
    )


__all__ = ["LayerRow", "Summary", "summary"]
