"""Inception-v4, Inception-ResNet-v1 and Inception-ResNet-v2: Szegedy, Ioffe, Vanhoucke, Alemi,
"Inception-v4, Inception-ResNet and the Impact of Residual Connections on Learning", AAAI 2017.

All three read the same way (input 299×299×3; Figures 9 and 15)::

    stem                                  N x C35 x 35 x 35
    n_A × block A                         N x C35 x 35 x 35
    Reduction-A (k, l, m, n)              N x C17 x 17 x 17
    n_B × block B                         N x C17 x 17 x 17
    Reduction-B                           N x C8 x 8 x 8
    n_C × block C                         N x C8 x 8 x 8
    average pooling, dropout (keep 0.8), linear

========================  =============  =========  ================  ============  =====================
network                   stem           blocks     C35 / C17 / C8    k, l, m, n    residual scale A/B/C
========================  =============  =========  ================  ============  =====================
Inception-v4              Figure 3       4, 7, 3    384, 1024, 1536   192,224,256,384  —
Inception-ResNet-v1       Figure 14      5, 10, 5   256, 896, 1792    192,192,256,384  0.17, 0.10, 0.20
Inception-ResNet-v2       released stem  10, 20, 10 320, 1088, 2080   256,256,384,384  0.17, 0.10, 0.20
========================  =============  =========  ================  ============  =====================

The blocks are in :mod:`dcnn_lib.layers.inception_v4` and :mod:`dcnn_lib.layers.inception_resnet`
(the paper's figures as branch lists); Reduction-A's four numbers are the paper's Table 1
(:data:`REDUCTION_A`).

**Inception-v4** follows the figures exactly, and so does the released model (TensorFlow-Slim,
ported by Cadene and timm): 42,679,816 parameters with 1000 classes — timm's 42.68M.

**Inception-ResNet-v1** follows the paper's figures (10–15), with 5/10/5 blocks as Figure 15
draws; it was never released by Google. The residual scales are not given per network in
the paper ("between 0.1 and 0.3"); the released v2's 0.17 / 0.10 / 0.20 are used.

**Inception-ResNet-v2 follows the released model** (TensorFlow-Slim's ``inception_resnet_v2``,
timm's port, 55.84M parameters), which differs from the paper's figures in three places:

- block counts: Figure 15 draws 5 × A, 10 × B, 5 × C; the release has **10 × A, 20 × B,
  10 × C** (the last C block without scaling and without ReLU), and so does this model
  (``depths=(5, 10, 5)`` builds the figure's counts);
- widths: the release's stem ends in a v3-style stem plus an Inception module with 320
  maps (the paper draws v4's stem, Figure 3, with 384), so its blocks project back to 320,
  1088 and 2080 maps, where the figures say 384, 1154 and 2048 — numbers that cannot all be
  right, since Figure 19's 2048 would not match the 2146 maps Figure 18 outputs;
- a final 1×1 convolution to 1536 maps before the pooling.

The released v2 was trained with these numbers and is the one every comparison (timm's
80.4% top-1) refers to. Dropout is 20% (keep 0.8) in all three.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import torch
import torch.nn as nn

from ...layers import (IR_BLOCKS, ConvBNAct, InceptionResNetBlock, guard_inputs, inception_resnet_v1_stem,
                       inception_resnet_v2_stem, inception_v4_a, inception_v4_b, inception_v4_c,
                       inception_v4_reduction_b, inception_v4_stem, ir_block_a, ir_block_b, ir_block_c,
                       ir_reduction_b, reduction_a, scale_branches)
from ...registry import Figure, Published, TestSettings, register_model

PAPER = "Szegedy, Ioffe, Vanhoucke & Alemi, Inception-v4, Inception-ResNet and the Impact of Residual Connections on Learning, AAAI 2017"

# The paper's Table 1: the filter counts k, l, m, n of Reduction-A in each network.
REDUCTION_A = {
    "inception_v4": (192, 224, 256, 384),
    "inception_resnet_v1": (192, 192, 256, 384),
    "inception_resnet_v2": (256, 256, 384, 384),
}
RESIDUAL_SCALES = (0.17, 0.10, 0.20)   # blocks A, B, C of the released Inception-ResNet-v2


class InceptionV4Net(nn.Module):
    """``features`` (stem and stages, an ``nn.Sequential``) → global average pool → dropout → FC.

    Shapes: ``(N, C, 299, 299) -> (N, num_classes)``; ``features`` gives ``N x num_features x 8 x 8``.
    """

    def __init__(self, features: "OrderedDict[str, nn.Module]", num_features: int, num_classes: int,
                 dropout: float, name: str, in_channels: int, input_hw: int = 299) -> None:
        super().__init__()
        self.features = nn.Sequential(features)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(num_features, num_classes)
        self.num_classes, self.num_features = num_classes, num_features
        guard_inputs(self, name, expected=(in_channels, input_hw, input_hw))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        return self.fc(self.dropout(torch.flatten(x, 1)))


def _repeat(n: int, make) -> nn.Sequential:  # noqa: ANN001
    return nn.Sequential(*[make(i) for i in range(n)])


def _scales(scale: float | Sequence[float] | None) -> tuple[float, float, float]:
    if scale is None:
        return RESIDUAL_SCALES
    if isinstance(scale, (int, float)):
        return (float(scale),) * 3
    a, b, c = scale
    return float(a), float(b), float(c)


# The 299×299 networks are tested at 75×75, the smallest input every layer accepts.
_TEST = TestSettings(input_size=(3, 75, 75))


@register_model(task="classification", paper=PAPER, year=2016, input_size=(3, 299, 299),
                published=Published(params=Figure(42_679_816, "timm (inception_v4.tf_in1k)"),
                                    top1=Figure(80.14, "timm (inception_v4.tf_in1k)"),
                                    other={"params_m": Figure(42.68, "timm (inception_v4.tf_in1k)"),
                                           "receptive_field": Figure(2071, "TF-Slim receptive field table")}),
                test=_TEST)
def inception_v4(num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.2) -> InceptionV4Net:
    """Inception-v4 (Figures 3–9): v4 stem, 4 × A, Reduction-A, 7 × B, Reduction-B, 3 × C."""
    f: OrderedDict[str, nn.Module] = OrderedDict()
    f["stem"] = inception_v4_stem(in_channels)                                  # N x 384 x 35 x 35
    f["inception_a"] = _repeat(4, lambda i: inception_v4_a(384))                # N x 384 x 35 x 35
    f["reduction_a"] = reduction_a(384, *REDUCTION_A["inception_v4"])           # N x 1024 x 17 x 17
    f["inception_b"] = _repeat(7, lambda i: inception_v4_b(1024))               # N x 1024 x 17 x 17
    f["reduction_b"] = inception_v4_reduction_b(1024)                           # N x 1536 x 8 x 8
    f["inception_c"] = _repeat(3, lambda i: inception_v4_c(1536))               # N x 1536 x 8 x 8
    return InceptionV4Net(f, 1536, num_classes, dropout, "InceptionV4", in_channels)


def _inception_resnet(version: str, stem: nn.Module, widths: tuple[int, int, int],
                      reduction_b: tuple, depths: tuple[int, int, int], scale: float | Sequence[float] | None,
                      last_linear: bool, head: nn.Module | None, num_features: int, num_classes: int,
                      dropout: float, in_channels: int) -> InceptionV4Net:
    """stem → A blocks → Reduction-A → B blocks → Reduction-B → C blocks (→ head) → classifier.

    ``widths``: the trunk's maps at 35, 17 and 8; ``reduction_b``: ``ir_reduction_b``'s filters;
    ``last_linear``: the last C block without scaling and ReLU (the released v2).
    """
    sa, sb, sc = _scales(scale)
    c35, c17, c8 = widths
    blocks = IR_BLOCKS[version]
    last = depths[2] - 1 if last_linear else depths[2]
    f: OrderedDict[str, nn.Module] = OrderedDict()
    f["stem"] = stem                                                                    # N x c35 x 35 x 35
    f["inception_resnet_a"] = _repeat(depths[0], lambda i: InceptionResNetBlock(c35, ir_block_a(blocks["a"]), sa))
    f["reduction_a"] = reduction_a(c35, *REDUCTION_A[f"inception_resnet_{version}"])    # N x c17 x 17 x 17
    f["inception_resnet_b"] = _repeat(depths[1], lambda i: InceptionResNetBlock(c17, ir_block_b(blocks["b"]), sb))
    f["reduction_b"] = ir_reduction_b(c17, *reduction_b)                                 # N x c8 x 8 x 8
    f["inception_resnet_c"] = _repeat(depths[2], lambda i: InceptionResNetBlock(
        c8, ir_block_c(blocks["c"]), sc if i < last else 1.0, activation=i < last))
    if head is not None:
        f["conv"] = head
    return InceptionV4Net(f, num_features, num_classes, dropout, f"InceptionResNet{version.upper()}", in_channels)


@register_model(task="classification", paper=PAPER, year=2016, input_size=(3, 299, 299),
                test=_TEST)
def inception_resnet_v1(num_classes: int = 1000, in_channels: int = 3,
                        depths: tuple[int, int, int] = (5, 10, 5),
                        scale: float | Sequence[float] | None = None, dropout: float = 0.2) -> InceptionV4Net:
    """Inception-ResNet-v1 as drawn (Figures 10–15): 5 × A, Reduction-A, 10 × B, Reduction-B, 5 × C."""
    return _inception_resnet("v1", inception_resnet_v1_stem(in_channels), (256, 896, 1792), (384, 256, (256, 256)),
                             depths, scale, False, None, 1792, num_classes, dropout, in_channels)


@register_model(task="classification", paper=PAPER + " (TF-Slim release)", year=2016, input_size=(3, 299, 299),
                published=Published(params=Figure(55_843_464, "timm (inception_resnet_v2.tf_in1k)"),
                                    top1=Figure(80.43, "timm (inception_resnet_v2.tf_in1k)"),
                                    other={"params_m": Figure(55.84, "timm (inception_resnet_v2.tf_in1k)"),
                                           "receptive_field": Figure(3039, "TF-Slim receptive field table")}),
                test=_TEST)
def inception_resnet_v2(num_classes: int = 1000, in_channels: int = 3,
                        depths: tuple[int, int, int] = (10, 20, 10),
                        scale: float | Sequence[float] | None = None, dropout: float = 0.2) -> InceptionV4Net:
    """Inception-ResNet-v2 as released (TF-Slim, timm): 10 × A, 20 × B, 10 × C blocks, 55.84M parameters."""
    return _inception_resnet("v2", inception_resnet_v2_stem(in_channels), (320, 1088, 2080), (384, 288, (288, 320)),
                             depths, scale, True, ConvBNAct(2080, 1536, 1), 1536, num_classes, dropout, in_channels)


@register_model(task="classification", paper=PAPER + " (scaled for 28×28 images)", year=2016,
                input_size=(1, 28, 28))
def inception_resnet_small(num_classes: int = 10, in_channels: int = 1, depths: tuple[int, int] = (5, 5),
                           width: float = 0.25, scale: float = 0.2, channels: int = 64,
                           dropout: float = 0.2) -> InceptionV4Net:
    """Inception-ResNet-v2's blocks A and B at ``width`` for 28×28 images (residual-scaling experiments).

    stem (3×3, 3×3/2) → ``depths[0]`` × block A on 14×14×``channels`` → Reduction-A (the v2
    numbers × ``width``) → ``depths[1]`` × block B on 6×6 → average pool → FC. Every block
    adds ``scale`` times its residual (one value for all blocks: the knob of the experiment).
    """
    k, l, m, n = (max(1, round(c * width)) for c in REDUCTION_A["inception_resnet_v2"])  # noqa: E741
    f: OrderedDict[str, nn.Module] = OrderedDict()
    f["stem"] = nn.Sequential(ConvBNAct(in_channels, 32, 3, padding=1),                  # N x 32 x 28 x 28
                              ConvBNAct(32, channels, 3, 2, padding=1))                  # N x 64 x 14 x 14
    a, b = (scale_branches(block(IR_BLOCKS["v2"][k]), width) for block, k in ((ir_block_a, "a"), (ir_block_b, "b")))
    f["inception_resnet_a"] = _repeat(depths[0], lambda i: InceptionResNetBlock(channels, a, scale))
    f["reduction_a"] = reduction_a(channels, k, l, m, n)                                 # N x 256 x 6 x 6
    c17 = channels + m + n
    f["inception_resnet_b"] = _repeat(depths[1], lambda i: InceptionResNetBlock(c17, b, scale))
    return InceptionV4Net(f, c17, num_classes, dropout, "InceptionResNetSmall", in_channels, input_hw=28)
