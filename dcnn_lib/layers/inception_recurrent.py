"""The IRRCNN block: Inception branches made of recurrent convolutional layers, plus a residual.

Alom, Hasan, Yakopcic, Taha & Asari, "Improved Inception-Residual Convolutional Neural Network
for Object Recognition" (arXiv:1712.09888; Neural Computing and Applications 32, 2020) put
RCLs (:class:`~dcnn_lib.layers.RecurrentConv`) inside the branches of an Inception module and
add the module's input to its output, as Inception-ResNet does::

    F(x) = concat( RCL_1×1(x),  RCL_3×3(x),  RCL_1×1(avgpool_3×3(x)) )
    y    = x + F(x)              (1×1 projection of x where the widths differ)

Our reading where the paper (as available to us) leaves the details open: three branches,
1×1, 3×3 and 3×3 average pooling (stride 1) followed by a 1×1 RCL, as in the public
reimplementations; no activation after the sum (the branches end in a ReLU already); a
projection with bias and without batch norm (Inception-ResNet's "linear" 1×1).

The paper compares IRRCNN with networks of the same number of parameters. ``unit="plain"``
replaces every RCL by its feed-forward equivalent: two stacked convolutions with the RCL's two
kernels (``in→out`` and ``out→out``), so the convolution weights are identical in number; only
the batch norms differ (one per time step in an RCL, one per convolution here).
``residual=False`` drops the sum. The four combinations are the paper's family:

=================  =================  ==================================================
``unit``           ``residual``       network
=================  =================  ==================================================
``"recurrent"``    ``True``           IRRCNN (this paper)
``"recurrent"``    ``False``          IRCNN (Alom et al., arXiv:1704.07709, 2017)
``"plain"``        ``True``           EIRN, "equivalent Inception-residual network"
``"plain"``        ``False``          EIN, "equivalent Inception network"
=================  =================  ==================================================
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn

from .conv_bn_act import ConvBNAct
from .recurrent_conv import RecurrentConv
from .residual import ResidualBlock

UNITS = ("recurrent", "plain")


def recurrent_or_plain(in_channels: int, out_channels: int, kernel_size: int, *, unit: str, t: int) -> nn.Module:
    """An RCL with ``t`` steps, or (``unit="plain"``) the same two kernels stacked as two
    conv-BN-ReLU layers: equal convolution weights, no recurrence."""
    if unit == "recurrent":
        return RecurrentConv(in_channels, out_channels, kernel_size, t=t)
    if unit == "plain":
        return nn.Sequential(ConvBNAct(in_channels, out_channels, kernel_size, padding="same", eps=1e-5),
                             ConvBNAct(out_channels, out_channels, kernel_size, padding="same", eps=1e-5))
    raise ValueError(f"unit must be one of {UNITS}, got {unit!r}")


class InceptionRecurrentBlock(ResidualBlock):
    """``y = h(x) + concat(RCL_1×1(x), RCL_3×3(x), RCL_1×1(pool(x)))``.

    Args:
        in_channels: channels of ``x``.
        widths: output channels of the 1×1, 3×3 and pooling branches.
        t: recurrent steps of every RCL.
        unit: ``"recurrent"`` (RCLs) or ``"plain"`` (feed-forward equivalents, equal weights).
        residual: add the (projected) input.

    A :class:`~dcnn_lib.layers.ResidualBlock` (``shortcut`` / ``residual`` / ``merge``), so the
    lesion and unraveled-view tools apply. Shapes: ``(N, in, H, W) -> (N, sum(widths), H, W)``.
    """

    def __init__(self, in_channels: int, widths: Sequence[int] = (64, 128, 64), *, t: int = 3,
                 unit: str = "recurrent", residual: bool = True) -> None:
        super().__init__()
        if len(widths) != 3:
            raise ValueError(f"InceptionRecurrentBlock: widths are (1×1, 3×3, pool) channels, got {tuple(widths)}")
        if unit not in UNITS:
            raise ValueError(f"InceptionRecurrentBlock: unit must be one of {UNITS}, got {unit!r}")
        w1, w3, wp = widths
        self.in_channels, self.out_channels = in_channels, w1 + w3 + wp
        self.unit, self.t = unit, t
        self.branch1x1 = recurrent_or_plain(in_channels, w1, 1, unit=unit, t=t)
        self.branch3x3 = recurrent_or_plain(in_channels, w3, 3, unit=unit, t=t)
        self.branch_pool = nn.Sequential(nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
                                         recurrent_or_plain(in_channels, wp, 1, unit=unit, t=t))
        self.plain = not residual
        self.downsample = (nn.Conv2d(in_channels, self.out_channels, 1)
                           if residual and in_channels != self.out_channels else None)
        self.relu = nn.Identity()                 # no activation after the sum

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1x1(x), self.branch3x3(x), self.branch_pool(x)], 1)

    def extra_repr(self) -> str:
        return (f"{self.in_channels} -> {self.out_channels}, unit={self.unit!r}, t={self.t}, "
                f"residual={not self.plain}")
