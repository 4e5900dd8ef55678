"""Fully convolutional networks: Long, Shelhamer & Darrell, "Fully Convolutional Networks for
Semantic Segmentation", CVPR 2015 (and the TPAMI 2017 version), VGG-16 backbone; and
torchvision's ``fcn_resnet50``.

**Convolutionalisation** (§3.1): VGG-16's fully connected layers are convolutions whose kernels
cover their whole input — fc6 (25,088 → 4096) *is* a 7×7 convolution on the 512 × 7 × 7 map,
fc7 a 1×1 convolution. Rewritten so (the weights are reshaped, not retrained) the classifier
slides over an image of any size and outputs a coarse map of class scores, one per 32 pixels.

**Upsampling and skips** (§4.2, Fig. 3), VGG-16, for class scores ``C``::

    conv1..pool3   (conv1_1 padded by 100)   N x 256 x /8
    conv4..pool4                             N x 512 x /16
    conv5..pool5                             N x 512 x /32
    fc6 7×7 4096, fc7 1×1 4096, score_fr 1×1 C          N x C x /32 (coarse)
    FCN-32s: upscore ×32 (fixed bilinear), crop          N x C x H x W
    FCN-16s: upscore2 ×2 (learned) + score_pool4 (1×1 on pool4), then ×16 (fixed)
    FCN-8s:  ... + upscore_pool4 ×2 (learned) + score_pool3 (1×1 on pool3), then ×8 (fixed)

Each finer prediction adds the "where" of a shallower layer to the "what" of the deep one:
the paper's VOC mIoU goes 59.4 (32s) → 62.4 (16s) → 62.7 (8s) (Table 2). Intermediate 2×
upsamplings are initialised to bilinear interpolation and learned; the final one is fixed
bilinear (no parameters); new score layers start at zero (§4.3).

**The "pad 100" trick.** fc6 is an unpadded 7×7 convolution, so an image smaller than 192 pixels
would vanish before it; the released models pad conv1_1 by 100 pixels and crop the upsampled
scores back to the image with fixed offsets (19 for 32s; 5, 27 for 16s; 9, 31 for 8s). Any
input size then works. ``pad100=False`` uses "same" padding everywhere instead (conv1_1 padded
by 1, fc6 by 3; crops of f/2 after each learned ×2 upsampling; the fixed final upsampling
computed as the bilinear interpolation it equals, to the input's size): much cheaper on small
images, what the chapter trains.

Parameters (21 classes): 134,346,581 (32s), 134,364,410 (16s), 134,376,863 (8s) — the paper's
Table 1 says 134M for FCN-VGG16. Departures: the fixed bilinear layers are buffers (the
released Caffe models hold them as frozen weights); the "at-once" 8s model's scaling of pool3
and pool4 (×1e-4, ×0.01) is not applied (the paper trains the staged 32s → 16s → 8s models).

``fcn_resnet50`` is torchvision's FCN: a ResNet-50 with dilated last stages (output stride 8)
and a 3×3 conv head (:class:`~dcnn_lib.layers.ConvHead`), bilinear upsampling to the input;
its state dict is torchvision's.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn

from ...layers import guard_inputs
from ...layers.bilinear_upsampling import BilinearUpsampling
from ...layers.seg_head import ConvHead
from ...layers.up_conv import match_size
from ...registry import Figure, Published, TestSettings, register_model
from ..backbones import get_backbone
from .common import (COUNTED, RESNET_NARROW, VGG_NARROW, BackboneHead, resnet_backbone, stage_channels, upsample,
                     vgg_stages)

PAPER = "Long, Shelhamer & Darrell, Fully Convolutional Networks for Semantic Segmentation, CVPR 2015"
# Crop offsets of the released Caffe models (pad 100): (after upscore2, final) etc.
CAFFE_OFFSETS = {"32s": {"final": 19}, "16s": {"pool4": 5, "final": 27}, "8s": {"pool4": 5, "pool3": 9, "final": 31}}
# Table 2 (VOC 2011 val): mean IU of the three nets; Table 1: parameters of FCN-VGG16.
PAPER_MIOU = {"32s": 59.4, "16s": 62.4, "8s": 62.7}
TV_SEG = "torchvision weights metadata (COCO_WITH_VOC_LABELS_V1)"


def convolutionalize(linear: nn.Linear, conv: nn.Conv2d) -> bool:
    """Copy a fully connected layer into the equivalent convolution (§3.1); False if shapes differ."""
    if linear.weight.numel() != conv.weight.numel() or linear.out_features != conv.out_channels:
        return False
    with torch.no_grad():
        conv.weight.copy_(linear.weight.reshape(conv.weight.shape))
        conv.bias.copy_(linear.bias)
    return True


def crop(x: torch.Tensor, offset: int, size: tuple[int, int]) -> torch.Tensor:
    """Caffe's ``Crop`` layer: ``x[..., offset:offset + h, offset:offset + w]`` (zero-padded if short)."""
    h, w = size
    return match_size(x[..., offset:offset + h, offset:offset + w], (h, w))


class FCN(nn.Module):
    """FCN-32s / 16s / 8s on a VGG backbone from the registry.

    Args:
        num_classes: ``C`` (21 for PASCAL VOC).
        variant: ``"32s"``, ``"16s"`` or ``"8s"``.
        backbone: registered VGG (``"vgg16"``); ``backbone_kwargs`` go to its builder
            (``get("vgg_small", config="D", width=1/8, ...)`` for a narrow one).
        hidden: channels of fc6 and fc7 (4096).
        pad100: the released models' padding and crops (True) or "same" padding (False).
        dropout: after fc6 and fc7 (0.5).

    Shapes: ``(N, 3, H, W) -> {"out": (N, C, H, W)}``.
    """

    def __init__(self, num_classes: int = 21, variant: str = "8s", backbone: str = "vgg16",
                 backbone_kwargs: dict[str, Any] | None = None, hidden: int = 4096, pad100: bool = True,
                 dropout: float = 0.5) -> None:
        super().__init__()
        if variant not in CAFFE_OFFSETS:
            raise ValueError(f"FCN: variant must be one of {tuple(CAFFE_OFFSETS)}, got {variant!r}")
        vgg = get_backbone(backbone, inflate_to=None, **(backbone_kwargs or {}))
        s1, s2, s3, s4, s5 = vgg_stages(vgg)
        first = next(m for m in s1 if isinstance(m, nn.Conv2d))
        first.padding = (100, 100) if pad100 else first.padding
        self.to_pool3 = nn.Sequential(*s1, *s2, *s3)                               # N x 256 x /8
        self.to_pool4 = s4                                                         # N x 512 x /16
        self.to_pool5 = s5                                                         # N x 512 x /32
        c3, c4, c5 = stage_channels(s3), stage_channels(s4), stage_channels(s5)
        self.fc6 = nn.Conv2d(c5, hidden, 7, padding=0 if pad100 else 3)            # N x 4096 x /32
        self.fc7 = nn.Conv2d(hidden, hidden, 1)
        self.relu, self.drop = nn.ReLU(inplace=True), nn.Dropout2d(dropout)
        fcs = [m for m in getattr(vgg, "classifier", []) if isinstance(m, nn.Linear)]
        if len(fcs) >= 2:                                                          # reuse fc6, fc7
            convolutionalize(fcs[0], self.fc6)
            convolutionalize(fcs[1], self.fc7)
        self.score_fr = nn.Conv2d(hidden, num_classes, 1)
        factor = {"32s": 32, "16s": 16, "8s": 8}[variant]
        if variant in ("16s", "8s"):
            self.upscore2 = BilinearUpsampling(num_classes, 2, learnable=True)
            self.score_pool4 = nn.Conv2d(c4, num_classes, 1)
        if variant == "8s":
            self.upscore_pool4 = BilinearUpsampling(num_classes, 2, learnable=True)
            self.score_pool3 = nn.Conv2d(c3, num_classes, 1)
        self.upscore = BilinearUpsampling(num_classes, factor, learnable=False)   # fixed
        for name in ("score_fr", "score_pool4", "score_pool3"):                    # §4.3: zero init
            if hasattr(self, name):
                nn.init.zeros_(getattr(self, name).weight)
                nn.init.zeros_(getattr(self, name).bias)
        self.variant, self.pad100, self.factor = variant, pad100, factor
        guard_inputs(self, f"FCN{variant}", expected=(3, 500, 500))

    def _fuse(self, up: torch.Tensor, skip: torch.Tensor, key: str) -> torch.Tensor:
        """Sum a 2×-upsampled score map and a skip's scores, aligned by cropping."""
        if self.pad100:   # Caffe: crop the skip's scores to the upsampled map at a fixed offset
            return up + crop(skip, CAFFE_OFFSETS[self.variant][key], tuple(up.shape[-2:]))
        return crop(up, 1, tuple(skip.shape[-2:])) + skip   # same padding: offset f/2 = 1

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        size = tuple(x.shape[-2:])
        pool3 = self.to_pool3(x)
        pool4 = self.to_pool4(pool3)
        h = self.to_pool5(pool4)
        h = self.drop(self.relu(self.fc6(h)))
        h = self.drop(self.relu(self.fc7(h)))
        score = self.score_fr(h)                                                   # N x C x /32
        if self.variant in ("16s", "8s"):
            score = self._fuse(self.upscore2(score), self.score_pool4(pool4), "pool4")         # N x C x /16
        if self.variant == "8s":
            score = self._fuse(self.upscore_pool4(score), self.score_pool3(pool3), "pool3")    # N x C x /8
        if self.pad100:
            out = self.upscore(score)                                              # N x C x ~H x ~W
            return {"out": crop(out, CAFFE_OFFSETS[self.variant]["final"], size)}
        # Same padding: the fixed bilinear ×f layer cropped by f/2 *is* bilinear interpolation
        # (away from the border), which F.interpolate computes several times faster on a CPU.
        return {"out": upsample(score, size)}


def _fcn(variant: str, num_classes: int, backbone: str, backbone_kwargs: dict | None, hidden: int,
         pad100: bool, dropout: float) -> FCN:
    return FCN(num_classes, variant, backbone, backbone_kwargs, hidden, pad100, dropout)


def _published(variant: str, params: int) -> Published:
    return Published(params=Figure(params, COUNTED), other={
        "params_m": Figure(134, "paper, Table 1"),
        "voc2011_miou": Figure(PAPER_MIOU[variant], "paper, Table 2", "VOC 2011 validation, mean IU %")})


@register_model(task="segmentation", paper=PAPER, year=2015, input_size=(3, 500, 500),
                published=_published("32s", 134_346_581),
                test=TestSettings(input_size=(3, 64, 64), kwargs={**VGG_NARROW, "hidden": 16}))
def fcn32s(num_classes: int = 21, backbone: str = "vgg16", backbone_kwargs: dict | None = None,
           hidden: int = 4096, pad100: bool = True, dropout: float = 0.5) -> FCN:
    """FCN-32s: VGG-16 convolutionalised, one fixed ×32 bilinear upsampling."""
    return _fcn("32s", num_classes, backbone, backbone_kwargs, hidden, pad100, dropout)


@register_model(task="segmentation", paper=PAPER, year=2015, input_size=(3, 500, 500),
                published=_published("16s", 134_364_410),
                test=TestSettings(input_size=(3, 64, 64), kwargs={**VGG_NARROW, "hidden": 16, "pad100": False}))
def fcn16s(num_classes: int = 21, backbone: str = "vgg16", backbone_kwargs: dict | None = None,
           hidden: int = 4096, pad100: bool = True, dropout: float = 0.5) -> FCN:
    """FCN-16s: FCN-32s plus a skip from pool4 (learned ×2, fixed ×16)."""
    return _fcn("16s", num_classes, backbone, backbone_kwargs, hidden, pad100, dropout)


@register_model(task="segmentation", paper=PAPER, year=2015, input_size=(3, 500, 500),
                published=_published("8s", 134_376_863),
                test=TestSettings(input_size=(3, 64, 64), kwargs={**VGG_NARROW, "hidden": 16}))
def fcn8s(num_classes: int = 21, backbone: str = "vgg16", backbone_kwargs: dict | None = None,
          hidden: int = 4096, pad100: bool = True, dropout: float = 0.5) -> FCN:
    """FCN-8s: FCN-16s plus a skip from pool3 (learned ×2, ×2, fixed ×8)."""
    return _fcn("8s", num_classes, backbone, backbone_kwargs, hidden, pad100, dropout)


class FCNResNet(BackboneHead):
    """torchvision's FCN: dilated ResNet (output stride 8) + :class:`ConvHead` (+ auxiliary head)."""

    def __init__(self, num_classes: int = 21, aux_loss: bool = False, backbone: str = "resnet50",
                 backbone_kwargs: dict[str, Any] | None = None) -> None:
        returns = {32: "out", **({16: "aux"} if aux_loss else {})}
        body = resnet_backbone(backbone, 8, returns=returns, **(backbone_kwargs or {}))
        c4, c3 = body.stage_channels[32], body.stage_channels[16]
        super().__init__(body, ConvHead(c4, num_classes), ConvHead(c3, num_classes) if aux_loss else None)
        guard_inputs(self, "FCNResNet", expected=(3, 520, 520))


@register_model(task="segmentation", paper=PAPER + " (torchvision's ResNet-50 version)", year=2015,
                input_size=(3, 520, 520),
                published=Published(params=Figure(32_957_013, COUNTED, "without the auxiliary head"),
                                    gmacs=Figure(152.717, TV_SEG), other={
                                        "params_with_aux": Figure(35_322_218, TV_SEG),
                                        "voc_miou": Figure(60.5, TV_SEG, "COCO val2017, VOC classes, mean IoU %")}),
                test=TestSettings(input_size=(3, 64, 64), kwargs={**RESNET_NARROW, "aux_loss": True},
                                  torchvision="fcn_resnet50", torchvision_kwargs={"weights_backbone": None},
                                  bench_input_size=(3, 128, 128)))
def fcn_resnet50(num_classes: int = 21, aux_loss: bool = False, backbone: str = "resnet50",
                 backbone_kwargs: dict | None = None) -> FCNResNet:
    """torchvision's fcn_resnet50 (dilated ResNet-50, output stride 8), weights interchangeable."""
    return FCNResNet(num_classes, aux_loss, backbone, backbone_kwargs)
