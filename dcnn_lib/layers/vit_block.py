"""The Vision Transformer's pieces (Dosovitskiy et al., ICLR 2021): patch embedding and the
pre-norm transformer block.

- :class:`PatchEmbedding`: a ``p × p`` convolution with stride ``p`` cuts the image into
  non-overlapping patches and projects each to a ``dim``-vector: ``(N, 3, H, W) ->
  (N, H/p, W/p, dim)``.
- :class:`ViTBlock`: ``x + MHSA(LN(x))`` then ``x + MLP(LN(x))`` with a GELU MLP of
  ``mlp_ratio · dim`` hidden units.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from .attention import Attention


class MLP(nn.Sequential):
    """``Linear → act → Linear (→ act → Linear ...)``: ``layers`` linear layers."""

    def __init__(self, in_dim: int, hidden: int, out_dim: int, layers: int = 2,
                 act: type[nn.Module] = nn.GELU) -> None:
        dims = [in_dim] + [hidden] * (layers - 1) + [out_dim]
        mods: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
            mods.append(nn.Linear(a, b))
            if i < layers - 1:
                mods.append(act())
        super().__init__(*mods)


class PatchEmbedding(nn.Module):
    """Shapes: ``(N, C, H, W) -> (N, H/p, W/p, dim)`` (H and W multiples of ``p``)."""

    def __init__(self, patch_size: int, in_channels: int, dim: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_channels, dim, patch_size, stride=patch_size)
        self.patch_size = patch_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).permute(0, 2, 3, 1)


class ViTBlock(nn.Module):
    """Pre-norm transformer block on a token grid. Shapes: ``(N, ..., dim) -> same``."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float = 4.0) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = MLP(dim, int(dim * mlp_ratio), dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        x = x.reshape(shape[0], -1, shape[-1])                       # N x L x dim
        h = self.norm1(x)
        x = x + self.attn(h, h, h)
        x = x + self.mlp(self.norm2(x))
        return x.reshape(shape)
