"""ConvNeXt: Liu, Mao, Wu, Feichtenhofer, Darrell & Xie, "A ConvNet for the 2020s", CVPR 2022.

A ResNet modernised, one decision at a time, towards the design of a (Swin) vision transformer
— the roadmap is :mod:`.convnext_roadmap` — ending in a pure ConvNet that matches Swin-T. The
network (Table 9, ConvNeXt-T at 224×224)::

    stem        4×4 conv, stride 4 ("patchify"), LN                 N x 96 x 56 x 56
    stage 1     3 × ConvNeXtBlock(96)                                N x 96 x 56 x 56
    downsample  LN, 2×2 conv stride 2                                N x 192 x 28 x 28
    stage 2     3 × ConvNeXtBlock(192)                               N x 192 x 28 x 28
    downsample  LN, 2×2 conv stride 2                                N x 384 x 14 x 14
    stage 3     9 × ConvNeXtBlock(384)                               N x 384 x 14 x 14
    downsample  LN, 2×2 conv stride 2                                N x 768 x 7 x 7
    stage 4     3 × ConvNeXtBlock(768)                               N x 768 x 7 x 7
    head        global average pooling, LN, fc                       N x 1000

A :class:`~dcnn_lib.layers.ConvNeXtBlock` is ``d7×7 → LN → 1×1 (4C) → GELU → 1×1 (C)`` with
layer scale (γ = 1e-6 at start) and stochastic depth. §3: the variants differ only in ``C`` and
``B`` (:data:`CONFIGS`); stochastic-depth rates from Appendix A.1, Table 5.

Registered models and their deviations:

- ``convnext_tiny`` … ``convnext_large``: the paper's configurations, in torchvision's layout
  (``features.0`` stem, ``features.1/3/5/7`` stages, ``features.2/4/6`` downsampling,
  ``classifier`` = LN, flatten, fc): torchvision's state dicts load strictly and the outputs
  are equal. Initialisation: truncated normal (σ = 0.02) for convolutions and linear layers,
  zero biases, as in the official code (Table 5 prints "trunc. normal (0.2)"; the code says
  0.02). Stochastic depth grows linearly over all blocks from 0 to the rate (the official
  ``torch.linspace(0, rate, sum(depths))``, torchvision's rule).
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn as nn

from ...layers import guard_inputs
from ...layers.convnext_block import ConvNeXtBlock
from ...layers.layer_norm_2d import LayerNorm2d
from ...registry import Figure, Published, TestSettings, register_model
from ..backbones import Stage

PAPER = "Liu, Mao, Wu, Feichtenhofer, Darrell & Xie, A ConvNet for the 2020s, CVPR 2022"

# §3: blocks per stage B, channels C, and the ImageNet-1K stochastic-depth rate (Table 5).
CONFIGS: dict[str, dict[str, Any]] = {
    "tiny":  {"depths": (3, 3, 9, 3),  "dims": (96, 192, 384, 768),    "stochastic_depth": 0.1},
    "small": {"depths": (3, 3, 27, 3), "dims": (96, 192, 384, 768),    "stochastic_depth": 0.4},
    "base":  {"depths": (3, 3, 27, 3), "dims": (128, 256, 512, 1024),  "stochastic_depth": 0.5},
    "large": {"depths": (3, 3, 27, 3), "dims": (192, 384, 768, 1536),  "stochastic_depth": 0.5},
}
# Table 1 (ImageNet-1K, 224²): params (M), FLOPs (G, multiply-adds), top-1 %.
TABLE1 = {"tiny": (29, 4.5, 82.1), "small": (50, 8.7, 83.1), "base": (89, 15.4, 83.8), "large": (198, 34.4, 84.3)}
# torchvision 0.29 metadata: exact parameters, GFLOPS (multiply-adds), acc@1, acc@5 (its own recipe).
TORCHVISION = {"tiny": (28_589_128, 4.456, 82.520, 96.146), "small": (50_223_688, 8.684, 83.616, 96.650),
               "base": (88_591_464, 15.355, 84.062, 96.870), "large": (197_767_336, 34.361, 84.414, 96.976)}


class ConvNeXt(nn.Module):
    """Patchify stem, four stages of ConvNeXt blocks with separate downsampling layers, head.

    Args:
        depths: blocks per stage ``B``.
        dims: channels per stage ``C``.
        stochastic_depth: drop-path rate of the last block (linear from 0 over all blocks).
        layer_scale: initial γ of every block (``None``: no layer scale).
        kernel_size: the depthwise kernel (7).
        patch_size: stem kernel and stride (4: the output of the stem is 1/4 of the input).
        num_classes, in_channels: classes and image channels.

    Shapes: ``(N, in_channels, H, W) -> (N, num_classes)``; ``feature_info`` lists each stage's
    module, channels and reduction, for use as a backbone.
    """

    def __init__(self, depths: Sequence[int] = (3, 3, 9, 3), dims: Sequence[int] = (96, 192, 384, 768), *,
                 stochastic_depth: float = 0.1, layer_scale: float | None = 1e-6, kernel_size: int = 7,
                 patch_size: int = 4, num_classes: int = 1000, in_channels: int = 3,
                 input_size: tuple[int, int, int] | None = None) -> None:
        super().__init__()
        if len(depths) != len(dims):
            raise ValueError(f"ConvNeXt: {len(depths)} stage depths but {len(dims)} widths")
        total, done = sum(depths), 0
        layers: list[nn.Module] = [nn.Sequential(
            nn.Conv2d(in_channels, dims[0], patch_size, stride=patch_size), LayerNorm2d(dims[0]))]  # N x C1 x H/4 x W/4
        self.feature_info = []
        reduction = patch_size
        for i, (n, dim) in enumerate(zip(depths, dims)):
            if i > 0:                                          # separate downsampling layer
                layers.append(nn.Sequential(LayerNorm2d(dims[i - 1]), nn.Conv2d(dims[i - 1], dim, 2, stride=2)))
                reduction *= 2
            rates = [stochastic_depth * (done + j) / max(total - 1, 1) for j in range(n)]
            layers.append(nn.Sequential(*(ConvNeXtBlock(dim, layer_scale, rate, kernel_size) for rate in rates)))
            done += n
            self.feature_info.append(Stage(f"features.{len(layers) - 1}", dim, reduction))
        self.feature_info = tuple(self.feature_info)      # the backbone contract (dcnn_lib.models.backbones)
        self.classifier_name = "classifier"
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)                                             # N x C4 x 1 x 1
        self.classifier = nn.Sequential(LayerNorm2d(dims[-1]), nn.Flatten(1), nn.Linear(dims[-1], num_classes))
        self.num_classes = num_classes
        self.config = {"depths": tuple(depths), "dims": tuple(dims), "stochastic_depth": stochastic_depth,
                       "layer_scale": layer_scale, "kernel_size": kernel_size, "patch_size": patch_size}
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
        guard_inputs(self, "ConvNeXt", expected=input_size or (in_channels, 224, 224))

    def blocks(self) -> list[tuple[str, nn.Module]]:
        """``(name, block)`` of every ConvNeXt block, in order."""
        return [(f"{s.module}.{j}", b) for s in self.feature_info for j, b in enumerate(self.get_submodule(s.module))]

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)                                    # N x C4 x H/32 x W/32

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.avgpool(self.features(x)))    # N x num_classes


def _convnext(size: str, num_classes: int, in_channels: int, **overrides: Any) -> ConvNeXt:
    return ConvNeXt(**{**CONFIGS[size], **overrides}, num_classes=num_classes, in_channels=in_channels)


_TV = "torchvision weights metadata (IMAGENET1K_V1)"


def _registered(builder):
    """Register ``convnext_<size>`` with torchvision's figures and the paper's (Table 1)."""
    size = builder.__name__[len("convnext_"):]
    params, gmacs, top1, top5 = TORCHVISION[size]
    paper_params, paper_gflops, paper_top1 = TABLE1[size]
    other = {"params_m": Figure(paper_params, "paper, Table 1"),
             "gmacs_paper": Figure(paper_gflops, "paper, Table 1", "FLOPs (multiply-adds), 224²"),
             "top1_paper": Figure(paper_top1, "paper, Table 1", "ImageNet-1K, 224², the paper's recipe")}
    published = Published(params=Figure(params, _TV), gmacs=Figure(gmacs, _TV), top1=Figure(top1, _TV, "torchvision's recipe"),
                          top5=Figure(top5, _TV), other=other)
    return register_model(task="classification", paper=PAPER, year=2022, input_size=(3, 224, 224), published=published,
                          # forward/backward: one block a stage (the other blocks are identical)
                          test=TestSettings(input_size=(3, 32, 32), kwargs={"depths": (1, 1, 1, 1)},
                                            torchvision=builder.__name__))(builder)


@_registered
def convnext_tiny(num_classes: int = 1000, in_channels: int = 3, **overrides: Any) -> ConvNeXt:
    """ConvNeXt-T: C = (96, 192, 384, 768), B = (3, 3, 9, 3); stochastic depth 0.1."""
    return _convnext("tiny", num_classes, in_channels, **overrides)


@_registered
def convnext_small(num_classes: int = 1000, in_channels: int = 3, **overrides: Any) -> ConvNeXt:
    """ConvNeXt-S (the paper's "small"; not a scaled-down model): C = (96, 192, 384, 768),
    B = (3, 3, 27, 3); stochastic depth 0.4."""
    return _convnext("small", num_classes, in_channels, **overrides)


@_registered
def convnext_base(num_classes: int = 1000, in_channels: int = 3, **overrides: Any) -> ConvNeXt:
    """ConvNeXt-B: C = (128, 256, 512, 1024), B = (3, 3, 27, 3); stochastic depth 0.5."""
    return _convnext("base", num_classes, in_channels, **overrides)


@_registered
def convnext_large(num_classes: int = 1000, in_channels: int = 3, **overrides: Any) -> ConvNeXt:
    """ConvNeXt-L: C = (192, 384, 768, 1536), B = (3, 3, 27, 3); stochastic depth 0.5."""
    return _convnext("large", num_classes, in_channels, **overrides)


# Fashion-MNIST (1 × 28 × 28): a 2×2 patchify stem (stages at 14, 7, 3 and 1 pixels), ConvNeXt-T's
# stage ratio 1:1:3:1 with one block per unit, a quarter of its widths. Sized for two CPU cores.
SMALL = {"depths": (1, 1, 3, 1), "dims": (24, 48, 96, 192), "patch_size": 2, "stochastic_depth": 0.0}


@register_model(task="classification", paper=PAPER + " (scaled down for 28×28 images)", year=2022,
                input_size=(1, 28, 28), published=Published(params=Figure(671_074, "counted from the architecture")))
def convnext_fashion_small(num_classes: int = 10, in_channels: int = 1, **overrides: Any) -> ConvNeXt:
    """A ConvNeXt for Fashion-MNIST: 2×2 stem, B = (1, 1, 3, 1), C = (24, 48, 96, 192).

    (``convnext_small`` is the paper's ConvNeXt-S, so the scaled-down model carries the data
    set in its name.)"""
    return ConvNeXt(**{**SMALL, **overrides}, num_classes=num_classes, in_channels=in_channels,
                    input_size=(in_channels, 28, 28))
