"""How each ATen operation maps the fields of its input to the fields of its output.

This is the part to look at after a torch upgrade: the rules read operations by their schema
argument names (:func:`_bind`), and an operation spelled in a way they do not expect falls
back on the conservative generic rule (never a field too small).

Computed unit by unit: convolution (stride, padding, dilation, groups, asymmetric kernels,
transposed), max/avg pooling (``ceil_mode`` only changes the output size), adaptive pooling
(its uneven bins exactly), reductions over spatial axes, upsampling (nearest, nearest-exact,
bilinear, bicubic, with ``align_corners``), pixel (un)shuffle, padding, cropping by slicing,
and concatenation along a spatial axis. Every other operation is *elementwise* when its output
keeps the input's spatial axes (ReLU, batch norm, ``+``, ``*``, channel ``cat``, channel
shuffles...) — the field of a merge is the union of its inputs' fields, broadcasting included
(a squeeze-and-excitation gate makes every field global) — and otherwise sees its whole input
(flatten, linear, attention over tokens): a conservative answer, never too small.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..forward import tensors
from .geometry import Axis, Geom, geom_of, merge, union


def _bind(func: Any, args: tuple, kwargs: dict) -> dict[str, Any]:
    """Arguments of an ATen call by name, defaults filled in from its schema."""
    out: dict[str, Any] = {}
    for i, arg in enumerate(func._schema.arguments):
        if i < len(args):
            out[arg.name] = args[i]
        elif arg.name in kwargs:
            out[arg.name] = kwargs[arg.name]
        elif arg.has_default_value():
            out[arg.name] = arg.default_value
    return out


def _ints(v: Any, n: int, default: int | None = None) -> tuple[int, ...]:
    if v is None or (isinstance(v, (list, tuple)) and len(v) == 0):
        return (default,) * n  # type: ignore[return-value]
    if isinstance(v, (list, tuple)):
        return tuple(int(x) for x in v) if len(v) == n else (int(v[0]),) * n
    return (int(v),) * n


def _spatial_shape(t: torch.Tensor, n: int) -> tuple[int, ...]:
    return tuple(int(s) for s in t.shape[-n:]) if t.ndim >= n else ()


def _rule_window(b, g, out_shape, pooling):
    n = len(g.axes)
    if pooling:
        k = _ints(b["kernel_size"], n)
        s = _ints(b.get("stride"), n, None)
        s = tuple(si if si is not None else ki for si, ki in zip(s, k))
        p, d = _ints(b.get("padding", 0), n), _ints(b.get("dilation", 1), n)
        return tuple(a.window(m, *args) for a, m, args in zip(g.axes, out_shape, zip(k, s, p, d)))
    k = tuple(int(x) for x in b["weight"].shape[2:])
    s, p, d = _ints(b["stride"], n), _ints(b["padding"], n), _ints(b["dilation"], n)
    if b["transposed"]:
        return tuple(a.transposed(m, *args) for a, m, args in zip(g.axes, out_shape, zip(k, s, p, d)))
    return tuple(a.window(m, *args) for a, m, args in zip(g.axes, out_shape, zip(k, s, p, d)))


def _resample(axis: Axis, n_out: int, mode: str, align_corners: bool, scale: float | None) -> Axis:
    """Index maps of ``F.interpolate`` (PyTorch's ``area_pixel_compute_*`` rules)."""
    n, o = len(axis), np.arange(n_out, dtype=np.float64)
    if align_corners and mode not in ("nearest", "nearest_exact"):
        ratio = (n - 1) / (n_out - 1) if n_out > 1 else 0.0
        src = o * ratio
    else:
        ratio = 1.0 / scale if scale else n / n_out
        src = None
    if mode == "nearest":
        a = np.minimum(np.floor(o * ratio), n - 1)
        b = a
    elif mode == "nearest_exact":
        a = np.minimum(np.floor((o + 0.5) * ratio), n - 1)
        b = a
    elif mode == "cubic":
        src = src if src is not None else (o + 0.5) * ratio - 0.5
        a, b = np.floor(src) - 1, np.floor(src) + 2
    else:  # linear
        src = src if src is not None else np.maximum((o + 0.5) * ratio - 0.5, 0)
        a = np.minimum(np.floor(src), n - 1)
        b = a + 1
    a, b = np.clip(a, 0, n - 1).astype(np.int64), np.clip(b, 0, n - 1).astype(np.int64)
    return axis.gather(a, b, axis.jump * n / n_out)


_UPSAMPLE = {"upsample_nearest": "nearest", "_upsample_nearest_exact": "nearest_exact",
             "upsample_linear": "linear", "upsample_bilinear": "linear", "upsample_trilinear": "linear",
             "upsample_bicubic": "cubic"}


def _rule_upsample(name, b, g, out_shape):
    mode = next(m for prefix, m in _UPSAMPLE.items() if name.startswith(prefix))
    n = len(g.axes)
    if "scale_factors" in b:
        sf = b.get("scale_factors")
        scales = list(sf) if sf else [None] * n
    else:
        scales = [b.get(k) for k in ("scales_d", "scales_h", "scales_w") if k in b][-n:] or [None] * n
        if len(scales) < n:
            scales = [b.get("scales")] * n
    ac = bool(b.get("align_corners", False))
    return tuple(_resample(a, m, mode, ac, s) for a, m, s in zip(g.axes, out_shape, scales))


def _rule_pad(b, g, out_shape):
    pad = list(b.get("pad", b.get("padding")))
    axes = list(g.axes)
    for i in range(min(len(pad) // 2, len(axes))):
        ax = len(axes) - 1 - i
        left = int(pad[2 * i])
        o = np.arange(out_shape[ax]) - left
        axes[ax] = axes[ax].gather(o, o, axes[ax].jump)
    return tuple(axes)


def _rule_slice(b, g, x, out_shape):
    n = len(g.axes)
    dim = int(b.get("dim", 0)) % x.ndim
    ax = dim - (x.ndim - n)
    if ax < 0:
        return g.axes
    size = x.shape[dim]
    start, step = b.get("start"), int(b.get("step", 1))   # the end is the output's length
    start = 0 if start is None else int(start)
    start = max(0, min(size, start + size if start < 0 else start))
    idx = start + np.arange(out_shape[ax]) * step
    axes = list(g.axes)
    axes[ax] = axes[ax].gather(idx, idx, axes[ax].jump * step)
    return tuple(axes)


def _rule_reduce(b, g, x, out):
    n = len(g.axes)
    dims = b.get("dim")
    dims = list(range(x.ndim)) if dims is None or dims == [] else ([dims] if isinstance(dims, int) else list(dims))
    spatial = {(d % x.ndim) - (x.ndim - n) for d in dims} & set(range(n))
    if not spatial:
        return g
    if not b.get("keepdim", False) and len(spatial) < n:
        return None  # an axis disappears and the rest shift: leave it to the generic rule
    axes = tuple(a.collapse() if i in spatial else a for i, a in enumerate(g.axes))
    keep = b.get("keepdim", False) and out.ndim == x.ndim
    if len(spatial) == n and not keep:
        return Geom(tuple(a for a in axes), False, g.aligned)
    return Geom(axes, True, g.aligned)


def _rule_cat(b, out, n, notes):
    ts = [t for t in b["tensors"] if isinstance(t, torch.Tensor)]
    dim = int(b.get("dim", 0)) % out.ndim
    ax = dim - (out.ndim - n)
    geoms = [geom_of(t) for t in ts]
    if ax < 0 or any(g is None or not g.spatial for g in geoms):
        return None
    axes = []
    for i in range(n):
        if i == ax:
            parts = [g.axes[i] for g in geoms]
            axes.append(Axis(np.concatenate([p.lo for p in parts]), np.concatenate([p.hi for p in parts]),
                              max(p.jump for p in parts)))
        else:
            axes.append(union([g.axes[i].broadcast(out.shape[out.ndim - n + i]) for g in geoms]))
    notes.append(f"concatenation along spatial axis {ax}")
    return Geom(tuple(axes), True, all(g.aligned for g in geoms))


def _generic(traced: list[Geom], out: torch.Tensor, n: int, in_ndim: int, notes: list[str], op: str) -> Geom:
    """Elementwise when the output keeps the spatial axes, else: the whole input."""
    shape = _spatial_shape(out, n)
    spatial = [g for g in traced if g.spatial]
    if spatial and out.ndim >= n + 1 and all(
            all(len(a) in (1, m) for a, m in zip(g.axes, shape)) for g in traced if g.spatial) and (
            any(g.shape == shape for g in spatial) or out.ndim >= in_ndim):
        nonspatial = [g for g in traced if not g.spatial]
        geoms = spatial + [Geom(tuple(a for a in g.axes), True, g.aligned) for g in nonspatial]
        return merge(geoms, shape, notes)
    distinct = list({id(g): g for g in traced}.values())
    if len(distinct) == 1 and not distinct[0].spatial:
        whole = distinct[0]  # already global: unary ops, linear layers... keep it
    else:
        whole = Geom(tuple(union([g.axes[i] if not g.spatial else g.axes[i].collapse() for g in traced])
                            for i in range(n)), False, all(g.aligned for g in traced))
    if spatial and op not in _GLOBAL_OPS:
        notes.append(f"{op}: no spatial rule, assumed to see its whole input")
    if out.ndim >= in_ndim:  # a map again (e.g. x.view(N, C, 1, 1)): every unit sees it all
        return Geom(tuple(a.broadcast(m) for a, m in zip(whole.axes, shape)), True, whole.aligned)
    return whole


_POOL = ("max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "max_pool2d_with_indices",
         "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d", "avg_pool3d")
_ADAPTIVE = ("adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "_adaptive_avg_pool2d",
             "_adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d")
_PADS = ("constant_pad_nd", "reflection_pad1d", "reflection_pad2d", "reflection_pad3d", "replication_pad1d",
         "replication_pad2d", "replication_pad3d", "_pad_circular")
# Operations expected to mix every position (no note needed when they see a whole map).
_GLOBAL_OPS = ("view", "_unsafe_view", "reshape", "flatten", "addmm", "mm", "linear", "matmul", "bmm", "permute",
               "transpose", "t", "mean", "sum", "amax", "amin", "max", "min", "std", "var", "logsumexp", "prod",
               "norm", "_scaled_dot_product_flash_attention_for_cpu", "_scaled_dot_product_efficient_attention",
               "_scaled_dot_product_flash_attention", "_native_multi_head_attention",
               "_transformer_encoder_layer_fwd", "_softmax", "_log_softmax")
_REDUCE = ("mean", "sum", "amax", "amin", "max", "min", "std", "var", "logsumexp", "prod", "norm")


def propagate(func: Any, args: tuple, kwargs: dict, out: Any, n: int, in_ndim: int,
              notes: list[str]) -> tuple[str, Geom | None]:
    """The geometry of ``func``'s output (its first tensor output), and the op's label."""
    name = func._overloadpacket.__name__
    outs = tensors(out)
    if not outs:
        return name, None
    first = outs[0]
    traced = [g for g in (geom_of(t) for t in tensors((args, kwargs))) if g is not None]
    b = _bind(func, args, kwargs)
    x = args[0] if args and isinstance(args[0], torch.Tensor) else None
    g = geom_of(x)
    out_shape = _spatial_shape(first, n)
    label = name.strip("_").replace("_with_indices", "").replace("_unsafe_", "")
    axes = None
    try:
        shaped = (g is not None and g.spatial and len(g.axes) == n and x is not None and x.ndim == first.ndim
                  and g.shape == _spatial_shape(x, n))
        if name == "convolution" and shaped and b["weight"].ndim - 2 == n:
            axes = _rule_window(b, g, out_shape, pooling=False)
            label = "conv_transpose" if b["transposed"] else "conv"
        elif name in _POOL and shaped:
            axes = _rule_window(b, g, out_shape, pooling=True)
        elif name in _ADAPTIVE and shaped:
            axes = tuple(a.bins(m) for a, m in zip(g.axes, out_shape))
            label = name.lstrip("_")
        elif name.startswith(tuple(_UPSAMPLE)) and shaped:
            axes = _rule_upsample(name, b, g, out_shape)
            label = "interpolate"
        elif name == "pixel_shuffle" and shaped:
            r = int(b["upscale_factor"])
            axes = tuple(a.gather(np.arange(m) // r, np.arange(m) // r, a.jump / r) for a, m in zip(g.axes, out_shape))
        elif name == "pixel_unshuffle" and shaped:
            r = int(b["downscale_factor"])
            axes = tuple(a.window(m, r, r, 0, 1) for a, m in zip(g.axes, out_shape))
        elif name in _PADS and shaped:
            axes = _rule_pad(b, g, out_shape)
            label = "pad"
        elif name == "slice" and shaped:
            axes = _rule_slice(b, g, x, out_shape)
            if all(a is bx for a, bx in zip(axes, g.axes)):
                return label, g
        elif name in _REDUCE and g is not None and g.spatial and len(traced) == 1 and "dim" in b:
            geom = _rule_reduce(b, g, x, first)
            if geom is not None:
                return label, geom
        elif name == "cat":
            geom = _rule_cat(b, first, n, notes)
            if geom is not None:
                return label, geom
    except (KeyError, TypeError, ValueError, IndexError):
        axes = None  # an unexpected spelling: fall back on the generic (conservative) rule
    if axes is not None:
        return label, Geom(tuple(axes), True, g.aligned)
    if not traced:
        return label, None
    return label, _generic(traced, first, n, in_ndim, notes, name)


__all__ = ["propagate"]
