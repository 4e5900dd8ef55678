"""LeNet's trainable subsampling (layers S2 and S4).

"The four inputs to a unit in S2 are added, then multiplied by a trainable coefficient, and
added to a trainable bias" (LeCun et al. 1998, §II-B): a 2×2 sum pool with one coefficient and
one bias per feature map, i.e. ``2 * channels`` parameters. The squashing function that
follows is a separate module.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class Subsampling(nn.Module):
    """``y[c] = w[c] * sum_{2x2}(x[c]) + b[c]``.

    Shapes: ``(N, C, H, W) -> (N, C, H // k, W // k)`` with ``k = kernel_size`` (non-overlapping).
    """

    guard_as_conv = True  # dcnn_lib.layers.guard_inputs checks channels and size like a conv
    padding, dilation = 0, 1

    def __init__(self, channels: int, kernel_size: int = 2) -> None:
        super().__init__()
        self.channels, self.kernel_size = channels, kernel_size
        self.in_channels = channels
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = self.kernel_size
        summed = F.avg_pool2d(x, k) * (k * k)
        return summed * self.weight[:, None, None] + self.bias[:, None, None]

    def extra_repr(self) -> str:
        return f"{self.channels}, kernel_size={self.kernel_size}"
