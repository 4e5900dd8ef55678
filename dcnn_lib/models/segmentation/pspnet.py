"""PSPNet: Zhao, Shi, Qi, Wang & Jia, "Pyramid Scene Parsing Network", CVPR 2017.

A dilated ResNet (output stride 8: ``layer3`` and ``layer4`` trade their stride for dilation
2 and 4) gives a 2048-channel map at 1/8 of the input. The **pyramid pooling module**
(:class:`~dcnn_lib.layers.PyramidPooling`) pools it into 1×1, 2×2, 3×3 and 6×6 bins, reduces
each to 512 channels, upsamples and concatenates them with the map (4096 channels): every
position sees the whole scene's context at four scales (Fig. 3). A 3×3 convolution (512),
dropout and a 1×1 classifier follow; scores are upsampled to the input::

    ResNet-50 (dilated, OS 8)            N x 2048 x H/8 x W/8
    pyramid pooling (1, 2, 3, 6)         N x 4096 x H/8 x W/8
    3×3 conv 512, dropout 0.1, 1×1 C     N x C x H/8 x W/8   -> upsample ×8

**Deep supervision** (§3.4): an auxiliary classifier on ``layer3`` (res4b22) adds its loss with
weight 0.4 during training ("aux" output; :func:`dcnn_lib.train.fit` uses 0.4 by default); at
test time only the main branch counts.

Departures: the paper's ResNet has a "deep stem" (three 3×3 convolutions instead of the 7×7);
here the registry's torchvision-style ResNet-50. Default 21 classes (VOC; the paper also
reports ADE20K with 150).
"""
from __future__ import annotations

from typing import Sequence

import torch.nn as nn

from ...layers import guard_inputs
from ...layers.pyramid_pooling import PyramidPooling
from ...layers.seg_head import ConvHead
from ...registry import Figure, Published, TestSettings, register_model
from .common import COUNTED, RESNET_NARROW, BackboneHead, resnet_backbone

PAPER = "Zhao, Shi, Qi, Wang & Jia, Pyramid Scene Parsing Network, CVPR 2017"
BINS = (1, 2, 3, 6)


class PSPNet(BackboneHead):
    """Dilated ResNet + pyramid pooling head + auxiliary head on ``layer3``.

    Args:
        num_classes: ``C``.
        bins: pyramid levels (1, 2, 3, 6).
        backbone: registered ResNet (``"resnet50"``); ``backbone_kwargs`` go to its builder.
        aux_loss: the auxiliary (deep supervision) head.

    Shapes: ``(N, 3, H, W) -> {"out": (N, C, H, W), "aux": (N, C, H, W)}``.
    """

    def __init__(self, num_classes: int = 21, bins: Sequence[int] = BINS, backbone: str = "resnet50",
                 backbone_kwargs: dict | None = None, aux_loss: bool = True) -> None:
        returns = {32: "out", **({16: "aux"} if aux_loss else {})}
        body = resnet_backbone(backbone, 8, returns=returns, **(backbone_kwargs or {}))
        c4, c3 = body.stage_channels[32], body.stage_channels[16]
        ppm = PyramidPooling(c4, bins)
        head = nn.Sequential(ppm, ConvHead(ppm.out_channels, num_classes, mid_channels=c4 // 4, dropout=0.1))
        aux = ConvHead(c3, num_classes, mid_channels=c3 // 4, dropout=0.1) if aux_loss else None
        super().__init__(body, head, aux)
        guard_inputs(self, "PSPNet", expected=(3, 473, 473))


@register_model(task="segmentation", paper=PAPER, year=2017, input_size=(3, 473, 473),
                published=Published(params=Figure(48_957_802, COUNTED, "with the auxiliary head")),
                test=TestSettings(input_size=(3, 64, 64), kwargs=RESNET_NARROW))
def pspnet(num_classes: int = 21, bins: Sequence[int] = BINS, backbone: str = "resnet50",
           backbone_kwargs: dict | None = None, aux_loss: bool = True) -> PSPNet:
    """PSPNet: dilated ResNet-50 (OS 8), pyramid pooling with bins 1/2/3/6, auxiliary loss on layer3."""
    return PSPNet(num_classes, bins, backbone, backbone_kwargs, aux_loss)
