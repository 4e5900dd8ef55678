"""Fast R-CNN: Girshick, "Fast R-CNN", ICCV 2015.

R-CNN ran the CNN once per region (2,000 times an image). Fast R-CNN runs it **once per
image** and cuts every region's features out of the shared conv feature map with **RoI
pooling**; one network, trained end to end with a **multi-task loss**, then classifies each
region and regresses its box. The detector only assembles torchvision's parts:

- ``transform`` — ``GeneralizedRCNNTransform``: normalise, resize (shorter side 600, longer at
  most 1,000), batch; boxes mapped back to the input images afterwards;
- ``backbone`` — a registered classifier's convolutional layers
  (:func:`~dcnn_lib.models.backbones.conv_trunk`; the paper's VGG-16 up to conv5_3,
  stride 16): ``(N, 3, H, W) -> (N, 512, H/16, W/16)``;
- ``rpn`` — here *not* a network: selective-search proposals
  (:class:`~dcnn_lib.detection.proposals.ExternalProposals`), 2,000 per image;
- ``roi_heads`` — torchvision's ``RoIHeads`` with :class:`~dcnn_lib.detection.roi_pool.SingleScaleRoIPool`
  (7 × 7 RoI max pooling), the classifier's fc6 and fc7 as the box head, and
  ``FastRCNNPredictor`` (``C + 1`` class scores and ``4(C + 1)`` box offsets). Training samples
  64 RoIs per image, 25 % with IoU ≥ 0.5 (the ground truth among them); the loss is
  ``L = L_cls(p, u) + λ [u ≥ 1] L_loc(t^u, v)`` with smooth-L1 ``L_loc`` and λ = 1
  (``loss_classifier`` and ``loss_box_reg``).

Departures from the paper, all deliberate:

- **Background RoIs** are those with IoU < 0.5 (torchvision's sampler); the paper took them
  from [0.1, 0.5) as a heuristic hard-example mining.
- **Smooth L1** is torchvision's (β = 1/9, summed over the box coordinates and divided by
  the number of sampled RoIs) with targets scaled by (10, 10, 5, 5), the same as the paper's
  normalisation of the targets to unit variance up to a constant.
- **Truncated SVD** of the FC layers (the paper's test-time speed-up) is not applied.
- ``num_classes`` counts object classes (20 on VOC); the background class is added inside.
"""
from __future__ import annotations

from typing import Sequence

from torchvision.models.detection.faster_rcnn import FastRCNNPredictor
from torchvision.models.detection.generalized_rcnn import GeneralizedRCNN
from torchvision.models.detection.roi_heads import RoIHeads
from torchvision.models.detection.transform import GeneralizedRCNNTransform

from ..backbones import two_stage_parts
from ...detection.contract import DetectorContract
from ...detection.proposals import ExternalProposals, SelectiveSearch
from ...detection.roi_pool import SingleScaleRoIPool
from ...layers import guard_inputs
from ...registry import Figure, Published, TestSettings, register_model
from . import SMALL_BACKBONE

PAPER = "Girshick, Fast R-CNN, ICCV 2015"
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class FastRCNN(DetectorContract, GeneralizedRCNN):
    """Fast R-CNN: torchvision's ``GeneralizedRCNN`` with external proposals in place of an RPN."""

    detector_name = "FastRCNN"


# VGG-16 without fc8 (138,357,544 − 4,097,000) and the predictor on fc7 (21 scores, 84 offsets).
_VGG16_NO_FC8 = 138_357_544 - (4096 * 1000 + 1000)
_PREDICTOR = (4096 * 21 + 21) + (4096 * 84 + 84)


@register_model(task="detection", paper=PAPER, year=2015, input_size=(3, 600, 1000),
                published=Published(params=Figure(_VGG16_NO_FC8 + _PREDICTOR, "counted: VGG-16 without fc8, the predictor"),
                                    other={"voc2007_map": Figure(66.9, "paper, Table 1")}),
                test=TestSettings(input_size=(3, 64, 64), kwargs=dict(num_classes=3, stride=8, box_head=32, min_size=64,
                                                              max_size=64, rois_per_image=16, **SMALL_BACKBONE)))
def fast_rcnn(num_classes: int = 20, backbone: str = "vgg16", backbone_kwargs: dict | None = None,
              backbone_weights: dict | None = None, stride: int = 16, box_head: str | int = "classifier",
              roi_size: int = 7, proposals: str = "fast", max_proposals: int = 2000,
              min_size: int = 600, max_size: int = 1000, rois_per_image: int = 64,
              fg_fraction: float = 0.25, score_thresh: float = 0.05, nms_thresh: float = 0.3,
              detections_per_img: int = 100, image_mean: Sequence[float] = IMAGENET_MEAN,
              image_std: Sequence[float] = IMAGENET_STD) -> FastRCNN:
    """Fast R-CNN: VGG-16 conv5_3, selective search, 7×7 RoI pooling, fc6/fc7, multi-task loss."""
    trunk, head, dim = two_stage_parts(backbone, backbone_kwargs, backbone_weights, stride, box_head, roi_size)
    transform = GeneralizedRCNNTransform(min_size, max_size, list(image_mean), list(image_std))
    rpn = ExternalProposals(SelectiveSearch(proposals, max_proposals), image_mean, image_std)
    roi_heads = RoIHeads(SingleScaleRoIPool(roi_size, "pool"), head, FastRCNNPredictor(dim, num_classes + 1),
                         fg_iou_thresh=0.5, bg_iou_thresh=0.5, batch_size_per_image=rois_per_image,
                         positive_fraction=fg_fraction, bbox_reg_weights=None, score_thresh=score_thresh,
                         nms_thresh=nms_thresh, detections_per_img=detections_per_img)
    model = FastRCNN(trunk, rpn, roi_heads, transform)
    return guard_inputs(model, "FastRCNN", expected=(3, min_size, max_size))
