"""Vision Transformer: Dosovitskiy, Beyer, Kolesnikov, Weissenborn, Zhai, Unterthiner,
Dehghani, Minderer, Heigold, Gelly, Uszkoreit & Houlsby, "An Image is Worth 16x16 Words:
Transformers for Image Recognition at Scale", ICLR 2021.

The image is cut into ``P × P`` patches, each flattened and projected to a ``D``-vector (a
strided convolution, :class:`~dcnn_lib.layers.PatchEmbedding`); a learned class token is put
in front, learned position embeddings are added, and a standard transformer encoder runs on
the sequence (eqs. 1-4). The class token's final state, after a layer norm, is classified::

    conv_proj   P×P conv, stride P, D filters       N x D x 14 x 14 (ViT-B/16 at 224)
    tokens      flatten + class token               N x 197 x D
    encoder     + E_pos, L × ViTBlock, LN           N x 197 x D
    heads       fc on token 0                       N x 1000

Every token attends to every other in every layer: after the first block each output depends
on every pixel (the receptive field is global), and the cost of attention grows with the square
of the number of tokens — the reason for 16×16 patches.

Table 1 of the paper (:data:`CONFIGS`): Base 12 layers / 768 / MLP 3072 / 12 heads (86M),
Large 24 / 1024 / 4096 / 16 (307M), Huge 32 / 1280 / 5120 / 16 (632M).

Registered models and their deviations:

- ``vit_b_16``, ``vit_b_32``, ``vit_l_16``, ``vit_l_32``, ``vit_h_14``: torchvision's
  ViTs (ImageNet-1K classifier: one linear head, no pre-logits layer — the paper fine-tunes
  with a zero-initialised linear head too), same parameter names, so torchvision's state dicts
  load strictly and give equal outputs. Initialisation is torchvision's (patch projection
  truncated normal with σ² = 1/fan-in, position embeddings N(0, 0.02²), MLP Xavier-uniform with
  N(0, 10⁻¹²) biases, head zero).
- An input whose size differs from ``image_size`` gets its position embeddings resampled
  (bicubic), as timm and the paper's fine-tuning at higher resolution (§3.2) do; torchvision
  refuses such inputs. Tests run the ImageNet models on 2 × 2 patches; twins are compared at 224.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch
import torch.nn as nn

from ...layers import guard_inputs
from ...layers.transformer_encoder import TransformerEncoder
from ...layers.vit_block import PatchEmbedding
from ...errors import DcnnValueError
from ...model_meta import check_input_size
from ...registry import Figure, Published, TestSettings, register_model

PAPER = ("Dosovitskiy et al., An image is worth 16x16 words: transformers for image recognition "
         "at scale, ICLR 2021")

# Table 1: layers, hidden size D, MLP size, heads; parameters in millions.
CONFIGS: dict[str, dict[str, int]] = {
    "b": {"num_layers": 12, "hidden_dim": 768, "mlp_dim": 3072, "num_heads": 12},
    "l": {"num_layers": 24, "hidden_dim": 1024, "mlp_dim": 4096, "num_heads": 16},
    "h": {"num_layers": 32, "hidden_dim": 1280, "mlp_dim": 5120, "num_heads": 16},
}
TABLE1_MILLIONS = {"b": 86, "l": 307, "h": 632}
# torchvision 0.29 metadata at 224×224: exact parameters, GFLOPS (multiply-adds), acc@1.
# vit_h_14 has no ImageNet-1K-only weights: its row is the SWAG_LINEAR weights' (frozen
# SWAG trunk, linear head trained on ImageNet-1K).
TORCHVISION = {"vit_b_16": (86_567_656, 17.564, 81.072, 95.318), "vit_b_32": (88_224_232, 4.409, 75.912, 92.466),
               "vit_l_16": (304_326_632, 61.555, 79.662, 94.638), "vit_l_32": (306_535_400, 15.378, 76.972, 93.070),
               "vit_h_14": (632_045_800, 167.295, 85.708, 97.730)}


class VisionTransformer(nn.Module):
    """ViT classifier. Shapes: ``(N, in_channels, H, W) -> (N, num_classes)``.

    Args:
        image_size: the side the position embeddings are made for (H = W).
        patch_size: ``P``; the image sides must be multiples of it.
        num_layers, num_heads, hidden_dim, mlp_dim: ``L``, heads, ``D``, MLP width.
        dropout, attention_dropout: as in the paper's and torchvision's ViT (0 by default).
        num_classes, in_channels: classes and image channels.

    Attributes: ``grid`` (patches per side at ``image_size``), ``prefix_tokens`` (1: the class
    token comes before the patch tokens).
    """

    prefix_tokens = 1

    def __init__(self, image_size: int = 224, patch_size: int = 16, num_layers: int = 12, num_heads: int = 12,
                 hidden_dim: int = 768, mlp_dim: int = 3072, *, dropout: float = 0.0,
                 attention_dropout: float = 0.0, num_classes: int = 1000, in_channels: int = 3) -> None:
        super().__init__()
        if image_size % patch_size:
            raise ValueError(f"VisionTransformer: image_size {image_size} must be a multiple of patch_size {patch_size}")
        self.image_size, self.patch_size, self.hidden_dim = image_size, patch_size, hidden_dim
        self.grid = image_size // patch_size
        self.conv_proj = PatchEmbedding(patch_size, in_channels, hidden_dim)
        self.class_token = nn.Parameter(torch.zeros(1, 1, hidden_dim))
        self.encoder = TransformerEncoder(num_layers, hidden_dim, num_heads, mlp_dim, seq_length=self.grid ** 2 + 1,
                                          dropout=dropout, attention_dropout=attention_dropout)
        self.heads = nn.Sequential(OrderedDict(head=nn.Linear(hidden_dim, num_classes)))
        self.num_classes = num_classes
        self.config = {"image_size": image_size, "patch_size": patch_size, "num_layers": num_layers,
                       "num_heads": num_heads, "hidden_dim": hidden_dim, "mlp_dim": mlp_dim}
        self._init_weights()
        guard_inputs(self, "VisionTransformer", expected=(in_channels, image_size, image_size))

    @torch.no_grad()
    def _init_weights(self) -> None:
        fan_in = self.conv_proj.in_channels * self.patch_size ** 2
        nn.init.trunc_normal_(self.conv_proj.weight, std=(1.0 / fan_in) ** 0.5)
        nn.init.zeros_(self.conv_proj.bias)
        for block in self.encoder.layers:
            for m in block.mlp:
                if isinstance(m, nn.Linear):
                    nn.init.xavier_uniform_(m.weight)
                    nn.init.normal_(m.bias, std=1e-6)
        nn.init.zeros_(self.heads.head.weight)
        nn.init.zeros_(self.heads.head.bias)

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """Class token and patch tokens after the encoder: ``(N, 1 + h·w, D)``."""
        x = self.conv_proj(x)                                        # N x h x w x D
        grid = (x.shape[1], x.shape[2])
        x = x.flatten(1, 2)                                          # N x h·w x D (row-major patches)
        x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)   # N x 1 + h·w x D
        return self.encoder(x, grid)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.heads(self.tokens(x)[:, 0])                      # N x num_classes


def _vit(size: str, patch: int, num_classes: int, input_size: tuple[int, int, int],
         **overrides: Any) -> VisionTransformer:
    c, h, w = check_input_size(input_size, f"vit_{size}_{patch}")
    if h != w:
        raise DcnnValueError(f"vit_{size}_{patch}: the position embeddings are made for square images, "
                             f"got input_size {input_size}")
    return VisionTransformer(**{"image_size": h, "patch_size": patch, **CONFIGS[size], **overrides},
                             num_classes=num_classes, in_channels=c)


def _registered(builder):
    """Register ``vit_<size>_<patch>`` with torchvision's figures and Table 1's size. Tests run
    on 2 × 2 patches (position embeddings resampled); the twin comparison needs 224×224."""
    name = builder.__name__
    size, patch = name.split("_")[1], int(name.split("_")[2])
    params, gmacs, top1, top5 = TORCHVISION[name]
    weights = "IMAGENET1K_SWAG_LINEAR_V1" if name == "vit_h_14" else "IMAGENET1K_V1"
    tv = f"torchvision weights metadata ({weights})"
    other = {"params_m": Figure(TABLE1_MILLIONS[size], "paper, Table 1", f"ViT-{size.upper()}")}
    published = Published(params=Figure(params, tv), gmacs=Figure(gmacs, tv), top1=Figure(top1, tv),
                          top5=Figure(top5, tv), other=other)
    # forward/backward on 2 x 2 patches through 2 layers of full width (the others are identical)
    test = TestSettings(input_size=(3, 2 * patch, 2 * patch), kwargs={"num_layers": 2}, torchvision=name,
                        twin_input_size=(3, 224, 224))
    return register_model(task="classification", paper=PAPER, year=2021, input_size=(3, 224, 224),
                          published=published, test=test)(builder)


@_registered
def vit_b_16(num_classes: int = 1000, input_size: tuple[int, int, int] = (3, 224, 224),
             **overrides: Any) -> VisionTransformer:
    """ViT-B/16: 12 layers, D = 768, MLP 3072, 12 heads, 16×16 patches."""
    return _vit("b", 16, num_classes, input_size, **overrides)


@_registered
def vit_b_32(num_classes: int = 1000, input_size: tuple[int, int, int] = (3, 224, 224),
             **overrides: Any) -> VisionTransformer:
    """ViT-B/32: 12 layers, D = 768, MLP 3072, 12 heads, 32×32 patches."""
    return _vit("b", 32, num_classes, input_size, **overrides)


@_registered
def vit_l_16(num_classes: int = 1000, input_size: tuple[int, int, int] = (3, 224, 224),
             **overrides: Any) -> VisionTransformer:
    """ViT-L/16: 24 layers, D = 1024, MLP 4096, 16 heads, 16×16 patches."""
    return _vit("l", 16, num_classes, input_size, **overrides)


@_registered
def vit_l_32(num_classes: int = 1000, input_size: tuple[int, int, int] = (3, 224, 224),
             **overrides: Any) -> VisionTransformer:
    """ViT-L/32: 24 layers, D = 1024, MLP 4096, 16 heads, 32×32 patches."""
    return _vit("l", 32, num_classes, input_size, **overrides)


@_registered
def vit_h_14(num_classes: int = 1000, input_size: tuple[int, int, int] = (3, 224, 224),
             **overrides: Any) -> VisionTransformer:
    """ViT-H/14: 32 layers, D = 1280, MLP 5120, 16 heads, 14×14 patches."""
    return _vit("h", 14, num_classes, input_size, **overrides)


# Fashion-MNIST (1 × 28 × 28): 4×4 patches (a 7×7 grid: 49 patch tokens and the class token),
# 6 layers of width 64 with 4 heads and an MLP of 128. Sized for two CPU cores; not ViT-S.
SMALL = {"patch_size": 4, "num_layers": 6, "num_heads": 4, "hidden_dim": 64, "mlp_dim": 128}


@register_model(task="classification", paper=PAPER + " (scaled down for 28×28 images)", year=2021,
                input_size=(1, 28, 28), published=Published(params=Figure(205_962, "counted from the architecture")))
def vit_small(num_classes: int = 10, input_size: tuple[int, int, int] = (1, 28, 28), **overrides: Any) -> VisionTransformer:
    """A ViT for Fashion-MNIST: 4×4 patches, 6 layers, D = 64, 4 heads, MLP 128 (not ViT-S/16)."""
    c, h, w = check_input_size(input_size, "vit_small")
    if h != w:
        raise DcnnValueError(f"vit_small: the position embeddings are made for square images, got input_size {input_size}")
    return VisionTransformer(**{"image_size": h, **SMALL, **overrides}, num_classes=num_classes, in_channels=c)
