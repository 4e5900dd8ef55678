"""The ConvNeXt block (Liu, Mao, Wu, Feichtenhofer, Darrell & Xie, "A ConvNet for the 2020s",
CVPR 2022, Fig. 4 right)::

    x (C) ─► d7×7, C ─► LN ─► 1×1, 4C ─► GELU ─► 1×1, C ─► ×γ ─► drop path ─► (+) ─► y
    └──────────────────────────── identity ─────────────────────────────────┘

A transformer block written with convolutions: the depthwise 7×7 mixes space one channel at a
time (attention's job), the two 1×1 layers with a 4× wider middle mix channels at each position
(the MLP's job) — an inverted bottleneck with one norm and one activation, nothing after the
addition. ``γ`` is layer scale (Touvron et al. 2021): a learned per-channel factor that starts
at 1e-6, so that each block starts close to the identity.

The 1×1 layers are ``nn.Linear`` on channels-last maps (equal to 1×1 convolutions, and faster
on GPUs), as in the official code. Attribute names are torchvision's ``CNBlock``'s
(``layer_scale``, ``block.0`` … ``block.6``, ``stochastic_depth``), so its state dict loads as
it is. The block follows the :class:`~dcnn_lib.layers.ResidualBlock` protocol (``residual``,
``shortcut``, ``merge``) used by the lesion and unraveled-view tools.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from .permute import Permute
from .residual import ResidualBlock
from .stochastic_depth import StochasticDepth


class ConvNeXtBlock(ResidualBlock):
    """Shapes: ``(N, dim, H, W) -> (N, dim, H, W)``.

    Args:
        dim: channels.
        layer_scale: initial value of γ (1e-6); ``None``: no layer scale.
        drop_path: stochastic-depth probability of this block.
        kernel_size: the depthwise kernel (7).
        expansion: hidden width of the 1×1 layers, ``expansion · dim`` (4).
    """

    downsample = None

    def __init__(self, dim: int, layer_scale: float | None = 1e-6, drop_path: float = 0.0,
                 kernel_size: int = 7, expansion: int = 4) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size, padding=kernel_size // 2, groups=dim),   # depthwise: space
            Permute(0, 2, 3, 1),                                                      # N x H x W x C
            nn.LayerNorm(dim, eps=1e-6),
            nn.Linear(dim, expansion * dim),                                          # 1×1: channels
            nn.GELU(),
            nn.Linear(expansion * dim, dim),
            Permute(0, 3, 1, 2))                                                      # N x C x H x W
        if layer_scale is None:
            self.register_parameter("layer_scale", None)
        else:
            self.layer_scale = nn.Parameter(torch.full((dim, 1, 1), float(layer_scale)))
        self.stochastic_depth = StochasticDepth(drop_path)

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        out = self.block(x)
        if self.layer_scale is not None:
            out = self.layer_scale * out
        return self.stochastic_depth(out)

    def merge(self, h: torch.Tensor | None, f: torch.Tensor) -> torch.Tensor:
        """No activation after the addition."""
        return f if h is None else h + f
