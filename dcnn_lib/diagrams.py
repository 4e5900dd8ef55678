"""Block diagrams drawn from the modules themselves, the way the Inception papers draw them.

:func:`draw_module` takes a built :class:`~dcnn_lib.layers.Inception` module (or an
:class:`~dcnn_lib.layers.InceptionResNetBlock`) and draws one column of boxes per branch, read
from the branch lists the module was built from — so the picture cannot disagree with the
network: input at the top, filter concatenation at the bottom, and for a residual block the
linear 1×1 projection, the scaling, the sum with the shortcut and the ReLU.
"""
from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import torch.nn as nn
from matplotlib.patches import FancyBboxPatch

from .layers.inception import Conv, Inception, Pool, Split
from .layers.inception_resnet import InceptionResNetBlock

COLOURS = {"conv1": "#f6d365", "conv": "#fda085", "pool": "#a1c4fd", "io": "#e0e0e0", "res": "#c2e9fb"}


def _k(kernel: Any) -> str:
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    return f"{kh}×{kw}"


def _conv_label(c: Conv) -> str:
    s = f"{_k(c.kernel)} conv {c.out}"
    if c.stride != 1:
        s += f" /{c.stride}"
    if c.padding == "valid" or c.padding == 0:
        s += " V"
    return s


def _labels(spec: Any) -> tuple[str, str]:
    """(text, colour kind) of one layer spec."""
    if isinstance(spec, Pool):
        s = f"{spec.kernel}×{spec.kernel} {spec.kind} pool" + (f" /{spec.stride}" if spec.stride != 1 else "")
        return s, "pool"
    if isinstance(spec, Split):
        return "  |  ".join(_conv_label(p) for p in spec.parts), "conv"
    return _conv_label(spec), "conv1" if _k(spec.kernel) == "1×1" else "conv"


def describe_branch(specs: Any) -> str:
    """One branch as text: ``"1×1 conv 16 → 5×5 conv 32"``."""
    return " → ".join(_labels(s)[0] for s in specs)


def _box(ax, x: float, y: float, w: float, text: str, kind: str, h: float = 0.55, fontsize: float = 10) -> None:
    """A rounded box of width ``w`` centred on ``(x, y)``."""
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                fc=COLOURS[kind], ec="#555555", lw=0.8))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def _arrow(ax, x0: float, y0: float, x1: float, y1: float) -> None:
    ax.annotate("", (x1, y1), (x0, y0), arrowprops=dict(arrowstyle="->", lw=0.8, color="#555555"))


def draw_module(module: Inception | InceptionResNetBlock, ax=None, title: str | None = None,
                col_width: float = 2.6):
    """Draw ``module``'s branches as columns of boxes; returns the axes.

    Input on top, one column per branch (its last layer on the row above the concatenation,
    as the papers draw them; a split is drawn as boxes side by side), the filter
    concatenation at the bottom with each branch's number of maps. Works on any
    :class:`~dcnn_lib.layers.Inception` (GoogLeNet's, v3's, v4's modules, the reduction
    modules) and :class:`~dcnn_lib.layers.InceptionResNetBlock`.
    """
    residual = isinstance(module, InceptionResNetBlock)
    inc = module.branches if residual else module
    if not isinstance(inc, Inception):
        raise TypeError(f"draw_module: expects an Inception module or an InceptionResNetBlock, got {type(module).__name__}")
    branches = list(inc.specs.items())
    depth = max(len(specs) for _, specs in branches)
    n = len(branches)
    span = n * col_width                       # the input and concat boxes span every column
    width = span + (1.2 if residual else 0)
    extra = 3 if residual else 0
    if ax is None:
        # 0.95 in a unit: the text (10 pt) stays >= 10 px when a 4-branch module fits the column
        _, ax = plt.subplots(figsize=(max(4.0, 0.95 * width), 0.7 * (depth + 3 + extra)))
    top, bottom = depth + 1.0, 0.0
    xs = [(i - (n - 1) / 2) * col_width for i in range(n)]
    _box(ax, 0, top, span - 0.2, f"input ({inc.in_channels} maps)", "io")
    for x, (name, specs) in zip(xs, branches):
        y_prev = top
        for j, spec in enumerate(specs):
            y = bottom + len(specs) - j          # bottom-aligned: the last layer sits on row 1
            if isinstance(spec, Split):
                k = len(spec.parts)
                w = col_width * 0.92 / k
                for i, part in enumerate(spec.parts):
                    xi = x - col_width * 0.46 + w * (i + 0.5)
                    _box(ax, xi, y, w * 0.96, _conv_label(part), "conv", fontsize=9)
                    _arrow(ax, x, y_prev - 0.28, xi, y + 0.28)
                    _arrow(ax, xi, y - 0.28, x, bottom + 0.28)
            else:
                text, kind = _labels(spec)
                _box(ax, x, y, col_width * 0.92, text, kind)
                _arrow(ax, x, y_prev - 0.28, x, y + 0.28)
                if j == len(specs) - 1:
                    _arrow(ax, x, y - 0.28, x, bottom + 0.28)
            y_prev = y
        ax.text(x + col_width * 0.46, bottom + 0.34, str(inc.branch_channels[name]), ha="right", va="bottom",
                fontsize=9, color="#333333")
    _box(ax, 0, bottom, span - 0.2, f"filter concat ({inc.out_channels} maps)", "io")
    if residual:
        y = bottom
        steps = [(f"1×1 conv {module.project.out_channels} (linear)", "conv1"),
                 (f"× {module.scale:g}  (residual scaling)", "res"),
                 ("+ shortcut" + (", ReLU" if isinstance(module.relu, nn.ReLU) else " (no ReLU)"), "res")]
        for text, kind in steps:
            _box(ax, 0, y - 1, min(span - 0.2, 4.0), text, kind)
            _arrow(ax, 0, y - 0.28, 0, y - 1 + 0.28)
            y -= 1
        xr = -width / 2 - 0.2
        ax.plot([-(span - 0.2) / 2, xr, xr], [top, top, y], color="#555555", lw=0.8)
        _arrow(ax, xr, y, -min(span - 0.2, 4.0) / 2, y)
        bottom = y
    ax.set_xlim(-width / 2 - 0.6, width / 2 + 0.6)
    ax.set_ylim(bottom - 0.6, top + 0.6)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=11)
    return ax


def draw_fractal(block: Any, ax=None, title: str | None = None, col_width: float = 1.3):
    """Draw a :class:`~dcnn_lib.layers.FractalBlock` as the FractalNet paper does (Figure 1):
    one column of convolution boxes per column of the block (column 1, the shallowest, on the
    left), each box at the step of the deepest column where its output is ready, and a bar for
    every join (the element-wise mean of the columns that meet there). Returns the axes.
    """
    from .layers.fractal_block import FractalBlock  # a layer, not a model: diagrams may draw it

    if not isinstance(block, FractalBlock):
        raise TypeError(f"draw_fractal: expects a FractalBlock, got {type(block).__name__}")
    C, depth = block.num_columns, block.depth
    if ax is None:
        _, ax = plt.subplots(figsize=(0.9 + 0.9 * C, 0.55 * (depth + 3)))
    xs = [(c - (C + 1) / 2) * col_width for c in range(1, C + 1)]
    span = C * col_width
    top = depth + 1.0
    _box(ax, 0, top, span - 0.2, "input", "io", fontsize=7.5)
    joins = {}
    for s in range(1, depth + 1):
        meet = [c for c in range(1, C + 1) if s % 2 ** (C - c) == 0]
        if len(meet) > 1:
            joins[s] = meet
    last = {c: top for c in range(1, C + 1)}             # where each column's signal comes from
    for step in range(1, depth + 1):
        y = top - step
        for c in range(1, C + 1):
            if step % 2 ** (C - c) == 0:
                _box(ax, xs[c - 1], y, col_width * 0.8, "conv", "conv", h=0.5, fontsize=7.5)
                _arrow(ax, xs[c - 1], last[c] - 0.27, xs[c - 1], y + 0.27)
                last[c] = y
        if step in joins:
            cs = joins[step]
            yj = y - 0.45
            x0, x1 = xs[cs[0] - 1] - col_width * 0.4, xs[cs[-1] - 1] + col_width * 0.4
            ax.add_patch(FancyBboxPatch((x0, yj - 0.09), x1 - x0, 0.18, boxstyle="round,pad=0.01",
                                        fc="#7bc67b", ec="#3d7a3d", lw=0.8))
            for c in cs:
                _arrow(ax, xs[c - 1], y - 0.27, xs[c - 1], yj + 0.09)
                last[c] = yj - 0.09 + 0.27
    if joins:
        ax.text(0, top - depth - 0.9, "join = mean", ha="center", va="center", fontsize=7.5, color="#3d7a3d")
    ax.set_xlim(-span / 2 - 0.3, span / 2 + 0.3)
    ax.set_ylim(top - depth - 1.2, top + 0.6)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title or f"C = {C}: {2 ** C - 1} convolutions", fontsize=9)
    return ax


def draw_rcl(rcl: nn.Module, ax=None, title: str | None = None):
    """Draw a :class:`~dcnn_lib.layers.RecurrentConv` unrolled over its ``t`` steps; returns the axes.

    The static input ``u`` at the bottom, the states ``x(0) … x(T)`` on a row above it: the
    feed-forward kernel ``w_f`` enters every step from ``u``, the recurrent kernel ``w_r`` joins
    each state to the next; both are the same two kernels at every step (read from the layer).
    """
    from .layers.recurrent_conv import RecurrentConv
    if not isinstance(rcl, RecurrentConv):
        raise TypeError(f"draw_rcl: expects a RecurrentConv, got {type(rcl).__name__}")
    steps, k = rcl.t + 1, rcl.feedforward.kernel_size[0]
    norm = {"batch": "BN, ReLU", "lrn": "ReLU, LRN", "none": "ReLU"}[rcl.norm]
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4.5, 1.9 * steps + 0.6), 3.0))
    xs = [1.9 * i for i in range(steps)]
    span = xs[-1] - xs[0] + 1.5
    _box(ax, (xs[0] + xs[-1]) / 2, 0, span, f"input u ({rcl.in_channels} maps)", "io")
    for i, x in enumerate(xs):
        _box(ax, x, 2, 1.5, f"x({i})\n{norm}", "conv", h=0.8)
        _arrow(ax, x, 0.28, x, 1.6)
        ax.text(x + 0.08, 0.95, f"w_f {k}×{k}", fontsize=10, color="#333333")
        if i:
            _arrow(ax, xs[i - 1] + 0.75, 2, x - 0.75, 2)
            ax.text((xs[i - 1] + x) / 2, 2.45, f"w_r {k}×{k}", ha="center", va="bottom", fontsize=10, color="#a33")
    _arrow(ax, xs[-1], 2.4, xs[-1], 3.0)
    ax.text(xs[-1], 3.05, f"output x({rcl.t}), {rcl.out_channels} maps", ha="center", va="bottom", fontsize=10)
    ax.text(xs[0] - 0.75, 3.05, "the same w_f and w_r at every step", ha="left", va="bottom", fontsize=10,
            color="#333333")
    ax.set_xlim(xs[0] - 1.0, xs[-1] + 1.0)
    ax.set_ylim(-0.5, 3.5)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=11)
    return ax
