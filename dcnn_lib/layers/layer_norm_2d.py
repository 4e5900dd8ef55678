"""Layer normalisation of a channels-first map: each position's ``C`` channels are normalised
(mean 0, variance 1) and scaled/shifted per channel — ``nn.LayerNorm`` over dim 1 of
``(N, C, H, W)``. Used by SAM's image-encoder neck and mask upscaling (and ConvNeXt).
"""
from __future__ import annotations

import torch
import torch.nn as nn


class LayerNorm2d(nn.Module):
    """Shapes: ``(N, C, H, W) -> (N, C, H, W)``."""

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        x = (x - mean) / torch.sqrt(var + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]
