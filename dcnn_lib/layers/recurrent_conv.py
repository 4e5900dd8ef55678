"""Recurrent convolutional layers and the recurrent residual unit of R2U-Net (Alom et al. 2018).

A **recurrent convolutional layer** (RCL, Liang & Hu, CVPR 2015) unfolds a convolution in
time: at step 0 it is a plain convolution of its input ``x``; at each step ``t = 1..T`` the
state is recomputed from the same feed-forward input plus a *recurrent* convolution of the
previous state (R2U-Net eq. 1–2)::

    h(0) = ReLU(BN(w_f * x))
    h(t) = ReLU(BN(w_f * x + w_r * h(t-1)))          t = 1 .. T

so every step widens the receptive field by one 3×3 kernel with no new parameters.
R2U-Net's "t = 2" is one convolution followed by two recurrent steps (T = 2).

The **recurrent residual convolutional unit** (RRCU, R2U-Net Fig. 4d) stacks two RCLs and adds
a residual connection; a 1×1 convolution first brings the input to the unit's width so that
the sum is defined. Batch norm (one per time step) is not in the paper's equations; it is in
the authors' and most public implementations, and makes the unit train from scratch.
"""
from __future__ import annotations

import torch
import torch.nn as nn


class RecurrentConv(nn.Module):
    """One RCL with ``t`` recurrent steps. Shapes: ``(N, C, H, W) -> (N, C, H, W)``."""

    def __init__(self, channels: int, t: int = 2) -> None:
        super().__init__()
        if t < 0:
            raise ValueError(f"RecurrentConv: t must be >= 0, got {t}")
        self.t = t
        self.feedforward = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.recurrent = nn.Conv2d(channels, channels, 3, padding=1, bias=False) if t else None
        self.norms = nn.ModuleList(nn.BatchNorm2d(channels) for _ in range(t + 1))
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.feedforward(x)                   # computed once: the input does not change in time
        h = self.act(self.norms[0](f))
        for step in range(1, self.t + 1):
            h = self.act(self.norms[step](f + self.recurrent(h)))
        return h


class RecurrentResidualBlock(nn.Module):
    """RRCU: ``x' = conv1×1(x); x' + RCL(RCL(x'))``.

    Args:
        in_channels, out_channels: widths.
        t: recurrent steps of each RCL (R2U-Net: 2).
        residual: ``False`` gives RU-Net's recurrent unit without the shortcut.

    Shapes: ``(N, in, H, W) -> (N, out, H, W)``.
    """

    def __init__(self, in_channels: int, out_channels: int, t: int = 2, residual: bool = True) -> None:
        super().__init__()
        self.adapt = nn.Conv2d(in_channels, out_channels, 1)
        self.rcl = nn.Sequential(RecurrentConv(out_channels, t), RecurrentConv(out_channels, t))
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.adapt(x)
        y = self.rcl(x)
        return x + y if self.residual else y
