"""Per-layer summary of any ``nn.Module``: output shapes, parameters, multiply-adds, activations.

:func:`summary` runs one real forward pass (batch 1, eval mode, no gradients) with a forward
hook on every leaf module (a module without children; or stop higher with ``depth``) and
returns a :class:`Summary`: one :class:`LayerRow` per call, in execution order.

- ``params``: parameters of the row's module not counted on an earlier row (so a module
  called twice, or a weight shared by two layers, is counted once).
- ``macs``: multiply-accumulates of the call for one input, from
  ``torch.utils.flop_counter.FlopCounterMode`` (its FLOPs count a multiply-add as 2, so
  ``macs = flops / 2``). Like torchvision's "GFLOPS" metadata, only convolutions, matrix
  products and attention are counted; pooling, activations and normalisation count 0. A
  module with a ``macs(output)`` method reports its own count instead (``PartialConv2d``
  computes with a dense masked kernel but needs only its table's multiply-adds).
- ``activations``: elements of the layer's output for one input (tensors in a tuple, list or
  dict output are added up).

Works on any model; imports no model file.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode


@dataclass(frozen=True)
class LayerRow:
    """One call of one row module (a leaf, by default)."""

    name: str
    type: str
    output_shape: tuple[int, ...] | tuple[tuple[int, ...], ...]
    params: int
    macs: int
    activations: int
    trainable: int = 0
    call: int = 1  # 2, 3, ... for a module that runs more than once

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _tensors(out: Any) -> list[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, dict):
        out = list(out.values())
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in _tensors(o)]
    return []


def _fmt_int(n: int) -> str:
    return f"{n:,}"


def _text_table(table: list[list[str]], right: set[int], rules: set[int], footer: str) -> str:
    """Rows of cells as aligned text: columns in ``right`` right-justified, a rule of dashes
    after each row index in ``rules``, then ``footer``."""
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = []
    for j, row in enumerate(table):
        lines.append("  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip())
        if j in rules:
            lines.append("  ".join("-" * w for w in widths))
    lines.append(footer)
    return "\n".join(lines)


def _fmt_shape(shape: Any) -> str:
    if shape and isinstance(shape[0], tuple):
        return ", ".join(_fmt_shape(s) for s in shape)
    return " × ".join(map(str, shape))


class RowTable:
    """What the per-layer tables (:class:`Summary`, ``ReceptiveFields``) share: ``rows`` in
    execution order, indexable by position or by name (``_index``: name -> position; a
    subclass may answer more names in ``_extra_row``), iterable, and exportable."""

    _TABLE = "table"   # how error messages call it

    def _extra_row(self, key: str) -> Any:
        return None

    def _known_names(self) -> list[str]:
        return list(self._index)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)

    def __getitem__(self, key: int | str) -> Any:
        if isinstance(key, str):
            if key in self._index:
                return self.rows[self._index[key]]
            extra = self._extra_row(key)
            if extra is not None:
                return extra
            import difflib

            close = difflib.get_close_matches(key, self._known_names(), n=3)
            raise KeyError(f"no layer {key!r} in the {self._TABLE}" + (f"; did you mean {close}?" if close else ""))
        return self.rows[key]

    def names(self) -> list[str]:
        """Row names, in execution order."""
        return list(self._index)

    def to_records(self) -> list[dict[str, Any]]:
        return [r.as_dict() for r in self.rows]

    def to_dataframe(self):
        import pandas as pd

        return pd.DataFrame(self.to_records()).set_index("name")


@dataclass
class Summary(RowTable):
    """The table :func:`summary` returns. Index rows by position (``s[0]``, ``s[-1]``) or by
    module name (``s["features.0"]``; a repeated module's later calls are ``"name#2"``...)."""

    _TABLE = "summary"

    model_name: str
    input_size: tuple[int, ...]
    rows: list[LayerRow]
    total_params: int
    trainable_params: int
    output_shape: Any = None
    _index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for i, r in enumerate(self.rows):
            self._index[r.name if r.call == 1 else f"{r.name}#{r.call}"] = i

    @property
    def total_macs(self) -> int:
        return sum(r.macs for r in self.rows)

    @property
    def total_activations(self) -> int:
        return sum(r.activations for r in self.rows)

    @property
    def leaf_params(self) -> int:
        """Parameters on the rows; less than ``total_params`` when a container owns parameters
        directly (e.g. a class token) or a module never runs."""
        return sum(r.params for r in self.rows)

    # ---- rendering -------------------------------------------------------------------------
    _COLUMNS = ("name", "type", "output shape", "params", "MACs", "activations")

    def _cells(self, r: LayerRow) -> list[str]:
        name = r.name if r.call == 1 else f"{r.name} (call {r.call})"
        return [name, r.type, _fmt_shape(r.output_shape), _fmt_int(r.params),
                _fmt_int(r.macs), _fmt_int(r.activations)]

    def _totals(self) -> list[str]:
        return ["total", "", "", _fmt_int(self.total_params), _fmt_int(self.total_macs),
                _fmt_int(self.total_activations)]

    def _footer(self) -> str:
        extra = ""
        if self.leaf_params != self.total_params:
            extra = f" ({_fmt_int(self.total_params - self.leaf_params)} not on any row)"
        return (f"{self.model_name}, input {_fmt_shape(self.input_size)}: "
                f"{_fmt_int(self.total_params)} parameters ({_fmt_int(self.trainable_params)} trainable)"
                f"{extra}, {self.total_macs / 1e6:,.2f} M multiply-adds, "
                f"{self.total_activations:,} activation elements per image")

    def __str__(self) -> str:
        table = [list(self._COLUMNS)] + [self._cells(r) for r in self.rows] + [self._totals()]
        return _text_table(table, right={3, 4, 5}, rules={0, len(table) - 2}, footer=self._footer())

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        esc = html.escape
        head = "".join(f"<th style='text-align:{'left' if i < 3 else 'right'}'>{esc(c)}</th>"
                       for i, c in enumerate(self._COLUMNS))

        def tr(cells: Sequence[str], bold: bool = False) -> str:
            tag = "th" if bold else "td"
            return "<tr>" + "".join(
                f"<{tag} style='text-align:{'left' if i < 3 else 'right'}'>{esc(c)}</{tag}>"
                for i, c in enumerate(cells)) + "</tr>"

        body = "".join(tr(self._cells(r)) for r in self.rows) + tr(self._totals(), bold=True)
        return (f"<table class='dcnn-summary'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
                f"<p><small>{esc(self._footer())}</small></p>")


def _row_modules(model: nn.Module, depth: int | None) -> list[tuple[str, nn.Module]]:
    """Modules that get a row: leaves, modules marked ``summary_leaf = True`` (a layer built
    from parts, like ``PartialConv2d``), and modules ``depth`` levels down."""
    out: list[tuple[str, nn.Module]] = []

    def visit(prefix: str, module: nn.Module, level: int) -> None:
        children = list(module.named_children())
        if (not children or getattr(module, "summary_leaf", False)
                or (depth is not None and level >= depth)):
            out.append((prefix, module))
            return
        for name, child in children:
            visit(f"{prefix}.{name}" if prefix else name, child, level + 1)

    visit("", model, 0)
    return out


def summary(model: nn.Module, input_size: Sequence[int] | torch.Tensor, *,
            depth: int | None = None, device: torch.device | str | None = None,
            dtype: torch.dtype = torch.float32) -> Summary:
    """Run ``model`` once on a zero-mean random input and tabulate every leaf module call.

    Args:
        model: any ``nn.Module`` taking one tensor.
        input_size: ``(C, H, W)`` (batch 1 is added) or ``(N, C, H, W)``, or an input tensor.
            MACs and activations are reported for one input whatever ``N`` is.
        depth: stop ``depth`` levels below the model (``depth=1``: one row per child of the
            model); default: down to the leaves. Modules whose class sets
            ``summary_leaf = True`` are always one row.
        device: where to run (default: where the model's parameters are).

    Returns:
        :class:`Summary` (prints as a text table, renders as HTML in notebooks).
    """
    if device is None:
        p = next(model.parameters(), None)
        device = p.device if p is not None else torch.device("cpu")
    if isinstance(input_size, torch.Tensor):
        x = input_size.to(device)
    else:
        size = tuple(int(s) for s in input_size)
        if len(size) < 2 or any(s < 1 for s in size):
            raise ValueError(f"summary: input_size must be (C, H, W) or (N, C, H, W) of positive ints, got {input_size!r}")
        if len(size) == 3:
            size = (1, *size)
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(size, generator=gen, dtype=dtype).to(device)
    batch = x.shape[0]

    rows: list[LayerRow] = []
    calls: dict[str, int] = {}
    seen_params: set[int] = set()
    counter = FlopCounterMode(display=False)
    start: dict[int, list[int]] = {}

    def flops_now() -> int:
        return int(sum(counter.get_flop_counts().get("Global", {}).values()))

    def pre_hook(name: str):
        def hook(module: nn.Module, args: Any) -> None:
            start.setdefault(id(module), []).append(flops_now())
        return hook

    def post_hook(name: str):
        def hook(module: nn.Module, args: Any, out: Any) -> None:
            flops = flops_now() - start[id(module)].pop()
            own_macs = getattr(module, "macs", None)  # a layer that knows better than its kernel
            if callable(own_macs) and isinstance(out, torch.Tensor):
                flops = 2 * batch * int(own_macs(out))
            calls[name] = calls.get(name, 0) + 1
            own = [p for p in module.parameters() if id(p) not in seen_params]
            seen_params.update(id(p) for p in own)
            tensors = _tensors(out)
            shapes = tuple(tuple(t.shape) for t in tensors)
            rows.append(LayerRow(
                name=name or type(model).__name__,
                type=type(module).__name__,
                output_shape=shapes[0] if len(shapes) == 1 else shapes,
                params=sum(p.numel() for p in own),
                trainable=sum(p.numel() for p in own if p.requires_grad),
                macs=flops // 2 // batch,
                activations=sum(t.numel() for t in tensors) // batch,
                call=calls[name],
            ))
        return hook

    handles = []
    for name, module in _row_modules(model, depth):
        handles.append(module.register_forward_pre_hook(pre_hook(name)))
        handles.append(module.register_forward_hook(post_hook(name)))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), counter:
            out = model(x)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    out_shapes = tuple(tuple(t.shape) for t in _tensors(out))
    return Summary(
        model_name=type(model).__name__,
        input_size=tuple(x.shape[1:]),
        rows=rows,
        total_params=sum(p.numel() for p in model.parameters()),
        trainable_params=sum(p.numel() for p in model.parameters() if p.requires_grad),
        output_shape=out_shapes[0] if len(out_shapes) == 1 else out_shapes,
    )
