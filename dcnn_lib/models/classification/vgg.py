"""VGG: Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition", ICLR 2015, §2 and Tables 1–2.

Table 1 of the paper is :data:`TABLE1` below, written with the paper's own words
(``conv3-64`` = 64 convolutions 3×3, stride 1, padding 1; ``conv1-256`` = 256 convolutions
1×1; ``LRN``; ``maxpool`` = 2×2 max pooling, stride 2), and one function,
:func:`make_features`, turns a column of it into layers. Every convolution is followed by a
ReLU. The classifier is the paper's FC-4096, FC-4096, FC-1000 (dropout 0.5 after the first
two). For a 224×224 input (configuration D, VGG-16)::

    input                       N x 3 x 224 x 224
    2 x conv3-64,  maxpool      N x 64 x 112 x 112
    2 x conv3-128, maxpool      N x 128 x 56 x 56
    3 x conv3-256, maxpool      N x 256 x 28 x 28
    3 x conv3-512, maxpool      N x 512 x 14 x 14
    3 x conv3-512, maxpool      N x 512 x 7 x 7
    flatten, FC-4096, FC-4096   N x 4096
    FC-1000                     N x 1000   (logits; the paper's soft-max is in the loss)

Table 2's parameter counts in millions (A and A-LRN 133, B 133, C 134, D 138, E 144) are
:data:`TABLE2_MILLIONS`; the exact counts are computed by the models themselves.

Registered names: the torchvision twins ``vgg11`` (A), ``vgg13`` (B), ``vgg16`` (D),
``vgg19`` (E) and their ``_bn`` versions (batch norm after every convolution, which the
paper does not have: torchvision's later variant), which load torchvision's state dicts
strictly; ``vgg11_lrn`` (A-LRN) and ``vgg16_c`` (C, with 1×1 convolutions), which torchvision
does not have; and ``vgg_small``, a VGG-style network for 28×28/32×32 images (any column of
Table 1 or a custom list, channels scaled by ``width``) used for training in the chapters.

Departures from the paper, all deliberate:

- **Adaptive average pooling to 7×7** before the classifier (torchvision's addition, kept for
  state-dict compatibility). At the paper's 224×224 input the last feature map is already
  7×7 and the pooling is the identity; at other sizes it lets the same weights run. The
  paper instead converted the FC layers to convolutions at test time ("dense evaluation").
- **Initialisation.** ``init="torchvision"`` (default): Kaiming-normal convolutions, N(0, 0.01²)
  linear layers, zero biases, as torchvision. ``init="paper"``: every weight from N(0, σ²)
  with σ = 0.01 and zero biases — the fixed-scale initialisation with which the paper trained
  configuration A from scratch (§3.1 writes "10⁻² variance"; the Caffe definitions of the
  time use σ = 0.01) before initialising the deeper nets from A's layers (not reproduced
  here). ``init="kaiming"``: σ² = 2 / fan-in for every layer (He et al., 2015).
- **LRN in A-LRN** follows the paper's pointer to Krizhevsky et al. (n = 5, k = 2, α = 10⁻⁴,
  β = 0.75), after the first convolution's ReLU, as AlexNet places it.
"""
from __future__ import annotations

import re
from typing import Sequence

import torch
import torch.nn as nn

from ...layers import guard_inputs
from ...layers.lrn import LocalResponseNorm
from ...registry import Figure, Published, TestSettings, register_model
from ..backbones import deepest_stages

PAPER = "Simonyan & Zisserman, Very Deep Convolutional Networks for Large-Scale Image Recognition, ICLR 2015"

# Table 1: ConvNet configurations (columns), weight layers in the paper's notation.
_B12 = ("conv3-64", "conv3-64", "maxpool", "conv3-128", "conv3-128", "maxpool")
TABLE1: dict[str, tuple[str, ...]] = {
    "A": ("conv3-64", "maxpool", "conv3-128", "maxpool",
          "conv3-256", "conv3-256", "maxpool",
          "conv3-512", "conv3-512", "maxpool",
          "conv3-512", "conv3-512", "maxpool"),
    "A-LRN": ("conv3-64", "LRN", "maxpool", "conv3-128", "maxpool",
              "conv3-256", "conv3-256", "maxpool",
              "conv3-512", "conv3-512", "maxpool",
              "conv3-512", "conv3-512", "maxpool"),
    "B": (*_B12,
          "conv3-256", "conv3-256", "maxpool",
          "conv3-512", "conv3-512", "maxpool",
          "conv3-512", "conv3-512", "maxpool"),
    "C": (*_B12,
          "conv3-256", "conv3-256", "conv1-256", "maxpool",
          "conv3-512", "conv3-512", "conv1-512", "maxpool",
          "conv3-512", "conv3-512", "conv1-512", "maxpool"),
    "D": (*_B12,
          "conv3-256", "conv3-256", "conv3-256", "maxpool",
          "conv3-512", "conv3-512", "conv3-512", "maxpool",
          "conv3-512", "conv3-512", "conv3-512", "maxpool"),
    "E": (*_B12,
          "conv3-256", "conv3-256", "conv3-256", "conv3-256", "maxpool",
          "conv3-512", "conv3-512", "conv3-512", "conv3-512", "maxpool",
          "conv3-512", "conv3-512", "conv3-512", "conv3-512", "maxpool"),
}
CLASSIFIER = ("FC-4096", "FC-4096", "FC-1000", "soft-max")  # the rows under every column

# Table 2: number of parameters (in millions), as printed.
TABLE2_MILLIONS = {"A": 133, "A-LRN": 133, "B": 133, "C": 134, "D": 138, "E": 144}

# Table 3: ImageNet val error (%), single test scale, S = 256 (top-1, top-5).
TABLE3_ERRORS = {"A": (29.6, 10.4), "A-LRN": (29.7, 10.5), "B": (28.7, 9.9), "C": (28.1, 9.4),
                 "D": (27.0, 8.8), "E": (27.3, 9.0)}

# The LRN of Krizhevsky et al. (2012), which §2.3 of the paper points to.
LRN_ARGS = dict(size=5, alpha=1e-4, beta=0.75, k=2.0)

_CONV = re.compile(r"conv(\d+)-(\d+)$")


def weight_layers(config: str | Sequence[str]) -> int:
    """Number of weight layers of a Table 1 column: its convolutions plus the three FC layers."""
    layers = TABLE1[config] if isinstance(config, str) else config
    return sum(1 for v in layers if _CONV.match(v)) + 3


def make_features(layers: Sequence[str], in_channels: int = 3, batch_norm: bool = False,
                  width: float = 1.0) -> nn.Sequential:
    """One column of Table 1 as a flat ``nn.Sequential`` (torchvision's layer indices).

    Each ``conv<k>-<C>`` becomes ``Conv2d(k×k, padding k//2)`` [+ ``BatchNorm2d``] + ``ReLU``;
    ``maxpool`` a 2×2/2 max pooling; ``LRN`` AlexNet's local response normalisation. ``width``
    scales every channel count (``round(C * width)``, at least 1).
    """
    out: list[nn.Module] = []
    c_in = in_channels
    for v in layers:
        if v == "maxpool":
            out.append(nn.MaxPool2d(kernel_size=2, stride=2))
        elif v == "LRN":
            out.append(LocalResponseNorm(**LRN_ARGS))
        elif (m := _CONV.match(v)) is not None:
            k, c = int(m.group(1)), max(1, round(int(m.group(2)) * width))
            out.append(nn.Conv2d(c_in, c, kernel_size=k, padding=k // 2))
            if batch_norm:
                out.append(nn.BatchNorm2d(c))
            out.append(nn.ReLU(inplace=True))
            c_in = c
        else:
            raise ValueError(f"make_features: unknown layer {v!r}; expected 'conv<k>-<C>', 'maxpool' or 'LRN'")
    return nn.Sequential(*out)


def _out_channels(features: nn.Sequential, default: int) -> int:
    convs = [m for m in features if isinstance(m, nn.Conv2d)]
    return convs[-1].out_channels if convs else default


class VGG(nn.Module):
    """A VGG network: ``features`` (a Table 1 column), ``avgpool``, ``classifier``.

    Args:
        config: a Table 1 column (``"A"``, ``"A-LRN"``, ``"B"``, ``"C"``, ``"D"``, ``"E"``) or a
            list of layers in the same notation (``["conv3-32", "maxpool", ...]``).
        num_classes: outputs of the last FC layer (1000).
        in_channels: input channels (3).
        batch_norm: batch norm after every convolution (torchvision's ``_bn`` variants).
        width: multiplies every convolution's channels (1.0: the paper).
        hidden: width of the two hidden FC layers (4096).
        dropout: dropout before the second and third FC layers (0.5).
        pool_size: side of the adaptive average pooling before the classifier (7; 1 for small
            images, where the last map is already 1×1).
        input_size: ``(C, H, W)`` the network is designed for (only quoted in error messages).
        init: ``"torchvision"``, ``"paper"`` (every weight N(0, 0.01²)) or ``"kaiming"``
            (fan-in scaled everywhere); see :meth:`reset_parameters`.

    Shapes: ``(N, in_channels, H, W) -> (N, num_classes)`` logits; H, W ≥ 32 for the five
    poolings of Table 1 (224 in the paper).
    """

    def __init__(self, config: str | Sequence[str] = "D", num_classes: int = 1000, in_channels: int = 3,
                 batch_norm: bool = False, width: float = 1.0, hidden: int = 4096, dropout: float = 0.5,
                 pool_size: int = 7, input_size: tuple[int, int, int] | None = None,
                 init: str = "torchvision") -> None:
        super().__init__()
        if isinstance(config, str):
            if config not in TABLE1:
                raise ValueError(f"VGG: config must be one of {tuple(TABLE1)} or a list of layers, got {config!r}")
            layers = TABLE1[config]
        else:
            layers = tuple(config)
        if init not in ("torchvision", "paper", "kaiming"):
            raise ValueError(f"VGG: init must be 'torchvision', 'paper' or 'kaiming', got {init!r}")
        self.config = config if isinstance(config, str) else layers
        self.features = make_features(layers, in_channels, batch_norm, width)   # N x C x H/32 x W/32
        self.avgpool = nn.AdaptiveAvgPool2d((pool_size, pool_size))               # N x C x 7 x 7
        c = _out_channels(self.features, in_channels)
        self.classifier = nn.Sequential(
            nn.Linear(c * pool_size * pool_size, hidden),                          # FC-4096
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(hidden, hidden),                                             # FC-4096
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(hidden, num_classes),                                        # FC-1000
        )
        self.reset_parameters(init)
        self.feature_info = deepest_stages(self.features, "features", in_channels)   # backbone contract
        self.classifier_name = "classifier"
        guard_inputs(self, "VGG", expected=input_size or (in_channels, 224, 224))

    @torch.no_grad()
    def reset_parameters(self, init: str = "torchvision") -> None:
        """``"torchvision"``: Kaiming-normal (fan-out) convs, N(0, 0.01²) linear layers;
        ``"paper"``: N(0, 0.01²) everywhere; ``"kaiming"``: Kaiming-normal (fan-in, σ² = 2 /
        fan-in) everywhere (He et al. 2015, after VGG). Biases zero; batch norm scale 1, shift 0."""
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                if init == "kaiming":
                    nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                elif init == "torchvision" and isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                else:
                    nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)                 # N x 512 x 7 x 7 (224×224 input)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)              # N x 25088
        return self.classifier(x)            # N x num_classes


# ---- registry -------------------------------------------------------------------------------
# name: (Table 1 column, batch norm after every convolution).
VARIANTS = {"vgg11": ("A", False), "vgg11_bn": ("A", True), "vgg11_lrn": ("A-LRN", False),
            "vgg13": ("B", False), "vgg13_bn": ("B", True), "vgg16_c": ("C", False),
            "vgg16": ("D", False), "vgg16_bn": ("D", True), "vgg19": ("E", False), "vgg19_bn": ("E", True)}
# torchvision's weights metadata of the twins: parameters, GMACs, acc@1, acc@5 (IMAGENET1K_V1).
TORCHVISION = {
    "vgg11": (132_863_336, 7.609, 69.020, 88.628), "vgg11_bn": (132_868_840, 7.609, 70.370, 89.810),
    "vgg13": (133_047_848, 11.308, 69.928, 89.246), "vgg13_bn": (133_053_736, 11.308, 71.586, 90.374),
    "vgg16": (138_357_544, 15.470, 71.592, 90.382), "vgg16_bn": (138_365_992, 15.470, 73.360, 91.516),
    "vgg19": (143_667_240, 19.632, 72.376, 90.876), "vgg19_bn": (143_678_248, 19.632, 74.218, 91.842),
}
# A-LRN has A's parameters (LRN has none); C is D with three 3×3 kernels shrunk to 1×1:
# 138,357,544 − 8 × (256² + 2 × 512²) = 133,638,952.
COUNTED = {"vgg11_lrn": 132_863_336, "vgg16_c": 133_638_952}
_TV = "torchvision weights metadata (IMAGENET1K_V1)"


def _published(name: str) -> Published:
    config = VARIANTS[name][0]
    other = {"params_m": Figure(TABLE2_MILLIONS[config], "paper, Table 2"),
             "top1_error": Figure(TABLE3_ERRORS[config][0], "paper, Table 3", "single scale, S = 256"),
             "top5_error": Figure(TABLE3_ERRORS[config][1], "paper, Table 3", "single scale, S = 256")}
    if name not in TORCHVISION:
        return Published(params=Figure(COUNTED[name], "counted from Table 1"), other=other)
    params, gmacs, top1, top5 = TORCHVISION[name]
    return Published(params=Figure(params, _TV), gmacs=Figure(gmacs, _TV), top1=Figure(top1, _TV),
                     top5=Figure(top5, _TV), other=other)


def _registered(builder):
    """Register a builder named after a row of :data:`VARIANTS`, with that row's figures."""
    name = builder.__name__
    return register_model(task="classification", paper=PAPER, year=2015, input_size=(3, 224, 224),
                          published=_published(name),
                          test=TestSettings(input_size=(3, 32, 32), torchvision=name if name in TORCHVISION else None),
                          )(builder)


def _vgg(name: str, num_classes: int, in_channels: int) -> VGG:
    config, batch_norm = VARIANTS[name]
    return VGG(config, num_classes=num_classes, in_channels=in_channels, batch_norm=batch_norm)


@_registered
def vgg11(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """VGG-11, Table 1 configuration A."""
    return _vgg("vgg11", num_classes, in_channels)


@_registered
def vgg11_bn(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """VGG-11, Table 1 configuration A with batch norm after every convolution (torchvision's variant; not in
    the paper)."""
    return _vgg("vgg11_bn", num_classes, in_channels)


@_registered
def vgg11_lrn(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """VGG-11, Table 1 configuration A-LRN."""
    return _vgg("vgg11_lrn", num_classes, in_channels)


@_registered
def vgg13(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """VGG-13, Table 1 configuration B."""
    return _vgg("vgg13", num_classes, in_channels)


@_registered
def vgg13_bn(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """VGG-13, Table 1 configuration B with batch norm after every convolution (torchvision's variant; not in
    the paper)."""
    return _vgg("vgg13_bn", num_classes, in_channels)


@_registered
def vgg16_c(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """VGG-16, Table 1 configuration C."""
    return _vgg("vgg16_c", num_classes, in_channels)


@_registered
def vgg16(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """VGG-16, Table 1 configuration D."""
    return _vgg("vgg16", num_classes, in_channels)


@_registered
def vgg16_bn(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """VGG-16, Table 1 configuration D with batch norm after every convolution (torchvision's variant; not in
    the paper)."""
    return _vgg("vgg16_bn", num_classes, in_channels)


@_registered
def vgg19(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """VGG-19, Table 1 configuration E."""
    return _vgg("vgg19", num_classes, in_channels)


@_registered
def vgg19_bn(num_classes: int = 1000, in_channels: int = 3) -> VGG:
    """VGG-19, Table 1 configuration E with batch norm after every convolution (torchvision's variant; not in
    the paper)."""
    return _vgg("vgg19_bn", num_classes, in_channels)


@register_model(task="classification", paper=PAPER + " (VGG-style, small images)", year=2015,
                input_size=(1, 32, 32),
                published=Published(params=Figure(679_594, "counted from the layer sizes")))
def vgg_small(config: str | Sequence[str] = "A", num_classes: int = 10, in_channels: int = 1,
             width: float = 0.25, hidden: int = 256, dropout: float = 0.5, batch_norm: bool = True,
             init: str = "torchvision", pool_size: int = 1) -> VGG:
    """VGG-style network for 32×32 grey images: a Table 1 column at a quarter of the width.

    Five 2×2 poolings take 32×32 to 1×1, so ``pool_size=1`` and the classifier is
    ``FC-hidden, FC-hidden, FC-num_classes`` (d2l's VGG-11 on 224×224 images: ``pool_size=7``,
    ``hidden=4096``, the paper's classifier on a 7×7 map). ``config`` may be a custom layer list in the
    paper's notation (e.g. ``["conv3-16", "maxpool", "conv7-32", ...]``).
    Input (N, 1, 32, 32) -> (N, num_classes) logits.
    """
    return VGG(config, num_classes=num_classes, in_channels=in_channels, batch_norm=batch_norm,
               width=width, hidden=hidden, dropout=dropout, pool_size=pool_size,
               input_size=(in_channels, 32 * pool_size, 32 * pool_size), init=init)
