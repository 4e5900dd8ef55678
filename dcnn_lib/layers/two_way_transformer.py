"""SAM's two-way transformer (Kirillov et al., "Segment Anything", ICCV 2023, §3 and Fig. 14).

The mask decoder lets prompt tokens and image tokens attend to each other. Each of its layers
does four things:

1. self-attention among the tokens (prompt + output tokens);
2. cross-attention **token → image** (tokens are queries, image embedding keys/values);
3. an MLP on every token;
4. cross-attention **image → token** (image embedding queries, tokens keys/values), which
   updates the image embedding with prompt information.

Positional encodings are added to the image embedding and the original token embeddings are
added to the tokens at every attention layer ("re-added"), so geometry is never lost. After the
last layer one more token → image attention. Cross-attention layers run at half width
(``downsample_rate=2``); residual connections and layer norm follow every step (post-norm).
"""
from __future__ import annotations

import torch
import torch.nn as nn

from .attention import Attention
from .vit_block import MLP


class TwoWayAttentionBlock(nn.Module):
    """One layer: tokens ``(N, T, dim)`` and image tokens ``(N, HW, dim)`` -> updated both."""

    def __init__(self, dim: int, heads: int, mlp_dim: int, skip_first_pe: bool = False) -> None:
        super().__init__()
        self.self_attn = Attention(dim, heads)
        self.norm1 = nn.LayerNorm(dim)
        self.cross_token_to_image = Attention(dim, heads, downsample_rate=2)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = MLP(dim, mlp_dim, dim, act=nn.ReLU)
        self.norm3 = nn.LayerNorm(dim)
        self.cross_image_to_token = Attention(dim, heads, downsample_rate=2)
        self.norm4 = nn.LayerNorm(dim)
        self.skip_first_pe = skip_first_pe   # the first layer's tokens already are the prompts

    def forward(self, tokens: torch.Tensor, image: torch.Tensor, token_pe: torch.Tensor,
                image_pe: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.skip_first_pe:
            tokens = self.self_attn(tokens, tokens, tokens)
        else:
            q = tokens + token_pe
            tokens = tokens + self.self_attn(q, q, tokens)
        tokens = self.norm1(tokens)
        q, k = tokens + token_pe, image + image_pe
        tokens = self.norm2(tokens + self.cross_token_to_image(q, k, image))
        tokens = self.norm3(tokens + self.mlp(tokens))
        q, k = tokens + token_pe, image + image_pe
        image = self.norm4(image + self.cross_image_to_token(k, q, tokens))
        return tokens, image


class TwoWayTransformer(nn.Module):
    """``depth`` two-way layers, then a final token → image attention.

    Shapes: ``image (N, dim, H, W)``, ``image_pe (1 or N, dim, H, W)``, ``tokens (N, T, dim)``
    -> ``tokens (N, T, dim)``, ``image (N, HW, dim)``.
    """

    def __init__(self, depth: int, dim: int, heads: int, mlp_dim: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            TwoWayAttentionBlock(dim, heads, mlp_dim, skip_first_pe=i == 0) for i in range(depth))
        self.final_attn = Attention(dim, heads, downsample_rate=2)
        self.norm_final = nn.LayerNorm(dim)

    def forward(self, image: torch.Tensor, image_pe: torch.Tensor,
                tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n = image.shape[0]
        image = image.flatten(2).transpose(1, 2)                               # N x HW x dim
        image_pe = image_pe.flatten(2).transpose(1, 2).expand(n, -1, -1)
        queries = tokens
        for layer in self.layers:
            queries, image = layer(queries, image, tokens, image_pe)
        q, k = queries + tokens, image + image_pe
        queries = self.norm_final(queries + self.final_attn(q, k, image))
        return queries, image
