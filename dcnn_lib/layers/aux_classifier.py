"""Auxiliary classifiers: small heads on intermediate maps that add their loss during training.

GoogLeNet (Szegedy et al., CVPR 2015, §5) puts two of them on the outputs of inception (4a)
and (4d): "by adding auxiliary classifiers connected to these intermediate layers, we would
expect to encourage discrimination in the lower stages in the classifier, increase the
gradient signal that gets propagated back, and provide additional regularization". Their
losses are added to the total loss with a weight of 0.3; at inference they are discarded.
Inception v3 (Szegedy et al., CVPR 2016, §7) keeps one, on the 17×17 grid, and finds it acts
as a regulariser rather than a help to convergence (it helps only near the end of training,
more so with batch norm in it).

Both heads here run only while training: models call them under ``if self.training``.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .conv_bn_act import ConvBNAct


class InceptionAux(nn.Module):
    """GoogLeNet's auxiliary classifier (§5 of the paper).

    avg pool 5×5/3 (14×14 → 4×4) → 1×1 conv 128 + ReLU → FC 1024 + ReLU → dropout 70% → FC.

    Args:
        in_channels: 512 after (4a), 528 after (4d).
        num_classes: outputs.
        pool: ``"paper"`` (``AvgPool2d(5, 3)``: 4×4 only from a 14×14 map) or ``"adaptive"``
            (``adaptive_avg_pool2d(4×4)``, torchvision's: any map size; on a 14×14 map its
            windows are 4 wide with stride 3 or 4, not 5 with stride 3).
        norm: batch norm in the 1×1 convolution (torchvision) or a bias (the paper).
        dropout: probability of dropping an FC unit (0.7).
        width: filters of the 1×1 convolution (128); ``hidden``: FC units (1024); ``grid``: the
            pooled side (4).

    State-dict keys are torchvision's (``conv``, ``fc1``, ``fc2``).
    Shapes: ``(N, in_channels, 14, 14) -> (N, num_classes)``.
    """

    def __init__(self, in_channels: int, num_classes: int, *, pool: str = "paper", norm: bool = False,
                 dropout: float = 0.7, width: int = 128, hidden: int = 1024, grid: int = 4) -> None:
        super().__init__()
        if pool not in ("paper", "adaptive"):
            raise ValueError(f"InceptionAux: pool must be 'paper' or 'adaptive', got {pool!r}")
        self.pool = nn.AvgPool2d(5, 3) if pool == "paper" else nn.AdaptiveAvgPool2d(grid)
        self.conv = ConvBNAct(in_channels, width, 1, norm=norm)
        self.fc1 = nn.Linear(width * grid * grid, hidden)
        self.dropout = nn.Dropout(dropout)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(x)                         # N x C x 4 x 4
        x = torch.flatten(self.conv(x), 1)       # N x 2048
        x = self.dropout(F.relu(self.fc1(x)))    # N x 1024
        return self.fc2(x)                       # N x num_classes


class InceptionV3Aux(nn.Module):
    """Inception v3's auxiliary classifier on the 17×17×768 grid (the paper's Figure 8, as
    released): avg pool 5×5/3 → 1×1 conv 128 → 5×5 conv 768 (both with batch norm: the
    "BN-auxiliary" of the paper's Table 3) → global average → FC.

    State-dict keys are torchvision's (``conv0``, ``conv1``, ``fc``).
    Shapes: ``(N, in_channels, 17, 17) -> (N, num_classes)``.
    """

    def __init__(self, in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.pool = nn.AvgPool2d(5, 3)
        self.conv0 = ConvBNAct(in_channels, 128, 1)
        self.conv1 = ConvBNAct(128, 768, 5)
        self.fc = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(self.conv0(self.pool(x)))        # N x 768 x 1 x 1 (at 299 x 299)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)       # N x 768
        return self.fc(x)
