"""RefineNet's chained residual pooling, CRP (Lin et al., CVPR 2017, §3.2, Fig. 2d).

After a ReLU, a chain of pooling blocks — each a 5×5 max-pooling with stride 1 followed by a
3×3 convolution — runs on the previous block's output, and every block's output is *added* to
the input: ``y = x + b1(x) + b2(b1(x)) + ...``. Each block pools over a larger region than the
last, so the chain gathers background context from growing windows without losing resolution;
the convolutions learn how much of it to add. The paper uses two blocks.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class ChainedResidualPooling(nn.Module):
    """Shapes: ``(N, C, H, W) -> (N, C, H, W)``.

    Args:
        channels: feature channels.
        blocks: pooling blocks in the chain (2 in the paper).
        pool_size: max-pooling window (5, stride 1, "same" padding).
    """

    def __init__(self, channels: int, blocks: int = 2, pool_size: int = 5) -> None:
        super().__init__()
        self.pool = nn.MaxPool2d(pool_size, stride=1, padding=pool_size // 2)
        self.convs = nn.ModuleList(nn.Conv2d(channels, channels, 3, padding=1, bias=False) for _ in range(blocks))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(x)
        out, path = x, x
        for conv in self.convs:
            path = conv(self.pool(path))
            out = out + path
        return out
