"""The backbone contract, and the one place where classifiers are cut into backbones.

Detectors (``models/detection``) and segmentation networks (``models/segmentation``) take their
CNN from the registry (:func:`get_backbone`) and reuse the classifier's own modules, so that a
classifier's trained weights carry over, as the papers carried ImageNet weights over. They never
look for attribute names: they read what the classifier declares.

**The contract.** A classifier that can serve as a backbone declares two attributes:

- ``feature_info``: a tuple of :class:`Stage` ``(module, channels, stride)``, in forward order,
  one per total stride: ``module`` is the dotted path (``model.get_submodule(module)``) of the
  *last* module whose output has that stride (the deepest map at that stride: VGG-16's
  ``features.29`` = conv5_3's ReLU at stride 16, ResNet's ``layer3``), ``channels`` the channels of
  that output, ``stride`` its total stride relative to the input.
- ``classifier_name``: the top-level child that turns the pooled features into logits: a
  ``Linear`` (ResNet's ``fc``) or an ``nn.Sequential`` whose last ``Linear`` gives the logits
  (VGG's and AlexNet's ``classifier``: fc6, fc7, fc8).

and promises that running its top-level children in order, descending into the containers named
on a stage's path (``nn.Sequential``), is its forward pass up to that stage. ``tests/test_backbones.py``
checks every registered model that declares the contract: each stage, cut out, gives ``channels``
maps at ``input / stride``.

What is built from it:

- :func:`conv_trunk` — the layers up to a stride: ``(N, 3, H, W) -> (N, C, H/s, W/s)``, an
  ``nn.Sequential`` with ``out_channels`` and ``stride`` (what torchvision's detection heads need);
- :func:`classifier_head` — the hidden fully connected layers (VGG-16's fc6 and fc7);
- :class:`RegionCNN` — the classifier without its output layer, for R-CNN's warped crops;
- :func:`fpn_backbone` — torchvision's feature pyramid on the stages;
- :func:`inflate_input_channels` — a grey-input classifier made to take RGB;
- :func:`get_backbone`, :func:`two_stage_parts` — the registry's classifier, ready to cut.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn as nn

from ..detection.contract import first_conv
from ..errors import DcnnTypeError, DcnnValueError
from ..registry import get


@dataclass(frozen=True)
class Stage:
    """One feature stage of a backbone: the deepest map at total stride ``stride``."""

    module: str
    channels: int
    stride: int


def stages(model: nn.Module) -> tuple[Stage, ...]:
    """The stages ``model`` declares (``feature_info``), checked: strides increasing, paths real."""
    info = getattr(model, "feature_info", None)
    if not info or not all(isinstance(s, Stage) for s in info):
        raise DcnnTypeError(f"{type(model).__name__} is not a backbone: it declares no feature_info of Stage "
                            f"(module, channels, stride); see dcnn_lib.models.backbones")
    strides = [s.stride for s in info]
    if strides != sorted(set(strides)):
        raise DcnnValueError(f"{type(model).__name__}.feature_info: strides must increase, got {strides}")
    return tuple(info)


def stage_at(model: nn.Module, stride: int) -> Stage:
    """The stage of ``model`` at total stride ``stride``."""
    for s in stages(model):
        if s.stride == stride:
            return s
    raise DcnnValueError(f"{type(model).__name__} has no feature map of stride {stride}; "
                         f"its stages: {[s.stride for s in stages(model)]}")


def deepest_stages(features: nn.Sequential, prefix: str, in_channels: int) -> tuple[Stage, ...]:
    """The stages of a plain stack of layers (VGG's and AlexNet's ``features``), found by walking
    it: a stage ends before each layer that strides, the last one at the end of the stack."""
    out, stride, channels, seen_conv, last = [], 1, in_channels, False, None
    for name, m in features.named_children():
        s = getattr(m, "stride", 1)
        s = int((s[0] if isinstance(s, (tuple, list)) else s) or 1)
        if s > 1 and seen_conv and last is not None:
            out.append(Stage(f"{prefix}.{last}", channels, stride))
        stride *= s
        if isinstance(m, nn.Conv2d):
            channels, seen_conv = m.out_channels, True
        last = name
    out.append(Stage(f"{prefix}.{last}", channels, stride))
    return tuple(out)


def _cut(model: nn.Module, path: str) -> nn.Sequential:
    """The modules that run before and including ``path`` (children in order, descending into the
    containers on the path), as one ``nn.Sequential`` sharing the model's modules and their names."""
    trunk, parent = nn.Sequential(), model
    for part in path.split("."):
        children = dict(parent.named_children())
        if part not in children:
            raise DcnnValueError(f"{type(model).__name__}: feature stage {path!r}: no child {part!r} in {list(children)}")
        for name, child in [*parent.named_children()][: list(children).index(part)]:
            if name in trunk._modules:
                raise DcnnValueError(f"{type(model).__name__}: feature stage {path!r}: two layers named {name!r}")
            trunk.add_module(name, child)
        parent = children[part]
    trunk.add_module(part, parent)
    return trunk


def conv_trunk(model: nn.Module, stride: int = 16) -> nn.Sequential:
    """The layers of ``model`` up to its stage at total stride ``stride`` (the last layers before
    the next downsampling). Shares modules (and weights) with ``model``.

    Returns an ``nn.Sequential`` with attributes ``out_channels`` and ``stride``.
    """
    stage = stage_at(model, stride)
    trunk = _cut(model, stage.module)
    trunk.out_channels, trunk.stride = stage.channels, stride
    return trunk


def _head(model: nn.Module) -> nn.Module:
    name = getattr(model, "classifier_name", None)
    head = dict(model.named_children()).get(name) if isinstance(name, str) else None
    linears = [m for m in head.modules() if isinstance(m, nn.Linear)] if head is not None else []
    if not linears:
        raise DcnnTypeError(f"{type(model).__name__} declares no classifier_name naming a child with a Linear "
                            f"output layer (see dcnn_lib.models.backbones)")
    return head


def classifier_head(model: nn.Module) -> nn.Sequential:
    """The hidden fully connected layers of ``model``'s classifier (all but the last ``Linear``),
    with ``in_features`` and ``out_features`` attributes."""
    head = _head(model)
    linears = [m for m in head.modules() if isinstance(m, nn.Linear)]
    if not isinstance(head, nn.Sequential) or len(linears) < 2:
        raise DcnnValueError(f"classifier_head: {type(model).__name__}'s classifier has one layer only")
    hidden = head[:-1]
    hidden.in_features, hidden.out_features = linears[0].in_features, linears[-2].out_features
    return hidden


class RegionCNN(nn.Module):
    """R-CNN's feature extractor: a registered classifier without its output layer.

    ``forward(crops)``: ``(K, 3, s, s) -> (pool5 (K, P), fc7 (K, D))`` — ``pool5`` the flattened
    features the classifier's head takes (R-CNN's box regressors read it), ``fc7`` its last hidden
    layer (R-CNN's SVMs read it). With a one-layer head (ResNet) both are the pooled features.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        last = stages(model)[-1]
        head, head_name = _head(model), model.classifier_name
        self.features = _cut(model, last.module)                            # up to the last stage
        top = last.module.split(".")[0]
        names = [n for n, _ in model.named_children()]
        between = names[names.index(top) + 1: names.index(head_name)]      # pooling, final BN...
        self.avgpool = nn.Sequential(*(model.get_submodule(n) for n in between))
        if isinstance(head, nn.Linear):
            self.head = nn.Identity()
            self.fc7_dim = self.pool5_dim = head.in_features
        else:
            self.head = classifier_head(model)
            self.fc7_dim, self.pool5_dim = self.head.out_features, self.head.in_features

    def forward(self, crops: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pool5 = torch.flatten(self.avgpool(self.features(crops)), 1)      # K x P
        return pool5, self.head(pool5)                                     # K x P, K x D


@torch.no_grad()
def inflate_input_channels(model: nn.Module, channels: int = 3) -> nn.Module:
    """Make ``model``'s first convolution take ``channels`` inputs (in place; returns ``model``).

    Its kernels are repeated over the new channels and divided by ``channels / old``, so an
    image whose channels are all equal to the old grey input gives the same output.
    """
    path, conv = first_conv(model)
    if conv is None:
        raise DcnnValueError(f"inflate_input_channels: {type(model).__name__} has no convolution")
    if conv.in_channels == channels:
        return model
    if channels % conv.in_channels or conv.groups != 1:
        raise DcnnValueError(f"inflate_input_channels: cannot turn {conv.in_channels} input channels of "
                             f"'{path}' into {channels}")
    k = channels // conv.in_channels
    new = copy.deepcopy(conv)
    new.in_channels = channels
    new.weight = nn.Parameter(conv.weight.repeat(1, k, 1, 1) / k)
    parent_path, _, leaf = path.rpartition(".")
    parent = model.get_submodule(parent_path) if parent_path else model
    setattr(parent, leaf, new)
    return model


def get_backbone(name: str, weights: dict[str, torch.Tensor] | None = None, inflate_to: int | None = 3,
             **kwargs: Any) -> nn.Module:
    """Registered classifier ``name`` (``get(name, **kwargs)``), checked against the contract,
    optionally loaded with ``weights`` (a state dict of the same model, e.g. trained on grey
    Fashion-MNIST) and inflated to ``inflate_to`` input channels (``None``: as built)."""
    model = get(name, **kwargs)
    stages(model)
    if weights is not None:
        model.load_state_dict(weights)
    return model if inflate_to is None else inflate_input_channels(model, inflate_to)


def two_stage_parts(name: str, kwargs: dict | None, weights: dict | None, stride: int,
                    box_head: str | int, roi_size: int) -> tuple[nn.Sequential, nn.Module, int]:
    """The backbone and box head of a Fast/Faster/Mask R-CNN from registered classifier ``name``.

    Returns ``(trunk, head, head_dim)``: :func:`conv_trunk` at ``stride``; ``head`` is the
    classifier's own hidden FC layers (``box_head="classifier"``, the papers' fc6 and fc7 of
    VGG-16, fed the flattened ``roi_size × roi_size`` RoI features) or a new two-layer MLP of
    width ``box_head`` (torchvision's ``TwoMLPHead``).
    """
    from torchvision.models.detection.faster_rcnn import TwoMLPHead

    model = get_backbone(name, weights, **(kwargs or {}))
    trunk = conv_trunk(model, stride)
    if box_head == "classifier":
        fc = classifier_head(model)
        if fc.in_features != trunk.out_channels * roi_size ** 2:
            raise DcnnValueError(f"two_stage_parts: {name}'s classifier takes {fc.in_features} features, "
                                 f"RoI pooling gives {trunk.out_channels} x {roi_size} x {roi_size}")
        return trunk, nn.Sequential(nn.Flatten(), fc), fc.out_features
    if not isinstance(box_head, int) or box_head < 1:
        raise DcnnValueError(f"two_stage_parts: box_head must be 'classifier' or a width, got {box_head!r}")
    return trunk, TwoMLPHead(trunk.out_channels * roi_size ** 2, box_head), box_head


def fpn_backbone(model: nn.Module, returned_layers: tuple[int, ...] = (1, 2, 3, 4),
                 out_channels: int = 256) -> nn.Module:
    """torchvision's feature pyramid (``BackboneWithFPN`` with ``LastLevelMaxPool``: levels
    ``"0"``... and ``"pool"``) on the stages of ``model`` at strides 4, 8, 16, 32 (numbered 1-4).
    For a ResNet this is exactly torchvision's ``_resnet_fpn_extractor``: state dicts match key for key."""
    from torchvision.models.detection.backbone_utils import BackboneWithFPN
    from torchvision.ops.feature_pyramid_network import LastLevelMaxPool

    picked = [stage_at(model, 2 ** (k + 1)) for k in returned_layers]
    nested = [s.module for s in picked if "." in s.module]
    if nested:
        raise DcnnValueError(f"fpn_backbone: the stages must be top-level children of {type(model).__name__}, "
                             f"got {nested}")
    return_layers = {s.module: str(v) for v, s in enumerate(picked)}
    return BackboneWithFPN(model, return_layers, [s.channels for s in picked], out_channels,
                           extra_blocks=LastLevelMaxPool())


__all__ = ["Stage", "stages", "stage_at", "deepest_stages", "conv_trunk", "classifier_head", "RegionCNN",
           "inflate_input_channels", "get_backbone", "two_stage_parts", "fpn_backbone"]
