"""U-Net's "up-convolution" and the copy-and-concatenate skip (Ronneberger et al. 2015).

Every step of U-Net's expansive path is "an upsampling of the feature map followed by a 2×2
convolution ('up-convolution') that halves the number of feature channels, a concatenation with
the correspondingly cropped feature map from the contracting path" (§2). A 2×2 transposed
convolution with stride 2 does both at once: ``(N, C, H, W) -> (N, C/2, 2H, 2W)``.

With *valid* convolutions (the paper) the contracting path's map is larger than the upsampled
one and is **centre-cropped**; with *same* convolutions they agree except after an odd-sized
pooling, where the upsampled map is one pixel short and is **zero-padded** to match.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def match_size(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Centre-crop (where ``x`` is larger) and zero-pad (where smaller) ``x`` to ``size``."""
    h, w = x.shape[-2:]
    th, tw = size
    if h > th or w > tw:
        top, left = max(h - th, 0) // 2, max(w - tw, 0) // 2
        x = x[..., top:top + min(h, th), left:left + min(w, tw)]
        h, w = x.shape[-2:]
    if h < th or w < tw:
        dh, dw = th - h, tw - w
        x = F.pad(x, (dw // 2, dw - dw // 2, dh // 2, dh - dh // 2))
    return x


class UpConcat(nn.Module):
    """``cat([crop(skip), upconv(x)])``: U-Net's up-convolution then copy-and-crop skip.

    Args:
        in_channels: channels of ``x`` (the deeper map).
        out_channels: channels after the 2×2 up-convolution (U-Net: ``in_channels // 2``).
        mode: ``"crop"`` (valid padding: the skip is centre-cropped to the upsampled map) or
            ``"pad"`` (same padding: the upsampled map is zero-padded to the skip's size).

    Shapes: ``x (N, in, h, w)``, ``skip (N, S, H, W)`` -> ``(N, S + out, 2h, 2w)`` (crop) or
    ``(N, S + out, H, W)`` (pad).
    """

    def __init__(self, in_channels: int, out_channels: int | None = None, mode: str = "crop") -> None:
        super().__init__()
        if mode not in ("crop", "pad"):
            raise ValueError(f"UpConcat: mode must be 'crop' or 'pad', got {mode!r}")
        out_channels = out_channels or in_channels // 2
        self.up = nn.ConvTranspose2d(in_channels, out_channels, kernel_size=2, stride=2)
        self.mode = mode

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = self.up(x)                                                   # N x C/2 x 2h x 2w
        if self.mode == "crop":
            skip = match_size(skip, tuple(x.shape[-2:]))                 # valid: crop the skip
        else:
            x = match_size(x, tuple(skip.shape[-2:]))                    # same: pad the upsampled map
        return torch.cat([skip, x], dim=1)
