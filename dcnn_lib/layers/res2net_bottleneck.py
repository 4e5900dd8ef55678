"""Res2Net's bottleneck: a hierarchy of small 3×3 convolutions inside one residual block.

Gao, Cheng, Zhao, Zhang, Yang & Torr, "Res2Net: A New Multi-scale Backbone Architecture",
TPAMI 2021 (arXiv April 2019), §3.1. A ResNet bottleneck has one 3×3 convolution on n maps.
Res2Net splits the 1×1-reduced maps into s groups x₁ … x_s of w maps each ("scale" s, "width"
w, n = s·w) and connects them hierarchically, residual-style::

    y₁ = x₁                        (passes through)
    y₂ = K₂(x₂)                    (3×3 conv-BN-ReLU)
    y_i = K_i(x_i + y_{i−1})       for 2 < i ≤ s

then concatenates y₁ … y_s and restores the channels with a 1×1 convolution. y_i has gone
through i − 1 stacked 3×3 convolutions (an output of K_i sees (2i − 1)×(2i − 1) of the 1×1
maps), so one block holds receptive fields of 1, 3, 5, …, 2s − 1 pixels at once: "multi-scale
features at a granular level". The 3×3 stage has (s − 1)·9w² weights where one 3×3 on the
same n = s·w maps would have 9(s·w)², so Res2Net-50 (w = 26, s = 4: n = 104 maps where
ResNet-50 has 64) keeps ResNet-50's budget of parameters and multiply-adds.

Two details follow the authors' code (``Res2Net/Res2Net-PretrainedModels``, ``res2net.py``),
whose layout timm's ``res2net50_*`` shares (names ``conv1``, ``bn1``, ``convs``, ``bns``,
``pool``, ``conv3``, ``bn3``, ``downsample``):

- the group that passes through is the **last** split, not the first (the same network up to
  the order of the channels): ``convs[0]`` reads split 0, ``convs[i]`` reads split i plus the
  previous output;
- the **first block of every stage** (``first=True``, the code's ``stype='stage'``) has no
  hierarchy — every K_i reads its own split only — and its pass-through group goes through a
  3×3 average pooling with the block's stride, since the other groups are strided by their
  convolutions. The stride sits on the 3×3 convolutions (as in ResNet v1.5).

As every :class:`~dcnn_lib.layers.ResidualBlock`, the block exposes ``shortcut``, ``residual``
and ``merge`` (a ReLU after the addition).
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn

from ..errors import DcnnValueError
from .residual import ResidualBlock
from .shortcut import make_shortcut


class Res2NetBottleneck(ResidualBlock):
    """1×1 → s groups with hierarchical 3×3 convolutions → 1×1, with a shortcut.

    Args:
        in_channels: channels of x.
        planes: the bottleneck's nominal width (64, 128, 256, 512 in ResNet-50); the output has
            ``expansion · planes`` channels.
        stride: 2 in the first block of a stage that halves the resolution.
        base_width: w at ``planes = 64`` (26 in Res2Net-50 26w×4s); each split has
            ⌊planes · base_width / 64⌋ maps.
        scale: s, the number of splits (1: one 3×3 convolution, a ResNet bottleneck).
        first: the first block of a stage (no hierarchy, pooled pass-through group).
        expansion: output channels per ``planes`` (4).
        shortcut: ``"B"`` (projection where the shape changes) or another kind of
            :func:`~dcnn_lib.layers.make_shortcut`.

    Attributes: ``width`` (maps per split), ``scale``, ``first``.
    Shapes: ``(N, in_channels, H, W) -> (N, expansion * planes, H/stride, W/stride)``.
    """

    expansion = 4

    def __init__(self, in_channels: int, planes: int, stride: int = 1, base_width: int = 26, scale: int = 4,
                 first: bool = False, expansion: int = 4, shortcut: str = "B") -> None:
        super().__init__()
        if scale < 1:
            raise DcnnValueError(f"Res2NetBottleneck: scale must be >= 1, got {scale}")
        width = math.floor(planes * base_width / 64)
        if width < 1:
            raise DcnnValueError(f"Res2NetBottleneck: planes={planes} and base_width={base_width} give splits of "
                             f"{planes * base_width / 64:g} maps; need at least 1")
        out_channels = expansion * planes
        n_convs = 1 if scale == 1 else scale - 1
        self.conv1 = nn.Conv2d(in_channels, width * scale, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width * scale)
        self.convs = nn.ModuleList(nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
                                   for _ in range(n_convs))
        self.bns = nn.ModuleList(nn.BatchNorm2d(width) for _ in range(n_convs))
        if first and scale > 1:
            self.pool = nn.AvgPool2d(3, stride=stride, padding=1)
        self.conv3 = nn.Conv2d(width * scale, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = make_shortcut(shortcut, in_channels, out_channels, stride)
        self.plain = shortcut == "none"
        self.width, self.scale, self.first, self.stride = width, scale, first, stride

    def splits(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The groups y₁ … y_s after the 3×3 convolutions, in channel order (the pass-through
        group last): each ``(N, width, H/stride, W/stride)``."""
        xs = torch.split(self.relu(self.bn1(self.conv1(x))), self.width, 1)
        ys, y = [], None
        for i, (conv, bn) in enumerate(zip(self.convs, self.bns)):
            inp = xs[i] if i == 0 or self.first else y + xs[i]
            y = self.relu(bn(conv(inp)))
            ys.append(y)
        if self.scale > 1:
            ys.append(self.pool(xs[-1]) if self.first else xs[-1])
        return ys

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        """F(x): 1×1-BN-ReLU, the hierarchical 3×3s, concatenation, 1×1-BN."""
        return self.bn3(self.conv3(torch.cat(self.splits(x), 1)))

    def extra_repr(self) -> str:
        return f"width={self.width}, scale={self.scale}, stride={self.stride}" + (", first" if self.first else "")
