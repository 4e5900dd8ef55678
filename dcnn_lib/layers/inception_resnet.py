"""The Inception-ResNet module: an Inception module as the residual branch, scaled down.

Szegedy, Ioffe, Vanhoucke, Alemi, "Inception-v4, Inception-ResNet and the Impact of Residual
Connections on Learning", AAAI 2017, §3: "each Inception block is followed by filter-expansion
layer (1×1 convolution without activation) which is used for scaling up the dimensionality
of the filter bank before the addition to match the depth of the input" (Figures 10–13 for
Inception-ResNet-v1, 16–19 for v2)::

    y = ReLU(x + scale · W_1×1 · concat(branches(x)))

§3.3, **scaling of the residuals**: "if the number of filters exceeded 1000, the residual
variants started to exhibit instabilities and the network has just 'died' early in the
training ... scaling down the residuals before adding them to the previous layer activation
seemed to stabilize the training. In general we picked some scaling factors between 0.1 and
0.3 to scale the residuals" (Figure 20). Batch norm sits only on the convolutions of the
branches, "not on top of the summations", to save memory.

:class:`InceptionResNetBlock` is that block (a :class:`~dcnn_lib.layers.ResidualBlock`:
identity shortcut, ``residual(x) = scale · project(branches(x))``, ReLU after the sum — or
none, for the released v2's last block). :data:`IR_BLOCKS` holds the filter counts of each
figure's branches and ``ir_block_a/b/c`` turn them into branch lists; the model file
assembles the networks.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import torch
import torch.nn as nn

from .conv_bn_act import ConvBNAct
from .inception import Inception, Spec, avgpool, conv, maxpool
from .residual import ResidualBlock


class InceptionResNetBlock(ResidualBlock):
    """``y = act(x + scale · project(Inception(x)))``, shapes unchanged.

    Args:
        channels: input = output channels.
        branches: the Inception branches (see :class:`~dcnn_lib.layers.Inception`).
        scale: the residual scaling (paper: 0.1–0.3; ``1.0`` = none).
        activation: ReLU after the sum (``False`` for the released v2's last block).
        eps: batch-norm epsilon of the branches.

    The projection ("1×1 Conv, Linear" in the figures) has a bias and no batch norm.
    Shapes: ``(N, channels, H, W) -> (N, channels, H, W)``.
    """

    def __init__(self, channels: int, branches: Mapping[str, Sequence[Spec]], scale: float = 1.0,
                 activation: bool = True, eps: float = 1e-3) -> None:
        super().__init__()
        self.branches = Inception(channels, branches, eps=eps)
        self.project = nn.Conv2d(self.branches.out_channels, channels, 1, bias=True)
        self.scale = float(scale)
        self.relu = nn.ReLU(inplace=False) if activation else nn.Identity()
        self.downsample = None

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(self.branches(x)) * self.scale

    def extra_repr(self) -> str:
        return f"scale={self.scale:g}"


# ---- the blocks' branches (Figures 10, 11, 13 for v1; 16, 17, 19 for v2) ---------------------
# Filter counts per branch, from the input side; the projection back to the trunk's width is
# added by InceptionResNetBlock. v2's are the released model's (the figures' agree).
IR_BLOCKS = {
    "v1": {"a": ((32,), (32, 32), (32, 32, 32)), "b": ((128,), (128, 128, 128)), "c": ((192,), (192, 192, 192))},
    "v2": {"a": ((32,), (32, 32), (32, 48, 64)), "b": ((192,), (128, 160, 192)), "c": ((192,), (192, 224, 256))},
}


def ir_block_a(filters: tuple) -> dict[str, list[Spec]]:
    """35×35 block: 1×1 ‖ 1×1 → 3×3 ‖ 1×1 → 3×3 → 3×3 (``IR_BLOCKS[version]["a"]``)."""
    (b0,), (b1r, b1), (b2r, b2a, b2b) = filters
    return {"branch0": [conv(b0, 1)],
            "branch1": [conv(b1r, 1), conv(b1, 3)],
            "branch2": [conv(b2r, 1), conv(b2a, 3), conv(b2b, 3)]}


def ir_block_b(filters: tuple) -> dict[str, list[Spec]]:
    """17×17 block: 1×1 ‖ 1×1 → 1×7 → 7×1 (``IR_BLOCKS[version]["b"]``)."""
    (b0,), (b1r, b1a, b1b) = filters
    return {"branch0": [conv(b0, 1)],
            "branch1": [conv(b1r, 1), conv(b1a, (1, 7)), conv(b1b, (7, 1))]}


def ir_block_c(filters: tuple) -> dict[str, list[Spec]]:
    """8×8 block: 1×1 ‖ 1×1 → 1×3 → 3×1 (``IR_BLOCKS[version]["c"]``)."""
    (b0,), (b1r, b1a, b1b) = filters
    return {"branch0": [conv(b0, 1)],
            "branch1": [conv(b1r, 1), conv(b1a, (1, 3)), conv(b1b, (3, 1))]}


def ir_reduction_b(in_channels: int, b0: int, b1: int, b2: tuple[int, int], reduce: int = 256) -> Inception:
    """Reduction-B of the Inception-ResNets, 17×17 → 8×8: max pool ‖ three branches that start
    with a 1×1 ``reduce`` and end in a 3×3/2 (``b0``, ``b1``; ``b2`` = 3×3 then 3×3/2).

    Figure 12 (v1): ``(384, 256, (256, 256))``, 896 → 1792 maps; Figure 18 (v2):
    ``(384, 288, (288, 320))``, 1088 → 2080.
    """
    return Inception(in_channels, {
        "branch0": [conv(reduce, 1), conv(b0, 3, 2, "valid")],
        "branch1": [conv(reduce, 1), conv(b1, 3, 2, "valid")],
        "branch2": [conv(reduce, 1), conv(b2[0], 3), conv(b2[1], 3, 2, "valid")],
        "branch3": [maxpool(3, 2, 0)],
    })


# ---- stems --------------------------------------------------------------------------------------
def _v3_stem(in_channels: int) -> list[nn.Module]:
    """The plain stem both Inception-ResNets start with (v3's): ``3 x 299 x 299 -> 192 x 71 x 71``."""
    return [ConvBNAct(in_channels, 32, 3, 2),          # N x 32 x 149 x 149
            ConvBNAct(32, 32, 3),                      # N x 32 x 147 x 147
            ConvBNAct(32, 64, 3, padding=1),           # N x 64 x 147 x 147
            nn.MaxPool2d(3, 2),                        # N x 64 x 73 x 73
            ConvBNAct(64, 80, 1),                      # N x 80 x 73 x 73
            ConvBNAct(80, 192, 3)]                     # N x 192 x 71 x 71


def inception_resnet_v1_stem(in_channels: int = 3) -> nn.Sequential:
    """Figure 14: ``N x 3 x 299 x 299 -> N x 256 x 35 x 35``."""
    return nn.Sequential(*_v3_stem(in_channels), ConvBNAct(192, 256, 3, 2))   # N x 256 x 35 x 35


def inception_resnet_v2_stem(in_channels: int = 3) -> nn.Sequential:
    """The released stem: v3's, then an Inception module ("Mixed_5b") to 320 maps.

    ``N x 3 x 299 x 299 -> N x 320 x 35 x 35``. (The paper draws v4's stem, Figure 3, with 384.)
    """
    return nn.Sequential(
        *_v3_stem(in_channels),
        nn.MaxPool2d(3, 2),                                                                   # N x 192 x 35 x 35
        Inception(192, {"branch0": [conv(96, 1)],
                        "branch1": [conv(48, 1), conv(64, 5)],
                        "branch2": [conv(64, 1), conv(96, 3), conv(96, 3)],
                        "branch3": [avgpool(3, 1, 1, count_include_pad=False), conv(64, 1)]}),  # N x 320 x 35 x 35
    )
