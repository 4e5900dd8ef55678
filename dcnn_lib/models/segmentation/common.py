"""What the segmentation families share: backbones from the registry, made dense.

Both cut classifiers through the backbone contract of :mod:`dcnn_lib.models.backbones` (the
stages a classifier declares), never by attribute names:

- :func:`vgg_stages` cuts a registry classifier after the pooling that follows each stage
  (VGG: pool1..pool5).
- :func:`resnet_backbone` builds a registry ResNet, trades the stride of its stride-16 and
  stride-32 stages for dilation to reach output stride 16 or 8
  (:func:`~dcnn_lib.layers.dilation.dilate_stage`) and returns the stages a head needs
  (:class:`~dcnn_lib.layers.FeatureStages`).
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
from ...errors import DcnnValueError
from ..backbones import get_backbone, stage_at, stages

# Narrow backbones for the CPU tests and the book's training runs: the same builders, 1/8 width.
VGG_NARROW = {"backbone": "vgg_small",
              "backbone_kwargs": {"config": "D", "width": 1 / 8, "in_channels": 3, "batch_norm": True}}
RESNET_NARROW = {"backbone": "resnet50", "backbone_kwargs": {"widths": (8, 16, 32, 64)}}
UNET_SMALL = (4, 8, 16, 32, 64)
COUNTED = "counted from the architecture"


def upsample(x: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """Bilinear resize of ``(N, C, h, w)`` to ``size``."""
    return F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=False)


def vgg_stages(vgg: nn.Module) -> list[nn.Sequential]:
    """A plain classifier's layers cut after the max pooling that ends each stage:
    ``[conv1_x + pool1, ..., conv5_x + pool5]`` for VGG (stages at strides 1..16, pool5 at 32)."""
    declared = stages(vgg)
    container = declared[0].module.rpartition(".")[0]
    if any(s.module.rpartition(".")[0] != container for s in declared):
        raise DcnnValueError(f"vgg_stages: {type(vgg).__name__}'s stages are not in one stack of layers")
    layers = dict(vgg.get_submodule(container).named_children())
    names, blocks, current = list(layers), [], []
    ends = {names[names.index(s.module.rpartition(".")[2]) + 1] for s in declared[:-1]}
    for name in names[: names.index(declared[-1].module.rpartition(".")[2]) + 1]:
        current.append(layers[name])
        if name in ends:
            if not isinstance(layers[name], nn.MaxPool2d):
                raise DcnnValueError(f"vgg_stages: the layer after a stage must be max pooling, got {layers[name]}")
            blocks.append(nn.Sequential(*current))
            current = []
    if current or len(blocks) != 5:
        raise DcnnValueError(f"vgg_stages: expected 5 blocks ending in max pooling, got {len(blocks)}")
    return blocks


def stage_channels(stage: nn.Module) -> int:
    """Output channels of a stage: those of its last convolution."""
    convs = [m for m in stage.modules() if isinstance(m, nn.Conv2d)]
    return convs[-1].out_channels


def resnet_backbone(name: str = "resnet101", output_stride: int = 16, multi_grid: Sequence[int] | None = None,
                    returns: dict[int, str] | None = None, **kwargs: Any) -> FeatureStages:
    """A registry ResNet as a dense feature extractor.

    Args:
        name: registered ResNet (``"resnet50"``, ``"resnet101"``...); ``kwargs`` go to its
            builder (e.g. ``widths=(16, 32, 64, 128)`` for a narrow one).
        output_stride: 32 (as classified), 16 (the stride-32 stage dilated ×2) or 8 (the
            stride-16 stage ×2, the stride-32 stage ×4; torchvision's
            ``replace_stride_with_dilation=[False, True, True]``).
        multi_grid: DeepLabv3's unit rates for the last stage (e.g. ``(1, 2, 4)``).
        returns: classified stride of a stage → key of its map, default ``{32: "out"}``.

    The result's ``stage_channels`` maps each classified stride to the stage's channels.
    """
    if output_stride not in (8, 16, 32):
        raise DcnnValueError(f"resnet_backbone: output_stride must be 8, 16 or 32, got {output_stride}")
    resnet = get_backbone(name, inflate_to=None, **kwargs)
    s16, s32 = (resnet.get_submodule(stage_at(resnet, s).module) for s in (16, 32))
    if output_stride == 16:
        dilate_stage(s32, 2, 1, multi_grid)
    elif output_stride == 8:
        dilate_stage(s16, 2, 1)
        dilate_stage(s32, 4, 2, multi_grid)
    body = FeatureStages(resnet, {stage_at(resnet, s).module: key for s, key in (returns or {32: "out"}).items()})
    body.stage_channels = {s.stride: s.channels for s in stages(resnet)}
    return body


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
