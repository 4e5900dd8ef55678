"""Position embeddings of a grid of patch tokens.

Attention is blind to order: permute the tokens and the outputs are permuted the same way.
A ViT therefore adds a position embedding to every patch token before the first block:

- learned (ViT, Dosovitskiy et al. 2021, eq. 1: ``E_pos``, one ``dim``-vector per position,
  trained with the rest; it lives in the encoder, see :class:`~dcnn_lib.layers.TransformerEncoder`);
- fixed 2-D sine-cosine (:func:`sincos_2d`; I-JEPA, MAE): half the channels encode the row,
  half the column, each as ``sin``/``cos`` of the coordinate at geometrically spaced
  frequencies (Vaswani et al. 2017's encoding per axis).

:func:`resize_grid_embedding` resamples a learned grid of embeddings for another image size
(bicubic, as timm and I-JEPA do when fine-tuning at a higher resolution).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def sincos_1d(dim: int, positions: torch.Tensor) -> torch.Tensor:
    """``(M,)`` positions -> ``(M, dim)``: ``[sin(p·ω_i), cos(p·ω_i)]``, ``ω_i = 10000^(-2i/dim)``."""
    if dim % 2:
        raise ValueError(f"sincos_1d: dim must be even, got {dim}")
    omega = 1.0 / 10000 ** (torch.arange(dim // 2, dtype=torch.float64) / (dim / 2))
    angles = positions.double().reshape(-1, 1) * omega                       # M x dim/2
    return torch.cat([angles.sin(), angles.cos()], dim=1).float()


def sincos_2d(dim: int, grid: tuple[int, int]) -> torch.Tensor:
    """Fixed 2-D sine-cosine embedding of an ``h × w`` grid, row-major: ``(h·w, dim)``.

    The first ``dim/2`` channels encode the row, the last ``dim/2`` the column.
    """
    if dim % 4:
        raise ValueError(f"sincos_2d: dim must be a multiple of 4, got {dim}")
    h, w = grid
    rows, cols = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    return torch.cat([sincos_1d(dim // 2, rows.flatten()), sincos_1d(dim // 2, cols.flatten())], dim=1)


def resize_grid_embedding(pos: torch.Tensor, grid: tuple[int, int], prefix: int = 1) -> torch.Tensor:
    """``(1, prefix + g·g, dim)`` embeddings of a square ``g × g`` grid -> ``(1, prefix + h·w, dim)``.

    The ``prefix`` tokens (a class token) keep theirs; the grid part is resampled bicubically.
    """
    n = pos.shape[1] - prefix
    g = math.isqrt(n)
    if g * g != n:
        raise ValueError(f"resize_grid_embedding: {n} grid positions do not form a square grid")
    if (g, g) == tuple(grid):
        return pos
    head, body = pos[:, :prefix], pos[:, prefix:]
    body = body.reshape(1, g, g, -1).permute(0, 3, 1, 2)                      # 1 x dim x g x g
    body = F.interpolate(body, size=tuple(grid), mode="bicubic", align_corners=False)
    return torch.cat([head, body.permute(0, 2, 3, 1).reshape(1, grid[0] * grid[1], -1)], dim=1)
