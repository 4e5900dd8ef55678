"""PSPNet's pyramid pooling module (Zhao et al., CVPR 2017, §3.3).

The last feature map is average-pooled into ``b × b`` bins for each pyramid level
``b ∈ {1, 2, 3, 6}`` (1: the whole image; 6: a 6×6 grid of sub-regions). Each pooled map goes
through a 1×1 convolution that reduces its channels to ``1/N`` of the input (N = number of
levels), batch norm and ReLU, is upsampled bilinearly back to the map's size and concatenated
with the map itself: a "global contextual prior" at four scales next to the local features.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from .aspp import conv_bn_relu


class PyramidPooling(nn.Module):
    """Pyramid pooling: ``x ‖ up(conv(pool_b(x)))`` for every bin size ``b``.

    Args:
        in_channels: channels of the input map (2048 for a ResNet).
        bins: pyramid levels (1, 2, 3, 6).
        reduction_channels: filters of each level's 1×1 conv (default ``in_channels // len(bins)``).

    Shapes: ``(N, C, H, W) -> (N, C + len(bins) · reduction, H, W)``; ``out_channels`` says which.
    """

    def __init__(self, in_channels: int, bins: Sequence[int] = (1, 2, 3, 6),
                 reduction_channels: int | None = None) -> None:
        super().__init__()
        red = reduction_channels or in_channels // len(bins)
        self.stages = nn.ModuleList(
            nn.Sequential(nn.AdaptiveAvgPool2d(b), *conv_bn_relu(in_channels, red)) for b in bins)
        self.bins = tuple(bins)
        self.out_channels = in_channels + len(bins) * red

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        pooled = [F.interpolate(stage(x), size=size, mode="bilinear", align_corners=False)
                  for stage in self.stages]
        return torch.cat([x, *pooled], dim=1)
