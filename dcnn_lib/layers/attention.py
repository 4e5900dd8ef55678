"""Multi-head attention with separate queries, keys and values (Vaswani et al. 2017).

``softmax(Q Kᵀ / √d) V`` over ``heads`` heads, after linear projections of ``q``, ``k`` and
``v`` to an internal width ``dim // downsample_rate`` (SAM's mask decoder halves the width of
its cross-attention layers, ``downsample_rate=2``), then a projection back to ``dim``. Used as
self-attention (``q = k = v``) in ViT blocks and as cross-attention between prompt tokens and
image tokens in SAM's two-way transformer.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class Attention(nn.Module):
    """Shapes: ``q (N, Lq, dim)``, ``k, v (N, Lk, dim)`` -> ``(N, Lq, dim)``."""

    def __init__(self, dim: int, heads: int, downsample_rate: int = 1) -> None:
        super().__init__()
        inner = dim // downsample_rate
        if inner % heads:
            raise ValueError(f"Attention: heads ({heads}) must divide the internal width {inner}")
        self.heads = heads
        self.q_proj, self.k_proj, self.v_proj = nn.Linear(dim, inner), nn.Linear(dim, inner), nn.Linear(dim, inner)
        self.out_proj = nn.Linear(inner, dim)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        n, length, c = x.shape
        return x.reshape(n, length, self.heads, c // self.heads).transpose(1, 2)   # N x heads x L x d

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        q, k, v = self._split(self.q_proj(q)), self._split(self.k_proj(k)), self._split(self.v_proj(v))
        out = F.scaled_dot_product_attention(q, k, v)                                 # N x heads x Lq x d
        return self.out_proj(out.transpose(1, 2).flatten(2))
