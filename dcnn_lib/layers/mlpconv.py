"""The mlpconv layer of Network in Network (Lin, Chen & Yan, ICLR 2014, §3.1).

A conventional convolution is a generalised *linear* model of each input patch followed by
a nonlinearity. NiN replaces it by a small multilayer perceptron slid over the image: a k×k
convolution followed by layers that mix channels at every pixel independently. The paper
calls those layers "cascaded cross channel parametric pooling" (cccp); each is exactly a 1×1
convolution, i.e. one fully connected layer applied to the channel vector of every pixel.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import torch.nn as nn


class MlpConv(nn.Sequential):
    """``k×k conv → ReLU → (1×1 conv → ReLU) × (len(channels) - 1)``.

    Args:
        in_channels: input channels.
        channels: output channels of the k×k convolution, then of each 1×1 (cccp) layer,
            e.g. ``(96, 96, 96)`` for the first block of the ImageNet NiN.
        kernel_size, stride, padding: of the k×k convolution.
        batch_norm: batch norm after every convolution (not in the 2014 paper).
        final_activation: batch norm (if any) and ReLU after the last layer too (the released
            NiN models have a ReLU even on the block that produces the class maps); ``False``
            leaves the last 1×1 convolution linear, with its bias.

    Children are named ``conv``, ``cccp1``, ``cccp2``... (with ``relu``/``relu1``/...,
    ``bn``/``bn1``/...), after the layer names of the released Caffe model.

    Shapes: ``(N, in_channels, H, W) -> (N, channels[-1], H', W')`` with ``H'`` the k×k
    convolution's output size (the 1×1 layers keep it).
    """

    def __init__(self, in_channels: int, channels: Sequence[int], kernel_size: int, stride: int = 1,
                 padding: int = 0, batch_norm: bool = False, final_activation: bool = True) -> None:
        if len(channels) < 1:
            raise ValueError("MlpConv: channels must name at least the k×k convolution's outputs")
        layers: list[tuple[str, nn.Module]] = []
        c_in = in_channels
        for i, c in enumerate(channels):
            suffix = str(i) if i else ""
            act = final_activation or i < len(channels) - 1
            norm = batch_norm and act
            conv = (nn.Conv2d(c_in, c, kernel_size, stride, padding, bias=not norm) if i == 0
                    else nn.Conv2d(c_in, c, 1, bias=not norm))
            layers.append(("conv" if i == 0 else f"cccp{i}", conv))
            if norm:
                layers.append((f"bn{suffix}", nn.BatchNorm2d(c)))
            if act:
                layers.append((f"relu{suffix}", nn.ReLU(inplace=True)))
            c_in = c
        super().__init__(OrderedDict(layers))
        self.in_channels, self.out_channels = in_channels, c_in
