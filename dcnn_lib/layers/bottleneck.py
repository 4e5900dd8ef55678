"""The bottleneck residual block of ResNet-50/101/152 (He et al., CVPR 2016, Fig. 5 right).

A 1×1 convolution reduces the channels, a 3×3 works on the reduced maps, a 1×1 expands them
back ("the 1×1 layers are responsible for reducing and then increasing (restoring)
dimensions, leaving the 3×3 layer a bottleneck with smaller input/output dimensions")::

    x (256) ──► 1×1, 64 ─ BN ─ ReLU ─ 3×3, 64 ─ BN ─ ReLU ─ 1×1, 256 ─ BN ──► (+) ─ ReLU ──► y
    └─────────────────────────── shortcut h(x) ─────────────────────────────┘

Per output position that is 256·64 + 64·64·9 + 64·256 = 69,632 multiply-adds, against
256·256·9 = 589,824 for one plain 3×3 layer on 256 channels (the lecture's "≈ 70K vs ≈ 600K").

Where the stride goes, in the first block of conv3_x, conv4_x and conv5_x:

- ``stride_in_1x1=True``: on the first 1×1, as in the paper and its Caffe models ("ResNet
  v1"): every layer of the block then runs at the output resolution. Table 1's FLOPs.
- ``stride_in_1x1=False``: on the 3×3, as in fb.resnet.torch and torchvision ("ResNet
  v1.5"): the first 1×1 runs at the input resolution (4× the positions), which costs
  ≈ 0.23 G multiply-adds more in ResNet-50 and gains ≈ 0.5 % top-1 (no 1×1 throws away
  three quarters of its input positions).

Attribute names follow torchvision's ``Bottleneck`` (``conv1..3``, ``bn1..3``, ``downsample``);
as every :class:`~dcnn_lib.layers.ResidualBlock` it exposes ``shortcut`` (h), ``residual`` (F)
and ``merge`` (f(h + F), a ReLU).
"""
from __future__ import annotations

import torch
import torch.nn as nn

from .residual import ResidualBlock
from .shortcut import make_shortcut


class Bottleneck(ResidualBlock):
    """1×1 → 3×3 → 1×1 conv-BN layers with a shortcut; ReLU after the addition.

    Args:
        in_channels: channels of x.
        width: channels of the 1×1-reduced maps (64, 128, 256, 512 in Table 1).
        stride: 2 in the first block of a stage that halves the resolution.
        expansion: output channels = ``expansion * width`` (4).
        stride_in_1x1: put the stride on the first 1×1 (paper, "v1") instead of the 3×3
            (torchvision, "v1.5").
        shortcut: ``"B"`` (projection where the shape changes), ``"A"``, ``"C"`` or ``"none"``.

    Shapes: ``(N, in_channels, H, W) -> (N, expansion * width, H/stride, W/stride)``.
    """

    expansion = 4

    def __init__(self, in_channels: int, width: int, stride: int = 1, expansion: int = 4,
                 stride_in_1x1: bool = False, shortcut: str = "B") -> None:
        super().__init__()
        out_channels = expansion * width
        s1, s3 = (stride, 1) if stride_in_1x1 else (1, stride)
        self.conv1 = nn.Conv2d(in_channels, width, 1, stride=s1, bias=False)        # reduce
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=s3, padding=1, bias=False)  # the bottleneck
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_channels, 1, bias=False)                  # restore
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = make_shortcut(shortcut, in_channels, out_channels, stride)
        self.plain = shortcut == "none"
        self.stride, self.stride_in_1x1 = stride, stride_in_1x1

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        """F(x): 1×1-BN-ReLU, 3×3-BN-ReLU, 1×1-BN."""
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.bn3(self.conv3(out))
