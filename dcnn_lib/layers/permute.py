"""``x.permute(*dims)`` as a module, to switch a ``Sequential`` between channels-first
``(N, C, H, W)`` and channels-last ``(N, H, W, C)`` (where ``nn.LayerNorm`` and
``nn.Linear`` act on the channels of every position: a 1×1 convolution)."""
from __future__ import annotations

import torch
import torch.nn as nn


class Permute(nn.Module):
    def __init__(self, *dims: int) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(*self.dims)

    def extra_repr(self) -> str:
        return ", ".join(map(str, self.dims))
