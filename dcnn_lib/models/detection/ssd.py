"""SSD: Liu, Anguelov, Erhan, Szegedy, Reed, Fu & Berg, "SSD: Single Shot MultiBox Detector",
ECCV 2016.

One network, no proposals: small 3×3 convolutional predictors on **several feature maps of
decreasing resolution** score every class and regress an offset for each of a fixed set of
**default boxes** (anchors) tiled over each map — fine maps for small objects, coarse maps
for large ones. SSD300 (VGG-16, 300 × 300) predicts from conv4_3 (38²), fc7 (19²) and four
extra layers (10², 5², 3², 1²) with 4 or 6 default boxes per position: **8,732** boxes. The
detector assembles torchvision's parts:

- ``backbone`` — torchvision's ``SSDFeatureExtractorVGG`` around the ``features`` of
  dcnn_lib's registered ``vgg16`` (conv4_3 L2-normalised with a learnt scale, pool5 3×3/1,
  fc6 as a dilated 3×3 conv, fc7 as a 1×1 conv, conv8_2 … conv11_2), or at book scale
  :class:`SSDFeaturePyramid` over a small registered classifier;
- ``anchor_generator`` — ``DefaultBoxGenerator``: on map k the scale
  ``s_k`` (VOC: 0.1 for conv4_3, then 0.2 … 0.9 evenly) with aspect ratios {1, 2, 1/2}
  (+ {3, 1/3} on the middle maps) and one more box of scale ``√(s_k s_{k+1})``;
- ``head`` — ``SSDHead``: per map, a 3×3 conv to ``boxes × (C + 1)`` scores and one to
  ``boxes × 4`` offsets;
- the **multibox loss** (``SSD.compute_loss``): each ground-truth box takes the default box
  it overlaps most, then every default box with IoU > 0.5 is matched too; smooth-L1
  localisation loss on matched boxes plus softmax confidence loss, where **hard negative
  mining** keeps only the negatives with the highest confidence loss, 3 per positive;
  both divided by the number of matched boxes (``bbox_regression``, ``classification``).

``ssd`` is the paper's VOC model (21 outputs, VOC scales); ``ssd300_vgg16`` is torchvision's
COCO model (91 outputs, scales 0.07 … 1.05) and loads its state dict key for key.
``num_classes`` of ``ssd`` counts object classes (the background is added).

Departures: torchvision's VGG-16 ``features`` are used as SSD's base (the paper's reduced
fc6/fc7 came from sub-sampling the ImageNet classifier's weights; here they are new layers,
as in torchvision); the data augmentation of §2.2 (random crops, "zoom out") belongs to the
training recipe, not the model.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.detection import ssd as tv
from torchvision.models.detection.anchor_utils import DefaultBoxGenerator

from ..backbones import conv_trunk, get_backbone
from ...detection.contract import DetectorContract
from ...layers import guard_inputs
from ...errors import DcnnValueError
from ...registry import Figure, Published, TestSettings, check_input_size, register_model
from . import SMALL_BACKBONE
from .faster_rcnn import TV_DET

PAPER = "Liu, Anguelov, Erhan, Szegedy, Reed, Fu & Berg, SSD: Single Shot MultiBox Detector, ECCV 2016"
# §3 and Table 6 (SSD300): aspect ratios per map, VOC scales (conv4_3 0.1, then 0.2..0.9), steps
SSD300_RATIOS = ([2], [2, 3], [2, 3], [2, 3], [2], [2])
VOC_SCALES = (0.1, 0.2, 0.375, 0.55, 0.725, 0.9, 1.075)
COCO_SCALES = (0.07, 0.15, 0.33, 0.51, 0.69, 0.87, 1.05)   # torchvision's ssd300_vgg16
SSD300_STEPS = (8, 16, 32, 64, 100, 300)
# torchvision's ssd300_vgg16 input scaling: Caffe's VGG mean on 0-255 pixels
CAFFE_MEAN, CAFFE_STD = (0.48235, 0.45882, 0.40784), (1 / 255, 1 / 255, 1 / 255)


class SSD(DetectorContract, tv.SSD):
    """torchvision's ``SSD`` under the dcnn_lib contract (input checks)."""

    detector_name = "SSD"


class SSDFeaturePyramid(nn.Module):
    """SSD's multi-scale feature maps over any conv trunk (the book-scale base network).

    ``trunk`` (e.g. :func:`~dcnn_lib.models.backbones.conv_trunk` at stride 8) gives the
    first, finest map, L2-normalised per position and rescaled by a learnt per-channel factor
    (initialised to 20, as conv4_3 in the paper). Then, like pool5-fc6-fc7, a 2×2 max pooling
    and a 3×3 conv to ``fc_channels``; then one extra block per entry of ``extra_channels``
    (1×1 conv to half, 3×3 conv with stride 2), each output being one more map.

    ``forward(x)``: ``(N, 3, H, W) -> OrderedDict("0": (N, C0, H/s, W/s), "1": ..., ...)``;
    ``out_channels`` lists the maps' channels (what ``SSDHead`` needs).
    """

    def __init__(self, trunk: nn.Module, fc_channels: int, extra_channels: Sequence[int]) -> None:
        super().__init__()
        c0 = trunk.out_channels
        self.trunk = trunk
        self.scale_weight = nn.Parameter(torch.full((c0,), 20.0))
        self.fc = nn.Sequential(nn.MaxPool2d(2, 2, ceil_mode=True), nn.Conv2d(c0, fc_channels, 3, padding=1),
                                nn.ReLU(inplace=True))
        extras, c = [], fc_channels
        for e in extra_channels:
            extras.append(nn.Sequential(nn.Conv2d(c, e // 2, 1), nn.ReLU(inplace=True),
                                        nn.Conv2d(e // 2, e, 3, stride=2, padding=1), nn.ReLU(inplace=True)))
            c = e
        self.extra = nn.ModuleList(extras)
        self.out_channels = [c0, fc_channels, *extra_channels]

    def forward(self, x: torch.Tensor) -> OrderedDict:
        x = self.trunk(x)                                            # N x C0 x H/s x W/s
        maps = [self.scale_weight.view(1, -1, 1, 1) * F.normalize(x)]
        x = self.fc(x)                                               # N x fc x H/2s x W/2s
        maps.append(x)
        for block in self.extra:                                     # halves the map each time
            x = block(x)
            maps.append(x)
        return OrderedDict((str(i), m) for i, m in enumerate(maps))


def _ssd300(num_classes_with_bg: int, scales: Sequence[float], **kwargs) -> SSD:
    vgg = get_backbone("vgg16")
    backbone = tv.SSDFeatureExtractorVGG(vgg.features, highres=False)
    anchors = DefaultBoxGenerator([list(r) for r in SSD300_RATIOS], scales=list(scales), steps=list(SSD300_STEPS))
    settings = {"image_mean": list(CAFFE_MEAN), "image_std": list(CAFFE_STD), **kwargs}
    model = SSD(backbone, anchors, (300, 300), num_classes_with_bg, **settings)
    return guard_inputs(model, "SSD", expected=(3, 300, 300))


# per class, SSDHead's classification convs cost boxes·(9·channels + 1) on each of the 6 maps
_PER_CLASS = sum(n * (9 * c + 1) for n, c in ((4, 512), (6, 1024), (6, 512), (6, 256), (4, 256), (4, 256)))


@register_model(task="detection", paper=PAPER, year=2016, input_size=(3, 300, 300),
                published=Published(params=Figure(35_641_826 - 70 * _PER_CLASS, "counted: torchvision's SSD300 less 70 classes"),
                                    other={"default_boxes": Figure(8732, "paper, §3"),
                                           "voc2007_map": Figure(74.3, "paper, Table 7", "VOC 2007+2012 training data"),
                                           "fps": Figure(59, "paper, Table 7", "Titan X")}),
                test=TestSettings(input_size=(3, 64, 64), kwargs=dict(num_classes=3, input_size=(3, 64, 64), stride=8, fc_channels=16,
                                                              extra_channels=(16, 16), **SMALL_BACKBONE)))
def ssd(num_classes: int = 20, backbone: str | None = None, backbone_kwargs: dict | None = None,
        backbone_weights: dict | None = None, input_size: tuple[int, int, int] = (3, 300, 300), stride: int = 8,
        fc_channels: int = 1024,
        extra_channels: Sequence[int] = (512, 256, 256), aspect_ratios: Sequence[Sequence[int]] | None = None,
        scales: Sequence[float] | None = None, image_mean: Sequence[float] | None = None,
        image_std: Sequence[float] | None = None, **kwargs) -> SSD:
    """SSD300 (VGG-16, VOC's 20 classes, 8,732 default boxes) — or, given ``backbone``, SSD on
    :class:`SSDFeaturePyramid` over that registered classifier (book scale).

    ``input_size``: ``(3, H, W)`` images are resized to (SSD300: ``(3, 300, 300)`` only).
    ``kwargs`` go to torchvision's ``SSD`` (``score_thresh``, ``nms_thresh``, ...).
    """
    channels, height, width = check_input_size(input_size, "ssd")
    if channels != 3:
        raise DcnnValueError(f"ssd: input_size must have 3 channels (RGB images), got {tuple(input_size)}")
    if backbone is None:
        if (height, width) != (300, 300):
            raise DcnnValueError(f"ssd: SSD300 (backbone=None) takes input_size (3, 300, 300), got "
                                 f"{tuple(input_size)}; give a registered backbone for other sizes")
        extra = {k: v for k, v in (("image_mean", image_mean), ("image_std", image_std)) if v is not None}
        return _ssd300(num_classes + 1, scales or VOC_SCALES, **extra, **kwargs)
    trunk = conv_trunk(get_backbone(backbone, backbone_weights, **(backbone_kwargs or {})), stride)
    features = SSDFeaturePyramid(trunk, fc_channels, extra_channels)
    n_maps = len(features.out_channels)
    ratios = [list(r) for r in (aspect_ratios or ([2], *([2, 3],) * (n_maps - 3), [2], [2]))]
    if scales is None:   # the paper's rule: first map 0.1, then evenly from 0.2 to 0.9, one more after
        step = 0.7 / max(n_maps - 2, 1)
        scales = [0.1] + [0.2 + step * k for k in range(n_maps - 1)] + [0.2 + step * (n_maps - 1)]
    anchors = DefaultBoxGenerator(ratios, scales=list(scales))
    model = SSD(features, anchors, (height, width), num_classes + 1,
                image_mean=list(image_mean or (0.485, 0.456, 0.406)),
                image_std=list(image_std or (0.229, 0.224, 0.225)), **kwargs)
    return guard_inputs(model, "SSD", expected=(3, height, width))


@register_model(task="detection", paper=PAPER + " (torchvision's COCO model)", year=2016,
                input_size=(3, 300, 300),
                published=Published(params=Figure(35_641_826, TV_DET), gmacs=Figure(34.858, TV_DET), other={
                    "coco_box_ap": Figure(25.1, TV_DET, "COCO val2017, box AP %"),
                    "default_boxes": Figure(8732, "paper, §3")}),
                test=TestSettings(input_size=(3, 300, 300), kwargs=dict(num_classes=4), torchvision="ssd300_vgg16"))
def ssd300_vgg16(num_classes: int = 91, **kwargs) -> SSD:
    """torchvision's SSD300 VGG-16 (COCO: 91 outputs, background included), with dcnn_lib's
    ``vgg16``; ``kwargs`` go to ``SSD`` as in torchvision's builder."""
    return _ssd300(num_classes, COCO_SCALES, **kwargs)
