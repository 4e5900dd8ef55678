"""DenseNet's transition layer: between two dense blocks, shrink the channels and halve the maps.

Huang et al., CVPR 2017, §3: concatenation needs equal map sizes, so there is no pooling
*inside* a dense block; the "transition layers" between blocks do the down-sampling: "a batch
normalization layer and an 1×1 convolutional layer followed by a 2×2 average pooling layer".

**Compression** (the "C" of DenseNet-BC): "if a dense block contains m feature-maps, we let
the following transition layer generate ⌊θm⌋ output feature-maps, where 0 < θ ≤ 1"; θ = 0.5
in DenseNet-BC and in all four ImageNet DenseNets, θ = 1 (no compression) in plain DenseNet::

    (N, m, H, W) ─ BN ─ ReLU ─ 1×1 conv, ⌊θm⌋ ─ [dropout] ─ 2×2 avg pool, stride 2 ─► (N, ⌊θm⌋, H/2, W/2)

The children are named as in torchvision's ``_Transition`` (``norm``, ``relu``, ``conv``,
``pool``), so its state dicts load.
"""
from __future__ import annotations

import math

import torch.nn as nn

from ..errors import DcnnValueError


def compressed(channels: int, compression: float) -> int:
    """⌊θm⌋: the transition's output channels for ``channels`` = m input channels."""
    if not 0 < compression <= 1:
        raise DcnnValueError(f"compression θ must lie in (0, 1], got {compression}")
    return max(1, math.floor(channels * compression))


class Transition(nn.Sequential):
    """BN → ReLU → 1×1 conv → [dropout] → 2×2 average pooling (stride 2).

    Args:
        in_channels: m, the dense block's output channels.
        out_channels: ⌊θm⌋ (see :func:`compressed`).
        drop_rate: dropout after the convolution (the paper's CIFAR runs without augmentation).

    Shapes: ``(N, in_channels, H, W) -> (N, out_channels, H // 2, W // 2)``.
    """

    def __init__(self, in_channels: int, out_channels: int, drop_rate: float = 0.0) -> None:
        super().__init__()
        self.add_module("norm", nn.BatchNorm2d(in_channels))
        self.add_module("relu", nn.ReLU(inplace=True))
        self.add_module("conv", nn.Conv2d(in_channels, out_channels, 1, bias=False))
        if drop_rate > 0:
            self.add_module("dropout", nn.Dropout(drop_rate))
        self.add_module("pool", nn.AvgPool2d(2, stride=2))
        self.in_channels, self.out_channels = in_channels, out_channels
