"""The basic residual block of ResNet-18/34 and of the CIFAR networks (He et al., CVPR 2016, Fig. 2).

Two 3×3 convolutions and a shortcut that skips both ("we ... skip at least two layers": with a
single layer, y = Wx + x is just another linear layer)::

    x ──► conv 3×3 ─ BN ─ ReLU ─ conv 3×3 ─ BN ──► (+) ─ ReLU ──► y
    └──────────────── shortcut h(x) ──────────────┘

As every :class:`~dcnn_lib.layers.ResidualBlock`, it exposes the three parts of
y = f(h(x) + F(x)): ``shortcut`` (h), ``residual`` (F) and ``merge`` (f(h + F), here a ReLU).

Attribute names follow torchvision's ``BasicBlock`` (``conv1``, ``bn1``, ``conv2``, ``bn2``,
``downsample``), so its state dicts load unchanged. With ``shortcut="none"`` the block is the
"plain" counterpart of §4.1: the same layers without the addition.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from .residual import ResidualBlock
from .shortcut import make_shortcut


class BasicBlock(ResidualBlock):
    """Two 3×3 conv-BN layers with a shortcut; ReLU after the addition.

    Args:
        in_channels, out_channels: channels of x and y.
        stride: of the first convolution (2 where a stage halves the resolution).
        shortcut: ``"B"`` (projection where the shape changes: torchvision), ``"A"`` (zero
            padding: the CIFAR networks), ``"C"`` (projection everywhere) or ``"none"``
            (plain block: no addition).

    Shapes: ``(N, in_channels, H, W) -> (N, out_channels, H/stride, W/stride)``.
    """

    expansion = 1

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, shortcut: str = "B") -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.downsample = make_shortcut(shortcut, in_channels, out_channels, stride)
        self.plain = shortcut == "none"
        self.stride = stride

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        """F(x): conv-BN-ReLU-conv-BN."""
        return self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
