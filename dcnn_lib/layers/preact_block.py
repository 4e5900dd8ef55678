"""The pre-activation residual block (He, Zhang, Ren & Sun, "Identity Mappings in Deep Residual
Networks", ECCV 2016, Fig. 1 right and Fig. 4e).

Batch norm and ReLU move in front of each convolution and nothing follows the addition::

    x ──► BN ─ ReLU ─ conv ─ BN ─ ReLU ─ conv ──► (+) ──► x + F(x)
    └────────────────── identity ──────────────────┘

With f = identity, unrolling gives x_L = x_l + Σ_{i=l}^{L-1} F(x_i): any deeper unit sees any
shallower one plus a sum of residuals, and the gradient ∂E/∂x_l = ∂E/∂x_L (1 + ∂/∂x_l Σ F)
always contains the term ∂E/∂x_L, carried back unchanged. This is unit (e) of
:data:`~dcnn_lib.layers.residual_unit.VARIANTS`; :class:`PreActBlock` is that unit with the
shortcut defaults of the pre-activation ResNets (projection without BN where the shape
changes; see ``ResidualUnit`` for ``preact="shared"``, the authors' rule for such units).
"""
from __future__ import annotations

from .residual_unit import ResidualUnit


class PreActBlock(ResidualUnit):
    """Full pre-activation unit: (BN-ReLU-conv) × 2 (basic) or × 3 (bottleneck), then + x.

    Args are those of :class:`~dcnn_lib.layers.ResidualUnit` without ``variant``.
    Shapes: ``(N, in_channels, H, W) -> (N, out_channels, H/stride, W/stride)``.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, body: str = "basic",
                 expansion: int = 4, stride_in_1x1: bool = False, shortcut: str = "B",
                 preact: str = "own") -> None:
        super().__init__(in_channels, out_channels, stride, variant="full_preact", body=body,
                         expansion=expansion, stride_in_1x1=stride_in_1x1, shortcut=shortcut,
                         preact=preact)
