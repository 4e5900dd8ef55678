"""Multi-head attention (Vaswani et al. 2017): ``softmax(Q Kᵀ / √d) V`` over ``heads`` heads.

Linear projections take ``q``, ``k`` and ``v`` to an internal width ``dim // downsample_rate``
(SAM's mask decoder halves the width of its cross-attention layers, ``downsample_rate=2``),
each head attends with ``d = width / heads`` dimensions, and a projection brings the heads'
concatenated outputs back to ``dim``. Used as self-attention (``q = k = v``) in ViT blocks and
as cross-attention between prompt tokens and image tokens in SAM's two-way transformer.

Two layouts of the same projections:

- ``packed=False``: ``q_proj``, ``k_proj``, ``v_proj`` and ``out_proj`` linear layers (SAM's
  layout);
- ``packed=True``: one ``in_proj_weight`` (3·width × dim) and ``in_proj_bias`` holding the
  query, key and value projections one above the other, and ``out_proj`` — the parameter
  names of ``torch.nn.MultiheadAttention``, so a torchvision ViT's state dict loads as it is.

Setting ``store_attention = True`` keeps the attention probabilities of the last call in
``attention`` (``N x heads x Lq x Lk``; the analysis tools use it for attention maps and
mean attention distances). The attention is then computed with explicit matrix products;
otherwise with ``F.scaled_dot_product_attention`` (a fused kernel; same result).
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class Attention(nn.Module):
    """Shapes: ``q (N, Lq, dim)``, ``k, v (N, Lk, dim)`` -> ``(N, Lq, dim)``.

    Args:
        dim: width of the tokens.
        heads: number of heads (must divide the internal width).
        downsample_rate: internal width ``dim // downsample_rate``.
        packed: one ``in_proj_weight`` for q, k and v (``nn.MultiheadAttention``'s names).
        dropout: dropout on the attention probabilities while training.
    """

    def __init__(self, dim: int, heads: int, downsample_rate: int = 1, *, packed: bool = False,
                 dropout: float = 0.0) -> None:
        super().__init__()
        inner = dim // downsample_rate
        if heads < 1 or inner % heads:
            raise ValueError(f"Attention: heads ({heads}) must divide the internal width {inner}")
        self.heads, self.inner, self.packed, self.dropout = heads, inner, packed, dropout
        if packed:
            self.in_proj_weight = nn.Parameter(torch.empty(3 * inner, dim))
            self.in_proj_bias = nn.Parameter(torch.zeros(3 * inner))
            nn.init.xavier_uniform_(self.in_proj_weight)
        else:
            self.q_proj, self.k_proj, self.v_proj = nn.Linear(dim, inner), nn.Linear(dim, inner), nn.Linear(dim, inner)
        self.out_proj = nn.Linear(inner, dim)
        if packed:
            nn.init.zeros_(self.out_proj.bias)
        self.store_attention = False
        self.attention: torch.Tensor | None = None

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        n, length, c = x.shape
        return x.reshape(n, length, self.heads, c // self.heads).transpose(1, 2)   # N x heads x L x d

    def _project(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor):
        if not self.packed:
            return self.q_proj(q), self.k_proj(k), self.v_proj(v)
        w, b = self.in_proj_weight.chunk(3), self.in_proj_bias.chunk(3)
        if q is k and k is v:                                   # self-attention: one product
            return F.linear(q, self.in_proj_weight, self.in_proj_bias).chunk(3, dim=-1)
        return F.linear(q, w[0], b[0]), F.linear(k, w[1], b[1]), F.linear(v, w[2], b[2])

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        if q.ndim != 3 or k.ndim != 3 or v.ndim != 3:
            raise ValueError(f"Attention: expected q, k, v of shape (N, L, dim), got "
                             f"{tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}")
        q, k, v = (self._split(t) for t in self._project(q, k, v))            # N x heads x L x d
        p = self.dropout if self.training else 0.0
        if self.store_attention:
            scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])         # N x heads x Lq x Lk
            attn = scores.softmax(dim=-1)
            self.attention = attn.detach()
            out = F.dropout(attn, p) @ v                                       # N x heads x Lq x d
        else:
            out = F.scaled_dot_product_attention(q, k, v, dropout_p=p)
        return self.out_proj(out.transpose(1, 2).flatten(2))                   # N x Lq x dim
