"""NABLA-N (∇N-Net): Alom, Aspiras, Taha & Asari, "Skin Cancer Segmentation and Classification
with NABLA-N and Inception Recurrent Residual Convolutional Networks", arXiv:1904.11126, 2019.

What the paper says (§III): NABLA-N builds on R2U-Net (recurrent residual convolutional units
in an encoder-decoder) and improves "feature fusion in the decoding units": each decoding unit
combines *low- to high-level* feature maps, taken from **N different latent spaces** of the
encoder, instead of U-Net's single skip from the same level; it reaches better Dice than
R2U-Net on ISIC-2018 "with the same or fewer network parameters".

The paper gives the architecture as a figure and in words, without a layer table or released
code, so this implementation is **our reading** of that description:

- encoder: five levels of recurrent residual units (RRCU, t = 2; widths as R2U-Net);
- the N deepest encoder outputs are the latent spaces (N = 3: levels 5, 4 and 3);
- decoding unit at level l: concatenation of (a) the encoder's skip at level l, (b) the 2×2
  up-convolution of the unit below, and (c) every latent space deeper than l + 1, upsampled
  bilinearly to level l and projected to level l's width by a 1×1 convolution; then one RRCU;
- a 1×1 convolution to class scores.

With ``n_latent=0`` (no latent space fused) it is R2U-Net exactly. ``(N, 3, H, W) -> {"out": (N, classes, H, W)}`` for
any H, W (maps of odd size are padded after up-convolution).
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from ...layers import guard_inputs
from ...layers.recurrent_conv import RecurrentResidualBlock
from ...layers.up_conv import UpConcat
from ...registry import Figure, Published, TestSettings, register_model
from .common import COUNTED, UNET_SMALL
from .unet import WIDTHS

PAPER = ("Alom, Aspiras, Taha & Asari, Skin Cancer Segmentation and Classification with NABLA-N and "
         "Inception Recurrent Residual Convolutional Networks, arXiv:1904.11126, 2019")


class NablaN(nn.Module):
    """∇N-Net: R2U-Net whose decoding units also fuse the ``n_latent`` deepest encoder maps.

    Args:
        num_classes: output channels.
        in_channels: input channels.
        widths: channels per level, top to bottom.
        n_latent: N, the number of latent spaces fused (0 = R2U-Net).
        t: recurrent steps of each RRCU.

    Shapes: ``(N, in_channels, H, W) -> {"out": (N, num_classes, H, W)}``.
    """

    def __init__(self, num_classes: int = 2, in_channels: int = 3, widths: Sequence[int] = WIDTHS,
                 n_latent: int = 3, t: int = 2) -> None:
        super().__init__()
        w = tuple(widths)
        levels = len(w)
        if not 0 <= n_latent <= levels - 1:
            raise ValueError(f"NablaN: n_latent must be in 0..{levels - 1}, got {n_latent}")
        self.latent_levels = tuple(range(levels - 1, levels - 1 - n_latent, -1))  # 0-based: 4, 3, 2
        self.encoder = nn.ModuleList(
            RecurrentResidualBlock(cin, cout, t) for cin, cout in zip((in_channels,) + w[:-1], w))
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ModuleList()
        self.fuse = nn.ModuleList()      # per decoding level: 1×1 projections of the extra latents
        self.decoder = nn.ModuleList()
        for level in range(levels - 2, -1, -1):                              # 3, 2, 1, 0
            extra = [j for j in self.latent_levels if j > level + 1]
            self.up.append(UpConcat(w[level + 1], w[level], mode="pad"))
            self.fuse.append(nn.ModuleList(nn.Conv2d(w[j], w[level], 1) for j in extra))
            self.decoder.append(RecurrentResidualBlock((2 + len(extra)) * w[level], w[level], t))
        self.head = nn.Conv2d(w[0], num_classes, 1)
        self.widths = w
        guard_inputs(self, "NablaN", expected=(in_channels, 256, 256))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        feats = []
        for i, unit in enumerate(self.encoder):
            x = unit(x if i == 0 else self.pool(x))
            feats.append(x)                                                   # level i: N x w_i x H/2^i
        levels = len(self.widths)
        x = feats[-1]
        for k, level in enumerate(range(levels - 2, -1, -1)):
            skip = feats[level]
            parts = [self.up[k](x, skip)]                                     # skip ‖ up-conv
            extra = [j for j in self.latent_levels if j > level + 1]
            for proj, j in zip(self.fuse[k], extra):                          # deeper latent spaces
                parts.append(F.interpolate(proj(feats[j]), size=skip.shape[-2:], mode="bilinear",
                                           align_corners=False))
            x = self.decoder[k](torch.cat(parts, dim=1))
        return {"out": self.head(x)}


@register_model(task="segmentation", paper=PAPER, year=2019, input_size=(3, 256, 256),
                published=Published(params=Figure(67_718_466, COUNTED)),
                test=TestSettings(input_size=(3, 64, 64), kwargs={"widths": UNET_SMALL}))
def nabla_n(num_classes: int = 2, in_channels: int = 3, widths: Sequence[int] = WIDTHS,
            n_latent: int = 3, t: int = 2) -> NablaN:
    """NABLA-N with N = 3 latent spaces fused in every decoding unit (our reading of the paper)."""
    return NablaN(num_classes, in_channels, widths, n_latent, t)
