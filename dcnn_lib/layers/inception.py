"""The Inception module: parallel branches on one input, concatenated along the channels.

Szegedy et al. (CVPR 2015, §4) run 1×1, 3×3 and 5×5 convolutions and a 3×3 max pooling side
by side, so that one module looks at the same maps with several receptive-field sizes, and
put 1×1 convolutions in front of the expensive 3×3 and 5×5 ones to reduce the number of
channels they see ("dimension reduction"). Every later Inception network (v2, v3, v4,
Inception-ResNet) keeps the idea and changes the branches.

A module is therefore **data**: a dict of branches, each a list of layers, as the papers
draw them (one column of boxes per branch)::

    Inception(192, {                                  # GoogLeNet's inception (3a)
        "branch1": [conv(64, 1)],
        "branch2": [conv(96, 1), conv(128, 3)],
        "branch3": [conv(16, 1), conv(32, 5)],
        "branch4": [maxpool(3, stride=1, padding=1), conv(32, 1)],
    })                                                # 192 -> 64 + 128 + 32 + 32 = 256 maps

The layer specs are :func:`conv`, :func:`maxpool`, :func:`avgpool` and :func:`split` (two or
more convolutions side by side on the same input, concatenated: Inception v3's expanded
"1×3 and 3×1" branches). A branch made only of a pooling passes its input channels through.
Every convolution is a :class:`~dcnn_lib.layers.ConvBNAct` (with or without batch norm).

Two ways to name the layers, so that torchvision's weights load strictly:

- nested (default): a branch is one child, ``branch2.0``, ``branch2.1``... (a one-layer
  branch is the layer itself): torchvision's GoogLeNet;
- ``flat=True``: every layer is a child named after its branch, numbered from 1 when the
  branch has more than one convolution (``branch5x5_1``, ``branch5x5_2``; a split's parts get
  ``a``, ``b``...; poolings are named ``<branch>_maxpool`` / ``_avgpool``): torchvision's
  Inception v3.

:func:`googlenet_module` writes the branches of one row of GoogLeNet's Table 1 (and of the
BN-Inception table that followed it).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence, Union

import torch
import torch.nn as nn

from .conv_bn_act import ConvBNAct, resolve_padding


# ---- layer specs ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Conv:
    """A convolution (+ batch norm) + ReLU with ``out`` filters of ``kernel``."""

    out: int
    kernel: int | tuple[int, int]
    stride: int = 1
    padding: int | tuple[int, int] | str = "same"


@dataclass(frozen=True)
class Pool:
    """A max or average pooling."""

    kind: str  # "max" | "avg"
    kernel: int = 3
    stride: int = 1
    padding: int = 1
    ceil_mode: bool = False
    count_include_pad: bool = True


@dataclass(frozen=True)
class Split:
    """Convolutions side by side on the same input, outputs concatenated."""

    parts: tuple[Conv, ...]


Spec = Union[Conv, Pool, Split]


def conv(out: int, kernel: int | tuple[int, int], stride: int = 1,
         padding: int | tuple[int, int] | str = "same") -> Conv:
    """Spec of a convolution unit; ``padding="valid"`` for the "V" layers of the figures."""
    return Conv(out, kernel, stride, padding)


def maxpool(kernel: int = 3, stride: int = 1, padding: int = 1, ceil_mode: bool = False) -> Pool:
    return Pool("max", kernel, stride, padding, ceil_mode)


def avgpool(kernel: int = 3, stride: int = 1, padding: int = 1, ceil_mode: bool = False,
            count_include_pad: bool = True) -> Pool:
    """``count_include_pad=False`` averages over the window's real pixels (TensorFlow's "SAME")."""
    return Pool("avg", kernel, stride, padding, ceil_mode, count_include_pad)


def split(*parts: Conv) -> Split:
    if len(parts) < 2 or not all(isinstance(p, Conv) for p in parts):
        raise ValueError("split: needs two or more conv(...) specs")
    return Split(tuple(parts))


def _pool_module(p: Pool) -> nn.Module:
    if p.kind == "max":
        return nn.MaxPool2d(p.kernel, p.stride, p.padding, ceil_mode=p.ceil_mode)
    if p.kind == "avg":
        return nn.AvgPool2d(p.kernel, p.stride, p.padding, ceil_mode=p.ceil_mode,
                            count_include_pad=p.count_include_pad)
    raise ValueError(f"Pool.kind must be 'max' or 'avg', got {p.kind!r}")


class _Concat(nn.Module):
    """Children applied to the same input, concatenated (a nested :func:`split`)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([m(x) for m in self.children()], 1)


# ---- the module -----------------------------------------------------------------------------
class Inception(nn.Module):
    """Parallel branches of layers (specs), concatenated along the channels.

    Args:
        in_channels: channels of the input.
        branches: ``{name: [spec, ...]}`` in output order; specs from :func:`conv`,
            :func:`maxpool`, :func:`avgpool`, :func:`split`.
        norm: batch norm in every convolution unit (``False``: convolutions with bias).
        eps: the batch norms' epsilon.
        flat: name layers torchvision-v3 style (see the module docstring).

    Attributes: ``out_channels``; ``branch_channels`` (``{name: channels}``).

    Shapes: ``(N, in_channels, H, W) -> (N, out_channels, H', W')``; every branch must give
    the same ``H', W'`` (a stride-2 module — a "grid reduction" — strides every branch).
    """

    def __init__(self, in_channels: int, branches: Mapping[str, Sequence[Spec]], *,
                 norm: bool = True, eps: float = 1e-3, flat: bool = False) -> None:
        super().__init__()
        if not branches:
            raise ValueError("Inception: needs at least one branch")
        self.in_channels, self.flat = in_channels, flat
        self.specs = {name: list(specs) for name, specs in branches.items()}  # for diagrams
        self.branch_channels: dict[str, int] = {}
        self._paths: list[list[str | tuple[str, ...]]] = []

        def unit(c_in: int, s: Conv) -> ConvBNAct:
            return ConvBNAct(c_in, s.out, s.kernel, s.stride, resolve_padding(s.kernel, s.padding),
                             norm=norm, eps=eps)

        for name, specs in branches.items():
            if not specs:
                raise ValueError(f"Inception: branch {name!r} has no layers")
            n_convs = sum(not isinstance(s, Pool) for s in specs)
            numbered = n_convs > 1 or any(isinstance(s, Split) for s in specs)
            layers: list[tuple[str, nn.Module]] = []
            channels, index = in_channels, 0
            for s in specs:
                if isinstance(s, Pool):
                    layers.append((f"{name}_{s.kind}pool", _pool_module(s)))
                elif isinstance(s, Conv):
                    index += 1
                    layers.append((f"{name}_{index}" if numbered else name, unit(channels, s)))
                    channels = s.out
                elif isinstance(s, Split):
                    index += 1
                    parts = [(f"{name}_{index}{chr(97 + i)}", unit(channels, p)) for i, p in enumerate(s.parts)]
                    if flat:
                        layers.append((tuple(n for n, _ in parts), parts))  # type: ignore[arg-type]
                    else:
                        cat = _Concat()
                        for i, (_, m) in enumerate(parts):
                            cat.add_module(str(i), m)
                        layers.append((f"{name}_{index}", cat))
                    channels = sum(p.out for p in s.parts)
                else:
                    raise TypeError(f"Inception: branch {name!r}: unknown layer spec {s!r}")
            self.branch_channels[name] = channels
            if flat:
                path: list[str | tuple[str, ...]] = []
                for lname, module in layers:
                    if isinstance(lname, tuple):  # a split: register its parts, run them side by side
                        for pname, pm in module:  # type: ignore[union-attr]
                            self.add_module(pname, pm)
                    else:
                        self.add_module(lname, module)
                    path.append(lname)
                self._paths.append(path)
            else:
                modules = [m for _, m in layers]
                self.add_module(name, modules[0] if len(modules) == 1 else nn.Sequential(*modules))
                self._paths.append([name])
        self.out_channels = sum(self.branch_channels.values())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = []
        for path in self._paths:
            y = x
            for step in path:
                if isinstance(step, tuple):
                    y = torch.cat([self._modules[n](y) for n in step], 1)
                else:
                    y = self._modules[step](y)
            outs.append(y)
        return torch.cat(outs, 1)

    def extra_repr(self) -> str:
        return f"{self.in_channels} -> {self.out_channels} ({' + '.join(map(str, self.branch_channels.values()))})"


def scale_branches(branches: Mapping[str, Sequence[Spec]], width: float) -> dict[str, list[Spec]]:
    """The same branches with every convolution's filter count times ``width`` (at least 1):
    a paper's module at a fraction of its width, for small images and small budgets."""
    def one(c: Conv) -> Conv:
        return Conv(max(1, round(c.out * width)), c.kernel, c.stride, c.padding)

    return {name: [one(s) if isinstance(s, Conv) else Split(tuple(one(p) for p in s.parts))
                   if isinstance(s, Split) else s for s in specs] for name, specs in branches.items()}


# ---- GoogLeNet's module, one row of Table 1 -------------------------------------------------
BRANCH5 = ("5x5", "3x3", "double3x3")


def googlenet_module(c1x1: int, c3x3_reduce: int, c3x3: int, c5x5_reduce: int, c5x5: int,
                     pool_proj: int, *, branch5: str = "5x5", pool: str = "max",
                     stride: int = 1, ceil_mode: bool = True) -> dict[str, list[Spec]]:
    """The four branches of GoogLeNet's Inception module from one row of its Table 1.

    ``branch1``: 1×1; ``branch2``: 1×1 reduce → 3×3; ``branch3``: 1×1 reduce → 5×5;
    ``branch4``: 3×3 pooling → 1×1 "pool proj".

    ``branch5``: ``"5x5"`` (the paper), ``"3x3"`` (torchvision's GoogLeNet, a known slip it
    keeps for its ported weights) or ``"double3x3"`` (BN-Inception: two stacked 3×3, the same
    5×5 receptive field for 18/25 of the weights per channel pair).
    ``pool``: ``"max"`` or ``"avg"`` (BN-Inception uses both).
    ``stride=2`` makes a grid-reduction module (BN-Inception 3c, 4e): the last convolution of
    branches 2 and 3 and the pooling stride 2; ``c1x1=0`` drops branch 1 and ``pool_proj=0``
    lets the pooling pass its input through.
    """
    if branch5 not in BRANCH5:
        raise ValueError(f"googlenet_module: branch5 must be one of {BRANCH5}, got {branch5!r}")
    branches: dict[str, list[Spec]] = {}
    if c1x1:
        if stride != 1:
            raise ValueError("googlenet_module: a stride-2 module has no 1×1 branch (c1x1=0)")
        branches["branch1"] = [conv(c1x1, 1)]
    branches["branch2"] = [conv(c3x3_reduce, 1), conv(c3x3, 3, stride)]
    if branch5 == "double3x3":
        branches["branch3"] = [conv(c5x5_reduce, 1), conv(c5x5, 3), conv(c5x5, 3, stride)]
    else:
        branches["branch3"] = [conv(c5x5_reduce, 1), conv(c5x5, 5 if branch5 == "5x5" else 3, stride)]
    if pool == "max":
        p = maxpool(3, stride, 1 if stride == 1 else 0, ceil_mode=ceil_mode)
    elif pool == "avg":
        p = avgpool(3, stride, 1 if stride == 1 else 0, ceil_mode=ceil_mode)
    else:
        raise ValueError(f"googlenet_module: pool must be 'max' or 'avg', got {pool!r}")
    branches["branch4"] = [p, conv(pool_proj, 1)] if pool_proj else [p]
    return branches
