"""Faster R-CNN: Ren, He, Girshick & Sun, "Faster R-CNN: Towards Real-Time Object Detection
with Region Proposal Networks", NIPS 2015.

Fast R-CNN with the proposals computed by the network itself: a **region proposal network**
(RPN) slides a small network (3×3 conv, then two sibling 1×1 convs) over the shared conv
feature map and, at every position, scores and refines ``k = 9`` **anchors** — 3 scales
(128², 256², 512² pixels) × 3 aspect ratios (1:2, 1:1, 2:1). The RPN and the Fast R-CNN head
share the backbone. This file only assembles torchvision's parts:

- ``transform`` — ``GeneralizedRCNNTransform`` (shorter side 600, longer ≤ 1,000 in the paper);
- ``backbone`` — a registered classifier's conv layers (VGG-16 to conv5_3, stride 16;
  :func:`~dcnn_lib.models.backbones.conv_trunk`);
- ``rpn`` — ``RegionProposalNetwork`` with ``AnchorGenerator(sizes=((128, 256, 512),),
  aspect_ratios=((0.5, 1.0, 2.0),))`` and ``RPNHead``: anchors with IoU ≥ 0.7 with a ground
  truth box are positive, < 0.3 negative, 256 sampled per image (at most half positive);
  ``loss_objectness`` (binary cross-entropy) and ``loss_rpn_box_reg`` (smooth L1). NMS at IoU
  0.7 keeps 2,000 proposals for training, 300 at test time;
- ``roi_heads`` — Fast R-CNN's: 7×7 RoI max pooling
  (:class:`~dcnn_lib.detection.roi_pool.SingleScaleRoIPool`), fc6 and fc7 of the classifier,
  ``FastRCNNPredictor``; 128 RoIs per image, 25 % foreground (``loss_classifier``,
  ``loss_box_reg``).

The four losses are minimised jointly ("approximate joint training", the paper's §3.2 option
ii) rather than by the paper's 4-step alternating training.

Departures: torchvision's ``RPNHead`` scores each anchor with one logit and a sigmoid (k
outputs) where the paper has a two-class softmax (2k outputs, 4,617 more parameters for
VGG-16); torchvision's smooth L1 uses β = 1/9. ``num_classes`` counts object classes (20 on
VOC); the background class is added inside.

``fasterrcnn_resnet50_fpn`` is torchvision's model of the same name — ResNet-50 with a feature
pyramid (Lin et al., CVPR 2017), anchors 32–512 spread over five levels, RoIAlign — built from
dcnn_lib's registered ``resnet50``: its state dict is torchvision's, key for key.
"""
from __future__ import annotations

from typing import Sequence

from torchvision.models.detection import faster_rcnn as tv
from torchvision.models.detection.anchor_utils import AnchorGenerator

from ..backbones import fpn_backbone, get_backbone, two_stage_parts
from ...detection.contract import DetectorContract
from ...detection.roi_pool import SingleScaleRoIPool
from ...layers import guard_inputs
from ...registry import Figure, Published, TestSettings, register_model
from . import FEW_ROIS, SMALL_BACKBONE

PAPER = ("Ren, He, Girshick & Sun, Faster R-CNN: Towards Real-Time Object Detection with Region "
         "Proposal Networks, NIPS 2015")
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
TV_DET = "torchvision weights metadata (COCO_V1)"
ANCHOR_SIZES = (128, 256, 512)     # §3.1.1: 3 scales (box areas 128², 256², 512²)
ASPECT_RATIOS = (0.5, 1.0, 2.0)    # and 3 aspect ratios: k = 9 anchors per position
# §3.1.3, §3.3 and the released code: proposals before / after NMS, RoIs per image, test NMS
PAPER_SETTINGS = dict(rpn_pre_nms_top_n_train=12000, rpn_pre_nms_top_n_test=6000,
                      rpn_post_nms_top_n_train=2000, rpn_post_nms_top_n_test=300,
                      box_batch_size_per_image=128, box_nms_thresh=0.3)


class FasterRCNN(DetectorContract, tv.FasterRCNN):
    """torchvision's ``FasterRCNN`` under the dcnn_lib contract (input checks)."""

    detector_name = "FasterRCNN"


def rpn_anchors(sizes: Sequence[int] = ANCHOR_SIZES, ratios: Sequence[float] = ASPECT_RATIOS) -> AnchorGenerator:
    """The paper's anchors on one feature map: every size with every aspect ratio."""
    return AnchorGenerator(sizes=(tuple(sizes),), aspect_ratios=(tuple(ratios),))


# VGG-16 without fc8 (138,357,544 − 4,097,000), the RPN (3×3 conv 512, 1×1 convs to 9 and 36),
# the predictor on fc7 (21 scores, 84 offsets).
_VGG16_NO_FC8 = 138_357_544 - (4096 * 1000 + 1000)
_RPN = (3 * 3 * 512 * 512 + 512) + (512 * 9 + 9) + (512 * 36 + 36)
_PREDICTOR = (4096 * 21 + 21) + (4096 * 84 + 84)


@register_model(task="detection", paper=PAPER, year=2015, input_size=(3, 600, 1000),
                published=Published(params=Figure(_VGG16_NO_FC8 + _RPN + _PREDICTOR, "counted: VGG-16 without fc8, RPN, predictor"),
                                    other={"voc2007_map": Figure(73.2, "paper, Table 3", "VOC 07+12 training data")}),
                test=TestSettings(input_size=(3, 64, 64), kwargs=dict(
                    num_classes=3, stride=8, box_head=32, anchor_sizes=(8, 16, 32), min_size=64, max_size=64,
                    rpn_pre_nms_top_n_train=200, rpn_post_nms_top_n_train=50, rpn_pre_nms_top_n_test=200,
                    rpn_post_nms_top_n_test=50, box_batch_size_per_image=16, **SMALL_BACKBONE)))
def faster_rcnn(num_classes: int = 20, backbone: str = "vgg16", backbone_kwargs: dict | None = None,
                backbone_weights: dict | None = None, stride: int = 16, box_head: str | int = "classifier",
                roi_size: int = 7, anchor_sizes: Sequence[int] = ANCHOR_SIZES,
                aspect_ratios: Sequence[float] = ASPECT_RATIOS, min_size: int = 600, max_size: int = 1000,
                image_mean: Sequence[float] = IMAGENET_MEAN, image_std: Sequence[float] = IMAGENET_STD,
                **kwargs) -> FasterRCNN:
    """Faster R-CNN (VGG-16): an RPN with 3 scales × 3 ratios and a Fast R-CNN head on one map.

    ``kwargs`` go to torchvision's ``FasterRCNN`` (``rpn_*``, ``box_*`` settings).
    """
    trunk, head, dim = two_stage_parts(backbone, backbone_kwargs, backbone_weights, stride, box_head, roi_size)
    settings = {**PAPER_SETTINGS, **kwargs}
    model = FasterRCNN(trunk, None, min_size=min_size, max_size=max_size, image_mean=list(image_mean),
                       image_std=list(image_std), rpn_anchor_generator=rpn_anchors(anchor_sizes, aspect_ratios),
                       box_head=head, box_predictor=tv.FastRCNNPredictor(dim, num_classes + 1), **settings)
    model.roi_heads.box_roi_pool = SingleScaleRoIPool(roi_size, "pool")     # the paper's RoI max pooling
    return guard_inputs(model, "FasterRCNN", expected=(3, min_size, max_size))


@register_model(task="detection", paper=PAPER + "; Lin et al., Feature Pyramid Networks, CVPR 2017 "
                "(torchvision's model)", year=2017, input_size=(3, 800, 1333),
                # torchvision's metadata says 41,755,286: with pretrained weights its batch norms
                # are frozen (their 53,120 affine weights become buffers); with weights=None not.
                published=Published(params=Figure(41_755_286 + 53_120, TV_DET, "41,755,286 + the 53,120 batch norm weights"),
                                    gmacs=Figure(134.38, TV_DET), other={
                                        "params_frozen_bn": Figure(41_755_286, TV_DET),
                                        "coco_box_ap": Figure(37.0, TV_DET, "COCO val2017, box AP %")}),
                test=TestSettings(input_size=(3, 64, 64), kwargs=dict(num_classes=4, **FEW_ROIS), torchvision="fasterrcnn_resnet50_fpn"))
def fasterrcnn_resnet50_fpn(num_classes: int = 91, **kwargs) -> FasterRCNN:
    """torchvision's Faster R-CNN ResNet-50-FPN (COCO: 91 outputs, background included), with
    dcnn_lib's ``resnet50``; ``kwargs`` go to ``FasterRCNN`` as in torchvision's builder."""
    model = FasterRCNN(fpn_backbone(get_backbone("resnet50")), num_classes=num_classes, **kwargs)
    return guard_inputs(model, "fasterrcnn_resnet50_fpn", expected=(3, 800, 1333))
