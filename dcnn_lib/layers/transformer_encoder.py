"""A stack of ViT blocks with a final layer norm: the transformer encoder of ViT (Dosovitskiy
et al. 2021, eqs. 1-4) in torchvision's layout.

``x + E_pos → dropout → L × ViTBlock → LN``. Parameter names are those of torchvision's
``vision_transformer.Encoder``: ``pos_embedding``, ``layers.encoder_layer_<i>.*``, ``ln``. The
position embedding is optional: I-JEPA adds a fixed sine-cosine one before it drops the masked
tokens, so its encoders are built with ``seq_length=None``.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn as nn

from .pos_embedding import resize_grid_embedding
from .vit_block import ViTBlock


class TransformerEncoder(nn.Module):
    """Shapes: ``(N, L, dim) -> (N, L, dim)``.

    Args:
        num_layers, dim, heads, mlp_dim: depth, width, heads and MLP width.
        seq_length: tokens of the learned position embedding (``None``: no embedding).
        prefix_tokens: tokens before the patch grid (a class token) — used to resample the
            embedding for an input whose grid differs from the one it was made for.
        dropout, attention_dropout: as in torchvision's ViT (0 by default).
        eps: the layer norms' epsilon (1e-6, torchvision's and I-JEPA's).
    """

    def __init__(self, num_layers: int, dim: int, heads: int, mlp_dim: int, *, seq_length: int | None = None,
                 prefix_tokens: int = 1, dropout: float = 0.0, attention_dropout: float = 0.0,
                 eps: float = 1e-6) -> None:
        super().__init__()
        if seq_length is None:
            self.register_parameter("pos_embedding", None)
        else:
            self.pos_embedding = nn.Parameter(torch.empty(1, seq_length, dim).normal_(std=0.02))  # from BERT
        self.prefix_tokens = prefix_tokens
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.Sequential(OrderedDict(
            (f"encoder_layer_{i}", ViTBlock(dim, heads, mlp_dim=mlp_dim, eps=eps, dropout=dropout,
                                            attention_dropout=attention_dropout, packed=True))
            for i in range(num_layers)))
        self.ln = nn.LayerNorm(dim, eps=eps)

    def forward(self, x: torch.Tensor, grid: tuple[int, int] | None = None) -> torch.Tensor:
        """``grid``: the patch grid of ``x`` when it differs from the embedding's (resampled)."""
        if x.ndim != 3:
            raise ValueError(f"TransformerEncoder: expected tokens (N, L, dim), got {tuple(x.shape)}")
        if self.pos_embedding is not None:
            pos = self.pos_embedding
            if pos.shape[1] != x.shape[1]:
                if grid is None:
                    raise ValueError(f"TransformerEncoder: {x.shape[1]} tokens but a position embedding "
                                     f"for {pos.shape[1]}; pass the patch grid to resample it")
                pos = resize_grid_embedding(pos, grid, self.prefix_tokens)
            x = x + pos
        return self.ln(self.layers(self.dropout(x)))
