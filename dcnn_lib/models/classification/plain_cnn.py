"""A plain, fully convolutional CNN: the small network the receptive-fields chapter trains.

Three stages of two 3×3 convolutions (each followed by batch norm and ReLU), a 2×2 max
pooling between stages, global average pooling and one linear layer — the VGG pattern
(Simonyan & Zisserman, ICLR 2015) at Fashion-MNIST size. With no layer that fixes the input
size it runs on any image, so its effective receptive field can be measured on a photograph
after training on 28×28 clothes. Default widths 16, 32, 64; for a 28×28 input::

    input                          N x 1 x 28 x 28
    stage1: 2 x conv3-16, maxpool  N x 16 x 14 x 14     RF  3, 5, 6   (stride 1, 1, 2)
    stage2: 2 x conv3-32, maxpool  N x 32 x 7 x 7       RF 10, 14, 16 (stride 2, 2, 4)
    stage3: 2 x conv3-64           N x 64 x 7 x 7       RF 24, 32     (stride 4)
    global average pool, linear    N x 10

It is not a paper's network: its only reference is the theoretical receptive field above,
which the chapter computes with :func:`dcnn_lib.analysis.receptive_field`.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import torch.nn as nn

from ...layers import guard_inputs
from ...registry import register_model


class PlainCNN(nn.Module):
    """``stage1 .. stageK`` of ``convs`` × (3×3 conv, BN, ReLU), max pooling between stages, then
    ``pool`` (global average) and ``fc``.

    Shapes: ``(N, in_channels, H, W) -> (N, num_classes)``; H, W ≥ 2^(stages - 1).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, widths: Sequence[int] = (16, 32, 64),
                 convs: int = 2) -> None:
        super().__init__()
        stages: list[tuple[str, nn.Module]] = []
        c = in_channels
        for i, w in enumerate(widths):
            layers: list[tuple[str, nn.Module]] = [] if i == 0 else [("pool", nn.MaxPool2d(2))]
            for j in range(convs):
                layers += [(f"conv{j + 1}", nn.Conv2d(c, w, 3, padding=1, bias=False)),
                           (f"bn{j + 1}", nn.BatchNorm2d(w)), (f"relu{j + 1}", nn.ReLU(inplace=True))]
                c = w
            stages.append((f"stage{i + 1}", nn.Sequential(OrderedDict(layers))))
        self.features = nn.Sequential(OrderedDict(stages))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, num_classes)
        guard_inputs(self, "PlainCNN", expected=(in_channels, 28, 28))

    def forward(self, x):
        return self.fc(self.pool(self.features(x)).flatten(1))


@register_model(task="classification", paper="dcnn_lib teaching network (VGG-style 3×3 stacks, Simonyan & Zisserman, ICLR 2015)",
                year=2015, input_size=(1, 28, 28))
def plain_cnn(num_classes: int = 10, in_channels: int = 1, widths: Sequence[int] = (16, 32, 64),
              convs: int = 2) -> nn.Module:
    """A plain fully convolutional CNN (3 stages of 3×3 conv-BN-ReLU pairs, global average
    pooling), for studying receptive fields on small images."""
    return PlainCNN(num_classes, in_channels, tuple(widths), convs)
