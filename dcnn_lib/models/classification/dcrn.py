"""DCRN: the densely connected recurrent convolutional network of Alom's thesis (University of
Dayton, 2018), which "evaluated the impact of recurrent convolutional layers on DenseNet".

The text available to us says no more than that sentence, so the network is **our reading**:
a DenseNet (Huang et al., CVPR 2017) whose layers are recurrent convolutional layers
(:class:`~dcnn_lib.layers.RecurrentDenseLayer`: the RCL of Liang & Hu reading the
concatenation of every earlier map and adding ``k`` new maps). For CIFAR (32×32) we take
DenseNet-40's layout (three blocks of 12 layers, growth rate ``k = 12``)::

    stem        3×3 conv 16, BN, ReLU                              N x 16 x 32 x 32
    block1      12 RCL dense layers (k = 12, t = 2)                N x 160 x 32 x 32
    transition1 1×1 conv (BN, ReLU), 2×2 average pooling           N x 160 x 16 x 16
    block2      12 RCL dense layers                                N x 304 x 16 x 16
    transition2                                                    N x 304 x 8 x 8
    block3      12 RCL dense layers                                N x 448 x 8 x 8
    avgpool, fc                                                    N x classes

Deviations from DenseNet, all consequences of the RCL: its layers post-activate (each step is
conv, BN, ReLU, so the maps a layer appends are already normalised and the transitions and
the head need no extra BN-ReLU), and the stem is conv-BN-ReLU for the same reason. With
``t = 0`` every RCL is a single 3×3 convolution: the same network without recurrence, a
small DenseNet at the same feed-forward weights (the chapter's comparison).

``dcrn_small`` is the network sized for 28×28 grey images on a CPU: a 3×3 stem of 24 maps and
a 2×2 pooling, two blocks of 4 layers (``k = 12``) at 14×14 and 7×7 with a transition that
halves the maps (DenseNet-C's compression 0.5).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Sequence

import torch
import torch.nn as nn

from ...layers import ConvBNAct, guard_inputs
from ...layers.recurrent_dense import RecurrentDenseLayer
from ..backbones import Stage
from ...registry import Figure, Published, register_model

PAPER = ("Alom, Improved Deep Convolutional Neural Networks (DCNN) Approaches for Computer Vision and "
         "Bio-Medical Imaging, PhD thesis, University of Dayton, 2018 (our reading: DenseNet with RCL layers)")
CONFIGS: dict[str, dict[str, Any]] = {
    # DenseNet-40's layout (Huang et al. 2017, CIFAR), layers made RCLs
    "cifar": dict(stem=16, stem_pool=False, blocks=(12, 12, 12), growth_rate=12, compression=1.0, t=2),
    # Fashion-MNIST on a CPU: 28 -> 14 (block 1) -> 7 (block 2)
    "small": dict(stem=24, stem_pool=True, blocks=(4, 4), growth_rate=12, compression=0.5, t=2),
}


class RecurrentDenseBlock(nn.Module):
    """``n`` RCL dense layers; layer ℓ reads ``[x₀, …, x_{ℓ−1}]`` and adds ``k`` maps.

    Shapes: ``(N, c, H, W) -> (N, c + n·k, H, W)``.
    """

    def __init__(self, in_channels: int, layers: int, growth_rate: int, t: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(RecurrentDenseLayer(in_channels + i * growth_rate, growth_rate, t=t)
                                    for i in range(layers))
        self.out_channels = in_channels + layers * growth_rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        maps = [x]
        for layer in self.layers:
            maps.append(layer(maps))                          # N x k x H x W
        return torch.cat(maps, 1)


class DCRN(nn.Sequential):
    """Stem, recurrent dense blocks with transitions, average pooling, fc.

    Args:
        num_classes, in_channels: output classes and input channels.
        stem: maps of the 3×3 conv-BN-ReLU stem.
        stem_pool: a 2×2 max pooling after the stem (small images).
        blocks: layers per dense block.
        growth_rate: ``k``, the maps each layer adds.
        compression: the transitions keep this fraction of the maps (DenseNet-C: 0.5).
        t: recurrent steps of every layer's RCL (0: a DenseNet of post-activated 3×3 layers).
        input_size: side of the images the network is meant for (input guard).

    Shapes: ``(N, in_channels, H, W) -> (N, num_classes)``. A backbone: ``feature_info``
    holds the deepest map at each stride, ``classifier_name`` is ``"fc"``.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3, *, stem: int = 16, stem_pool: bool = False,
                 blocks: Sequence[int] = (12, 12, 12), growth_rate: int = 12, compression: float = 1.0,
                 t: int = 2, input_size: int = 32) -> None:
        if not blocks or any(n < 1 for n in blocks):
            raise ValueError(f"DCRN: blocks must list at least one block of >= 1 layers, got {tuple(blocks)}")
        if not 0 < compression <= 1:
            raise ValueError(f"DCRN: compression must be in (0, 1], got {compression}")
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        layers["stem"] = ConvBNAct(in_channels, stem, 3, padding="same", eps=1e-5)     # N x stem x H x W
        c, stride = stem, 1
        if stem_pool:
            layers["stem_pool"] = nn.MaxPool2d(2)                                      # N x stem x H/2 x W/2
            stride = 2
        feature_info = []
        for i, n in enumerate(blocks):
            if i > 0:
                out = int(c * compression)
                layers[f"transition{i}"] = nn.Sequential(ConvBNAct(c, out, 1, eps=1e-5), nn.AvgPool2d(2))
                feature_info.append(Stage(f"transition{i}.0", out, stride))
                c, stride = out, stride * 2                                            # N x c x H/2 x W/2
            layers[f"block{i + 1}"] = RecurrentDenseBlock(c, n, growth_rate, t)
            c = layers[f"block{i + 1}"].out_channels                                   # N x (c + n·k) x ...
        feature_info.append(Stage(f"block{len(blocks)}", c, stride))
        layers["avgpool"] = nn.AdaptiveAvgPool2d(1)                                    # N x c x 1 x 1
        layers["flatten"] = nn.Flatten()
        layers["fc"] = nn.Linear(c, num_classes)                                       # N x classes
        super().__init__(layers)
        self.feature_info, self.classifier_name, self.num_classes = tuple(feature_info), "fc", num_classes
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        guard_inputs(self, "DCRN" if t else "DCRN (t = 0)", expected=(in_channels, input_size, input_size))


# Exact counts of our configurations (10 classes).
PARAMS = {"dcrn": 1_051_834, "dcrn_small": 56_194}
_COUNTED = "counted from our reading of the architecture"


@register_model(task="classification", paper=PAPER, year=2018, input_size=(3, 32, 32),
                published=Published(params=Figure(PARAMS["dcrn"], _COUNTED)))
def dcrn(num_classes: int = 10, in_channels: int = 3, **overrides: Any) -> DCRN:
    """DCRN, our reading: DenseNet-40's layout (3 blocks of 12 layers, k = 12) with RCL layers (t = 2)."""
    return DCRN(num_classes, in_channels, **{**CONFIGS["cifar"], "input_size": 32, **overrides})


@register_model(task="classification", paper=PAPER, year=2018, input_size=(1, 28, 28),
                published=Published(params=Figure(PARAMS["dcrn_small"], _COUNTED)))
def dcrn_small(num_classes: int = 10, in_channels: int = 1, **overrides: Any) -> DCRN:
    """DCRN sized for 28×28 grey images: two blocks of 4 RCL dense layers at 14×14 and 7×7 (t = 2)."""
    return DCRN(num_classes, in_channels, **{**CONFIGS["small"], "input_size": 28, **overrides})
