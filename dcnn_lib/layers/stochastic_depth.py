"""Stochastic depth (Huang, Sun, Liu, Sedra & Weinberger, ECCV 2016), "drop path".

While training, each residual branch is dropped for a whole sample with probability ``p``
(the block is then the identity for that sample) and kept otherwise, scaled by ``1 / (1 - p)``
so that its expected value is unchanged; at test time it is always kept, unscaled. ConvNeXt
lets ``p`` grow linearly with depth, from 0 at the first block to the model's rate at the last
(0.1 / 0.4 / 0.5 / 0.5 for ConvNeXt-T/S/B/L on ImageNet-1K). torchvision's
``StochasticDepth(p, "row")`` does the same; it has no parameters.
"""
from __future__ import annotations

import torch
import torch.nn as nn


class StochasticDepth(nn.Module):
    """Shapes: ``(N, ...) -> (N, ...)``; per sample, all or nothing."""

    def __init__(self, p: float = 0.0) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"StochasticDepth: the drop probability must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        mask = torch.empty((x.shape[0],) + (1,) * (x.ndim - 1), dtype=x.dtype, device=x.device).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self) -> str:
        return f"p={self.p}"
