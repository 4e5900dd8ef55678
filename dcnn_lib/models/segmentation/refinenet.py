"""RefineNet: Lin, Milan, Shen & Reid, "RefineNet: Multi-Path Refinement Networks for
High-Resolution Semantic Segmentation", CVPR 2017 (4-cascaded RefineNet on ResNet-101).

Instead of dilating the backbone (DeepLab) RefineNet keeps the ResNet as it is (strides 4, 8,
16, 32) and refines *top-down*: the coarse, semantic output of stage 4 is fused with the
finer features of stage 3, then 2, then 1, each fusion by a **RefineNet block** (Fig. 2)::

    input paths (1 or 2)  ──► 2 × RCU each (adaptive convolutions)
                          ──► multi-resolution fusion: 3×3 conv, upsample to the finest, sum
                          ──► chained residual pooling (5×5 max-pool + 3×3 conv, chained, summed)
                          ──► 1 × RCU (output convolutions)

    layer4 (2048, /32) ─► RefineNet-4 (512) ─┐
    layer3 (1024, /16) ─────────────► RefineNet-3 (256) ─┐
    layer2 (512, /8)  ───────────────────────► RefineNet-2 (256) ─┐
    layer1 (256, /4)  ─────────────────────────────────► RefineNet-1 (256) ─► 2 × RCU, 1×1 conv C, upsample ×4

Every stage's features are first reduced to 512 (RefineNet-4) or 256 channels by a 3×3
convolution (the paper's "dimension reduction"). Blocks: :class:`~dcnn_lib.layers.ResidualConvUnit`,
:class:`~dcnn_lib.layers.MultiResolutionFusion`, :class:`~dcnn_lib.layers.ChainedResidualPooling`.
All paths use residual connections, short-range inside blocks and long-range to the backbone,
so gradients reach every ResNet stage directly.

Departures: no dropout before the classifier; the CRP has two pooling blocks, as drawn in
the paper's Fig. 2 (``ChainedResidualPooling(blocks=...)`` takes more).
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn

from ...layers import guard_inputs
from ...layers.chained_residual_pooling import ChainedResidualPooling
from ...layers.feature_stages import FeatureStages
from ...layers.multi_resolution_fusion import MultiResolutionFusion
from ...layers.residual_conv_unit import ResidualConvUnit
from ...registry import Figure, Published, TestSettings, register_model
from ..backbones import get_backbone, stage_at
from .common import COUNTED, RESNET_NARROW, stage_channels, upsample

PAPER = ("Lin, Milan, Shen & Reid, RefineNet: Multi-Path Refinement Networks for High-Resolution "
         "Semantic Segmentation, CVPR 2017")


class RefineBlock(nn.Module):
    """One RefineNet block over 1 or 2 input paths (finest first is not required).

    Shapes: ``[(N, C_i, H_i, W_i)] -> (N, out, max H_i, max W_i)``.
    """

    def __init__(self, in_channels: Sequence[int], out_channels: int, crp_blocks: int = 2) -> None:
        super().__init__()
        self.rcus = nn.ModuleList(nn.Sequential(ResidualConvUnit(c), ResidualConvUnit(c)) for c in in_channels)
        self.fusion = MultiResolutionFusion(in_channels, out_channels) if len(in_channels) > 1 else None
        self.crp = ChainedResidualPooling(out_channels, crp_blocks)
        self.output_conv = ResidualConvUnit(out_channels)

    def forward(self, xs: Sequence[torch.Tensor]) -> torch.Tensor:
        xs = [rcu(x) for rcu, x in zip(self.rcus, xs)]
        x = self.fusion(xs) if self.fusion is not None else xs[0]
        return self.output_conv(self.crp(x))


class RefineNet(nn.Module):
    """4-cascaded RefineNet on a registry ResNet.

    Args:
        num_classes: ``C`` (21).
        backbone: registered ResNet (``"resnet101"``); ``backbone_kwargs`` go to its builder.
        widths: channels of RefineNet-4 and of RefineNet-3..1 (512, 256).

    Shapes: ``(N, 3, H, W) -> {"out": (N, C, H, W)}`` (scores computed at H/4 × W/4).
    """

    def __init__(self, num_classes: int = 21, backbone: str = "resnet101", backbone_kwargs: dict | None = None,
                 widths: tuple[int, int] = (512, 256)) -> None:
        super().__init__()
        resnet = get_backbone(backbone, inflate_to=None, **(backbone_kwargs or {}))
        picked = [stage_at(resnet, s) for s in (4, 8, 16, 32)]                 # layer1..layer4
        self.backbone = FeatureStages(resnet, {s.module: str(i) for i, s in enumerate(picked, 1)})
        cs = [s.channels for s in picked]
        w4, w = widths
        self.reduce = nn.ModuleList(nn.Conv2d(c, w4 if i == 3 else w, 3, padding=1, bias=False)
                                    for i, c in enumerate(cs))                    # stage i+1
        self.refine4 = RefineBlock([w4], w4)
        self.refine3 = RefineBlock([w, w4], w)
        self.refine2 = RefineBlock([w, w], w)
        self.refine1 = RefineBlock([w, w], w)
        self.head = nn.Sequential(ResidualConvUnit(w), ResidualConvUnit(w), nn.Conv2d(w, num_classes, 1))
        guard_inputs(self, "RefineNet", expected=(3, 512, 512))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        f = self.backbone(x)
        l1, l2, l3, l4 = (conv(f[k]) for conv, k in zip(self.reduce, "1234"))      # /4 /8 /16 /32
        r = self.refine4([l4])                                                       # N x 512 x /32
        r = self.refine3([l3, r])                                                    # N x 256 x /16
        r = self.refine2([l2, r])                                                    # N x 256 x /8
        r = self.refine1([l1, r])                                                    # N x 256 x /4
        return {"out": upsample(self.head(r), x.shape[-2:])}


@register_model(task="segmentation", paper=PAPER, year=2017, input_size=(3, 512, 512),
                published=Published(params=Figure(109_751_893, COUNTED)),
                test=TestSettings(input_size=(3, 64, 64), kwargs={**RESNET_NARROW, "widths": (16, 8)}))
def refinenet(num_classes: int = 21, backbone: str = "resnet101", backbone_kwargs: dict | None = None,
              widths: tuple[int, int] = (512, 256)) -> RefineNet:
    """4-cascaded RefineNet on ResNet-101: RCUs, multi-resolution fusion, chained residual pooling."""
    return RefineNet(num_classes, backbone, backbone_kwargs, widths)
