"""Dilated convolutions for dense prediction: Yu & Koltun, "Multi-Scale Context Aggregation by
Dilated Convolutions", ICLR 2016.

A 3×3 convolution with dilation d samples its input every d pixels: its window spans
``2d + 1`` pixels with 9 weights, and the map keeps its resolution. Stacked with dilations
1, 2, 4, 8, ... the receptive field grows *exponentially* with depth while the number of
parameters grows linearly and nothing is downsampled.

Two parts (§3–4):

- **Front end**: VGG-16 with its last two poolings removed; every layer after a removed pooling
  is dilated by 2 for each pooling removed — conv5_x by 2, fc6 (a 7×7 convolution, as in FCN)
  by 4 — so the pretrained filters see the same input windows at 4× the resolution. Output:
  class scores at 1/8 of the input.
- **Context module** (:class:`~dcnn_lib.layers.ContextModule`): 3×3 convolutions with dilations
  1, 1, 2, 4, 8, 16, 1 and a 1×1, C channels each, identity-initialised: a receptive field of
  67×67 on the front end's map, at the same resolution. It maps scores to refined scores.

The scores are upsampled bilinearly to the input size.

Departures: zero "same" padding in the front end (the paper removes the padding and
reflection-pads the input by a large margin instead), so the output is at exactly 1/8 of the
input; ``context="large"`` selects the wider module of Table 1; ``context=None`` the front end
alone.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn

from ...layers import guard_inputs
from ...layers.context_module import DILATIONS, ContextModule
from ...registry import Figure, Published, TestSettings, register_model
from ..backbones import get_backbone
from .common import COUNTED, VGG_NARROW, stage_channels, upsample, vgg_stages
from .fcn import convolutionalize

PAPER = "Yu & Koltun, Multi-Scale Context Aggregation by Dilated Convolutions, ICLR 2016"


class DilatedNet(nn.Module):
    """Dilated VGG-16 front end (output stride 8) + multi-scale context module.

    Args:
        num_classes: ``C`` (21, PASCAL VOC).
        context: ``"basic"``, ``"large"`` or ``None`` (front end only).
        backbone: registered VGG (``"vgg16"``); ``backbone_kwargs`` go to its builder.
        hidden: channels of fc6 and fc7 (4096).
        dropout: after fc6 and fc7 (0.5).

    Shapes: ``(N, 3, H, W) -> {"out": (N, C, H, W)}`` (scores computed at H/8 × W/8).
    """

    def __init__(self, num_classes: int = 21, context: str | None = "basic", backbone: str = "vgg16",
                 backbone_kwargs: dict[str, Any] | None = None, hidden: int = 4096, dropout: float = 0.5) -> None:
        super().__init__()
        vgg = get_backbone(backbone, inflate_to=None, **(backbone_kwargs or {}))
        s1, s2, s3, s4, s5 = vgg_stages(vgg)
        conv4 = list(s4)[:-1]                                   # pool4 removed
        conv5 = list(s5)[:-1]                                   # pool5 removed
        for conv in (m for m in conv5 if isinstance(m, nn.Conv2d)):
            conv.dilation, conv.padding = (2, 2), (2, 2)        # one removed pooling: dilation 2
        self.features = nn.Sequential(*s1, *s2, *s3, *conv4, *conv5)              # N x 512 x H/8
        c5 = stage_channels(s5)
        self.fc6 = nn.Conv2d(c5, hidden, 7, dilation=4, padding=12)             # two removed: 4
        self.fc7 = nn.Conv2d(hidden, hidden, 1)
        fcs = [m for m in getattr(vgg, "classifier", []) if isinstance(m, nn.Linear)]
        if len(fcs) >= 2:
            convolutionalize(fcs[0], self.fc6)
            convolutionalize(fcs[1], self.fc7)
        self.final = nn.Conv2d(hidden, num_classes, 1)
        self.relu, self.drop = nn.ReLU(inplace=True), nn.Dropout2d(dropout)
        self.context = ContextModule(num_classes, context) if context else None
        guard_inputs(self, "DilatedNet", expected=(3, 500, 500))

    def front_end(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores at 1/8 resolution: ``(N, 3, H, W) -> (N, C, H/8, W/8)``."""
        h = self.features(x)
        h = self.drop(self.relu(self.fc6(h)))
        h = self.drop(self.relu(self.fc7(h)))
        return self.final(h)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        scores = self.front_end(x)                                               # N x C x H/8 x W/8
        if self.context is not None:
            scores = self.context(scores)                                        # same shape, RF +66
        return {"out": upsample(scores, x.shape[-2:])}


@register_model(task="segmentation", paper=PAPER, year=2016, input_size=(3, 500, 500),
                published=Published(params=Figure(134_374_973, COUNTED)),
                test=TestSettings(input_size=(3, 64, 64), kwargs={**VGG_NARROW, "hidden": 16}))
def dilated_context(num_classes: int = 21, context: str | None = "basic", backbone: str = "vgg16",
                    backbone_kwargs: dict | None = None, hidden: int = 4096) -> DilatedNet:
    """Dilated VGG-16 front end + basic context module (dilations 1,1,2,4,8,16,1; identity init)."""
    return DilatedNet(num_classes, context, backbone, backbone_kwargs, hidden)
