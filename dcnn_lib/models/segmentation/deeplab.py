"""DeepLabv3 (Chen, Papandreou, Schroff & Adam, "Rethinking Atrous Convolution for Semantic Image
Segmentation", arXiv:1706.05587, 2017) and DeepLabv3+ (Chen, Zhu, Papandreou, Schroff & Adam,
"Encoder-Decoder with Atrous Separable Convolution for Semantic Image Segmentation", ECCV
2018); torchvision's ``deeplabv3_resnet50``.

**DeepLabv3** (§3): a ResNet whose last block(s) trade stride for atrous rate, so the features
stay at **output stride 16** (8 at test time in the paper) instead of 32; block 4 uses
**multi-grid** unit rates (1, 2, 4) × 2. On top, **ASPP with image pooling**
(:class:`~dcnn_lib.layers.ASPP`: 1×1, 3×3 at rates 6/12/18, global pooling; 256 filters each, batch
norm), a 3×3 convolution and a 1×1 classifier; bilinear upsampling to the input::

    ResNet-101 (OS 16, multi-grid)     N x 2048 x H/16 x W/16
    ASPP (rates 6, 12, 18 + pooling)   N x 256 x H/16 x W/16
    3×3 conv 256, 1×1 conv C           N x C x H/16 x W/16  -> upsample ×16

**DeepLabv3+** (§3.2, Fig. 2) adds a simple decoder: the ASPP features are upsampled ×4 and
concatenated with low-level features of the backbone's first block (stride 4, reduced to 48
channels by a 1×1 convolution so they do not outweigh the 256 semantic channels), refined by
two 3×3 convolutions (256) and classified, then upsampled ×4. Sharper object boundaries at
little cost.

Departures: v3+'s best backbone is a modified aligned Xception with depthwise-separable ASPP
and decoder; here the ResNet-101 variant the paper also reports (regular convolutions).
Training at output stride 16 with rates (6, 12, 18); ``output_stride=8`` doubles the rates
(12, 24, 36) as the paper does.

``deeplabv3_resnet50`` is torchvision's model (ResNet-50 at output stride 8 without multi-grid,
rates 12/24/36, optional FCN auxiliary head on ``layer3``): its state dict loads strictly.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn as nn

from ...layers import guard_inputs
from ...layers.aspp import ASPP, conv_bn_relu
from ...layers.seg_head import ConvHead
from ...registry import Figure, Published, TestSettings, register_model
from .common import COUNTED, RESNET_NARROW, BackboneHead, resnet_backbone, upsample
from .fcn import TV_SEG

PAPER_V3 = "Chen, Papandreou, Schroff & Adam, Rethinking Atrous Convolution for Semantic Image Segmentation, arXiv 2017"
PAPER_V3P = ("Chen, Zhu, Papandreou, Schroff & Adam, Encoder-Decoder with Atrous Separable Convolution for "
             "Semantic Image Segmentation, ECCV 2018")


def _rates(output_stride: int, rates: Sequence[int] | None = None) -> tuple[int, ...]:
    """The paper's ASPP rates for an output stride (6/12/18 at 16, doubled at 8) unless given."""
    if rates is not None:
        return tuple(rates)
    return (6, 12, 18) if output_stride == 16 else (12, 24, 36)


class DeepLabHead(nn.Sequential):
    """ASPP → 3×3 conv-BN-ReLU 256 → 1×1 classifier (torchvision's ``DeepLabHead`` layout)."""

    def __init__(self, in_channels: int, num_classes: int, rates: Sequence[int] = (12, 24, 36),
                 channels: int = 256) -> None:
        super().__init__(ASPP(in_channels, rates, channels),
                         *conv_bn_relu(channels, channels, 3),
                         nn.Conv2d(channels, num_classes, 1))


class DeepLabV3(BackboneHead):
    """Dilated ResNet + ASPP head (+ optional auxiliary FCN head on ``layer3``).

    Args:
        num_classes: ``C`` (21).
        backbone: registered ResNet; ``backbone_kwargs`` go to its builder.
        output_stride: 16 (ASPP rates 6/12/18) or 8 (12/24/36).
        multi_grid: unit rates of block 4 (``(1, 2, 4)``; ``None`` for torchvision's).
        aux_loss: add the auxiliary head.
        aspp_channels: filters of each ASPP branch and the head (256).
        rates: ASPP atrous rates (default: the paper's for ``output_stride``). On small images
            the paper's rates exceed the feature map and the 3×3 branches degenerate to their
            centre tap (§3.3), so narrow training runs on 64×64 scenes scale them down.

    Shapes: ``(N, 3, H, W) -> {"out": (N, C, H, W)[, "aux": ...]}``.
    """

    def __init__(self, num_classes: int = 21, backbone: str = "resnet101", backbone_kwargs: dict | None = None,
                 output_stride: int = 16, multi_grid: Sequence[int] | None = (1, 2, 4), aux_loss: bool = False,
                 aspp_channels: int = 256, rates: Sequence[int] | None = None) -> None:
        returns = {32: "out", **({16: "aux"} if aux_loss else {})}
        body = resnet_backbone(backbone, output_stride, multi_grid, returns, **(backbone_kwargs or {}))
        c4, c3 = body.stage_channels[32], body.stage_channels[16]
        super().__init__(body, DeepLabHead(c4, num_classes, _rates(output_stride, rates), aspp_channels),
                         ConvHead(c3, num_classes) if aux_loss else None)
        guard_inputs(self, "DeepLabV3", expected=(3, 513, 513))


class DeepLabV3Plus(nn.Module):
    """DeepLabv3 encoder + decoder with low-level features from ``layer1`` (stride 4).

    Shapes: ``(N, 3, H, W) -> {"out": (N, C, H, W)}``.
    """

    def __init__(self, num_classes: int = 21, backbone: str = "resnet101", backbone_kwargs: dict | None = None,
                 output_stride: int = 16, multi_grid: Sequence[int] | None = (1, 2, 4),
                 aspp_channels: int = 256, low_level_channels: int = 48, rates: Sequence[int] | None = None) -> None:
        super().__init__()
        self.backbone = resnet_backbone(backbone, output_stride, multi_grid, {4: "low", 32: "out"},
                                        **(backbone_kwargs or {}))
        c1, c4 = self.backbone.stage_channels[4], self.backbone.stage_channels[32]
        self.aspp = ASPP(c4, _rates(output_stride, rates), aspp_channels)
        self.reduce = nn.Sequential(*conv_bn_relu(c1, low_level_channels))        # 1×1 → 48
        self.decoder = nn.Sequential(
            *conv_bn_relu(aspp_channels + low_level_channels, aspp_channels, 3),
            *conv_bn_relu(aspp_channels, aspp_channels, 3),
            nn.Conv2d(aspp_channels, num_classes, 1))
        guard_inputs(self, "DeepLabV3Plus", expected=(3, 513, 513))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        f = self.backbone(x)
        low = self.reduce(f["low"])                                                # N x 48 x H/4 x W/4
        high = upsample(self.aspp(f["out"]), low.shape[-2:])                       # N x 256 x H/4 x W/4
        scores = self.decoder(torch.cat([high, low], dim=1))                       # N x C x H/4 x W/4
        return {"out": upsample(scores, x.shape[-2:])}


_TEST = TestSettings(input_size=(3, 64, 64), kwargs={**RESNET_NARROW, "aspp_channels": 16})


@register_model(task="segmentation", paper=PAPER_V3, year=2017, input_size=(3, 513, 513),
                published=Published(params=Figure(58_630_997, COUNTED)), test=_TEST)
def deeplabv3(num_classes: int = 21, backbone: str = "resnet101", backbone_kwargs: dict | None = None,
              output_stride: int = 16, aux_loss: bool = False, aspp_channels: int = 256,
              rates: Sequence[int] | None = None) -> DeepLabV3:
    """DeepLabv3: ResNet-101 at output stride 16 with multi-grid (1, 2, 4), ASPP with image pooling."""
    return DeepLabV3(num_classes, backbone, backbone_kwargs, output_stride, (1, 2, 4), aux_loss, aspp_channels, rates)


@register_model(task="segmentation", paper=PAPER_V3P, year=2018, input_size=(3, 513, 513),
                published=Published(params=Figure(59_344_309, COUNTED)), test=_TEST)
def deeplabv3plus(num_classes: int = 21, backbone: str = "resnet101", backbone_kwargs: dict | None = None,
                  output_stride: int = 16, aspp_channels: int = 256, low_level_channels: int = 48,
                  rates: Sequence[int] | None = None) -> DeepLabV3Plus:
    """DeepLabv3+: DeepLabv3 encoder (ResNet-101, OS 16) + decoder fusing stride-4 features."""
    return DeepLabV3Plus(num_classes, backbone, backbone_kwargs, output_stride, (1, 2, 4), aspp_channels,
                         low_level_channels, rates)


@register_model(task="segmentation", paper=PAPER_V3 + " (torchvision's ResNet-50 version)", year=2017,
                input_size=(3, 520, 520),
                published=Published(params=Figure(39_638_869, COUNTED, "without the auxiliary head"),
                                    gmacs=Figure(178.722, TV_SEG), other={
                                        "params_with_aux": Figure(42_004_074, TV_SEG),
                                        "voc_miou": Figure(66.4, TV_SEG, "COCO val2017, VOC classes, mean IoU %")}),
                test=TestSettings(input_size=(3, 64, 64), kwargs={**RESNET_NARROW, "aspp_channels": 16},
                                  torchvision="deeplabv3_resnet50", torchvision_kwargs={"weights_backbone": None},
                                  bench_input_size=(3, 128, 128)))
def deeplabv3_resnet50(num_classes: int = 21, aux_loss: bool = False, backbone: str = "resnet50",
                       backbone_kwargs: dict | None = None, aspp_channels: int = 256) -> DeepLabV3:
    """torchvision's deeplabv3_resnet50 (OS 8, rates 12/24/36, no multi-grid), weights interchangeable."""
    return DeepLabV3(num_classes, backbone, backbone_kwargs, output_stride=8, multi_grid=None, aux_loss=aux_loss,
                     aspp_channels=aspp_channels)
