"""SegNet: Badrinarayanan, Kendall & Cipolla, "SegNet: A Deep Convolutional Encoder-Decoder
Architecture for Image Segmentation", TPAMI 2017.

The encoder is "topologically identical to the 13 convolutional layers" of VGG-16 (each
followed by batch norm and ReLU), without the fully connected layers — which cuts the encoder
from 134M to 14.7M parameters. Its five 2×2 max-poolings **remember where each maximum came
from** (2 bits per 2×2 window). The decoder mirrors the encoder: each stage *unpools* its input
by putting every value back at the position its encoder's maximum came from (zeros
elsewhere: a sparse map), then densifies it with trainable 3×3 convolutions::

    encoder (VGG-16 BN)                                  decoder
    conv1_1..1_2 64,  pool1 (indices) ──────────┐        unpool1, conv 64, conv → C (scores)
    conv2_1..2_2 128, pool2 (indices) ────────┐ │        unpool2, conv 128, conv 64
    conv3_1..3_3 256, pool3 (indices) ──────┐ │ │        unpool3, 2× conv 256, conv 128
    conv4_1..4_3 512, pool4 (indices) ────┐ │ │ │        unpool4, 2× conv 512, conv 256
    conv5_1..5_3 512, pool5 (indices) ──┐ │ │ │ │        unpool5, 3× conv 512
                                        └─┴─┴─┴─┴──────► (only the indices cross over)

Unlike U-Net no feature maps cross from encoder to decoder (only indices), and unlike FCN no
upsampling is learned. The last decoder convolution outputs the class scores (the paper's
soft-max classifier follows). Any input of at least 32×32 works: pooling floors odd sizes and
unpooling is told the size to restore (the last row/column of an odd map is never a maximum,
so it comes back as zeros and the convolutions fill it).

Departures: the encoder is the registry's ``vgg16_bn`` (torchvision's layer order, ImageNet
weights loadable online); default 11 classes (CamVid, the paper's road-scene benchmark).
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn

from ...layers import guard_inputs
from ...registry import Figure, Published, TestSettings, register_model
from ..backbones import get_backbone
from .common import COUNTED, VGG_NARROW, stage_channels, vgg_stages

PAPER = ("Badrinarayanan, Kendall & Cipolla, SegNet: A Deep Convolutional Encoder-Decoder Architecture "
         "for Image Segmentation, TPAMI 2017")


def _conv_bn_relu(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class SegNet(nn.Module):
    """VGG-16-BN encoder with max-pooling indices; mirrored decoder with max-unpooling.

    Args:
        num_classes: output channels (11, CamVid).
        backbone: registered VGG with batch norm (``"vgg16_bn"``); ``backbone_kwargs`` go to
            its builder.

    Shapes: ``(N, 3, H, W) -> {"out": (N, num_classes, H, W)}``, H, W ≥ 32.
    """

    def __init__(self, num_classes: int = 11, backbone: str = "vgg16_bn",
                 backbone_kwargs: dict[str, Any] | None = None) -> None:
        super().__init__()
        stages = vgg_stages(get_backbone(backbone, inflate_to=None, **(backbone_kwargs or {})))
        # encoder: each stage without its pooling; one pooling that returns indices
        self.encoder = nn.ModuleList(nn.Sequential(*list(s)[:-1]) for s in stages)
        self.pool = nn.MaxPool2d(2, stride=2, return_indices=True)
        self.unpool = nn.MaxUnpool2d(2, stride=2)
        widths = [stage_channels(s) for s in stages]                      # 64, 128, 256, 512, 512
        in_widths = [3] + widths[:-1]
        decoder = []
        for i in range(len(stages) - 1, -1, -1):                          # mirror stage i
            n_convs = sum(isinstance(m, nn.Conv2d) for m in stages[i])
            c, out = widths[i], in_widths[i] if i > 0 else None
            layers: list[nn.Module] = []
            for j in range(n_convs):
                last = j == n_convs - 1
                if last and out is None:                                  # the classifier
                    layers.append(nn.Conv2d(c, num_classes, 3, padding=1))
                else:
                    layers += _conv_bn_relu(c, out if last else c)
            decoder.append(nn.Sequential(*layers))
        self.decoder = nn.ModuleList(decoder)
        guard_inputs(self, "SegNet", expected=(3, 360, 480))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        indices, sizes = [], []
        for stage in self.encoder:
            x = stage(x)
            sizes.append(x.shape[-2:])
            x, idx = self.pool(x)                                         # N x C x h/2 x w/2 (+ argmax)
            indices.append(idx)
        for stage in self.decoder:
            x = self.unpool(x, indices.pop(), output_size=sizes.pop())    # sparse: maxima put back
            x = stage(x)
        return {"out": x}


@register_model(task="segmentation", paper=PAPER, year=2017, input_size=(3, 360, 480),
                published=Published(params=Figure(29_449_355, COUNTED),
                                    other={"encoder_params_m": Figure(14.7, "paper", "the VGG-16 encoder")}),
                test=TestSettings(input_size=(3, 64, 64), kwargs=VGG_NARROW))
def segnet(num_classes: int = 11, backbone: str = "vgg16_bn", backbone_kwargs: dict | None = None) -> SegNet:
    """SegNet: VGG-16-BN encoder, decoder upsampling with the encoder's max-pooling indices."""
    return SegNet(num_classes, backbone, backbone_kwargs)
