"""What the segmentation families share: backbones from the registry, made dense.

- :func:`vgg_stages` cuts a registry VGG's ``features`` after each max-pooling (pool1..pool5).
- :func:`resnet_backbone` builds a registry ResNet, trades the stride of its last stages for
  dilation to reach output stride 16 or 8 (:func:`~dcnn_lib.layers.dilation.dilate_stage`) and
  returns the stages a head needs (:class:`~dcnn_lib.layers.FeatureStages`).
- :class:`BackboneHead` is torchvision's ``_SimpleSegmentationModel``: backbone → head →
  bilinear upsampling to the input size, with an optional auxiliary head on an earlier stage
  (same attribute names, so torchvision's ``fcn_resnet50`` / ``deeplabv3_resnet50`` weights load).

Backbones always come from :func:`dcnn_lib.models.get`: a segmentation model never copies a
classifier's code.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from ...layers.dilation import dilate_stage
from ...layers.feature_stages import FeatureStages
from ...registry import get

# Narrow backbones for the CPU tests and the book's training runs: the same builders, 1/8 width.
VGG_NARROW = {"backbone": "vgg_mini",
              "backbone_kwargs": {"config": "D", "width": 1 / 8, "in_channels": 3, "batch_norm": True}}
RESNET_NARROW = {"backbone": "resnet50", "backbone_kwargs": {"widths": (8, 16, 32, 64)}}
UNET_TINY = (4, 8, 16, 32, 64)
COUNTED = "counted from the architecture"


def upsample(x: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """Bilinear resize of ``(N, C, h, w)`` to ``size``."""
    return F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=False)


def vgg_stages(vgg: nn.Module) -> list[nn.Sequential]:
    """``vgg.features`` cut after every ``MaxPool2d``: ``[conv1_x + pool1, ..., conv5_x + pool5]``."""
    stages, current = [], []
    for module in vgg.features:
        current.append(module)
        if isinstance(module, nn.MaxPool2d):
            stages.append(nn.Sequential(*current))
            current = []
    if current or len(stages) != 5:
        raise ValueError(f"vgg_stages: expected 5 blocks ending in max pooling, got {len(stages)}")
    return stages


def stage_channels(stage: nn.Module) -> int:
    """Output channels of a stage: those of its last convolution."""
    convs = [m for m in stage.modules() if isinstance(m, nn.Conv2d)]
    return convs[-1].out_channels


def resnet_backbone(name: str = "resnet101", output_stride: int = 16, multi_grid: Sequence[int] | None = None,
                    return_layers: dict[str, str] | None = None, **kwargs: Any) -> FeatureStages:
    """A registry ResNet as a dense feature extractor.

    Args:
        name: registered ResNet (``"resnet50"``, ``"resnet101"``...); ``kwargs`` go to its
            builder (e.g. ``widths=(16, 32, 64, 128)`` for a narrow one).
        output_stride: 32 (as classified), 16 (``layer4`` dilated ×2) or 8 (``layer3`` ×2,
            ``layer4`` ×4; torchvision's ``replace_stride_with_dilation=[False, True, True]``).
        multi_grid: DeepLabv3's unit rates for ``layer4`` (e.g. ``(1, 2, 4)``).
        return_layers: stage → key, default ``{"layer4": "out"}``.
    """
    if output_stride not in (8, 16, 32):
        raise ValueError(f"resnet_backbone: output_stride must be 8, 16 or 32, got {output_stride}")
    resnet = get(name, **kwargs)
    if output_stride == 16:
        dilate_stage(resnet.layer4, 2, 1, multi_grid)
    elif output_stride == 8:
        dilate_stage(resnet.layer3, 2, 1)
        dilate_stage(resnet.layer4, 4, 2, multi_grid)
    return FeatureStages(resnet, return_layers or {"layer4": "out"})


class BackboneHead(nn.Module):
    """``{"out": up(classifier(backbone(x)["out"])), "aux": up(aux_classifier(backbone(x)["aux"]))}``.

    The auxiliary output is computed whenever there is an auxiliary head (as torchvision);
    :func:`dcnn_lib.train.fit` adds its loss with a weight (0.4, PSPNet's) and evaluates "out".
    Shapes: ``(N, 3, H, W) -> {"out": (N, classes, H, W)[, "aux": (N, classes, H, W)]}``.
    """

    def __init__(self, backbone: nn.Module, classifier: nn.Module, aux_classifier: nn.Module | None = None) -> None:
        super().__init__()
        self.backbone = backbone
        self.classifier = classifier
        self.aux_classifier = aux_classifier

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        size = x.shape[-2:]
        features = self.backbone(x)
        result = {"out": upsample(self.classifier(features["out"]), size)}
        if self.aux_classifier is not None:
            result["aux"] = upsample(self.aux_classifier(features["aux"]), size)
        return result
