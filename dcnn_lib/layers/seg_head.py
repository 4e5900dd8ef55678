"""The plain segmentation head: 3×3 conv → BN → ReLU → dropout → 1×1 conv to class scores.

Used as FCN's head on a dilated ResNet (torchvision's ``FCNHead``: ``in → in/4`` channels,
dropout 0.1), as the auxiliary head on stage 4 (PSPNet's deep supervision, torchvision's
``aux_classifier``) and, with 512 middle channels, as PSPNet's head after pyramid pooling.
Indices ``0, 1, 4`` hold the parameters, as in torchvision, so its weights load strictly.
"""
from __future__ import annotations

import torch.nn as nn


class ConvHead(nn.Sequential):
    """Shapes: ``(N, in, H, W) -> (N, num_classes, H, W)``.

    Args:
        in_channels: input channels.
        num_classes: output channels (class scores).
        mid_channels: channels of the 3×3 conv (default ``in_channels // 4``).
        dropout: dropout probability before the classifier (0.1).
    """

    def __init__(self, in_channels: int, num_classes: int, mid_channels: int | None = None,
                 dropout: float = 0.1) -> None:
        mid = mid_channels or in_channels // 4
        super().__init__(
            nn.Conv2d(in_channels, mid, 3, padding=1, bias=False),
            nn.BatchNorm2d(mid),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Conv2d(mid, num_classes, 1),
        )
