"""PrimaryCapsules: a convolution whose output channels are read as groups of capsule vectors.

Sabour, Frosst & Hinton (NIPS 2017, §4): "a convolutional capsule layer with 32 channels of
convolutional 8D capsules (i.e. each primary capsule contains 8 convolutional units with a
9 × 9 kernel and a stride of 2)". One ``nn.Conv2d`` with 32 · 8 = 256 output channels
computes them all: channels ``8k … 8k + 7`` are the 8 components of capsule type ``k``, and
every position of the 6×6 grid holds one capsule of each type, sharing the type's weights
like any convolution. The 32 × 6 × 6 = 1152 vectors are squashed.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from .squash import squash


class PrimaryCapsules(nn.Module):
    """``(N, in, H, W) -> (N, capsules · H' · W', dim)``, squashed.

    Args:
        in_channels: channels of the input maps (CapsNet: Conv1's 256).
        capsules: capsule types (channels of capsules; CapsNet: 32).
        dim: components of each capsule (CapsNet: 8).
        kernel_size, stride: of the convolution (CapsNet: 9, 2).

    Capsules are ordered type-major: index ``k · H'W' + y · W' + x``.
    """

    def __init__(self, in_channels: int = 256, capsules: int = 32, dim: int = 8, kernel_size: int = 9,
                 stride: int = 2) -> None:
        super().__init__()
        self.capsules, self.dim = capsules, dim
        self.conv = nn.Conv2d(in_channels, capsules * dim, kernel_size, stride)

    def grid(self, x: torch.Tensor) -> torch.Tensor:
        """The squashed capsules on their grid: ``(N, capsules, H', W', dim)``."""
        u = self.conv(x)                                            # N x 256 x 6 x 6
        n, _, h, w = u.shape
        u = u.view(n, self.capsules, self.dim, h, w).permute(0, 1, 3, 4, 2)   # N x 32 x 6 x 6 x 8
        return squash(u)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = self.grid(x)
        return g.reshape(g.shape[0], -1, self.dim)                  # N x 1152 x 8

    def extra_repr(self) -> str:
        return f"capsules={self.capsules}, dim={self.dim}"
