"""ResNet: He, Zhang, Ren & Sun, "Deep Residual Learning for Image Recognition", CVPR 2016
(arXiv December 2015, ILSVRC 2015 winner), and the pre-activation ResNet of "Identity Mappings
in Deep Residual Networks", ECCV 2016.

Every network here is one :class:`ResNet`: a stem, stages of residual blocks, global average
pooling and one fully connected layer. The families differ only in data:

ImageNet, Table 1 (:data:`IMAGENET_STAGES`; ``e`` = 1 for basic blocks, 4 for bottlenecks)::

    conv1     7×7, 64, stride 2                    N x 64 x 112 x 112
    maxpool   3×3, stride 2                        N x 64 x 56 x 56
    layer1    conv2_x: n1 blocks, width 64         N x 64e x 56 x 56
    layer2    conv3_x: n2 blocks, width 128, /2    N x 128e x 28 x 28
    layer3    conv4_x: n3 blocks, width 256, /2    N x 256e x 14 x 14
    layer4    conv5_x: n4 blocks, width 512, /2    N x 512e x 7 x 7
    avgpool, fc 1000                               N x 1000

    18: basic (2, 2, 2, 2)        34: basic (3, 4, 6, 3)        50: bottleneck (3, 4, 6, 3)
    101: bottleneck (3, 4, 23, 3) 152: bottleneck (3, 8, 36, 3) [200: (3, 24, 36, 3), ECCV 2016]

CIFAR-10, §4.2 (:func:`cifar_stages`): a 3×3 convolution with 16 filters, then 3 stages of n
basic blocks on 32×32, 16×16 and 8×8 maps with 16, 32 and 64 filters, average pooling and a
10-way fc: 6n + 2 weighted layers. Shortcuts are option A (zero padding, no parameters). The
"plain" networks are the same stacks without the shortcuts.

Registered models and their deviations from the papers (the CIFAR ones are built in
:mod:`.resnet_cifar`):

- ``resnet18`` … ``resnet152``: torchvision's ResNets ("v1.5"): the stride of a bottleneck
  stage sits on the 3×3 convolution, not the first 1×1 as in the paper (+0.23 G
  multiply-adds for ResNet-50, about +0.5 % top-1). Projection shortcuts (option B). State
  dicts load into torchvision's models and back.
- ``resnet50_v1``, ``resnet101_v1``, ``resnet152_v1``: the paper's stride placement; their
  multiply-adds are Table 1's 3.8, 7.6, 11.3 G.
- ``resnet20_cifar`` … ``resnet110_cifar``, ``plain20_cifar`` … ``plain56_cifar``: §4.2 as
  written. Initialisation: He et al. (2015) normal, fan-out (torchvision's), for all models.
- ``resnet110_cifar_<unit>``: ResNet-110 with each of the five units of ECCV 2016 Fig. 4
  (``dcnn_lib.layers.residual_unit``). The paper does not restate its shortcuts; we keep §4.2's
  option A so that only the unit changes.
- ``preact_resnet*``: the pre-activation ResNets: ImageNet ones as in fb.resnet.torch's
  ``preresnet`` (stem conv-BN-ReLU-maxpool, stride on the 3×3, 1×1 projection without BN),
  CIFAR ResNet-164/1001 as in the authors' ``resnet-pre-act.lua`` (bottleneck widths
  16/32/64 → 64/128/256 channels, stride on the first 1×1). A final BN-ReLU precedes pooling.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Sequence

import torch.nn as nn

from ...layers import BasicBlock, Bottleneck, ResidualUnit, guard_inputs
from ...layers.residual_unit import VARIANTS
from ...registry import Figure, Published, TestSettings, register_model
from ..backbones import Stage

PAPER = "He, Zhang, Ren & Sun, Deep residual learning for image recognition, CVPR 2016"
PAPER_V2 = "He, Zhang, Ren & Sun, Identity mappings in deep residual networks, ECCV 2016"

# Table 1: block type and blocks per stage (conv2_x..conv5_x); 200 layers: ECCV 2016.
IMAGENET_STAGES: dict[int, tuple[str, tuple[int, ...]]] = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
    200: ("bottleneck", (3, 24, 36, 3)),
}
IMAGENET_WIDTHS = (64, 128, 256, 512)
# Table 1, last row: "FLOPs" (multiply-adds) x 10^9, stride in the first 1x1.
TABLE1_GFLOPS = {18: 1.8, 34: 3.6, 50: 3.8, 101: 7.6, 152: 11.3}
# Table 3, 10-crop validation error (top-1, top-5) %.
TABLE3_ERRORS = {34: (24.52, 7.46), 50: (22.85, 6.71), 101: (21.75, 6.05), 152: (21.43, 5.71)}
# torchvision's weights metadata (IMAGENET1K_V1): parameters, GMACs, ImageNet acc@1, acc@5.
TORCHVISION = {18: (11_689_512, 1.814, 69.758, 89.078), 34: (21_797_672, 3.664, 73.314, 91.420),
               50: (25_557_032, 4.089, 76.130, 92.862), 101: (44_549_160, 7.801, 77.374, 93.546),
               152: (60_192_808, 11.514, 78.312, 94.046)}

CIFAR_WIDTHS = (16, 32, 64)
# Table 6, CIFAR-10: parameters (millions) and test error %.
TABLE6 = {20: (0.27, 8.75), 32: (0.46, 7.51), 44: (0.66, 7.17), 56: (0.85, 6.97), 110: (1.7, 6.43),
          1202: (19.4, 7.93)}
# ECCV 2016 Table 2: ResNet-110 on CIFAR-10, test error % of each unit of Fig. 4.
UNIT_ERRORS = {"original": 6.61, "bn_after_add": 8.17, "relu_before_add": 7.84,
               "relu_only_preact": 6.71, "full_preact": 6.37}
# ECCV 2016 Table 3: pre-activation bottleneck ResNets on CIFAR-10 (params in millions, error %).
PREACT_CIFAR = {164: (1.7, 5.46), 1001: (10.2, 4.92)}


def cifar_stages(depth: int, block: str = "basic") -> tuple[int, int, int]:
    """Blocks per stage of a CIFAR ResNet of ``depth`` weighted layers: 6n + 2 with basic
    blocks (§4.2), 9n + 2 with bottlenecks (ECCV 2016)."""
    per = 2 if block == "basic" else 3
    if depth < 2 + 3 * per or (depth - 2) % (3 * per):
        raise ValueError(f"cifar_stages: a CIFAR ResNet with {block} blocks has {3 * per}n + 2 "
                         f"layers (n >= 1), got depth {depth}")
    n = (depth - 2) // (3 * per)
    return (n, n, n)


class ResNet(nn.Sequential):
    """A residual network: stem, stages of blocks, global average pooling, fully connected.

    Args:
        depths: blocks per stage, e.g. ``(3, 4, 6, 3)``.
        block: ``"basic"`` (two 3×3) or ``"bottleneck"`` (1×1, 3×3, 1×1; 4× expansion).
        widths: channels per stage (the bottleneck's inner width), e.g. ``(64, 128, 256, 512)``.
        stem: ``"imagenet"`` (7×7/2 conv with 64 filters, 3×3/2 max pooling) or ``"cifar"``
            (3×3 conv with ``widths[0]`` filters).
        unit: ``"original"`` (torchvision-compatible ``BasicBlock`` / ``Bottleneck``) or another
            unit of ECCV 2016 Fig. 4 (``ResidualUnit``); pre-activation units add a final
            activation before pooling.
        shortcut: ``"A"``, ``"B"``, ``"C"`` or ``"none"`` (plain network).
        stride_in_1x1: bottleneck: stride on the first 1×1 (paper, "v1").
        num_classes, in_channels: output classes and input channels.
        zero_init_residual: start the last BN of each original block at 0 (each block starts
            as the identity; Goyal et al. 2017).

    Shapes: ``(N, in_channels, H, W) -> (N, num_classes)``; ``feature_info`` lists each
    stage's module name, channels and stride (:class:`~dcnn_lib.models.backbones.Stage`) for use
    as a backbone.
    """

    def __init__(self, depths: Sequence[int], block: str = "basic",
                 widths: Sequence[int] = IMAGENET_WIDTHS, *, stem: str = "imagenet",
                 unit: str = "original", shortcut: str = "B", stride_in_1x1: bool = False,
                 num_classes: int = 1000, in_channels: int = 3, zero_init_residual: bool = False) -> None:
        if block not in ("basic", "bottleneck"):
            raise ValueError(f"ResNet: block must be 'basic' or 'bottleneck', got {block!r}")
        if stem not in ("imagenet", "cifar"):
            raise ValueError(f"ResNet: stem must be 'imagenet' or 'cifar', got {stem!r}")
        if unit not in VARIANTS:
            raise ValueError(f"ResNet: unit must be one of {tuple(VARIANTS)}, got {unit!r}")
        if len(depths) != len(widths):
            raise ValueError(f"ResNet: {len(depths)} stage depths but {len(widths)} widths")
        expansion = 1 if block == "basic" else 4
        imagenet = stem == "imagenet"
        stem_width = 64 if imagenet else widths[0]

        layers: OrderedDict[str, nn.Module] = OrderedDict()
        if imagenet:
            layers["conv1"] = nn.Conv2d(in_channels, stem_width, 7, stride=2, padding=3, bias=False)  # N x 64 x 112 x 112
        else:
            layers["conv1"] = nn.Conv2d(in_channels, stem_width, 3, padding=1, bias=False)  # N x 16 x 32 x 32
        layers["bn1"] = nn.BatchNorm2d(stem_width)
        layers["relu"] = nn.ReLU(inplace=True)
        if imagenet:
            layers["maxpool"] = nn.MaxPool2d(3, stride=2, padding=1)  # N x 64 x 56 x 56
        channels, reduction = stem_width, 4 if imagenet else 1
        feature_info = []
        for i, (n, width) in enumerate(zip(depths, widths)):
            stage = []
            for j in range(n):
                stride = 2 if i > 0 and j == 0 else 1
                stage.append(_block(block, unit, channels, width, stride, expansion, shortcut,
                                    stride_in_1x1, first=i == 0 and j == 0))
                channels = width * expansion
            reduction *= 2 if i > 0 else 1
            layers[f"layer{i + 1}"] = nn.Sequential(*stage)  # N x width·e x H/reduction x W/reduction
            feature_info.append(Stage(f"layer{i + 1}", channels, reduction))
        pre = VARIANTS[unit].pre_activation  # the last unit's output still needs its activation
        if pre:
            make = {"bn": lambda: nn.BatchNorm2d(channels), "relu": lambda: nn.ReLU(inplace=True)}
            for t in pre:
                layers[f"{t}_final"] = make[t]()
        layers["avgpool"] = nn.AdaptiveAvgPool2d(1)  # N x C x 1 x 1
        layers["flatten"] = nn.Flatten()  # N x C
        layers["fc"] = nn.Linear(channels, num_classes)  # N x num_classes
        super().__init__(layers)
        self.feature_info = tuple(feature_info)      # the backbone contract (dcnn_lib.models.backbones)
        self.classifier_name = "fc"
        self.num_classes = num_classes
        self.config = {"depths": tuple(depths), "block": block, "widths": tuple(widths), "stem": stem,
                       "unit": unit, "shortcut": shortcut, "stride_in_1x1": stride_in_1x1}

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, (BasicBlock, Bottleneck)):
                    nn.init.zeros_((m.bn2 if isinstance(m, BasicBlock) else m.bn3).weight)
        size = 224 if imagenet else 32
        guard_inputs(self, "ResNet", expected=(in_channels, size, size))

    def blocks(self) -> list[tuple[str, nn.Module]]:
        """``(name, block)`` of every residual block, in order (``"layer1.0"``, ...)."""
        return [(f"{s.module}.{j}", b) for s in self.feature_info
                for j, b in enumerate(self.get_submodule(s.module))]


def _block(block: str, unit: str, in_channels: int, width: int, stride: int, expansion: int,
           shortcut: str, stride_in_1x1: bool, first: bool) -> nn.Module:
    out_channels = width * expansion
    if unit == "original":
        if block == "basic":
            return BasicBlock(in_channels, width, stride, shortcut)
        return Bottleneck(in_channels, width, stride, expansion, stride_in_1x1, shortcut)
    # Pre-activation units: right after the stem the input is already activated; a projection
    # shortcut shares the unit's activation (the authors' code); otherwise F activates alone.
    projects = shortcut == "C" or (shortcut == "B" and (stride != 1 or in_channels != out_channels))
    preact = "none" if first else "shared" if projects else "own"
    return ResidualUnit(in_channels, out_channels, stride, variant=unit, body=block, expansion=expansion,
                        stride_in_1x1=stride_in_1x1, shortcut=shortcut, preact=preact)


# ---- registered ImageNet models: each builder is a row of the tables above ------------------------
_TV = "torchvision weights metadata (IMAGENET1K_V1)"
# Exact parameter counts of the pre-activation ImageNet ResNets (no torchvision twin), derived
# from the architecture (tests/test_resnet.py recomputes them in closed form).
PREACT_PARAMS = {18: 11_687_720, 34: 21_795_880, 50: 25_549_352, 101: 44_541_480, 152: 60_185_128,
                 200: 64_666_152}
# ImageNet-size models are tested on 32x32 inputs: every layer still runs (1x1 after layer4).
_TEST = TestSettings(input_size=(3, 32, 32))


def _paper_figures(depth: int) -> dict[str, Figure]:
    out = {"gmacs_paper": Figure(TABLE1_GFLOPS[depth], "paper, Table 1", "FLOPs (multiply-adds), stride in the first 1×1")}
    if depth in TABLE3_ERRORS:
        out["top1_error"] = Figure(TABLE3_ERRORS[depth][0], "paper, Table 3", "10-crop, validation")
        out["top5_error"] = Figure(TABLE3_ERRORS[depth][1], "paper, Table 3", "10-crop, validation")
    return out


def _torchvision_resnet(builder):
    """Register ``resnet<depth>`` with torchvision's figures and the paper's."""
    depth = int(builder.__name__[len("resnet"):])
    params, gmacs, top1, top5 = TORCHVISION[depth]
    published = Published(params=Figure(params, _TV), gmacs=Figure(gmacs, _TV), top1=Figure(top1, _TV),
                          top5=Figure(top5, _TV), other=_paper_figures(depth))
    return register_model(task="classification", paper=PAPER, year=2015, input_size=(3, 224, 224),
                          published=published, test=TestSettings(input_size=(3, 32, 32), torchvision=builder.__name__)
                          )(builder)


def _paper_resnet(builder):
    """Register ``resnet<depth>_v1`` (torchvision's parameter count: the stride moves, no weight)."""
    depth = int(builder.__name__[len("resnet"):-len("_v1")])
    published = Published(params=Figure(TORCHVISION[depth][0], _TV, "the same weights as torchvision's"),
                          other=_paper_figures(depth))
    return register_model(task="classification", paper=PAPER, year=2015, input_size=(3, 224, 224),
                          published=published, test=_TEST)(builder)


def _preact_resnet(builder):
    depth = int(builder.__name__[len("preact_resnet"):])
    published = Published(params=Figure(PREACT_PARAMS[depth], "counted from the architecture"))
    return register_model(task="classification", paper=PAPER_V2, year=2016, input_size=(3, 224, 224),
                          published=published, test=_TEST)(builder)


def _imagenet(depth: int, num_classes: int, in_channels: int, overrides: dict[str, Any], **config: Any) -> ResNet:
    block, depths = IMAGENET_STAGES[depth]
    return ResNet(**{"depths": depths, "block": block, **config, **overrides},
                  num_classes=num_classes, in_channels=in_channels)


@_torchvision_resnet
def resnet18(num_classes: int = 1000, in_channels: int = 3, **overrides: Any) -> ResNet:
    """ResNet-18 as torchvision builds it (basic blocks)."""
    return _imagenet(18, num_classes, in_channels, overrides)


@_torchvision_resnet
def resnet34(num_classes: int = 1000, in_channels: int = 3, **overrides: Any) -> ResNet:
    """ResNet-34 as torchvision builds it (basic blocks)."""
    return _imagenet(34, num_classes, in_channels, overrides)


@_torchvision_resnet
def resnet50(num_classes: int = 1000, in_channels: int = 3, **overrides: Any) -> ResNet:
    """ResNet-50 as torchvision builds it (v1.5: stride on the 3×3)."""
    return _imagenet(50, num_classes, in_channels, overrides)


@_torchvision_resnet
def resnet101(num_classes: int = 1000, in_channels: int = 3, **overrides: Any) -> ResNet:
    """ResNet-101 as torchvision builds it (v1.5: stride on the 3×3)."""
    return _imagenet(101, num_classes, in_channels, overrides)


@_torchvision_resnet
def resnet152(num_classes: int = 1000, in_channels: int = 3, **overrides: Any) -> ResNet:
    """ResNet-152 as torchvision builds it (v1.5: stride on the 3×3)."""
    return _imagenet(152, num_classes, in_channels, overrides)


@_paper_resnet
def resnet50_v1(num_classes: int = 1000, in_channels: int = 3, **overrides: Any) -> ResNet:
    """ResNet-50 as in the paper: stride on the first 1×1 (Table 1's FLOPs)."""
    return _imagenet(50, num_classes, in_channels, overrides, stride_in_1x1=True)


@_paper_resnet
def resnet101_v1(num_classes: int = 1000, in_channels: int = 3, **overrides: Any) -> ResNet:
    """ResNet-101 as in the paper: stride on the first 1×1 (Table 1's FLOPs)."""
    return _imagenet(101, num_classes, in_channels, overrides, stride_in_1x1=True)


@_paper_resnet
def resnet152_v1(num_classes: int = 1000, in_channels: int = 3, **overrides: Any) -> ResNet:
    """ResNet-152 as in the paper: stride on the first 1×1 (Table 1's FLOPs)."""
    return _imagenet(152, num_classes, in_channels, overrides, stride_in_1x1=True)


@_preact_resnet
def preact_resnet18(num_classes: int = 1000, in_channels: int = 3, **overrides: Any) -> ResNet:
    """Pre-activation ResNet-18 (ECCV 2016; fb.resnet.torch preresnet)."""
    return _imagenet(18, num_classes, in_channels, overrides, unit="full_preact")


@_preact_resnet
def preact_resnet34(num_classes: int = 1000, in_channels: int = 3, **overrides: Any) -> ResNet:
    """Pre-activation ResNet-34 (ECCV 2016; fb.resnet.torch preresnet)."""
    return _imagenet(34, num_classes, in_channels, overrides, unit="full_preact")


@_preact_resnet
def preact_resnet50(num_classes: int = 1000, in_channels: int = 3, **overrides: Any) -> ResNet:
    """Pre-activation ResNet-50 (ECCV 2016; fb.resnet.torch preresnet)."""
    return _imagenet(50, num_classes, in_channels, overrides, unit="full_preact")


@_preact_resnet
def preact_resnet101(num_classes: int = 1000, in_channels: int = 3, **overrides: Any) -> ResNet:
    """Pre-activation ResNet-101 (ECCV 2016; fb.resnet.torch preresnet)."""
    return _imagenet(101, num_classes, in_channels, overrides, unit="full_preact")


@_preact_resnet
def preact_resnet152(num_classes: int = 1000, in_channels: int = 3, **overrides: Any) -> ResNet:
    """Pre-activation ResNet-152 (ECCV 2016; fb.resnet.torch preresnet)."""
    return _imagenet(152, num_classes, in_channels, overrides, unit="full_preact")


@_preact_resnet
def preact_resnet200(num_classes: int = 1000, in_channels: int = 3, **overrides: Any) -> ResNet:
    """Pre-activation ResNet-200 (ECCV 2016; fb.resnet.torch preresnet)."""
    return _imagenet(200, num_classes, in_channels, overrides, unit="full_preact")
