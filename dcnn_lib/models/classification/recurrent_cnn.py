"""RCNN: Liang & Hu, "Recurrent Convolutional Neural Network for Object Recognition", CVPR 2015.

The first network built from recurrent convolutional layers
(:class:`~dcnn_lib.layers.RecurrentConv`), and the "RCNN" that IRRCNN is compared with. For
CIFAR (32×32), with ``K`` feature maps in every layer (§3.2, Fig. 3)::

    conv1     5×5 conv K, ReLU, LRN                 N x K x 32 x 32
    pool1     3×3 max pooling, stride 2             N x K x 16 x 16
    rcl1-2    two RCLs, 3×3 kernels, T = 3          N x K x 16 x 16
    pool2     3×3 max pooling, stride 2             N x K x 8 x 8
    rcl3-4    two RCLs                              N x K x 8 x 8
    gmp       global max pooling, softmax layer     N x classes

Each RCL is ``x(t) = LRN(ReLU(w_f * u + w_r * x(t-1) + b))``, LRN over ``K/8 + 1``
neighbouring maps with α = 0.001, β = 0.75; unfolded over ``T = 3`` steps the network has
``4(T + 1) + 2 = 18`` weighted layers on its longest path and 6 on its shortest. Parameters
(exact, 10 classes): RCNN-96 672,202, RCNN-128 1,191,178, RCNN-160 1,857,610 — the paper's
0.67 M, 1.19 M and 1.86 M.

Our reading where the text available to us is silent: dropout 0.5 after each RCL but the last
(the paper uses dropout; where exactly we could not confirm), max pooling padded by 1 so that
32 → 16 → 8.

``recurrent_cnn_small`` is the network for the IRRCNN comparison on 28×28 grey images: batch
norm (one per step, as the IRRCNN family uses) instead of LRN, and ``K`` chosen so that its
parameters match ``irrcnn_small``'s.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch.nn as nn

from ...layers import guard_inputs
from ...layers.recurrent_conv import RecurrentConv, liang_hu_lrn
from ..backbones import Stage
from ...registry import Figure, Published, TestSettings, register_model

PAPER = "Liang & Hu, Recurrent Convolutional Neural Network for Object Recognition, CVPR 2015"
# Table: parameters (millions) of the CIFAR-10 models; RCNN-160's CIFAR-10 test error (%)
# as quoted by later papers (SimpleNet's comparison table) [secondary].
PARAMS_M = {96: 0.67, 128: 1.19, 160: 1.86}
PARAMS = {96: 672_202, 128: 1_191_178, 160: 1_857_610}
CIFAR10_ERROR = {160: 7.09}
MNIST_ERROR = {96: 0.31}


class RecurrentCNN(nn.Sequential):
    """Conv 5×5, pooling, two RCLs, pooling, two RCLs, global max pooling, fc.

    Args:
        num_classes, in_channels: output classes and input channels.
        k: feature maps of every layer (RCNN-96 / 128 / 160).
        t: recurrent steps of each RCL (3).
        norm: ``"lrn"`` (the paper) or ``"batch"``.
        dropout: after each RCL but the last.
        input_size: side of the images the network is meant for (input guard).

    Shapes: ``(N, in_channels, H, W) -> (N, num_classes)``.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3, *, k: int = 96, t: int = 3,
                 norm: str = "lrn", dropout: float = 0.5, input_size: int = 32) -> None:
        if norm not in ("lrn", "batch"):
            raise ValueError(f"RecurrentCNN: norm must be 'lrn' (paper) or 'batch', got {norm!r}")
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        layers["conv1"] = nn.Conv2d(in_channels, k, 5, padding=2, bias=norm == "lrn")   # N x K x 32 x 32
        if norm == "lrn":
            layers["relu1"], layers["lrn1"] = nn.ReLU(inplace=True), liang_hu_lrn(k)
        else:
            layers["bn1"], layers["relu1"] = nn.BatchNorm2d(k), nn.ReLU(inplace=True)
        layers["pool1"] = nn.MaxPool2d(3, stride=2, padding=1)                            # N x K x 16 x 16
        for i in range(1, 5):
            if i == 3:
                layers["pool2"] = nn.MaxPool2d(3, stride=2, padding=1)                    # N x K x 8 x 8
            layers[f"rcl{i}"] = RecurrentConv(k, k, 3, t=t, norm=norm)
            if i < 4:
                layers[f"dropout{i}"] = nn.Dropout(dropout)
        layers["gmp"] = nn.AdaptiveMaxPool2d(1)                                           # N x K x 1 x 1
        layers["flatten"] = nn.Flatten()
        layers["fc"] = nn.Linear(k, num_classes)                                          # N x classes
        super().__init__(layers)
        self.num_classes, self.classifier_name = num_classes, "fc"
        # backbone stages: the deepest map at each stride (dropout changes no map)
        self.feature_info = (Stage("lrn1" if norm == "lrn" else "relu1", k, 1), Stage("rcl2", k, 2),
                             Stage("rcl4", k, 4))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        guard_inputs(self, "RCNN", expected=(in_channels, input_size, input_size))


_COUNTED = "counted from the architecture"


def _paper_rcnn(builder):
    """Register ``recurrent_cnn<K>`` with the paper's figures for that K."""
    k = int(builder.__name__[len("recurrent_cnn"):])
    other = {"params_m": Figure(PARAMS_M[k], "paper, CIFAR-10 table")}
    if k in CIFAR10_ERROR:
        other["cifar10_error"] = Figure(CIFAR10_ERROR[k], "as quoted by SimpleNet (Hasanpour et al. 2016)",
                                        "test error %, no augmentation")
    if k in MNIST_ERROR:
        other["mnist_error"] = Figure(MNIST_ERROR[k], "as quoted by SimpleNet (Hasanpour et al. 2016)", "test error %")
    return register_model(task="classification", paper=PAPER, year=2015, input_size=(3, 32, 32),
                          published=Published(params=Figure(PARAMS[k], _COUNTED), other=other),
                          test=TestSettings(input_size=(3, 16, 16)))(builder)


@_paper_rcnn
def recurrent_cnn96(num_classes: int = 10, in_channels: int = 3, **overrides: Any) -> RecurrentCNN:
    """RCNN-96 (Liang & Hu 2015): K = 96, four RCLs with T = 3, LRN."""
    return RecurrentCNN(num_classes, in_channels, **{"k": 96, **overrides})


@_paper_rcnn
def recurrent_cnn128(num_classes: int = 10, in_channels: int = 3, **overrides: Any) -> RecurrentCNN:
    """RCNN-128 (Liang & Hu 2015): K = 128, four RCLs with T = 3, LRN."""
    return RecurrentCNN(num_classes, in_channels, **{"k": 128, **overrides})


@_paper_rcnn
def recurrent_cnn160(num_classes: int = 10, in_channels: int = 3, **overrides: Any) -> RecurrentCNN:
    """RCNN-160 (Liang & Hu 2015): K = 160, four RCLs with T = 3, LRN."""
    return RecurrentCNN(num_classes, in_channels, **{"k": 160, **overrides})


# K = 40 gives 117,650 parameters against irrcnn_small's 117,290 (T = 2, batch norm).
@register_model(task="classification", paper=PAPER, year=2015, input_size=(1, 28, 28),
                published=Published(params=Figure(117_650, _COUNTED)))
def recurrent_cnn_small(num_classes: int = 10, in_channels: int = 1, **overrides: Any) -> RecurrentCNN:
    """RCNN with K = 40, T = 2 and batch norm: the parameters of irrcnn_small, for 28×28 grey images."""
    config = {"k": 40, "t": 2, "norm": "batch", "dropout": 0.2, "input_size": 28}
    return RecurrentCNN(num_classes, in_channels, **{**config, **overrides})
