"""Receptive fields of any ``nn.Module``: analytic (exact, multi-path) and effective (gradient based).

:func:`receptive_field` answers, for every layer of a network, *which input pixels can change
this unit*: the receptive field (RF). It returns a :class:`ReceptiveFields` table with one
:class:`RFRow` per layer in execution order, indexable by position and by module name. Each
row gives, per spatial axis ``(h, w)``:

- ``output_size``: the size of the layer's output map;
- ``size``: the RF size *r*, in input pixels (the field of one unit, not clipped to the image);
- ``stride``: the effective stride or *jump* *j*: how far apart, in input pixels, the fields
  of two neighbouring units are;
- ``padding``: the effective padding *P*: unit 0's field starts at input pixel ``-P``;

and maps any output coordinate to its input box and centre (:meth:`RFRow.input_box`,
:meth:`RFRow.input_centre`) and back (:meth:`RFRow.feature_coord`). For a chain of layers
with kernel *k*, stride *s*, padding *p* and dilation *d* these are the recurrences of Araujo,
Norris & Sim, "Computing Receptive Fields of Convolutional Neural Networks", Distill 2019
(:func:`rf_size`, :func:`rf_jump`, :func:`rf_padding` below)::

    r_l = r_(l-1) + (k_l - 1) d_l j_(l-1)      j_l = j_(l-1) s_l      P_l = P_(l-1) + p_l j_(l-1)

Conventions: pixels are indexed 0..H-1 and a field ``[lo, hi]`` includes both ends, so its
size is ``hi - lo + 1`` and unit *o*'s field centre is ``o * j - P + (r - 1) / 2``. Fields are
*structural*: they contain every input pixel the unit is computed from, whatever the weights.
Padding of any kind is treated as virtual pixels outside the image, so a field can reach past
the border (ResNet-50's last layer sees 427×427 "pixels" of a 224×224 image); ``clip=True``
gives the part inside the image.

How it traces (the choice, and why)
-----------------------------------
The model's real ``forward`` runs once under a :class:`~torch.utils._python_dispatch.TorchDispatchMode`
that sees every ATen operation (``convolution``, ``max_pool2d_with_indices``, ``add_``, ``cat``,
``upsample_nearest2d``, ``view``...) with its arguments, and carries an RF description on
every tensor that derives from the input. Module forward hooks say which module is running,
which names the rows. Why not the alternatives:

- ``torch.fx`` symbolic tracing fails on control flow that depends on inputs or shapes and
  sees ``F.relu(x)``, ``x + y``, ``torch.cat`` as many Python-level spellings; ATen ops are
  few and normalised (``nn.Conv2d``, ``F.conv2d`` and ``padding="same"`` all arrive as
  ``convolution`` with explicit padding).
- Module hooks alone never see the functional parts of ``forward``: ResNet's ``out +=
  identity``, Inception's ``torch.cat`` and ``F.avg_pool2d``, ``torch.flatten``.
- ``__torch_function__`` sees those, but above the decompositions, so every spelling of an
  operation would need a rule.

By default the forward runs on the ``meta`` device (shapes only, no arithmetic; parameters
are viewed as meta tensors operation by operation, the model is not touched), so ResNet-152's
whole table takes about a tenth of a second. A model whose forward needs real values (an
``.item()``, data-dependent control flow) is re-run on real random data automatically.

Rules, per operation: convolution (stride, padding, dilation, groups, asymmetric kernels,
transposed), max/avg pooling (``ceil_mode`` only changes the output size), adaptive pooling
(its uneven bins exactly), reductions over spatial axes, upsampling (nearest, nearest-exact,
bilinear, bicubic, with ``align_corners``), pixel (un)shuffle, padding, cropping by slicing,
and concatenation along a spatial axis are computed unit by unit. Every other operation is
*elementwise* when its output keeps the input's spatial axes (ReLU, batch norm, ``+``,
``*``, channel ``cat``, channel shuffles...) — the field of a merge is the union of its
inputs' fields, broadcasting included (a squeeze-and-excitation gate makes every field
global) — and otherwise sees its whole input (flatten, linear, attention over tokens): a
conservative answer, never too small.

Merges of unaligned paths
-------------------------
When the inputs of a merge (residual add, concatenation) have different effective strides or
field centres, the merged unit no longer has one centre (Araujo et al. define none, and
google-research/receptive_field raises). Here the row reports the *union* of the fields —
still exactly the pixels the unit depends on — sets ``aligned=False`` on it and on every row
computed from it, and says in ``note`` by how much the paths disagree. Raising would make U-Nets,
FPNs and networks with cropping unanalysable; the union keeps every answer correct as a set
of pixels while flagging that "the centre" has become a convention (the middle of the union).
Fields that are unions of unaligned or resampled paths need not step evenly from unit to unit;
:attr:`RFRow.uniform` says whether they do, and ``size`` is then the largest field.

:func:`effective_receptive_field` measures how much each pixel in the field actually matters
(Luo, Li, Urtasun & Zemel, "Understanding the Effective Receptive Field in Deep Convolutional
Neural Networks", NeurIPS 2016): the input gradient of a layer's centre unit, averaged over
inputs. :func:`erf_mass` reports the radius that holds 68% / 95% of it.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import torch
import torch.nn as nn
from torch.utils._python_dispatch import TorchDispatchMode

from .summary import RowTable, _row_modules, _tensors, _text_table

# ---- the recurrence (Araujo et al., 2019), as pure functions ----------------------------------


def conv_output_size(n: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1,
                     ceil_mode: bool = False) -> int:
    """Output size of a convolution or pooling along one axis (PyTorch's rule):
    ``floor((n + 2p - d(k-1) - 1) / s) + 1``; with ``ceil_mode`` the division rounds up, but the
    last window must start inside the input or its left padding."""
    span = n + 2 * padding - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= n + padding:
        out -= 1
    return out


def rf_size(size_in: float, jump_in: float, kernel: int, dilation: int = 1) -> float:
    """RF size after a layer: ``r + (k - 1) d j``."""
    return size_in + (kernel - 1) * dilation * jump_in


def rf_jump(jump_in: float, stride: int) -> float:
    """Effective stride (jump) after a layer: ``j s``."""
    return jump_in * stride


def rf_padding(padding_in: float, jump_in: float, padding: int) -> float:
    """Effective padding after a layer: ``P + p j``."""
    return padding_in + padding * jump_in


# ---- one spatial axis: the field [lo, hi] of every unit ---------------------------------------


class _Axis:
    """Fields along one axis: unit ``o`` sees input pixels ``lo[o]..hi[o]`` (NaN: no pixel).

    ``jump`` is the nominal distance between neighbouring fields, used to place the virtual
    units that padding adds beyond either end of the map.
    """

    __slots__ = ("lo", "hi", "jump")

    def __init__(self, lo: np.ndarray, hi: np.ndarray, jump: float) -> None:
        self.lo, self.hi, self.jump = lo, hi, float(jump)

    @classmethod
    def identity(cls, n: int) -> "_Axis":
        a = np.arange(n, dtype=np.float64)
        return cls(a, a.copy(), 1.0)

    def __len__(self) -> int:
        return len(self.lo)

    def _ext(self, arr: np.ndarray, idx: np.ndarray) -> np.ndarray:
        # Units outside 0..n-1 (padding) continue the map with the nominal jump.
        inside = np.clip(idx, 0, len(arr) - 1)
        return arr[inside] + (idx - inside) * self.jump

    def gather(self, a: np.ndarray, b: np.ndarray, jump: float) -> "_Axis":
        """Output unit ``o`` reads input units ``a[o]..b[o]`` (none where ``b < a``)."""
        with np.errstate(invalid="ignore"):
            lo = np.fmin(self._ext(self.lo, a), self._ext(self.lo, b))
            hi = np.fmax(self._ext(self.hi, a), self._ext(self.hi, b))
        empty = b < a
        if empty.any():
            lo, hi = lo.astype(np.float64), hi.astype(np.float64)
            lo[empty] = np.nan
            hi[empty] = np.nan
        return _Axis(lo, hi, jump)

    def window(self, n_out: int, k: int, s: int, p: int, d: int) -> "_Axis":
        """Convolution / pooling: unit ``o`` reads ``o s - p + t d`` for ``t = 0..k-1``."""
        a = np.arange(n_out) * s - p
        return self.gather(a, a + (k - 1) * d, self.jump * s)

    def transposed(self, n_out: int, k: int, s: int, p: int, d: int) -> "_Axis":
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

    def bins(self, n_out: int) -> "_Axis":
        """Adaptive pooling: unit ``o`` pools ``floor(o n / m) .. ceil((o + 1) n / m) - 1``."""
        n, o = len(self), np.arange(n_out)
        return self.gather((o * n) // n_out, -((-(o + 1) * n) // n_out) - 1, self.jump * n / n_out)

    def collapse(self) -> "_Axis":
        """One unit that sees every unit of this axis (a reduction, flatten, a global pool)."""
        with np.errstate(invalid="ignore"):
            lo, hi = np.nanmin(self.lo), np.nanmax(self.hi)
        return _Axis(np.array([lo]), np.array([hi]), self.jump * len(self))

    def broadcast(self, n: int) -> "_Axis":
        if len(self) == n:
            return self
        return _Axis(np.repeat(self.lo, n), np.repeat(self.hi, n), self.jump)

    @property
    def centres(self) -> np.ndarray:
        return (self.lo + self.hi) / 2

    @property
    def sizes(self) -> np.ndarray:
        return self.hi - self.lo + 1


def _union(axes: Sequence[_Axis]) -> _Axis:
    if len(axes) == 1:
        return axes[0]
    lo = np.fmin.reduce([a.lo for a in axes])
    hi = np.fmax.reduce([a.hi for a in axes])
    return _Axis(lo, hi, max(a.jump for a in axes))


@dataclass(frozen=True, eq=False)
class _Geom:
    """The RF description a traced tensor carries: one :class:`_Axis` per spatial axis.

    ``spatial=False``: a tensor without spatial axes (after flatten, linear...): each axis
    holds one "unit", the union of everything it was computed from.
    """

    axes: tuple[_Axis, ...]
    spatial: bool = True
    aligned: bool = True

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(a) for a in self.axes)

    def collapsed(self, aligned: bool | None = None) -> "_Geom":
        return _Geom(tuple(a.collapse() for a in self.axes), False, self.aligned if aligned is None else aligned)


_ATTR = "_dcnn_rf_geom"


def _map_tensors(fn: Callable[[torch.Tensor], Any], obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return fn(obj)
    if isinstance(obj, (list, tuple)) and any(isinstance(o, (torch.Tensor, list, tuple)) for o in obj):
        return type(obj)(_map_tensors(fn, o) for o in obj) if not hasattr(obj, "_fields") else obj
    if isinstance(obj, dict):
        return {k: _map_tensors(fn, v) for k, v in obj.items()}
    return obj


def _geom(t: Any) -> _Geom | None:
    return getattr(t, _ATTR, None) if isinstance(t, torch.Tensor) else None


def _merge(geoms: Sequence[_Geom], shape: tuple[int, ...], notes: list[str]) -> _Geom:
    """Elementwise op or channel concatenation: the union of the inputs' fields, broadcasting."""
    distinct = list({id(g): g for g in geoms}.values())
    if len(distinct) == 1 and distinct[0].shape == shape:
        return distinct[0]
    axes = []
    aligned = all(g.aligned for g in distinct)
    spread = [g for g in distinct if g.shape == shape]  # paths with their own unit per position
    for i, n in enumerate(shape):
        axes.append(_union([g.axes[i].broadcast(n) for g in distinct]))
    if len(spread) > 1:
        problems = []
        for i, n in enumerate(shape):
            jumps = sorted({g.axes[i].jump for g in spread})
            c = [g.axes[i].centres for g in spread]
            with np.errstate(invalid="ignore"):
                off = max(float(np.nanmax(np.abs(x - c[0]))) for x in c[1:])
            if len(jumps) > 1:
                problems.append(f"axis {i}: strides {', '.join(_fmt_num(j) for j in jumps)}")
            elif off > 1e-9:
                problems.append(f"axis {i}: centres {_fmt_num(off)} px apart")
        if problems:
            aligned = False
            notes.append(f"unaligned merge of {len(spread)} paths ({'; '.join(problems)}): union of their fields")
    if len(spread) < len(distinct):
        notes.append("merges a global context (broadcast): every field becomes the union")
    return _Geom(tuple(axes), True, aligned)


# ---- per-operation rules ---------------------------------------------------------------------


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


def _resample(axis: _Axis, n_out: int, mode: str, align_corners: bool, scale: float | None) -> _Axis:
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
        return _Geom(tuple(a for a in axes), False, g.aligned)
    return _Geom(axes, True, g.aligned)


def _rule_cat(b, out, n, notes):
    ts = [t for t in b["tensors"] if isinstance(t, torch.Tensor)]
    dim = int(b.get("dim", 0)) % out.ndim
    ax = dim - (out.ndim - n)
    geoms = [_geom(t) for t in ts]
    if ax < 0 or any(g is None or not g.spatial for g in geoms):
        return None
    axes = []
    for i in range(n):
        if i == ax:
            parts = [g.axes[i] for g in geoms]
            axes.append(_Axis(np.concatenate([p.lo for p in parts]), np.concatenate([p.hi for p in parts]),
                              max(p.jump for p in parts)))
        else:
            axes.append(_union([g.axes[i].broadcast(out.shape[out.ndim - n + i]) for g in geoms]))
    notes.append(f"concatenation along spatial axis {ax}")
    return _Geom(tuple(axes), True, all(g.aligned for g in geoms))


def _generic(traced: list[_Geom], out: torch.Tensor, n: int, in_ndim: int, notes: list[str], op: str) -> _Geom:
    """Elementwise when the output keeps the spatial axes, else: the whole input."""
    shape = _spatial_shape(out, n)
    spatial = [g for g in traced if g.spatial]
    if spatial and out.ndim >= n + 1 and all(
            all(len(a) in (1, m) for a, m in zip(g.axes, shape)) for g in traced if g.spatial) and (
            any(g.shape == shape for g in spatial) or out.ndim >= in_ndim):
        nonspatial = [g for g in traced if not g.spatial]
        geoms = spatial + [_Geom(tuple(a for a in g.axes), True, g.aligned) for g in nonspatial]
        return _merge(geoms, shape, notes)
    distinct = list({id(g): g for g in traced}.values())
    if len(distinct) == 1 and not distinct[0].spatial:
        whole = distinct[0]  # already global: unary ops, linear layers... keep it
    else:
        whole = _Geom(tuple(_union([g.axes[i] if not g.spatial else g.axes[i].collapse() for g in traced])
                            for i in range(n)), False, all(g.aligned for g in traced))
    if spatial and op not in _GLOBAL_OPS:
        notes.append(f"{op}: no spatial rule, assumed to see its whole input")
    if out.ndim >= in_ndim:  # a map again (e.g. x.view(N, C, 1, 1)): every unit sees it all
        return _Geom(tuple(a.broadcast(m) for a, m in zip(whole.axes, shape)), True, whole.aligned)
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
               "_scaled_dot_product_flash_attention", "_softmax", "_log_softmax")
_REDUCE = ("mean", "sum", "amax", "amin", "max", "min", "std", "var", "logsumexp", "prod", "norm")


def _propagate(func: Any, args: tuple, kwargs: dict, out: Any, n: int, in_ndim: int,
               notes: list[str]) -> tuple[str, _Geom | None]:
    """The geometry of ``func``'s output (its first tensor output), and the op's label."""
    name = func._overloadpacket.__name__
    outs = _tensors(out)
    if not outs:
        return name, None
    first = outs[0]
    traced = [g for g in (_geom(t) for t in _tensors((args, kwargs))) if g is not None]
    b = _bind(func, args, kwargs)
    x = args[0] if args and isinstance(args[0], torch.Tensor) else None
    g = _geom(x)
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
        return label, _Geom(tuple(axes), True, g.aligned)
    if not traced:
        return label, None
    return label, _generic(traced, first, n, in_ndim, notes, name)


def _to_meta(t: Any) -> Any:
    if isinstance(t, torch.Tensor) and t.device.type != "meta":
        return t.to("meta")
    return t


class _Stop(Exception):
    """Raised by the tracer once the captured layer has run (nothing after it is needed)."""


class _Tracer(TorchDispatchMode):
    """Carries a :class:`_Geom` on every tensor computed from the input; makes the rows."""

    def __init__(self, n_spatial: int, in_ndim: int, meta: bool, input_size: tuple[int, ...],
                 capture: str | None = None) -> None:
        super().__init__()
        self.n, self.in_ndim, self.meta, self.input_size = n_spatial, in_ndim, meta, input_size
        self.capture, self.captured = capture, None
        self.rows: list[RFRow] = []
        self.aliases: dict[str, RFRow] = {}
        self.stack: list[str] = []
        self.in_row = 0
        self.calls: dict[str, int] = {}
        self.notes: list[str] = []

    # -- rows ---------------------------------------------------------------------------------
    def _key(self, name: str) -> tuple[str, int]:
        self.calls[name] = self.calls.get(name, 0) + 1
        k = self.calls[name]
        return (name if k == 1 else f"{name}#{k}"), k

    def _row(self, name: str, type_: str, g: _Geom, tensor: torch.Tensor, alias: bool = False) -> None:
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
                raise _Stop

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
            t = next((t for t in _tensors(out) if _geom(t) is not None), None)
            if t is not None:
                self._row(name or type(module).__name__, type(module).__name__, _geom(t), t, alias=not is_row)
        return hook

    # -- operations ---------------------------------------------------------------------------
    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if self.meta:
            args, kwargs = _map_tensors(_to_meta, args), _map_tensors(_to_meta, kwargs)
        out = func(*args, **kwargs)
        traced_in = [g for g in (_geom(t) for t in _tensors((args, kwargs))) if g is not None]
        if not traced_in:
            return out
        notes: list[str] = []
        label, g = _propagate(func, args, kwargs, out, self.n, self.in_ndim, notes)
        if g is None:
            return out
        outs = _tensors(out)
        for t in outs:
            if t.shape == outs[0].shape:
                setattr(t, _ATTR, g)
        self.notes.extend(notes)
        if not self.in_row and (len({id(x) for x in traced_in}) > 1 or all(g is not x for x in traced_in)):
            if label in ("view", "unsafe_view", "reshape") and not g.spatial:
                label = "flatten"
            parent = self.stack[-1] if self.stack else ""
            self._row(f"{parent}.{label}" if parent else label, label, g, outs[0])
        return out


def _trace(model: nn.Module, x: torch.Tensor, n_spatial: int, depth: int | None, meta: bool,
           capture: str | None = None) -> _Tracer:
    tracer = _Tracer(n_spatial, x.ndim, meta, tuple(int(s) for s in x.shape[-n_spatial:]), capture)
    rows = {id(m): name for name, m in _row_modules(model, depth)}
    inside_rows = {id(c) for name, m in _row_modules(model, depth) for c in m.modules() if c is not m}
    handles = []
    for name, module in model.named_modules():
        if id(module) in inside_rows:
            continue
        is_row = id(module) in rows
        handles.append(module.register_forward_pre_hook(tracer.pre_hook(name, is_row)))
        handles.append(module.register_forward_hook(tracer.post_hook(name, is_row)))
    setattr(x, _ATTR, _Geom(tuple(_Axis.identity(int(s)) for s in x.shape[-n_spatial:])))
    try:
        with tracer:
            model(x)
    except _Stop:
        pass
    finally:
        for h in handles:
            h.remove()
    return tracer


# ---- the result -----------------------------------------------------------------------------


def _num(v: float) -> float | int:
    v = float(v)
    return int(v) if math.isfinite(v) and v == int(v) else v


def _fmt_num(v: float) -> str:
    v = _num(v)
    return str(v) if isinstance(v, int) else f"{v:.2f}".rstrip("0").rstrip(".")


def _fmt_pair(t: Sequence[float]) -> str:
    return _fmt_num(t[0]) if len(set(t)) == 1 else " × ".join(_fmt_num(v) for v in t)


@dataclass(frozen=True)
class Box:
    """A field in input pixels: ``lo`` and ``hi`` (inclusive) per axis, ``(y, x)`` in 2-D."""

    lo: tuple[float, ...]
    hi: tuple[float, ...]

    @property
    def size(self) -> tuple[float, ...]:
        return tuple(_num(h - l + 1) for l, h in zip(self.lo, self.hi))

    @property
    def centre(self) -> tuple[float, ...]:
        return tuple(_num((l + h) / 2) for l, h in zip(self.lo, self.hi))

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
    def from_geom(cls, name: str, type_: str, g: _Geom, shape: tuple[int, ...], input_size: tuple[int, ...],
                  call: int = 1, note: str = "") -> "RFRow":
        sizes = [a.sizes for a in g.axes]
        steps = [np.diff(a.centres) for a in g.axes if len(a) > 2]
        with np.errstate(invalid="ignore"):
            size = tuple(_num(np.nanmax(s)) for s in sizes)
            uniform = all(np.nanmax(s) - np.nanmin(s) < 1e-9 for s in sizes + steps)
        return cls(name=name, type=type_, output_size=g.shape if g.spatial else (1,) * len(g.axes), shape=shape,
                   size=size, stride=tuple(_num(a.jump) for a in g.axes),
                   padding=tuple(_num(-a.lo[0]) for a in g.axes), aligned=g.aligned, uniform=uniform,
                   spatial=g.spatial, input_size=input_size, note=note, call=call,
                   lo=tuple(a.lo for a in g.axes), hi=tuple(a.hi for a in g.axes))

    def _unit(self, coord: Sequence[Any]) -> tuple[Any, ...]:
        if not self.spatial:
            return (0,) * len(self.lo)
        if len(coord) != len(self.lo):
            raise ValueError(f"{self.name}: give one coordinate per spatial axis ({len(self.lo)}), got {coord!r}")
        out = []
        for c, n in zip(coord, self.output_size):
            c = np.asarray(c)
            if np.any((c < -n) | (c >= n)):
                raise IndexError(f"{self.name}: unit {tuple(coord)} is outside the {_fmt_shape(self.output_size)} output")
            out.append(c % n)
        return tuple(out)

    def input_box(self, *coord: Any, clip: bool = False) -> Box:
        """The field of output unit ``coord`` (``(y, x)``) as a :class:`Box` of input pixels.

        ``clip=True`` keeps the part inside the input image. Coordinates may be arrays (then
        the box holds arrays)."""
        unit = self._unit(coord)
        lo = [l[u] for l, u in zip(self.lo, unit)]
        hi = [h[u] for h, u in zip(self.hi, unit)]
        if clip:
            lo = [np.maximum(v, 0) for v in lo]
            hi = [np.minimum(v, n - 1) for v, n in zip(hi, self.input_size)]
        conv = (lambda v: _num(v)) if all(np.ndim(v) == 0 for v in lo) else (lambda v: v)
        return Box(tuple(conv(v) for v in lo), tuple(conv(v) for v in hi))

    def input_centre(self, *coord: Any) -> tuple[float, ...]:
        """Input coordinates of the centre of unit ``coord``'s field."""
        box = self.input_box(*coord)
        return tuple(_num((l + h) / 2) if np.ndim(l) == 0 else (l + h) / 2 for l, h in zip(box.lo, box.hi))

    def feature_coord(self, *point: float) -> tuple[int, ...]:
        """The unit whose field centre is nearest to input ``point`` (the inverse of
        :meth:`input_centre`)."""
        if len(point) != len(self.lo):
            raise ValueError(f"{self.name}: give one coordinate per spatial axis ({len(self.lo)}), got {point!r}")
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


def _fmt_shape(t: Sequence[int]) -> str:
    return " × ".join(map(str, t))


@dataclass
class ReceptiveFields(RowTable):
    """What :func:`receptive_field` returns: one :class:`RFRow` per layer, in execution order.

    Index by position (``rf[0]``, ``rf[-1]``) or by name: a module (``rf["features.0"]``), an
    operation in a module's forward (``rf["layer1.0.add"]``), or a container module, whose
    output is reported under its own name (``rf["layer4"]``). A module's later calls are
    ``"name#2"``... Prints as a text table; renders as HTML in notebooks.
    """

    model_name: str
    input_size: tuple[int, ...]
    rows: list[RFRow]
    aliases: dict[str, RFRow] = field(default_factory=dict)
    traced_on: str = "meta"
    _index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for i, r in enumerate(self.rows):
            self._index[r.key] = i

    _TABLE = "receptive-field table"

    def _extra_row(self, key: str) -> RFRow | None:
        return self.aliases.get(key)             # containers are indexable too, but are not rows

    def _known_names(self) -> list[str]:
        return [*self._index, *self.aliases]

    def __contains__(self, key: str) -> bool:
        return key in self._index or key in self.aliases

    @property
    def unaligned(self) -> list[RFRow]:
        """Rows where paths with different strides or centres merge."""
        return [r for r in self.rows if "unaligned merge" in r.note]


    # ---- rendering -------------------------------------------------------------------------
    _COLUMNS = ("name", "type", "output", "RF", "stride", "padding", "note")

    @staticmethod
    def _cells(r: RFRow) -> list[str]:
        name = r.name if r.call == 1 else f"{r.name} (call {r.call})"
        note = r.note
        if not r.aligned and "unaligned" not in note:
            note = "; ".join(filter(None, ["after an unaligned merge", note]))
        return [name, r.type, _fmt_shape(r.output_size) if r.spatial else "—", _fmt_pair(r.size),
                _fmt_pair(r.stride), _fmt_pair(r.padding), note]

    def _footer(self) -> str:
        last = self.rows[-1] if self.rows else None
        s = f"{self.model_name}, input {_fmt_shape(self.input_size)}: {len(self.rows)} layers"
        if last is not None:
            s += f"; last layer's field {_fmt_pair(last.size)} px, stride {_fmt_pair(last.stride)}"
        if self.unaligned:
            s += f"; {len(self.unaligned)} unaligned merge(s)"
        return s

    def __str__(self) -> str:
        table = [list(self._COLUMNS)] + [self._cells(r) for r in self.rows]
        if not any(row[-1] for row in table[1:]):
            table = [row[:-1] for row in table]
        return _text_table(table, right={2, 3, 4, 5}, rules={0}, footer=self._footer())

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        esc = html.escape
        cols = self._COLUMNS if any(self._cells(r)[-1] for r in self.rows) else self._COLUMNS[:-1]

        def tr(cells: Sequence[str], tag: str = "td") -> str:
            return "<tr>" + "".join(f"<{tag} style='text-align:{'right' if 2 <= i <= 5 else 'left'}'>{esc(c)}</{tag}>"
                                    for i, c in enumerate(cells)) + "</tr>"

        body = "".join(tr(self._cells(r)[:len(cols)]) for r in self.rows)
        return (f"<table class='dcnn-rf'><thead>{tr(cols, 'th')}</thead><tbody>{body}</tbody></table>"
                f"<p><small>{esc(self._footer())}</small></p>")


def _make_input(input_size: Sequence[int] | torch.Tensor, where: str, dtype: torch.dtype) -> torch.Tensor:
    if isinstance(input_size, torch.Tensor):
        return input_size
    size = tuple(int(s) for s in input_size)
    if len(size) < 2 or any(s < 1 for s in size):
        raise ValueError(f"{where}: input_size must be (C, H, W) or (N, C, H, W) of positive ints, got {input_size!r}")
    return torch.empty(size if len(size) >= 4 else (1, *size), device="meta", dtype=dtype)


def receptive_field(model: nn.Module, input_size: Sequence[int] | torch.Tensor, *, depth: int | None = None,
                    spatial_dims: int = 2) -> ReceptiveFields:
    """The receptive field of every layer of ``model`` (any ``nn.Module`` taking one tensor).

    Args:
        model: the network; it is run once in eval mode and left as it was.
        input_size: ``(C, H, W)``, ``(N, C, H, W)`` or an input tensor.
        depth: stop ``depth`` levels below the model (as :func:`~dcnn_lib.analysis.summary`);
            default: a row per leaf module and per operation in a container's ``forward`` that
            changes the fields (pooling, ``+`` of two paths, ``cat``, ``flatten``...).
        spatial_dims: how many trailing axes of the input are spatial (2 for images).

    Returns:
        :class:`ReceptiveFields`.

    Example::

        rf = receptive_field(torchvision.models.resnet50(), (3, 224, 224))
        rf["layer4"].size, rf["layer4"].stride     # (427, 427), (32, 32)
        rf["layer4"].input_box(3, 3)               # the field of the centre unit
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"receptive_field: model must be an nn.Module, got {type(model).__name__}")
    p = next((p for p in model.parameters() if p.is_floating_point()), None)
    x = _make_input(input_size, "receptive_field", p.dtype if p is not None else torch.float32)
    if x.ndim < spatial_dims + 1:
        raise ValueError(f"receptive_field: input of shape {tuple(x.shape)} has fewer than {spatial_dims} spatial axes")
    was_training = model.training
    model.eval()
    try:
        try:
            with torch.no_grad():
                tracer = _trace(model, x.to("meta"), spatial_dims, depth, meta=True)
            where = "meta"
        except Exception:  # the forward needs real values: run it on random data instead
            real = x if x.device.type != "meta" else torch.randn(
                x.shape, generator=torch.Generator().manual_seed(0), dtype=x.dtype).to(
                p.device if p is not None else "cpu")
            with torch.no_grad():
                tracer = _trace(model, real.detach().clone(), spatial_dims, depth, meta=False)
            where = str(real.device)
    finally:
        model.train(was_training)
    return ReceptiveFields(model_name=type(model).__name__, input_size=tuple(int(s) for s in x.shape[-spatial_dims:]),
                           rows=tracer.rows, aliases=tracer.aliases, traced_on=where)


# ---- effective receptive field (Luo et al., 2016) ---------------------------------------------


def effective_receptive_field(model: nn.Module, input_size: Sequence[int] | None = None, layer: str | int | None = None,
                              *, inputs: torch.Tensor | None = None, n_samples: int = 16, batch_size: int = 8,
                              unit: Sequence[int] | None = None, channels: Sequence[int] | None = None,
                              absolute: bool = True, seed: int = 0,
                              device: torch.device | str | None = None) -> np.ndarray:
    """The effective receptive field: how much each input pixel moves one unit, on average.

    Following Luo et al. (NeurIPS 2016), the gradient of the centre unit of ``layer``'s output
    (summed over its channels, or over ``channels``) is back-propagated to the input and its
    magnitude, summed over input channels, is averaged over inputs: ``n_samples`` standard
    normal images of ``input_size``, or the given ``inputs`` (e.g. photos). The model runs in
    eval mode and is left as it was.

    Args:
        model: any ``nn.Module``.
        input_size: ``(C, H, W)`` of the random inputs (ignored when ``inputs`` is given).
        layer: a row or container name of :func:`receptive_field`'s table, or a row index;
            default: the last layer with a spatial output.
        inputs: ``(N, C, H, W)`` images to average over instead of random ones.
        unit: the output unit ``(y, x)``; default: the centre.
        absolute: average ``|gradient|`` (default) or the signed gradient.

    Returns:
        a ``(H, W)`` float64 array at input resolution.
    """
    if inputs is None:
        if input_size is None:
            raise ValueError("effective_receptive_field: give input_size or inputs")
        size = tuple(int(s) for s in input_size)
        size = size[-3:] if len(size) >= 3 else size
        gen = torch.Generator().manual_seed(seed)
        inputs = torch.randn((n_samples, *size), generator=gen)
    if inputs.ndim != 4:
        raise ValueError(f"effective_receptive_field: inputs must be (N, C, H, W), got {tuple(inputs.shape)}")
    table = receptive_field(model, inputs[:1])
    if layer is None:
        spatial = [r for r in table if r.spatial]
        if not spatial:
            raise ValueError("effective_receptive_field: the model has no layer with a spatial output")
        row = spatial[-1]
    else:
        row = table[layer]
    key = row.key
    if not row.spatial and unit is not None:
        raise ValueError(f"effective_receptive_field: layer {key!r} has no spatial output to pick a unit in")
    unit = tuple(unit) if unit is not None else row.centre_unit
    row._unit(unit)  # validates
    if device is None:
        p = next(model.parameters(), None)
        device = p.device if p is not None else torch.device("cpu")
    total = torch.zeros(inputs.shape[-2:], dtype=torch.float64)
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(inputs), batch_size):
            x = inputs[start:start + batch_size].to(device).detach().clone().requires_grad_(True)
            tracer = _trace(model, x, 2, None, meta=False, capture=key)
            out = tracer.captured
            if out is None:
                raise RuntimeError(f"effective_receptive_field: layer {key!r} did not run on real inputs")
            sel = out if channels is None else out[:, list(channels)]
            value = sel[(slice(None), slice(None), *unit)] if row.spatial and sel.ndim >= 4 else sel
            (grad,) = torch.autograd.grad(value.sum(), x)
            g = grad.detach().double()
            total += (g.abs() if absolute else g).sum(1).sum(0).cpu()
    finally:
        model.train(was_training)
    return (total / len(inputs)).numpy()


@dataclass(frozen=True)
class ERFMass:
    """How concentrated an effective receptive field is (see :func:`erf_mass`)."""

    centre: tuple[float, float]
    radii: dict[float, float]
    rf_size: tuple[float, float] | None = None

    def rf_fraction(self, fraction: float) -> float | None:
        """Radius holding ``fraction`` of the mass, over the theoretical field's half-size."""
        if self.rf_size is None:
            return None
        return self.radii[fraction] / ((min(self.rf_size) - 1) / 2 or 1)

    def area_fraction(self, fraction: float) -> float | None:
        """Area of the disc holding ``fraction`` of the mass, over the theoretical field's area."""
        if self.rf_size is None:
            return None
        return min(1.0, math.pi * self.radii[fraction] ** 2 / (self.rf_size[0] * self.rf_size[1]))

    def __str__(self) -> str:
        parts = []
        for f, r in self.radii.items():
            s = f"{f:.0%} of the gradient within {r:.1f} px"
            if self.rf_size is not None:
                s += f" ({self.rf_fraction(f):.0%} of the theoretical half-size, {self.area_fraction(f):.0%} of its area)"
            parts.append(s)
        return "; ".join(parts)


def erf_mass(erf: np.ndarray, fractions: Sequence[float] = (0.68, 0.95), *, centre: Sequence[float] | None = None,
             rf: RFRow | Sequence[float] | None = None) -> ERFMass:
    """The radius of the smallest disc around ``centre`` holding each fraction of ``erf``'s mass.

    ``rf``: the layer's :class:`RFRow` (its centre unit's field centre and size are used) or a
    theoretical size ``(h, w)``, to say how much of the theoretical field holds the mass. For a
    2-D Gaussian of standard deviation σ, 68% lies within 1.51σ and 95% within 2.45σ.
    """
    m = np.abs(np.asarray(erf, dtype=np.float64))
    if m.ndim != 2 or m.sum() <= 0:
        raise ValueError("erf_mass: erf must be a 2-D array with some nonzero mass")
    size = None
    if isinstance(rf, RFRow):
        if centre is None:
            centre = rf.input_centre(*rf.centre_unit)
        size = tuple(float(s) for s in rf.size)
    elif rf is not None:
        size = tuple(float(s) for s in rf)
    if centre is None:
        centre = ((m.shape[0] - 1) / 2, (m.shape[1] - 1) / 2)
    yy, xx = np.indices(m.shape)
    dist = np.hypot(yy - centre[0], xx - centre[1]).ravel()
    order = np.argsort(dist, kind="stable")
    cum = np.cumsum(m.ravel()[order]) / m.sum()
    radii = {float(f): float(dist[order][min(np.searchsorted(cum, f), len(cum) - 1)]) for f in fractions}
    return ERFMass(centre=(float(centre[0]), float(centre[1])), radii=radii, rf_size=size)  # type: ignore[arg-type]


__all__ = ["receptive_field", "effective_receptive_field", "erf_mass", "ReceptiveFields", "RFRow", "Box", "ERFMass",
           "conv_output_size", "rf_size", "rf_jump", "rf_padding"]
