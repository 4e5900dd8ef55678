"""One residual block with the switches of ConvNeXt's modernisation roadmap (Liu et al.,
"A ConvNet for the 2020s", CVPR 2022, §2.3-2.6 and Fig. 3-4): from ResNet's bottleneck to the
ConvNeXt block one decision at a time.

``layout`` — where the wide and the spatial layers are (Fig. 3)::

    "bottleneck"     1×1, h  →  k×k, h (stride)  →  1×1, out      ResNet: h = out / 4  (a)
    "inverted"       1×1, h  →  k×k, h (stride)  →  1×1, out      h = 4 · out          (b)
    "spatial_first"  k×k, in (stride) →  1×1, h  →  1×1, out      h = 4 · out          (c)

``depthwise``: the k×k convolution has one filter per channel (groups = channels; §2.3,
"ResNeXt-ify"). ``kernel_size``: k (§2.5). ``act``: ``"relu"`` or ``"gelu"``;
``activations``: ``"all"`` (after the first two layers and after the addition, as in ResNet)
or ``"one"`` (only between the second and third layer: the two 1×1 of the spatial-first
layout, like the transformer MLP's single GELU); ``norms``: ``"all"`` (after every layer) or
``"one"`` (after the first layer only); ``norm``: ``"bn"`` (BatchNorm) or ``"ln"`` (a
LayerNorm over the channels of each position) — §2.6.

A convolution followed by a BatchNorm has no bias (the norm's shift replaces it); every other
one has. Where the shape changes, the shortcut is a 1×1 convolution with the block's stride
followed by a norm (ResNet's projection, option B). With every switch at its ResNet value the
block is torchvision's ``Bottleneck`` (v1.5: stride on the 3×3), parameter for parameter.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn as nn

from .layer_norm_2d import LayerNorm2d
from .residual import ResidualBlock

LAYOUTS = ("bottleneck", "inverted", "spatial_first")
CHOICES = {"act": ("relu", "gelu"), "activations": ("all", "one"), "norms": ("all", "one"), "norm": ("bn", "ln")}


def make_norm(kind: str, channels: int) -> nn.Module:
    """``"bn"``: ``BatchNorm2d``; ``"ln"``: ``LayerNorm2d`` (each position's channels, eps 1e-6)."""
    return nn.BatchNorm2d(channels) if kind == "bn" else LayerNorm2d(channels)


def make_act(kind: str) -> nn.Module:
    return nn.ReLU(inplace=True) if kind == "relu" else nn.GELU()


class RoadmapBlock(ResidualBlock):
    """Shapes: ``(N, in_channels, H, W) -> (N, out_channels, H/stride, W/stride)``.

    Args:
        in_channels, out_channels: channels of x and y.
        hidden: channels of the wide (or, in a bottleneck, narrow) middle.
        stride: 2 in the first block of a stage that halves the resolution (on the k×k).
        layout, depthwise, kernel_size, act, activations, norms, norm: the switches above.
    """

    def __init__(self, in_channels: int, out_channels: int, hidden: int, stride: int = 1, *,
                 layout: str = "bottleneck", depthwise: bool = False, kernel_size: int = 3,
                 act: str = "relu", activations: str = "all", norms: str = "all", norm: str = "bn") -> None:
        super().__init__()
        if layout not in LAYOUTS:
            raise ValueError(f"RoadmapBlock: layout must be one of {LAYOUTS}, got {layout!r}")
        for arg, value in (("act", act), ("activations", activations), ("norms", norms), ("norm", norm)):
            if value not in CHOICES[arg]:
                raise ValueError(f"RoadmapBlock: {arg} must be one of {CHOICES[arg]}, got {value!r}")
        k = kernel_size
        if layout == "spatial_first":                  # (channels in, out, kernel, stride, spatial?)
            specs = [(in_channels, in_channels, k, stride, True), (in_channels, hidden, 1, 1, False),
                     (hidden, out_channels, 1, 1, False)]
        else:
            specs = [(in_channels, hidden, 1, 1, False), (hidden, hidden, k, stride, True),
                     (hidden, out_channels, 1, 1, False)]
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        for i, (cin, cout, kk, s, spatial) in enumerate(specs, start=1):
            normed = norms == "all" or i == 1
            groups = cin if spatial and depthwise else 1
            layers[f"conv{i}"] = nn.Conv2d(cin, cout, kk, s, kk // 2, groups=groups,
                                           bias=not (normed and norm == "bn"))
            if normed:
                layers[f"norm{i}"] = make_norm(norm, cout)
            if (activations == "all" and i < 3) or (activations == "one" and i == 2):
                layers[f"act{i}"] = make_act(act)
        self.layers = nn.Sequential(layers)
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=norm != "bn"), make_norm(norm, out_channels))
        self.relu = make_act(act) if activations == "all" else None     # after the addition

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)

    def merge(self, h: torch.Tensor | None, f: torch.Tensor) -> torch.Tensor:
        out = f if h is None else f + h
        return out if self.relu is None else self.relu(out)
