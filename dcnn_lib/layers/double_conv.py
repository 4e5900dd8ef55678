"""Two 3×3 convolutions, each followed by ReLU: the unit of every U-Net level.

Ronneberger et al. (2015) use *unpadded* ("valid") convolutions, so each unit shrinks the map
by 4 pixels per axis (572 → 570 → 568); ``padding="same"`` (one pixel of zero padding, as in
most later implementations) keeps the size. ``batch_norm=True`` adds batch normalisation after
each convolution (not in the paper).
"""
from __future__ import annotations

import torch.nn as nn


class DoubleConv(nn.Sequential):
    """``conv3×3 → ReLU → conv3×3 → ReLU``. Shapes: ``(N, in, H, W) -> (N, out, H - 4, W - 4)``
    (valid) or ``(N, out, H, W)`` (same)."""

    def __init__(self, in_channels: int, out_channels: int, padding: str = "valid",
                 batch_norm: bool = False) -> None:
        if padding not in ("valid", "same"):
            raise ValueError(f"DoubleConv: padding must be 'valid' or 'same', got {padding!r}")
        p = 0 if padding == "valid" else 1
        layers: list[nn.Module] = []
        for cin in (in_channels, out_channels):
            layers.append(nn.Conv2d(cin, out_channels, 3, padding=p, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(out_channels))
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)
