"""The multi-scale context module of Yu & Koltun, "Multi-scale context aggregation by dilated
convolutions", ICLR 2016 (§3, Table 1).

Seven 3×3 convolutions with dilations 1, 1, 2, 4, 8, 16, 1, each followed by a ReLU
("pointwise truncation"), then a 1×1 convolution, all on ``C``-channel maps (``C`` = number of
classes): the receptive field grows exponentially, 3 → 5 → 9 → 17 → 33 → 65 → 67, while the
resolution stays the same. It takes the front end's class scores and returns refined scores of
the same shape, so it plugs onto any dense predictor.

**Identity initialisation** (§3): random initialisation did not train; instead every layer
starts by passing its input through, ``k^b(t, a) = 1[t = 0] 1[a = b]`` (the centre tap of each
channel's own kernel is 1, every other weight 0). The *large* module widens the layers
(2C, 2C, 4C, 8C, 16C, 32C, 32C, C) and generalises the rule (eq. 5): ``k^b(0, a) = C / c_{i+1}``
when ``⌊aC / c_i⌋ = ⌊bC / c_{i+1}⌋``, and small Gaussian noise ``ε`` elsewhere.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn

DILATIONS = (1, 1, 2, 4, 8, 16, 1)
LARGE_WIDTHS = (2, 2, 4, 8, 16, 32, 32)   # multiples of C, Table 1 ("Large")


class ContextModule(nn.Sequential):
    """Shapes: ``(N, C, H, W) -> (N, C, H, W)``.

    Args:
        channels: ``C``, the number of classes.
        variant: ``"basic"`` (C channels throughout, 64C² weights) or ``"large"``.
        dilations: of the seven 3×3 layers.
        noise: standard deviation of ``ε`` relative to ``C / c_{i+1}`` (large module only).
    """

    def __init__(self, channels: int, variant: str = "basic", dilations: Sequence[int] = DILATIONS,
                 noise: float = 1e-3) -> None:
        if variant not in ("basic", "large"):
            raise ValueError(f"ContextModule: variant must be 'basic' or 'large', got {variant!r}")
        c = channels
        widths = [c] * len(dilations) if variant == "basic" else [m * c for m in LARGE_WIDTHS[:len(dilations)]]
        layers: list[nn.Module] = []
        cin = c
        for i, (w, d) in enumerate(zip(widths, dilations)):
            layers += [nn.Conv2d(cin, w, 3, padding=d, dilation=d), nn.ReLU(inplace=True)]
            cin = w
        layers.append(nn.Conv2d(cin, c, 1))                              # layer 8: no truncation
        super().__init__(*layers)
        self.channels, self.variant, self.dilations, self.noise = c, variant, tuple(dilations), noise
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Identity initialisation (eq. 4 for the basic module, eq. 5 for the large one)."""
        C = self.channels
        for conv in (m for m in self if isinstance(m, nn.Conv2d)):
            cout, cin, kh, kw = conv.weight.shape
            value = C / cout
            w = torch.zeros_like(conv.weight)
            if cin != cout or self.variant == "large":
                w.normal_(0, self.noise * value)
            a = torch.arange(cin)
            b = torch.arange(cout)
            match = (a[None, :] * C // cin) == (b[:, None] * C // cout)   # cout x cin
            centre = w[:, :, kh // 2, kw // 2]
            centre[match] = value
            conv.weight.copy_(w)
            conv.bias.zero_()
