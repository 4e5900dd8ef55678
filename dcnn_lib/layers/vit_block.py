"""The Vision Transformer's pieces (Dosovitskiy et al., ICLR 2021): patch embedding, the MLP
and the pre-norm transformer block.

- :class:`PatchEmbedding`: a ``p × p`` convolution with stride ``p`` cuts the image into
  non-overlapping patches and projects each to a ``dim``-vector (eq. 1's ``x_p E``): ``(N, C,
  H, W) -> (N, H/p, W/p, dim)``, a grid of tokens.
- :class:`MLP`: ``Linear → GELU → Linear`` (eq. 3), optionally with dropout after the
  activation and after the last layer (torchvision's ``MLPBlock``: ``mlp.0`` and ``mlp.3``).
- :class:`ViTBlock`: ``x + MHSA(LN(x))`` then ``x + MLP(LN(x))`` (eqs. 2-3). The attribute
  names are torchvision's ``EncoderBlock``'s (``ln_1``, ``self_attention``, ``ln_2``,
  ``mlp``), so with ``packed=True`` and ``dropout=0.0`` a torchvision ViT layer's state dict
  loads into it as it is.

SAM's image encoder (``models/segmentation/sam.py``) and the ViT / I-JEPA models
(``models/classification/vit.py``, ``ijepa.py``) are built from these.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from .attention import Attention


class MLP(nn.Sequential):
    """``Linear → act → Linear (→ act → Linear ...)``: ``layers`` linear layers.

    ``dropout=None``: no dropout modules (``mlp.0``, ``mlp.2``); a number: a ``Dropout`` after
    every activation and after the last layer (``mlp.0``, ``mlp.3`` for two layers, the layout
    of torchvision's ``MLPBlock``).
    """

    def __init__(self, in_dim: int, hidden: int, out_dim: int, layers: int = 2,
                 act: type[nn.Module] = nn.GELU, dropout: float | None = None) -> None:
        dims = [in_dim] + [hidden] * (layers - 1) + [out_dim]
        mods: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
            mods.append(nn.Linear(a, b))
            if i < layers - 1:
                mods.append(act())
            if dropout is not None:
                mods.append(nn.Dropout(dropout))
        super().__init__(*mods)


class PatchEmbedding(nn.Conv2d):
    """Patches as a strided convolution: a ``p × p`` kernel with stride ``p``.

    It *is* the convolution (its ``weight`` is ``dim x C x p x p``), so a ViT's ``conv_proj``
    keeps torchvision's parameter names; its output is returned channels-last, as a grid of
    tokens. Shapes: ``(N, C, H, W) -> (N, H/p, W/p, dim)`` (H and W multiples of ``p``).
    """

    def __init__(self, patch_size: int, in_channels: int, dim: int) -> None:
        super().__init__(in_channels, dim, patch_size, stride=patch_size)
        self.patch_size = patch_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.patch_size
        if x.ndim == 4 and (x.shape[-2] % p or x.shape[-1] % p):
            raise ValueError(f"PatchEmbedding: image sides {tuple(x.shape[-2:])} must be multiples "
                             f"of the patch size {p}")
        return super().forward(x).permute(0, 2, 3, 1)                       # N x H/p x W/p x dim


class ViTBlock(nn.Module):
    """Pre-norm transformer block on tokens. Shapes: ``(N, ..., dim) -> same``.

    Args:
        dim, heads: token width and attention heads.
        mlp_ratio: MLP hidden width ``mlp_ratio · dim`` (or give ``mlp_dim``).
        eps: the layer norms' epsilon (torchvision's and I-JEPA's ViTs: 1e-6).
        dropout: ``None``: no dropout modules in the MLP (SAM); a number: dropout after the
            attention and in the MLP (torchvision's layout).
        attention_dropout: dropout on the attention probabilities.
        packed: packed q/k/v projection (``nn.MultiheadAttention``'s parameter names).
    """

    def __init__(self, dim: int, heads: int, mlp_ratio: float = 4.0, *, mlp_dim: int | None = None,
                 eps: float = 1e-5, dropout: float | None = None, attention_dropout: float = 0.0,
                 packed: bool = False) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(dim, eps=eps)
        self.self_attention = Attention(dim, heads, packed=packed, dropout=attention_dropout)
        self.dropout = nn.Dropout(dropout or 0.0)
        self.ln_2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = MLP(dim, mlp_dim or int(dim * mlp_ratio), dim, dropout=dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        x = x.reshape(shape[0], -1, shape[-1])                       # N x L x dim
        h = self.ln_1(x)
        x = x + self.dropout(self.self_attention(h, h, h))           # every token attends to all
        x = x + self.mlp(self.ln_2(x))                               # each token on its own
        return x.reshape(shape)
