"""The modernisation roadmap of ConvNeXt (Liu et al., CVPR 2022, §2, Fig. 2 and Appendix C,
Table 10): ResNet-50 turned into ConvNeXt-T one design decision at a time.

Each step of :data:`ROADMAP` is a row of Table 10 — the change it makes, whether it was kept
for the steps after it, and the paper's ImageNet-1K top-1 (mean ± std of three seeds) and
GFLOPs (multiply-adds). :func:`roadmap_design` accumulates the kept changes up to a step into
a :class:`Design`, and :class:`RoadmapNet` builds that design::

    ResNet-50            torchvision's (v1.5), 25,557,032 parameters, 4.09 G
    stage ratio          blocks per stage (3, 4, 6, 3) → (3, 3, 9, 3)  (Swin-T's 1:1:3:1)
    "patchify" stem      7×7/2 conv + max pool → 4×4 conv, stride 4
    depthwise conv       the 3×3 of each bottleneck → depthwise (groups = channels)
    increase width       64 → 96 channels in the stem, stage widths × 1.5 (Swin-T's)
    inverting dimensions 1×1 C→4C, d3×3 4C, 1×1 4C→C: the wide layer in the middle (C = 96…768)
    move up depthwise    d3×3 C, 1×1 C→4C, 1×1 4C→C: the spatial layer first, on few channels
    kernel size 5/7/9/11 the depthwise kernel (7 kept)
    ReLU → GELU
    fewer activations    one GELU, between the two 1×1 layers; none after the addition
    fewer norms          one norm, after the depthwise conv
    BN → LN              LayerNorm over the channels of each position
    separate downsampling  stride-1 blocks; LN + 2×2 conv stride 2 between stages, LN after the
                         stem and after global pooling: ConvNeXt-T (without layer scale)

Where the paper is silent, choices (documented in :class:`RoadmapNet` and
:class:`~dcnn_lib.layers.RoadmapBlock`): the stride of a stage's first block sits on its k×k
(depthwise) convolution, as in torchvision's ResNet-50 — this reproduces every GFLOPs entry up
to "fewer norms" within 1 %; the stem keeps its norm and activation until the last step; a
projection shortcut is a strided 1×1 convolution followed by the block's norm.

One entry of Table 10 cannot be reproduced by any architecture: "BN → LN" is printed as 4.46 G,
but swapping a normalisation layer changes no multiply-add (LN, like BN, is not counted), and
the paper's own Table 11 (the ResNet-200 regime) shows that step leaving the count unchanged
(14.81 → 14.81 G). 4.46 is almost exactly the next step's count; we take it as a misprint:
this network counts 4.15 G there, equal to the step before.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any, Sequence

import torch
import torch.nn as nn

from ...layers import guard_inputs
from ...layers.layer_norm_2d import LayerNorm2d
from ...layers.roadmap_block import RoadmapBlock, make_act, make_norm
from ...registry import Figure, Published, TestSettings, register_model

PAPER = "Liu, Mao, Wu, Feichtenhofer, Darrell & Xie, A ConvNet for the 2020s, CVPR 2022 (Table 10)"


@dataclass(frozen=True)
class Design:
    """Every switch of the roadmap; the defaults are ResNet-50 (torchvision, v1.5).

    ``widths`` are the stage widths of the design's layout: the narrow middle of a bottleneck
    (whose output is ``expansion ×`` wider), or the block output of the inverted layouts (whose
    middle is ``expansion ×`` wider). ``patch``: the patchify stem's kernel and stride.
    """

    depths: tuple[int, ...] = (3, 4, 6, 3)
    stem: str = "resnet"                       # "resnet" (7×7/2 conv, norm, act, 3×3/2 max pool) or "patchify"
    stem_stride: int = 2                       # of the ResNet stem's 7×7 (1 for small images)
    patch: int = 4
    stem_width: int = 64
    widths: tuple[int, ...] = (64, 128, 256, 512)
    expansion: int = 4
    layout: str = "bottleneck"                 # "bottleneck", "inverted", "spatial_first"
    depthwise: bool = False
    kernel_size: int = 3
    act: str = "relu"
    activations: str = "all"
    norms: str = "all"
    norm: str = "bn"
    downsample: str = "in_block"               # "in_block" (strided first block) or "separate"


@dataclass(frozen=True)
class Step:
    """A row of Table 10: ``key``, the paper's label, the change, whether it was kept for the
    following steps, ImageNet-1K top-1 (± std over 3 seeds) and GFLOPs."""

    key: str
    label: str
    change: dict[str, Any]
    kept: bool
    top1: float
    top1_std: float | None
    gflops: float


W96 = (96, 192, 384, 768)
ROADMAP: tuple[Step, ...] = (
    Step("resnet50", "ResNet-50 (PyTorch)", {}, True, 76.13, None, 4.09),
    Step("enhanced_recipe", "ResNet-50 (enhanced recipe)", {}, True, 78.82, 0.07, 4.09),
    Step("stage_ratio", "stage ratio", {"depths": (3, 3, 9, 3)}, True, 79.36, 0.07, 4.53),
    Step("patchify_stem", '"patchify" stem', {"stem": "patchify"}, True, 79.51, 0.18, 4.42),
    Step("depthwise_conv", "depthwise conv", {"depthwise": True}, True, 78.28, 0.08, 2.35),
    Step("increase_width", "increase width", {"stem_width": 96, "widths": W96}, True, 80.50, 0.02, 5.27),
    Step("inverted_bottleneck", "inverting dimensions", {"layout": "inverted"}, True, 80.64, 0.03, 4.64),
    Step("move_up_depthwise", "move up depthwise conv", {"layout": "spatial_first"}, True, 79.92, 0.08, 4.07),
    Step("kernel_5", "kernel size → 5", {"kernel_size": 5}, False, 80.35, 0.08, 4.10),
    Step("kernel_7", "kernel size → 7", {"kernel_size": 7}, True, 80.57, 0.14, 4.15),
    Step("kernel_9", "kernel size → 9", {"kernel_size": 9}, False, 80.57, 0.06, 4.21),
    Step("kernel_11", "kernel size → 11", {"kernel_size": 11}, False, 80.47, 0.11, 4.29),
    Step("gelu", "ReLU → GELU", {"act": "gelu"}, True, 80.62, 0.14, 4.15),
    Step("fewer_activations", "fewer activations", {"activations": "one"}, True, 81.27, 0.06, 4.15),
    Step("fewer_norms", "fewer norms", {"norms": "one"}, True, 81.41, 0.09, 4.15),
    Step("bn_to_ln", "BN → LN", {"norm": "ln"}, True, 81.47, 0.09, 4.46),
    Step("separate_downsampling", "separate d.s. conv (ConvNeXt-T)", {"downsample": "separate"}, True,
         81.97, 0.06, 4.49),
)
STEPS = tuple(s.key for s in ROADMAP)
# Table 10's last comparison row.
SWIN_T = {"top1": 81.30, "gflops": 4.50}
# The GFLOPs entry the architecture cannot reproduce (see the module docstring).
MISPRINTED = ("bn_to_ln",)


def _step_index(step: str | int) -> int:
    if isinstance(step, int):
        if not -len(ROADMAP) <= step < len(ROADMAP):
            raise ValueError(f"roadmap: step index must be in [0, {len(ROADMAP)}), got {step}")
        return step % len(ROADMAP)
    if step not in STEPS:
        raise ValueError(f"roadmap: unknown step {step!r}; steps: {', '.join(STEPS)}")
    return STEPS.index(step)


@dataclass(frozen=True)
class Miniature:
    """The roadmap at another size: a starting ResNet (``base``) and, for the steps that set
    sizes (stage ratio, width), the change at this size (``changes[step key]``)."""

    base: Design
    changes: dict[str, dict[str, Any]]


def roadmap_design(step: str | int, miniature: Miniature | None = None) -> Design:
    """The design after ``step`` (a key of :data:`STEPS` or an index): the kept changes of the
    steps before it, then its own — from ResNet-50, or from a :class:`Miniature`."""
    i = _step_index(step)
    design = miniature.base if miniature is not None else Design()
    for j, s in enumerate(ROADMAP[:i + 1]):
        if s.kept or j == i:
            change = s.change if miniature is None else miniature.changes.get(s.key, s.change)
            design = replace(design, **change)
    return design


class RoadmapNet(nn.Module):
    """The network of one :class:`Design`: stem, four stages of :class:`RoadmapBlock`, head.

    - stem ``"resnet"``: 7×7 conv stride 2, norm, activation, 3×3 max pool stride 2;
      ``"patchify"``: ``patch × patch`` conv with stride ``patch``, norm, activation (with
      separate downsampling: conv and LN only, ConvNeXt's stem).
    - ``downsample="in_block"``: the first block of stages 2-4 has stride 2 (and a projection
      shortcut); head: global average pooling, fc. ``"separate"``: stride-1 blocks, LN + 2×2
      conv stride 2 before stages 2-4; head: global average pooling, LN, fc.

    Shapes: ``(N, in_channels, H, W) -> (N, num_classes)``.
    """

    def __init__(self, design: Design = Design(), num_classes: int = 1000, in_channels: int = 3,
                 input_size: tuple[int, int, int] | None = None) -> None:
        super().__init__()
        d = design
        if len(d.depths) != len(d.widths):
            raise ValueError(f"RoadmapNet: {len(d.depths)} stage depths but {len(d.widths)} widths")
        separate = d.downsample == "separate"
        inverted = d.layout != "bottleneck"
        stem: OrderedDict[str, nn.Module] = OrderedDict()
        if d.stem == "resnet":
            stem["conv"] = nn.Conv2d(in_channels, d.stem_width, 7, d.stem_stride, 3, bias=d.norm != "bn")  # N x 64 x H/2 x W/2
        else:
            stem["conv"] = nn.Conv2d(in_channels, d.stem_width, d.patch, d.patch, bias=separate or d.norm != "bn")
        stem["norm"] = LayerNorm2d(d.stem_width) if separate else make_norm(d.norm, d.stem_width)
        if not separate:
            stem["act"] = make_act(d.act)
        if d.stem == "resnet":
            stem["pool"] = nn.MaxPool2d(3, 2, 1)                                              # N x 64 x H/4 x W/4
        layers: OrderedDict[str, nn.Module] = OrderedDict(stem=nn.Sequential(stem))
        channels = d.stem_width
        for i, (n, width) in enumerate(zip(d.depths, d.widths)):
            out, hidden = (width, d.expansion * width) if inverted else (d.expansion * width, width)
            stride = 2 if i > 0 else 1
            if separate and i > 0:
                layers[f"downsample{i + 1}"] = nn.Sequential(LayerNorm2d(channels), nn.Conv2d(channels, out, 2, 2))
                channels, stride = out, 1
            blocks = []
            for j in range(n):
                blocks.append(RoadmapBlock(channels, out, hidden, stride if j == 0 else 1, layout=d.layout,
                                           depthwise=d.depthwise, kernel_size=d.kernel_size, act=d.act,
                                           activations=d.activations, norms=d.norms, norm=d.norm))
                channels = out
            layers[f"stage{i + 1}"] = nn.Sequential(*blocks)
        self.features = nn.Sequential(layers)
        head: OrderedDict[str, nn.Module] = OrderedDict(pool=nn.AdaptiveAvgPool2d(1))
        if separate:
            head["norm"] = LayerNorm2d(channels)
        head["flatten"] = nn.Flatten(1)
        head["fc"] = nn.Linear(channels, num_classes)
        self.head = nn.Sequential(head)
        self.design, self.num_classes = design, num_classes
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        guard_inputs(self, "RoadmapNet", expected=input_size or (in_channels, 224, 224))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))                                                   # N x num_classes


def roadmap_model(step: str | int = "separate_downsampling", num_classes: int = 1000, in_channels: int = 3,
                  miniature: Miniature | None = None, input_size: tuple[int, int, int] | None = None) -> RoadmapNet:
    """The network after ``step`` of Table 10 (default: the last, ConvNeXt-T without layer
    scale), or of a :class:`Miniature` of the roadmap."""
    return RoadmapNet(roadmap_design(step, miniature), num_classes, in_channels, input_size)


# The roadmap for 28×28 Fashion-MNIST: a ResNet-50 a quarter as wide with a stem that reduces
# by 2 (stages at 14, 7, 4 and 2 pixels instead of 56, 28, 14 and 7), one to two blocks a stage
# in the paper's proportions ((3, 4, 6, 3) -> (1, 2, 2, 1); (3, 3, 9, 3) -> (1, 1, 3, 1)).
FASHION_MINIATURE = Miniature(
    base=Design(depths=(1, 2, 2, 1), stem_stride=1, patch=2, stem_width=16, widths=(16, 32, 64, 128)),
    changes={"stage_ratio": {"depths": (1, 1, 3, 1)},
             "increase_width": {"stem_width": 24, "widths": (24, 48, 96, 192)}})


# ---- registered: the roadmap's networks, at ImageNet size and for Fashion-MNIST ---------------
R10 = "paper, Table 10"


@register_model(task="classification", paper=PAPER, year=2022, input_size=(3, 224, 224),
                published=Published(params=Figure(28_582_504, "counted from the architecture",
                                                  "ConvNeXt-T without layer scale"),
                                    gmacs=Figure(4.49, R10, "the last step: separate downsampling (ConvNeXt-T)"),
                                    top1=Figure(81.97, R10, "mean of 3 seeds (± 0.06)")),
                test=TestSettings(input_size=(3, 32, 32)))
def convnext_roadmap(num_classes: int = 1000, in_channels: int = 3, step: str = "separate_downsampling") -> RoadmapNet:
    """The network after one step of ConvNeXt's modernisation roadmap (Table 10), from
    torchvision's ResNet-50 (``step="resnet50"``) to ConvNeXt-T (the default, the last step)."""
    return roadmap_model(step, num_classes, in_channels)


@register_model(task="classification", paper=PAPER + " (scaled down for 28×28 images)", year=2022,
                input_size=(1, 28, 28), published=Published(params=Figure(670_522, "counted from the architecture")))
def convnext_roadmap_small(num_classes: int = 10, in_channels: int = 1,
                           step: str = "separate_downsampling") -> RoadmapNet:
    """The roadmap for Fashion-MNIST (:data:`FASHION_MINIATURE`): a quarter-width ResNet-50 with a
    stride-2 stem and (1, 2, 2, 1) blocks, modernised step by step."""
    return roadmap_model(step, num_classes, in_channels, FASHION_MINIATURE, (in_channels, 28, 28))
