"""YOLO v1: Redmon, Divvala, Girshick & Farhadi, "You Only Look Once: Unified, Real-Time Object
Detection", CVPR 2016.

One network, one pass: the image (448 × 448) goes through 24 convolutional layers and 2 fully
connected layers, whose output is reshaped to the ``S × S × (5B + C)`` grid of predictions
(S = 7, B = 2, C = 20 on VOC: 7 × 7 × 30). Figure 3 of the paper is :data:`FIGURE3` below
(``(kernel, filters, stride)``, ``"M"`` = 2×2 max pooling, stride 2); every layer but the last
is followed by a leaky ReLU, ``max(x, 0.1 x)``; dropout 0.5 follows the first FC layer::

    input                                     N x 3 x 448 x 448
    conv 7×7/2 64, maxpool                    N x 64 x 112 x 112
    conv 3×3 192, maxpool                     N x 192 x 56 x 56
    1×1 128, 3×3 256, 1×1 256, 3×3 512, mp    N x 512 x 28 x 28
    {1×1 256, 3×3 512} × 4, 1×1 512, 3×3 1024, mp   N x 1024 x 14 x 14
    {1×1 512, 3×3 1024} × 2, 3×3 1024, 3×3/2 1024   N x 1024 x 7 x 7
    3×3 1024, 3×3 1024                        N x 1024 x 7 x 7
    FC 4096, dropout, FC 7·7·30               N x 1470 -> N x 7 x 7 x 30
                                            = 271,703,550 parameters

Parts (each one concern): ``transform`` (torchvision's ``GeneralizedRCNNTransform``: resize to
the fixed input, batch; boxes mapped back afterwards), ``features`` (the 24 convolutions),
``head`` (the two FC layers), and :mod:`dcnn_lib.detection.yolo_loss` (targets, eq. 3 loss,
decoding with eq. 2 and NMS). ``model.raw(images)`` returns the head's tensor
``(N, S, S, 5B + C)``; the per-cell layout is documented in ``yolo_loss``.

Departures from the paper, all deliberate:

- **Pre-training.** The paper pre-trains the first 20 convolutions (plus an average pool and
  an FC layer: ``yolo_v1_classifier``) on ImageNet at 224 × 224 for a week, then doubles the
  resolution for detection. ``yolo_v1(backbone_weights=...)`` loads such a classifier's
  weights; without them the network starts from random weights (Kaiming initialisation for
  the leaky ReLU).
- **Smaller inputs with the same grid.** The layer stack has a total stride of 64 (448 / 7).
  For an input side of 224 or 112 with the same ``S``, the stride-2 steps are removed,
  first the one of the 22nd convolution, then conv1's, so that every layer is still there
  and the last map is still ``S × S``.
- **width** scales every convolution's filters and ``hidden`` sets the FC layer (1.0 and 4096:
  the paper);
  ``batch_norm=True`` adds batch normalisation after each convolution (YOLO v2's change, for
  training from scratch); neither is in the paper's configuration.
- **Input scaling.** Images in [0, 1] are standardised with ImageNet's mean and standard
  deviation (``image_mean``/``image_std``); Darknet fed [0, 1] directly.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn as nn
from torchvision.models.detection.transform import GeneralizedRCNNTransform

from ...detection.contract import DetectorContract, check_detection_inputs
from ...detection.yolo_loss import yolo_v1_decode, yolo_v1_loss, yolo_v1_responsible
from ...layers import guard_inputs
from ...errors import DcnnValueError
from ...registry import Figure, Published, TestSettings, check_input_size, register_model

PAPER = "Redmon, Divvala, Girshick & Farhadi, You Only Look Once: Unified, Real-Time Object Detection, CVPR 2016"

# Figure 3: (kernel, filters, stride) per convolution, "M" for 2x2/2 max pooling.
FIGURE3: tuple = (
    (7, 64, 2), "M",
    (3, 192, 1), "M",
    (1, 128, 1), (3, 256, 1), (1, 256, 1), (3, 512, 1), "M",
    *((1, 256, 1), (3, 512, 1)) * 4, (1, 512, 1), (3, 1024, 1), "M",
    *((1, 512, 1), (3, 1024, 1)) * 2, (3, 1024, 1), (3, 1024, 2),
    (3, 1024, 1), (3, 1024, 1),
)
PRETRAINED_CONVS = 20  # the paper pre-trains the first 20 convolutions on ImageNet
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
# Strides removed, in order, to keep S x S on smaller inputs (index among the convolutions).
_STRIDES_TO_DROP = (21, 0)


def figure3(side: int = 448, S: int = 7) -> list:
    """FIGURE3 with stride-2 steps removed so that an input of ``side × side`` gives an ``S × S`` map."""
    stride = side / S
    if stride not in (64, 32, 16):
        raise DcnnValueError(f"YOLOv1: the input side / S must be 64 (the paper), 32 or 16, got {side}/{S}")
    drop = set(_STRIDES_TO_DROP[:int(math.log2(64 / stride))])
    out, conv = [], 0
    for v in FIGURE3:
        if v == "M":
            out.append(v)
            continue
        k, c, s = v
        out.append((k, c, 1 if conv in drop else s))
        conv += 1
    return out


def darknet_features(spec: list, width: float = 1.0, batch_norm: bool = False,
                     in_channels: int = 3) -> tuple[nn.Sequential, int]:
    """Figure 3's convolutional layers from ``spec`` (``figure3(...)`` or a prefix of it): each
    convolution followed by [batch norm and] a leaky ReLU (0.1), Kaiming-initialised; ``width``
    scales the filters. Returns ``(layers, output channels)``."""
    layers: list[nn.Module] = []
    c_in = in_channels
    for v in spec:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
            continue
        k, c, s = v
        c = max(1, round(c * width))
        conv = nn.Conv2d(c_in, c, k, s, padding=k // 2, bias=not batch_norm)
        nn.init.kaiming_normal_(conv.weight, a=0.1, mode="fan_in", nonlinearity="leaky_relu")
        if conv.bias is not None:
            nn.init.zeros_(conv.bias)
        layers += [conv, *([nn.BatchNorm2d(c)] if batch_norm else []), nn.LeakyReLU(0.1, inplace=True)]
        c_in = c
    return nn.Sequential(*layers), c_in


def pretraining_spec(spec: list) -> list:
    """The part of ``spec`` the paper pre-trains on ImageNet: up to its 20th convolution."""
    convs = 0
    for i, v in enumerate(spec):
        convs += v != "M"
        if convs == PRETRAINED_CONVS:
            return spec[:i + 1]
    raise ValueError("pretraining_spec: fewer than 20 convolutions")


def _square(input_size: tuple[int, int, int], where: str) -> tuple[int, int]:
    """``(C, side)`` of a square ``(C, H, W)`` input size, or a named error."""
    c, h, w = check_input_size(input_size, where)
    if h != w:
        raise DcnnValueError(f"{where}: the input must be square (YOLO's S × S grid), got input_size {(c, h, w)}")
    return c, h


class YOLOv1Classifier(nn.Module):
    """YOLO's pre-training network (§2.2): "the first 20 convolutional layers from Figure 3
    followed by a average-pooling layer and a fully-connected layer", trained on ImageNet at
    224 × 224 (88 % single-crop top-5 accuracy on the 2012 validation set).

    ``input_size`` is this network's own ``(C, H, W)`` (the paper: ``(3, 224, 224)``, half the
    detector's side); its strides are those of :class:`YOLOv1` at twice that side, so that
    ``features`` loads into the detector's first 20 convolutions (``YOLOv1(..., backbone_weights=...)``).
    Shapes: ``(N, C, H, W) -> (N, num_classes)``.
    """

    def __init__(self, num_classes: int = 1000, width: float = 1.0, batch_norm: bool = False,
                 input_size: tuple[int, int, int] = (3, 224, 224), S: int = 7) -> None:
        super().__init__()
        in_channels, side = _square(input_size, "YOLOv1Classifier")
        self.features, channels = darknet_features(pretraining_spec(figure3(2 * side, S)), width, batch_norm,
                                                   in_channels)        # N x 1024w x H/32 x W/32 (224: 7 x 7)
        self.avgpool = nn.AdaptiveAvgPool2d(1)                          # N x 1024w x 1 x 1
        self.fc = nn.Linear(channels, num_classes)                      # N x num_classes
        guard_inputs(self, "YOLOv1Classifier", expected=(in_channels, side, side))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.avgpool(self.features(x)), 1))


class YOLOv1(DetectorContract, nn.Module):
    """YOLO v1 under the detection contract (see the module docstring).

    Args:
        num_classes: C, object classes without background (20 on VOC).
        S, B: grid side and boxes per cell (7, 2).
        input_size: ``(3, H, H)``, the square input (``(3, 448, 448)``); 224 and 112 keep S by
            dropping strides.
        width: multiplies every convolution's filters (1.0).
        hidden: the hidden FC layer (4096).
        batch_norm: batch norm after every convolution (not in the paper).
        lambda_coord, lambda_noobj: the loss weights (5, 0.5).
        score_thresh, nms_thresh, detections_per_img: decoding.

    Training: ``model(images, targets) -> {"loss_coord", "loss_obj", "loss_noobj", "loss_class"}``;
    eval: ``model(images) -> [{"boxes", "labels", "scores"}]``; ``model.raw(images)`` ->
    ``(N, S, S, 5B + C)``.
    """

    detector_name = "YOLOv1"

    def __init__(self, num_classes: int = 20, S: int = 7, B: int = 2, input_size: tuple[int, int, int] = (3, 448, 448),
                 width: float = 1.0, hidden: int = 4096, batch_norm: bool = False, dropout: float = 0.5,
                 lambda_coord: float = 5.0, lambda_noobj: float = 0.5, score_thresh: float = 0.005,
                 nms_thresh: float = 0.5, detections_per_img: int = 100,
                 image_mean: Sequence[float] = IMAGENET_MEAN, image_std: Sequence[float] = IMAGENET_STD) -> None:
        super().__init__()
        channels, side = _square(input_size, "YOLOv1")
        if channels != 3:
            raise DcnnValueError(f"YOLOv1: input_size must have 3 channels (RGB images), got {tuple(input_size)}")
        self.num_classes, self.S, self.B, self.input_size, self.side = num_classes, S, B, (3, side, side), side
        self.width, self.batch_norm = width, batch_norm
        self.lambda_coord, self.lambda_noobj = lambda_coord, lambda_noobj
        self.score_thresh, self.nms_thresh, self.detections_per_img = score_thresh, nms_thresh, detections_per_img
        self.transform = GeneralizedRCNNTransform(side, side, list(image_mean), list(image_std),
                                                  size_divisible=1, fixed_size=(side, side))
        self.features, c_in = darknet_features(figure3(side, S), width, batch_norm)  # N x 1024w x S x S
        h = hidden
        self.head = nn.Sequential(
            nn.Flatten(),                                            # N x S·S·1024w
            nn.Linear(S * S * c_in, h),                              # N x 4096
            nn.LeakyReLU(0.1, inplace=True),
            nn.Dropout(dropout),
            nn.Linear(h, S * S * (5 * B + num_classes)),             # N x S·S·(5B + C), linear
        )
        guard_inputs(self, "YOLOv1", expected=self.input_size)

    def load_pretrained(self, weights: dict[str, torch.Tensor]) -> "YOLOv1":
        """Load the state dict of a :class:`YOLOv1Classifier` of the same width, batch norm and
        strides into the first 20 convolutions (the paper's ImageNet pre-training). A classifier
        trained on grey images is inflated to RGB first
        (:func:`~dcnn_lib.models.backbones.inflate_input_channels`)."""
        from ..backbones import inflate_input_channels

        cls = YOLOv1Classifier(weights["fc.weight"].shape[0], self.width, self.batch_norm,
                               (weights["features.0.weight"].shape[1], self.side // 2, self.side // 2), self.S)
        cls.load_state_dict(weights)
        inflate_input_channels(cls, 3)
        self.features[:len(cls.features)].load_state_dict(cls.features.state_dict())
        return self

    def _raw(self, batch: torch.Tensor) -> torch.Tensor:
        out = self.head(self.features(batch))
        return out.view(-1, self.S, self.S, 5 * self.B + self.num_classes)   # N x S x S x (5B + C)

    def raw(self, images: Sequence[torch.Tensor] | torch.Tensor) -> torch.Tensor:
        """The head's prediction tensor ``(N, S, S, 5B + C)`` for ``images`` (resized to the input)."""
        check_detection_inputs(self.detector_name, self, images, None, training=False)
        batch, _ = self.transform(list(images))
        return self._raw(batch.tensors)

    @torch.no_grad()
    def responsible(self, images: Sequence[torch.Tensor], targets: Sequence[dict]) -> dict[str, torch.Tensor]:
        """Per object the grid is trained on: the responsible predictor's ``iou`` and
        ``confidence``, whether its cell's class is right (``class_correct``), and the
        confidences of the other predictors (``empty_confidence``); see
        :func:`~dcnn_lib.detection.yolo_loss.yolo_v1_responsible`. Call in eval mode."""
        check_detection_inputs(self.detector_name, self, images, targets, training=True)
        batch, resized = self.transform(list(images), [{k: t[k] for k in ("boxes", "labels")} for t in targets])
        return yolo_v1_responsible(self._raw(batch.tensors), resized, self.S, self.B, self.num_classes,
                                   (self.side, self.side))

    def forward(self, images, targets=None):
        images = self.check_inputs(images, targets)
        original_sizes = [tuple(img.shape[-2:]) for img in images]
        batch, targets = self.transform(images, targets)
        raw = self._raw(batch.tensors)
        size = (self.side, self.side)
        if self.training:
            return yolo_v1_loss(raw, targets, self.S, self.B, self.num_classes, size,
                                self.lambda_coord, self.lambda_noobj)
        detections = yolo_v1_decode(raw, self.S, self.B, self.num_classes, size, self.score_thresh,
                                    self.nms_thresh, self.detections_per_img)
        return self.transform.postprocess(detections, batch.image_sizes, original_sizes)


# Figure 3's parameters, layer by layer (weights + biases): the reference the tests check.
_CONV_PARAMS = (7 * 7 * 3 * 64 + 64) + (3 * 3 * 64 * 192 + 192) \
    + (1 * 1 * 192 * 128 + 128) + (3 * 3 * 128 * 256 + 256) + (1 * 1 * 256 * 256 + 256) + (3 * 3 * 256 * 512 + 512) \
    + 4 * ((1 * 1 * 512 * 256 + 256) + (3 * 3 * 256 * 512 + 512)) + (1 * 1 * 512 * 512 + 512) + (3 * 3 * 512 * 1024 + 1024) \
    + 2 * ((1 * 1 * 1024 * 512 + 512) + (3 * 3 * 512 * 1024 + 1024)) + 4 * (3 * 3 * 1024 * 1024 + 1024)
_FC_PARAMS = (7 * 7 * 1024 * 4096 + 4096) + (4096 * 7 * 7 * 30 + 7 * 7 * 30)


@register_model(task="detection", paper=PAPER, year=2016, input_size=(3, 448, 448),
                published=Published(params=Figure(_CONV_PARAMS + _FC_PARAMS, "counted from Figure 3"),
                                    other={"voc2007_map": Figure(63.4, "paper, Table 1", "VOC 2007+2012 training data"),
                                           "fps": Figure(45, "paper, Table 1", "Titan X")}),
                test=TestSettings(input_size=(3, 64, 64), kwargs=dict(num_classes=3, input_size=(3, 112, 112), width=1 / 32,
                                                              hidden=256)))
def yolo_v1(num_classes: int = 20, S: int = 7, B: int = 2, input_size: tuple[int, int, int] = (3, 448, 448),
            width: float = 1.0,
            hidden: int = 4096, batch_norm: bool = False, backbone_weights: dict | None = None, **kwargs) -> YOLOv1:
    """YOLO v1 (Figure 3): 24 conv + 2 FC layers, 448×448 input, a 7×7×30 grid on VOC.

    ``backbone_weights``: a ``yolo_v1_classifier`` state dict for the first 20 convolutions.
    """
    model = YOLOv1(num_classes, S, B, input_size, width, hidden, batch_norm, **kwargs)
    return model.load_pretrained(backbone_weights) if backbone_weights is not None else model


# The pre-training network: Figure 3's first 20 convolutions, average pooling, one FC layer.
_PRETRAIN_CONVS = _CONV_PARAMS - 4 * (3 * 3 * 1024 * 1024 + 1024)


@register_model(task="classification", paper=PAPER + " (§2.2, pre-training network)", year=2016,
                input_size=(3, 224, 224),
                published=Published(params=Figure(_PRETRAIN_CONVS + (1024 * 1000 + 1000), "counted from Figure 3 and §2.2"),
                                    top5=Figure(88.0, "paper, §2.2", "single crop, ImageNet 2012 validation")),
                test=TestSettings(input_size=(3, 64, 64)))
def yolo_v1_classifier(num_classes: int = 1000, width: float = 1.0, batch_norm: bool = False,
                       input_size: tuple[int, int, int] = (3, 224, 224), S: int = 7) -> YOLOv1Classifier:
    """YOLO's ImageNet pre-training network: the first 20 convolutions of Figure 3, average
    pooling and a fully connected layer (224×224 inputs); strides as in a ``yolo_v1`` of twice the side."""
    return YOLOv1Classifier(num_classes, width, batch_norm, input_size, S)
