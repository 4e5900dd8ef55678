"""The recurrent convolutional layer (RCL) and R2U-Net's recurrent residual unit.

A **recurrent convolutional layer** (Liang & Hu, "Recurrent Convolutional Neural Network for
Object Recognition", CVPR 2015) unfolds a convolution in time. The input ``u`` is static: its
feed-forward convolution is computed once and enters every step, while a *recurrent*
convolution of the previous state is added from step 1 on (Liang & Hu eq. 1; R2U-Net eq. 1-2;
IRRCNN eq. 1)::

    z(0) = w_f * u + b
    z(t) = w_f * u + w_r * x(t-1) + b          t = 1 .. T
    x(t) = norm_t(z(t)) then ReLU               (batch norm, one per step: R2U-Net, IRRCNN)
         = LRN(ReLU(z(t)))                       (Liang & Hu: local response normalisation)

The same two kernels serve every step, so the parameters do not depend on ``T`` while each
step widens the receptive field by one kernel: an RCL with 3×3 kernels and ``T`` steps sees
``(2T + 3) × (2T + 3)`` pixels, the view of ``T + 1`` stacked convolutions. Unfolded, it is a
network whose paths have 1 to ``T + 1`` convolutions (Liang & Hu Fig. 2). In the papers' ``t``:
R2U-Net's and IRRCNN's "t = 2" / "t = 3" count the recurrent steps (``T``).

Batch norm keeps one set of statistics and affine parameters per step (the authors' and most
public implementations; a single BN shared across steps trains poorly because the statistics
of ``z(t)`` change with ``t``). With batch norm the bias ``b`` is redundant and omitted.

The **recurrent residual convolutional unit** (RRCU, R2U-Net Fig. 4d) stacks two RCLs and adds
a residual connection; a 1×1 convolution first brings the input to the unit's width so that
the sum is defined.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from .lrn import LocalResponseNorm

NORMS = ("batch", "lrn", "none")


def liang_hu_lrn(channels: int) -> LocalResponseNorm:
    """Liang & Hu's LRN: ``N = K/8 + 1`` neighbouring maps of ``K``, α = 0.001 divided by
    ``N`` (their formula averages the squares), β = 0.75, k = 1."""
    n = channels // 8 + 1
    return LocalResponseNorm(n, alpha=0.001 / n, beta=0.75, k=1.0)


class RecurrentConv(nn.Module):
    """One RCL: a convolution unrolled ``t`` steps with shared weights.

    Args:
        in_channels: channels of the static input ``u``.
        out_channels: channels of the state (default: ``in_channels``).
        kernel_size: of both the feed-forward and the recurrent kernel (odd; same padding).
        t: recurrent steps ``T`` (0: a plain convolution, ``norm``, ReLU).
        norm: ``"batch"`` (one BN per step, before the ReLU), ``"lrn"`` (Liang & Hu: LRN
            after the ReLU) or ``"none"``.

    Shapes: ``(N, in, H, W) -> (N, out, H, W)``. :meth:`states` returns ``x(0) … x(T)``.
    """

    def __init__(self, in_channels: int, out_channels: int | None = None, kernel_size: int = 3, *,
                 t: int = 2, norm: str = "batch") -> None:
        super().__init__()
        if not isinstance(t, int) or t < 0:
            raise ValueError(f"RecurrentConv: t (recurrent steps) must be an int >= 0, got {t!r}")
        if norm not in NORMS:
            raise ValueError(f"RecurrentConv: norm must be one of {NORMS}, got {norm!r}")
        if kernel_size % 2 != 1:
            raise ValueError(f"RecurrentConv: kernel_size must be odd (same padding), got {kernel_size}")
        out_channels = out_channels or in_channels
        self.t, self.norm = t, norm
        self.in_channels, self.out_channels = in_channels, out_channels
        pad = kernel_size // 2
        self.feedforward = nn.Conv2d(in_channels, out_channels, kernel_size, padding=pad, bias=norm != "batch")
        self.recurrent = nn.Conv2d(out_channels, out_channels, kernel_size, padding=pad, bias=False) if t else None
        if norm == "batch":
            self.norms = nn.ModuleList(nn.BatchNorm2d(out_channels) for _ in range(t + 1))
        elif norm == "lrn":
            self.lrn = liang_hu_lrn(out_channels)
        self.act = nn.ReLU(inplace=True)

    def _state(self, step: int, z: torch.Tensor) -> torch.Tensor:
        if self.norm == "batch":
            return self.act(self.norms[step](z))     # in place on the norm's output
        h = torch.relu(z)                            # not in place: at step 0, z is w_f * u itself
        return self.lrn(h) if self.norm == "lrn" else h

    def states(self, x: torch.Tensor) -> list[torch.Tensor]:
        """``[x(0), x(1), …, x(T)]``, each ``(N, out, H, W)``."""
        f = self.feedforward(x)                   # computed once: the input does not change in time
        h = [self._state(0, f)]
        for step in range(1, self.t + 1):
            h.append(self._state(step, f + self.recurrent(h[-1])))
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.feedforward(x)
        h = self._state(0, f)
        for step in range(1, self.t + 1):
            h = self._state(step, f + self.recurrent(h))
        return h

    def extra_repr(self) -> str:
        return f"t={self.t}, norm={self.norm!r}"


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
        self.rcl = nn.Sequential(RecurrentConv(out_channels, t=t), RecurrentConv(out_channels, t=t))
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.adapt(x)
        y = self.rcl(x)
        return x + y if self.residual else y
