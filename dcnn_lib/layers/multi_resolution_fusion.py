"""RefineNet's multi-resolution fusion (Lin et al., CVPR 2017, §3.2, Fig. 2c).

Fuses the input paths of a RefineNet block into one map: each path goes through a 3×3
convolution that brings it to the same number of channels (the smallest among the paths) and
scales its values, is upsampled to the largest resolution among the paths, and the results are
summed. A block with a single input path (RefineNet-4) skips this step.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F


class MultiResolutionFusion(nn.Module):
    """``sum_i up(conv_i(x_i))`` at the largest input resolution.

    Args:
        in_channels: channels of each input path.
        out_channels: channels of the fused map (default: the smallest of ``in_channels``).

    Shapes: ``[(N, C_i, H_i, W_i)] -> (N, out, max H_i, max W_i)``.
    """

    def __init__(self, in_channels: Sequence[int], out_channels: int | None = None) -> None:
        super().__init__()
        out = out_channels or min(in_channels)
        self.convs = nn.ModuleList(nn.Conv2d(c, out, 3, padding=1, bias=False) for c in in_channels)
        self.out_channels = out

    def forward(self, xs: Sequence[torch.Tensor]) -> torch.Tensor:
        if len(xs) != len(self.convs):
            raise ValueError(f"MultiResolutionFusion: expected {len(self.convs)} input paths, got {len(xs)}")
        size = max((x.shape[-2:] for x in xs), key=lambda s: s[0] * s[1])
        out = 0
        for conv, x in zip(self.convs, xs):
            y = conv(x)
            if y.shape[-2:] != size:
                y = F.interpolate(y, size=size, mode="bilinear", align_corners=False)
            out = out + y
        return out
