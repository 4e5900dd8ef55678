"""Detector backbones cut from registered classifiers — never copies of them.

Every detector in dcnn_lib takes its CNN from the model registry
(``dcnn_lib.models.get(name, **kwargs)``) and reuses the classifier's own modules, so that a
classifier's trained weights carry over, as the papers carried ImageNet weights over:

- :func:`conv_trunk` — the convolutional layers up to a total stride (VGG-16 up to conv5_3
  for stride 16, ResNet up to ``layer3``...): ``(N, 3, H, W) -> (N, C, H/s, W/s)``; the
  returned ``nn.Sequential`` carries ``out_channels`` and ``stride`` (what torchvision's
  detection heads need).
- :class:`RegionCNN` — the whole classifier minus its last layer, for R-CNN's warped crops:
  ``(K, 3, s, s) -> (pool5 (K, P), fc7 (K, D))``.
- :func:`classifier_head` — the classifier's hidden fully connected layers (VGG-16's fc6 and
  fc7), the box head of Fast and Faster R-CNN.
- :func:`inflate_input_channels` — a classifier trained on grey images, made to take RGB:
  the first convolution's kernels are repeated over the new channels and divided by their
  number, so a grey image given as three equal channels gives exactly the same output.

Two layouts of registered classifiers are understood: ``features`` / [``avgpool``] /
``classifier`` (AlexNet, VGG, NiN...) and torchvision's ResNet layout (``conv1`` ...
``layer4``, ``avgpool``, ``fc``, with ``feature_info``).
"""
from __future__ import annotations

import copy
from typing import Any

import torch
import torch.nn as nn


def _layout(model: nn.Module) -> str:
    if hasattr(model, "features") and hasattr(model, "classifier"):
        return "features"
    if hasattr(model, "feature_info") and hasattr(model, "fc"):
        return "resnet"
    raise ValueError(f"{type(model).__name__}: a detection backbone needs a classifier laid out as "
                     "features/classifier (AlexNet, VGG) or as torchvision's ResNet (feature_info, fc)")


def _stride_of(m: nn.Module) -> int:
    s = getattr(m, "stride", 1)
    s = s[0] if isinstance(s, (tuple, list)) else s
    return int(s or 1)


def conv_trunk(model: nn.Module, stride: int = 16) -> nn.Sequential:
    """The convolutional part of classifier ``model`` up to total stride ``stride`` (the last
    layers before the next downsampling). Shares modules (and weights) with ``model``.

    Returns an ``nn.Sequential`` with attributes ``out_channels`` and ``stride``.
    """
    layout = _layout(model)
    layers: list[tuple[str, nn.Module]] = []
    total, channels = 1, None
    if layout == "features":
        for name, m in model.features.named_children():
            s = _stride_of(m) if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)) else 1
            if total * s > stride:
                break
            total *= s
            layers.append((name, m))
            if isinstance(m, nn.Conv2d):
                channels = m.out_channels
    else:
        reductions = {f["module"]: f for f in model.feature_info}
        for name, m in model.named_children():
            if name in ("avgpool", "flatten", "fc"):
                break
            layers.append((name, m))
            if name in reductions:
                total, channels = reductions[name]["reduction"], reductions[name]["channels"]
                if total >= stride:
                    break
    if total != stride or channels is None:
        raise ValueError(f"conv_trunk: {type(model).__name__} has no feature map of stride {stride} "
                         f"(it reaches {total})")
    trunk = nn.Sequential()  # the classifier's own layer names ("0", "1"... or "conv1", "layer1"...)
    for name, m in layers:
        trunk.add_module(name, m)
    trunk.out_channels = channels
    trunk.stride = stride
    return trunk


def classifier_head(model: nn.Module) -> nn.Sequential:
    """The hidden fully connected layers of a features/classifier model (its ``classifier``
    without the last ``Linear``), with ``in_features`` and ``out_features`` attributes."""
    if _layout(model) != "features":
        raise ValueError(f"classifier_head: {type(model).__name__} has no fully connected hidden layers")
    head = model.classifier[:-1]
    linears = [m for m in head if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"classifier_head: {type(model).__name__}'s classifier has one layer only")
    head.in_features, head.out_features = linears[0].in_features, linears[-1].out_features
    return head


class RegionCNN(nn.Module):
    """R-CNN's feature extractor: a registered classifier without its output layer.

    ``forward(crops)``: ``(K, 3, s, s) -> (pool5 (K, P), fc7 (K, D))`` — ``pool5`` the flattened
    last feature map (R-CNN's box regressors read it), ``fc7`` the last hidden layer (R-CNN's
    SVMs read it). For a ResNet both are the globally pooled features.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        if _layout(model) == "features":
            self.features = model.features
            self.avgpool = getattr(model, "avgpool", nn.Identity())
            self.head = classifier_head(model)
            self.fc7_dim = self.head.out_features
            self.pool5_dim = self.head.in_features
        else:
            body = [(n, m) for n, m in model.named_children() if n not in ("avgpool", "flatten", "fc")]
            self.features = nn.Sequential()
            for n, m in body:
                self.features.add_module(n, m)
            self.avgpool = model.avgpool
            self.head = nn.Identity()
            self.fc7_dim = self.pool5_dim = model.fc.in_features

    def forward(self, crops: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pool5 = torch.flatten(self.avgpool(self.features(crops)), 1)      # K x P
        return pool5, self.head(pool5)                                     # K x P, K x D


@torch.no_grad()
def inflate_input_channels(model: nn.Module, channels: int = 3) -> nn.Module:
    """Make ``model``'s first convolution take ``channels`` inputs (in place; returns ``model``).

    Its kernels are repeated over the new channels and divided by ``channels / old``, so an
    image whose channels are all equal to the old grey input gives the same output.
    """
    from .contract import first_conv

    path, conv = first_conv(model)
    if conv is None:
        raise ValueError(f"inflate_input_channels: {type(model).__name__} has no convolution")
    if conv.in_channels == channels:
        return model
    if channels % conv.in_channels or conv.groups != 1:
        raise ValueError(f"inflate_input_channels: cannot turn {conv.in_channels} input channels of "
                         f"'{path}' into {channels}")
    k = channels // conv.in_channels
    new = copy.deepcopy(conv)
    new.in_channels = channels
    new.weight = nn.Parameter(conv.weight.repeat(1, k, 1, 1) / k)
    parent_path, _, leaf = path.rpartition(".")
    parent = model.get_submodule(parent_path) if parent_path else model
    setattr(parent, leaf, new)
    return model


def registry_classifier(name: str, weights: dict[str, torch.Tensor] | None = None,
                        inflate_to: int = 3, **kwargs: Any) -> nn.Module:
    """``dcnn_lib.models.get(name, **kwargs)``, optionally loaded with ``weights`` (a state dict
    of the same model, e.g. trained on grey Fashion-MNIST) and inflated to ``inflate_to``
    input channels (see :func:`inflate_input_channels`)."""
    from .. import models

    model = models.get(name, **kwargs)
    if weights is not None:
        model.load_state_dict(weights)
    return inflate_input_channels(model, inflate_to)


def two_stage_parts(name: str, kwargs: dict | None, weights: dict | None, stride: int,
                    box_head: str | int, roi_size: int) -> tuple[nn.Sequential, nn.Module, int]:
    """The backbone and box head of a Fast/Faster/Mask R-CNN from registered classifier ``name``.

    Returns ``(trunk, head, head_dim)``: :func:`conv_trunk` at ``stride``; ``head`` is the
    classifier's own hidden FC layers (``box_head="classifier"``, the papers' fc6 and fc7 of
    VGG-16, fed the flattened ``roi_size × roi_size`` RoI features) or a new two-layer MLP of
    width ``box_head`` (torchvision's ``TwoMLPHead``).
    """
    from torchvision.models.detection.faster_rcnn import TwoMLPHead

    model = registry_classifier(name, weights, **(kwargs or {}))
    trunk = conv_trunk(model, stride)
    if box_head == "classifier":
        fc = classifier_head(model)
        if fc.in_features != trunk.out_channels * roi_size ** 2:
            raise ValueError(f"two_stage_parts: {name}'s classifier takes {fc.in_features} features, "
                             f"RoI pooling gives {trunk.out_channels} x {roi_size} x {roi_size}")
        return trunk, nn.Sequential(nn.Flatten(), fc), fc.out_features
    if not isinstance(box_head, int) or box_head < 1:
        raise ValueError(f"two_stage_parts: box_head must be 'classifier' or a width, got {box_head!r}")
    return trunk, TwoMLPHead(trunk.out_channels * roi_size ** 2, box_head), box_head


def fpn_backbone(model: nn.Module, returned_layers: tuple[int, ...] = (1, 2, 3, 4),
                 out_channels: int = 256) -> nn.Module:
    """A ResNet from the registry with torchvision's feature pyramid on top (``BackboneWithFPN``
    with ``LastLevelMaxPool``: levels ``"0"``... and ``"pool"``), laid out exactly as
    torchvision's ``_resnet_fpn_extractor`` builds it, so state dicts match key for key."""
    from torchvision.models.detection.backbone_utils import BackboneWithFPN
    from torchvision.ops.feature_pyramid_network import LastLevelMaxPool

    if _layout(model) != "resnet":
        raise ValueError(f"fpn_backbone: needs a ResNet laid out as torchvision's, got {type(model).__name__}")
    info = {f["module"]: f["channels"] for f in model.feature_info}
    return_layers = {f"layer{k}": str(v) for v, k in enumerate(returned_layers)}
    in_channels = [info[f"layer{k}"] for k in returned_layers]
    return BackboneWithFPN(model, return_layers, in_channels, out_channels, extra_blocks=LastLevelMaxPool())
