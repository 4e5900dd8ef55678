"""Inception v3's modules: Szegedy, Vanhoucke, Ioffe, Shlens, Wojna, "Rethinking the Inception
Architecture for Computer Vision", CVPR 2016.

The paper's design principles, each visible in one module below:

- **factorise large filters into small ones** (§3.1): a 5×5 convolution sees what two
  stacked 3×3 see, for 18/25 of the weights (``inception_v3_a``, the paper's Figure 5);
- **factorise into asymmetric convolutions** (§3.2): an n×n convolution as 1×n then n×1, for
  2/n of the weights (n = 7 in ``inception_v3_c``, Figure 6, on the 17×17 grid);
- **expand the filter bank at the coarsest grid** (Figure 7): 1×3 and 3×1 side by side
  (``inception_v3_e``, on 8×8);
- **reduce the grid without a representational bottleneck** (§5, Figure 10): a stride-2
  convolution branch and a stride-2 pooling branch side by side, concatenated, so the
  number of maps grows while the resolution halves (``inception_v3_b``: 35→17,
  ``inception_v3_d``: 17→8);
- average pooling branches inside the modules.

The branches and filter counts are those of the released network (TensorFlow's, ported by
torchvision), whose layer names they keep (``flat=True`` naming of
:class:`~dcnn_lib.layers.Inception`), so that torchvision's weights load strictly. Shapes are
given for a 299×299 input.
"""
from __future__ import annotations

from .inception import Inception, avgpool, conv, maxpool, split


def inception_v3_a(in_channels: int, pool_features: int) -> Inception:
    """35×35 module (Figure 5 as released: one 5×5 branch, one double-3×3 branch).

    ``N x in x 35 x 35 -> N x (224 + pool_features) x 35 x 35``.
    """
    return Inception(in_channels, {
        "branch1x1": [conv(64, 1)],
        "branch5x5": [conv(48, 1), conv(64, 5)],
        "branch3x3dbl": [conv(64, 1), conv(96, 3), conv(96, 3)],
        "branch_pool": [avgpool(3, 1, 1), conv(pool_features, 1)],
    }, flat=True)


def inception_v3_b(in_channels: int) -> Inception:
    """Grid reduction 35×35 → 17×17 (Figure 10): stride-2 convolutions beside a stride-2 pool.

    ``N x 288 x 35 x 35 -> N x 768 x 17 x 17``.
    """
    return Inception(in_channels, {
        "branch3x3": [conv(384, 3, 2, "valid")],
        "branch3x3dbl": [conv(64, 1), conv(96, 3), conv(96, 3, 2, "valid")],
        "branch_pool": [maxpool(3, 2, 0)],
    }, flat=True)


def inception_v3_c(in_channels: int, channels_7x7: int) -> Inception:
    """17×17 module with 7×7 convolutions factorised into 1×7 and 7×1 (Figure 6, n = 7).

    ``N x 768 x 17 x 17 -> N x 768 x 17 x 17``.
    """
    c7 = channels_7x7
    return Inception(in_channels, {
        "branch1x1": [conv(192, 1)],
        "branch7x7": [conv(c7, 1), conv(c7, (1, 7)), conv(192, (7, 1))],
        "branch7x7dbl": [conv(c7, 1), conv(c7, (7, 1)), conv(c7, (1, 7)), conv(c7, (7, 1)), conv(192, (1, 7))],
        "branch_pool": [avgpool(3, 1, 1), conv(192, 1)],
    }, flat=True)


def inception_v3_d(in_channels: int) -> Inception:
    """Grid reduction 17×17 → 8×8. ``N x 768 x 17 x 17 -> N x 1280 x 8 x 8``."""
    return Inception(in_channels, {
        "branch3x3": [conv(192, 1), conv(320, 3, 2, "valid")],
        "branch7x7x3": [conv(192, 1), conv(192, (1, 7)), conv(192, (7, 1)), conv(192, 3, 2, "valid")],
        "branch_pool": [maxpool(3, 2, 0)],
    }, flat=True)


def inception_v3_e(in_channels: int) -> Inception:
    """8×8 module with the expanded filter bank: 1×3 and 3×1 side by side (Figure 7).

    ``N x in x 8 x 8 -> N x 2048 x 8 x 8``.
    """
    return Inception(in_channels, {
        "branch1x1": [conv(320, 1)],
        "branch3x3": [conv(384, 1), split(conv(384, (1, 3)), conv(384, (3, 1)))],
        "branch3x3dbl": [conv(448, 1), conv(384, 3), split(conv(384, (1, 3)), conv(384, (3, 1)))],
        "branch_pool": [avgpool(3, 1, 1), conv(192, 1)],
    }, flat=True)
