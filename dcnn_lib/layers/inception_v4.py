"""Inception-v4's modules: Szegedy, Ioffe, Vanhoucke, Alemi, "Inception-v4, Inception-ResNet
and the Impact of Residual Connections on Learning", AAAI 2017, Figures 3–8.

Inception-v4 is v3 made uniform: one stem (Figure 3), then three kinds of modules, one per
grid size — A on 35×35 (Figure 4), B on 17×17 (Figure 5), C on 8×8 (Figure 6) — and two
grid-reduction modules between them (Figures 7 and 8). Every convolution has batch norm and
a ReLU; "V" in the figures marks a convolution or pooling without padding (``"valid"``),
everything else keeps the size. Average poolings exclude the padding from the mean, as
TensorFlow's do. The filter counts are the figures', which the released model
(TensorFlow-Slim, ported to PyTorch by Cadene and timm) follows; shapes are for 299×299.

Reduction-A (Figure 7) is shared with the two Inception-ResNets, with four filter counts
``k, l, m, n`` that the paper tabulates per network (its Table 1).
"""
from __future__ import annotations

import torch.nn as nn

from .conv_bn_act import ConvBNAct
from .inception import Inception, avgpool, conv, maxpool, split


def _avg():  # noqa: ANN202
    return avgpool(3, 1, 1, count_include_pad=False)


def inception_v4_stem(in_channels: int = 3) -> nn.Sequential:
    """Figure 3: ``N x 3 x 299 x 299 -> N x 384 x 35 x 35`` (also Inception-ResNet-v2's in the paper)."""
    return nn.Sequential(
        ConvBNAct(in_channels, 32, 3, 2),                                      # N x 32 x 149 x 149
        ConvBNAct(32, 32, 3),                                                  # N x 32 x 147 x 147
        ConvBNAct(32, 64, 3, padding=1),                                       # N x 64 x 147 x 147
        Inception(64, {"branch0": [maxpool(3, 2, 0)],
                       "branch1": [conv(96, 3, 2, "valid")]}),                 # N x 160 x 73 x 73
        Inception(160, {"branch0": [conv(64, 1), conv(96, 3, 1, "valid")],
                        "branch1": [conv(64, 1), conv(64, (1, 7)), conv(64, (7, 1)),
                                    conv(96, 3, 1, "valid")]}),                # N x 192 x 71 x 71
        Inception(192, {"branch0": [conv(192, 3, 2, "valid")],
                        "branch1": [maxpool(3, 2, 0)]}),                       # N x 384 x 35 x 35
    )


def inception_v4_a(in_channels: int = 384) -> Inception:
    """Figure 4, the 35×35 module: ``N x 384 x 35 x 35 -> N x 384 x 35 x 35``."""
    return Inception(in_channels, {
        "branch0": [conv(96, 1)],
        "branch1": [conv(64, 1), conv(96, 3)],
        "branch2": [conv(64, 1), conv(96, 3), conv(96, 3)],
        "branch3": [_avg(), conv(96, 1)],
    })


def reduction_a(in_channels: int, k: int, l: int, m: int, n: int) -> Inception:  # noqa: E741 (the paper's names)
    """Figure 7, 35×35 → 17×17: 3×3/2 max pool ‖ 3×3/2 conv ``n`` ‖ 1×1 ``k`` → 3×3 ``l`` → 3×3/2 ``m``.

    ``N x C x 35 x 35 -> N x (C + n + m) x 17 x 17``.
    """
    return Inception(in_channels, {
        "branch0": [conv(n, 3, 2, "valid")],
        "branch1": [conv(k, 1), conv(l, 3), conv(m, 3, 2, "valid")],
        "branch2": [maxpool(3, 2, 0)],
    })


def inception_v4_b(in_channels: int = 1024) -> Inception:
    """Figure 5, the 17×17 module with 7×7 factorised into 1×7 and 7×1:
    ``N x 1024 x 17 x 17 -> N x 1024 x 17 x 17``."""
    return Inception(in_channels, {
        "branch0": [conv(384, 1)],
        "branch1": [conv(192, 1), conv(224, (1, 7)), conv(256, (7, 1))],
        "branch2": [conv(192, 1), conv(192, (7, 1)), conv(224, (1, 7)), conv(224, (7, 1)), conv(256, (1, 7))],
        "branch3": [_avg(), conv(128, 1)],
    })


def inception_v4_reduction_b(in_channels: int = 1024) -> Inception:
    """Figure 8, 17×17 → 8×8: ``N x 1024 x 17 x 17 -> N x 1536 x 8 x 8``."""
    return Inception(in_channels, {
        "branch0": [conv(192, 1), conv(192, 3, 2, "valid")],
        "branch1": [conv(256, 1), conv(256, (1, 7)), conv(320, (7, 1)), conv(320, 3, 2, "valid")],
        "branch2": [maxpool(3, 2, 0)],
    })


def inception_v4_c(in_channels: int = 1536) -> Inception:
    """Figure 6, the 8×8 module with split 1×3 / 3×1 outputs: ``N x 1536 x 8 x 8 -> N x 1536 x 8 x 8``."""
    return Inception(in_channels, {
        "branch0": [conv(256, 1)],
        "branch1": [conv(384, 1), split(conv(256, (1, 3)), conv(256, (3, 1)))],
        "branch2": [conv(384, 1), conv(448, (3, 1)), conv(512, (1, 3)), split(conv(256, (1, 3)), conv(256, (3, 1)))],
        "branch3": [_avg(), conv(256, 1)],
    })
