"""The CIFAR-10 ResNets of He et al. (CVPR 2016 §4.2, Table 6) and of the pre-activation paper
(ECCV 2016, Table 2 and 3): explicit builders over :class:`~.resnet.ResNet` and its tables.

- ``resnet20_cifar`` … ``resnet110_cifar``, ``plain20_cifar`` … ``plain56_cifar``: §4.2 as
  written (6n + 2 layers, 16/32/64 filters, option A shortcuts; plain: no shortcuts);
- ``resnet110_cifar_<unit>``: ResNet-110 with each unit of ECCV 2016 Fig. 4;
- ``preact_resnet164_cifar``, ``preact_resnet1001_cifar``: pre-activation bottlenecks, 9n + 2.
"""
from __future__ import annotations

import re
from typing import Any

from ...registry import Figure, Published, TestSettings, register_model
from .resnet import CIFAR_WIDTHS, PAPER, PAPER_V2, PREACT_CIFAR, TABLE6, UNIT_ERRORS, ResNet, cifar_stages

# Exact parameter counts (10 classes), derived from the architecture; tests/test_resnet.py
# recomputes them in closed form. The plain nets have their ResNet's (option A adds none).
PARAMS = {20: 269_722, 32: 464_154, 44: 658_586, 56: 853_018, 110: 1_727_962}
PREACT_PARAMS = {164: 1_703_258, 1001: 10_327_706}
_COUNTED = "counted from the architecture"


def _cifar(depth: int, num_classes: int, in_channels: int, overrides: dict[str, Any], **config: Any) -> ResNet:
    depths = cifar_stages(depth, config.get("block", "basic"))
    config = {"depths": depths, "widths": CIFAR_WIDTHS, "stem": "cifar", "shortcut": "A", **config}
    return ResNet(**{**config, **overrides}, num_classes=num_classes, in_channels=in_channels)


def _table6(builder):
    """Register ``resnet<d>_cifar`` / ``plain<d>_cifar`` with Table 6's figures."""
    name = builder.__name__
    depth = int(re.match(r"(?:resnet|plain)(\d+)_cifar$", name).group(1))
    params_m, error = TABLE6[depth]
    other = {"params_m": Figure(params_m, "paper, Table 6")}
    if name.startswith("resnet"):
        other["cifar10_error"] = Figure(error, "paper, Table 6", "test error %")
    return register_model(task="classification", paper=PAPER, year=2015, input_size=(3, 32, 32),
                          published=Published(params=Figure(PARAMS[depth], _COUNTED), other=other))(builder)


def _unit_variant(builder):
    """Register ``resnet110_cifar_<unit>`` with ECCV 2016 Table 2's error of that unit."""
    unit = builder.__name__[len("resnet110_cifar_"):]
    other = {"params_m": Figure(TABLE6[110][0], "CVPR 2016, Table 6"),
             "cifar10_error": Figure(UNIT_ERRORS[unit], "paper, Table 2", "test error %")}
    return register_model(task="classification", paper=PAPER_V2, year=2016, input_size=(3, 32, 32),
                          published=Published(params=Figure(PARAMS[110], _COUNTED), other=other))(builder)


def _preact(builder):
    """Register ``preact_resnet<d>_cifar`` with ECCV 2016 Table 3's figures."""
    depth = int(builder.__name__[len("preact_resnet"):-len("_cifar")])
    params_m, error = PREACT_CIFAR[depth]
    other = {"params_m": Figure(params_m, "paper, Table 3"),
             "cifar10_error": Figure(error, "paper, Table 3", "test error %")}
    test = TestSettings(input_size=(3, 16, 16)) if depth > 200 else None
    return register_model(task="classification", paper=PAPER_V2, year=2016, input_size=(3, 32, 32),
                          published=Published(params=Figure(PREACT_PARAMS[depth], _COUNTED), other=other),
                          test=test)(builder)


@_table6
def resnet20_cifar(num_classes: int = 10, in_channels: int = 3, **overrides: Any) -> ResNet:
    """ResNet-20 for CIFAR-10 (§4.2: 6n+2 layers, 16/32/64 filters, option A)."""
    return _cifar(20, num_classes, in_channels, overrides)


@_table6
def resnet32_cifar(num_classes: int = 10, in_channels: int = 3, **overrides: Any) -> ResNet:
    """ResNet-32 for CIFAR-10 (§4.2: 6n+2 layers, 16/32/64 filters, option A)."""
    return _cifar(32, num_classes, in_channels, overrides)


@_table6
def resnet44_cifar(num_classes: int = 10, in_channels: int = 3, **overrides: Any) -> ResNet:
    """ResNet-44 for CIFAR-10 (§4.2: 6n+2 layers, 16/32/64 filters, option A)."""
    return _cifar(44, num_classes, in_channels, overrides)


@_table6
def resnet56_cifar(num_classes: int = 10, in_channels: int = 3, **overrides: Any) -> ResNet:
    """ResNet-56 for CIFAR-10 (§4.2: 6n+2 layers, 16/32/64 filters, option A)."""
    return _cifar(56, num_classes, in_channels, overrides)


@_table6
def resnet110_cifar(num_classes: int = 10, in_channels: int = 3, **overrides: Any) -> ResNet:
    """ResNet-110 for CIFAR-10 (§4.2: 6n+2 layers, 16/32/64 filters, option A)."""
    return _cifar(110, num_classes, in_channels, overrides)


@_table6
def plain20_cifar(num_classes: int = 10, in_channels: int = 3, **overrides: Any) -> ResNet:
    """Plain-20 for CIFAR-10: ResNet-20 without its shortcuts (§4.2)."""
    return _cifar(20, num_classes, in_channels, overrides, shortcut="none")


@_table6
def plain32_cifar(num_classes: int = 10, in_channels: int = 3, **overrides: Any) -> ResNet:
    """Plain-32 for CIFAR-10: ResNet-32 without its shortcuts (§4.2)."""
    return _cifar(32, num_classes, in_channels, overrides, shortcut="none")


@_table6
def plain44_cifar(num_classes: int = 10, in_channels: int = 3, **overrides: Any) -> ResNet:
    """Plain-44 for CIFAR-10: ResNet-44 without its shortcuts (§4.2)."""
    return _cifar(44, num_classes, in_channels, overrides, shortcut="none")


@_table6
def plain56_cifar(num_classes: int = 10, in_channels: int = 3, **overrides: Any) -> ResNet:
    """Plain-56 for CIFAR-10: ResNet-56 without its shortcuts (§4.2)."""
    return _cifar(56, num_classes, in_channels, overrides, shortcut="none")


@_unit_variant
def resnet110_cifar_original(num_classes: int = 10, in_channels: int = 3, **overrides: Any) -> ResNet:
    """ResNet-110 for CIFAR-10 with unit (a) original of ECCV 2016 Fig. 4 (option A shortcuts)."""
    return _cifar(110, num_classes, in_channels, overrides, unit="original")


@_unit_variant
def resnet110_cifar_bn_after_add(num_classes: int = 10, in_channels: int = 3, **overrides: Any) -> ResNet:
    """ResNet-110 for CIFAR-10 with unit (b) BN after addition of ECCV 2016 Fig. 4 (option A shortcuts)."""
    return _cifar(110, num_classes, in_channels, overrides, unit="bn_after_add")


@_unit_variant
def resnet110_cifar_relu_before_add(num_classes: int = 10, in_channels: int = 3, **overrides: Any) -> ResNet:
    """ResNet-110 for CIFAR-10 with unit (c) ReLU before addition of ECCV 2016 Fig. 4 (option A shortcuts)."""
    return _cifar(110, num_classes, in_channels, overrides, unit="relu_before_add")


@_unit_variant
def resnet110_cifar_relu_only_preact(num_classes: int = 10, in_channels: int = 3, **overrides: Any) -> ResNet:
    """ResNet-110 for CIFAR-10 with unit (d) ReLU-only pre-activation of ECCV 2016 Fig. 4 (option A shortcuts)."""
    return _cifar(110, num_classes, in_channels, overrides, unit="relu_only_preact")


@_unit_variant
def resnet110_cifar_full_preact(num_classes: int = 10, in_channels: int = 3, **overrides: Any) -> ResNet:
    """ResNet-110 for CIFAR-10 with unit (e) full pre-activation of ECCV 2016 Fig. 4 (option A shortcuts)."""
    return _cifar(110, num_classes, in_channels, overrides, unit="full_preact")


@_preact
def preact_resnet164_cifar(num_classes: int = 10, in_channels: int = 3, **overrides: Any) -> ResNet:
    """Pre-activation bottleneck ResNet-164 for CIFAR-10 (ECCV 2016, 9n+2 layers)."""
    return _cifar(164, num_classes, in_channels, overrides,
                  block="bottleneck", unit="full_preact", shortcut="B", stride_in_1x1=True)


@_preact
def preact_resnet1001_cifar(num_classes: int = 10, in_channels: int = 3, **overrides: Any) -> ResNet:
    """Pre-activation bottleneck ResNet-1001 for CIFAR-10 (ECCV 2016, 9n+2 layers)."""
    return _cifar(1001, num_classes, in_channels, overrides,
                  block="bottleneck", unit="full_preact", shortcut="B", stride_in_1x1=True)
