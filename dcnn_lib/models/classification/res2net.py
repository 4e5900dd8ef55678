"""Res2Net: Gao, Cheng, Zhao, Zhang, Yang & Torr, "Res2Net: A New Multi-scale Backbone
Architecture", TPAMI 2021 (arXiv April 2019).

ResNet-50's layout (Table 1 of the ResNet paper: a 7×7/2 stem, 3×3/2 max pooling, stages of
3, 4, 6, 3 bottlenecks, global average pooling, fc) with every bottleneck replaced by a
Res2Net bottleneck (:class:`~dcnn_lib.layers.Res2NetBottleneck`: s splits of w maps with
hierarchical 3×3 convolutions). "Res2Net-50 26w×4s" is w = 26 maps per split at the first
stage (doubling per stage) and s = 4 splits::

    conv1, bn1, relu   7×7, 64, stride 2                         N x 64 x 112 x 112
    maxpool            3×3, stride 2                             N x 64 x 56 x 56
    layer1             3 × [1×1 104; 3 × 3×3 26; 1×1 256]        N x 256 x 56 x 56
    layer2             4 × [1×1 208; 3 × 3×3 52; 1×1 512], /2    N x 512 x 28 x 28
    layer3             6 × [1×1 416; 3 × 3×3 104; 1×1 1024], /2  N x 1024 x 14 x 14
    layer4             3 × [1×1 832; 3 × 3×3 208; 1×1 2048], /2  N x 2048 x 7 x 7
    avgpool, fc 1000                                             N x 1000

The official models (``Res2Net/Res2Net-PretrainedModels``) are this network at several
(w, s); :data:`OFFICIAL` holds their README table. ``res2net50_26w_4s`` is registered; the
other settings are keywords: ``get("res2net50_26w_4s", base_width=14, scale=8)``. The layout
and the parameter names are the official code's and timm's ``res2net50_26w_4s`` (25,699,120
parameters, 4.26 G multiply-adds: the paper's "4.2 GFLOPs" are multiply-adds), with the
stride on the 3×3 convolutions and a strided 1×1 projection (with BN) on the shortcut.
Initialisation: He et al. normal, fan-out (the official code's).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Sequence

import torch.nn as nn

from ...errors import DcnnValueError
from ...layers import Res2NetBottleneck, guard_inputs
from ...registry import Figure, Published, TestSettings, register_model
from ..backbones import Stage

PAPER = "Gao, Cheng, Zhao, Zhang, Yang & Torr, Res2Net: A new multi-scale backbone architecture, TPAMI 2021"
STAGES = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}
WIDTHS = (64, 128, 256, 512)

# Official README: (depth, w, s) -> params (M), GFLOPs (multiply-adds), ImageNet top-1 / top-5 error %.
OFFICIAL: dict[tuple[int, int, int], tuple[float, float, float, float]] = {
    (50, 48, 2): (25.29, 4.2, 22.68, 6.47),
    (50, 26, 4): (25.70, 4.2, 22.01, 6.15),
    (50, 14, 8): (25.06, 4.2, 21.86, 6.14),
    (50, 26, 6): (37.05, 6.3, 21.42, 5.87),
    (50, 26, 8): (48.40, 8.3, 20.80, 5.63),
    (101, 26, 4): (45.21, 8.1, 20.81, 5.57),
}
# Paper Table 1, ImageNet top-1 / top-5 error % at 224x224 (single crop).
TABLE1 = {"resnet50": (23.85, 7.13), "resnext50": (22.61, 6.50), "res2net50": (22.01, 6.15),
          "res2next50": (21.76, 6.09), "se_res2net50": (21.56, 5.94)}


def _init_weights(m: nn.Module) -> None:
    """The official code's initialisation: He et al. normal (fan-out) convolutions, BN at 1 and 0."""
    if isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)


class Res2Net(nn.Sequential):
    """ResNet-style stem, stages of Res2Net bottlenecks, global average pooling, fc.

    Args:
        depths: blocks per stage, e.g. ``(3, 4, 6, 3)``.
        base_width: w, maps per split at ``planes = 64``.
        scale: s, the number of splits.
        widths: the stages' nominal bottleneck widths (output = 4 × width).
        stem: ``"imagenet"`` (7×7/2 conv, 3×3/2 max pooling) or ``"small"`` (one 3×3 conv,
            for 28×28 or 32×32 images: stages at full resolution, then /2 each).
        stem_width: maps of the stem convolution (64).
        num_classes, in_channels: output classes and input channels.
        zero_init_residual: start the last BN of every block at 0 (each block starts as the
            identity; Goyal et al. 2017).

    Shapes: ``(N, in_channels, H, W) -> (N, num_classes)``. ``feature_info`` lists the stages.
    """

    def __init__(self, depths: Sequence[int] = STAGES[50], base_width: int = 26, scale: int = 4,
                 widths: Sequence[int] = WIDTHS, *, stem: str = "imagenet", stem_width: int = 64,
                 num_classes: int = 1000, in_channels: int = 3, zero_init_residual: bool = False) -> None:
        if stem not in ("imagenet", "small"):
            raise DcnnValueError(f"Res2Net: stem must be 'imagenet' or 'small', got {stem!r}")
        if len(depths) != len(widths):
            raise DcnnValueError(f"Res2Net: {len(depths)} stage depths but {len(widths)} widths")
        imagenet = stem == "imagenet"
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        layers["conv1"] = (nn.Conv2d(in_channels, stem_width, 7, stride=2, padding=3, bias=False) if imagenet
                           else nn.Conv2d(in_channels, stem_width, 3, padding=1, bias=False))  # N x 64 x 112 x 112
        layers["bn1"] = nn.BatchNorm2d(stem_width)
        layers["relu"] = nn.ReLU(inplace=True)
        if imagenet:
            layers["maxpool"] = nn.MaxPool2d(3, stride=2, padding=1)          # N x 64 x 56 x 56
        channels, reduction, feature_info = stem_width, 4 if imagenet else 1, []
        for i, (n, planes) in enumerate(zip(depths, widths)):
            stride = 1 if i == 0 else 2
            reduction *= stride
            blocks = [Res2NetBottleneck(channels if j == 0 else 4 * planes, planes, stride if j == 0 else 1,
                                        base_width, scale, first=j == 0) for j in range(n)]
            layers[f"layer{i + 1}"] = nn.Sequential(*blocks)                   # N x 4·planes x H/r x W/r
            channels = 4 * planes
            feature_info.append(Stage(f"layer{i + 1}", channels, reduction))
        layers["avgpool"] = nn.AdaptiveAvgPool2d(1)                            # N x C x 1 x 1
        layers["flatten"] = nn.Flatten()                                       # N x C
        layers["fc"] = nn.Linear(channels, num_classes)                        # N x num_classes
        super().__init__(layers)
        self.feature_info, self.num_classes = tuple(feature_info), num_classes   # the backbone contract
        self.classifier_name = "fc"
        self.config = {"depths": tuple(depths), "base_width": base_width, "scale": scale,
                       "widths": tuple(widths), "stem": stem, "stem_width": stem_width}
        self.apply(_init_weights)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Res2NetBottleneck):
                    nn.init.zeros_(m.bn3.weight)
        size = 224 if imagenet else 32
        guard_inputs(self, "Res2Net", expected=(in_channels, size, size))

    def blocks(self) -> list[tuple[str, Res2NetBottleneck]]:
        """``(name, block)`` of every bottleneck, in order (``"layer1.0"``, ...)."""
        return [(f"{s.module}.{j}", b) for s in self.feature_info
                for j, b in enumerate(self.get_submodule(s.module))]


_README = "official README (Res2Net/Res2Net-PretrainedModels)"
_PUBLISHED = Published(
    params=Figure(25_699_120, "timm res2net50_26w_4s (its state dict loads strictly, outputs equal)"),
    gmacs=Figure(4.255, "counted from the architecture (dl.analysis.summary)", "the README prints 4.2 GFLOPs"),
    top1=Figure(round(100 - OFFICIAL[50, 26, 4][2], 2), _README, "22.01 % top-1 error, single crop 224×224"),
    top5=Figure(round(100 - OFFICIAL[50, 26, 4][3], 2), _README, "6.15 % top-5 error, single crop 224×224"),
    other={"params_m": Figure(OFFICIAL[50, 26, 4][0], _README),
           "top1_error": Figure(TABLE1["res2net50"][0], "paper, Table 1", "single crop 224×224"),
           "top5_error": Figure(TABLE1["res2net50"][1], "paper, Table 1", "single crop 224×224"),
           "top1_error_resnet50": Figure(TABLE1["resnet50"][0], "paper, Table 1", "their ResNet-50 baseline")})


@register_model(task="classification", paper=PAPER, year=2019, input_size=(3, 224, 224), published=_PUBLISHED,
                test=TestSettings(input_size=(3, 32, 32)))
def res2net50_26w_4s(num_classes: int = 1000, in_channels: int = 3, base_width: int = 26, scale: int = 4,
                     **overrides: Any) -> Res2Net:
    """Res2Net-50 26w×4s: ResNet-50's stages of Res2Net bottlenecks, w = 26 maps per split, s = 4 splits."""
    return Res2Net(STAGES[50], base_width, scale, num_classes=num_classes, in_channels=in_channels, **overrides)


# ---- scaled down for Fashion-MNIST (28×28 grey) ------------------------------------------------------
@register_model(task="classification", paper=PAPER + " (scaled for 28×28 images)", year=2019,
                input_size=(1, 28, 28), published=Published(params=Figure(257_540, "counted from the architecture")))
def res2net_small(num_classes: int = 10, in_channels: int = 1, depths: Sequence[int] = (1, 1, 1),
                  widths: Sequence[int] = (16, 48, 96), base_width: int = 26, scale: int = 4,
                  stem_width: int = 16) -> Res2Net:
    """Res2Net for 28×28 images: 3×3 stem, one Res2Net bottleneck per stage at 28, 14, 7 (26w×4s).

    About the budget of the ResNet chapter's 8-layer ResNet (0.30 M parameters, 36 M
    multiply-adds): 0.26 M parameters and 29 M multiply-adds, in bottlenecks of 64, 192 and
    384 output maps whose 3×3 stage is s = 4 splits of w = 6, 19 and 39 maps. The first stage
    is the narrow one: it runs on 28×28 maps, where a CPU pays for every map of every layer.
    """
    return Res2Net(depths, base_width, scale, widths, stem="small", stem_width=stem_width,
                   num_classes=num_classes, in_channels=in_channels)


def equal_budget_width(scale: int, params: int, **config: Any) -> int:
    """The base width w that brings ``Res2Net(scale=scale, base_width=w, **config)`` closest to
    ``params`` parameters (the comparison of scales at equal budget, as the README's
    48w×2s / 26w×4s / 14w×8s rows)."""
    def count(w: int) -> int:
        return sum(p.numel() for p in Res2Net(base_width=w, scale=scale, **config).parameters())

    lo, hi = 1, 1024
    while lo < hi:                                     # the smallest w whose count reaches params
        mid = (lo + hi) // 2
        lo, hi = (mid + 1, hi) if count(mid) < params else (lo, mid)
    return min((w for w in (lo - 1, lo) if w >= 1), key=lambda w: abs(count(w) - params))
