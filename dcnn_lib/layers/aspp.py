"""Atrous Spatial Pyramid Pooling with image-level features (DeepLabv3, Chen et al. 2017, §3.3).

Parallel branches look at the same feature map at several scales:

- one 1×1 convolution;
- three 3×3 convolutions with atrous (dilation) rates ``r`` — (6, 12, 18) at output stride 16,
  doubled to (12, 24, 36) at output stride 8;
- **image pooling**: global average pooling, a 1×1 convolution, then bilinear upsampling back to
  the map's size (image-level context, added in v3 because a 3×3 filter with a rate close to the
  map size degenerates to its centre tap).

Each branch has 256 filters and batch normalisation; the concatenation (5 × 256 channels) is
projected by a 1×1 convolution to 256. The module and parameter names follow torchvision's
``ASPP`` so its weights load strictly.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn_relu(in_channels: int, out_channels: int, kernel_size: int = 1, dilation: int = 1) -> list[nn.Module]:
    """``[conv (no bias), BN, ReLU]`` with "same" padding (dilation-aware)."""
    pad = dilation * (kernel_size - 1) // 2
    return [nn.Conv2d(in_channels, out_channels, kernel_size, padding=pad, dilation=dilation, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU()]


class ImagePooling(nn.Sequential):
    """Global average pooling → 1×1 conv → BN → ReLU, broadcast back to ``H × W``.

    Shapes: ``(N, in, H, W) -> (N, out, H, W)``. Needs a batch of more than one image in
    training mode (batch norm over a 1×1 map).
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(nn.AdaptiveAvgPool2d(1), *conv_bn_relu(in_channels, out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        for module in self:
            x = module(x)
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class ASPP(nn.Module):
    """Atrous spatial pyramid pooling.

    Args:
        in_channels: channels of the backbone's last map (2048 for ResNet-50/101).
        rates: atrous rates of the 3×3 branches.
        out_channels: filters per branch and after the projection (256).
        dropout: after the projection (0.5 in torchvision and the DeepLab code).

    Shapes: ``(N, in, H, W) -> (N, out, H, W)``.
    """

    def __init__(self, in_channels: int, rates: Sequence[int] = (6, 12, 18), out_channels: int = 256,
                 dropout: float = 0.5) -> None:
        super().__init__()
        branches = [nn.Sequential(*conv_bn_relu(in_channels, out_channels))]
        branches += [nn.Sequential(*conv_bn_relu(in_channels, out_channels, 3, r)) for r in rates]
        branches.append(ImagePooling(in_channels, out_channels))
        self.convs = nn.ModuleList(branches)
        self.project = nn.Sequential(*conv_bn_relu(len(branches) * out_channels, out_channels),
                                     nn.Dropout(dropout))
        self.rates = tuple(rates)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(torch.cat([branch(x) for branch in self.convs], dim=1))
