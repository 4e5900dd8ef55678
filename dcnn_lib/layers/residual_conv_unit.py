"""RefineNet's residual convolution unit, RCU (Lin et al., CVPR 2017, §3.2, Fig. 2b).

A simplified pre-activation residual block: ``x + conv3×3(ReLU(conv3×3(ReLU(x))))``, without
batch normalisation. Two RCUs adapt each input path of a RefineNet block to the segmentation
task (fine-tuning the pretrained backbone's features); three more sit at the block's output
and the network's end.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class ResidualConvUnit(nn.Module):
    """Shapes: ``(N, C, H, W) -> (N, C, H, W)``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(F.relu(x))))
