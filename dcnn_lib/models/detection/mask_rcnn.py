"""Mask R-CNN: He, Gkioxari, Dollár & Girshick, "Mask R-CNN", ICCV 2017.

Faster R-CNN plus a third branch, parallel to classification and box regression, that
predicts a ``28 × 28`` binary **mask** for each RoI and each class (a small FCN: four 3×3
convs, a 2× deconvolution, a 1×1 conv to one mask per class, per-pixel sigmoid and binary
cross-entropy on the ground-truth class's mask only — masks do not compete between
classes). Masks need pixel-accurate features, so RoI max pooling's two roundings are replaced
by **RoIAlign**: bilinear sampling at exact fractional positions (4 samples per bin). The
detector assembles torchvision's parts:

- ``backbone`` — ResNet-50 with a feature pyramid (dcnn_lib's registered ``resnet50`` under
  torchvision's ``BackboneWithFPN``), or, at book scale, one conv map of a small registered
  classifier (:func:`~dcnn_lib.models.backbones.conv_trunk`);
- ``rpn`` — torchvision's RPN (anchors per pyramid level, or 3 scales × 3 ratios on one map);
- ``roi_heads`` — box branch (RoIAlign 7×7, two FC layers, ``FastRCNNPredictor``) and mask
  branch (RoIAlign 14×14, ``MaskRCNNHeads``, ``MaskRCNNPredictor``): losses
  ``loss_classifier``, ``loss_box_reg``, ``loss_mask``.

In eval mode each detection also has ``masks`` ``(1, H, W)``: the class's mask probabilities
pasted into the image (threshold at 0.5 for a binary mask).

``mask_rcnn`` (the paper's COCO model: ResNet-50-FPN, 80 classes) and
``maskrcnn_resnet50_fpn`` (torchvision's builder: 91 outputs with background and COCO's unused
ids) are the same network up to the class count; the latter's state dict is torchvision's,
key for key. ``num_classes`` of ``mask_rcnn`` counts object classes (the background is added).
"""
from __future__ import annotations

from typing import Sequence

from torchvision.models.detection import mask_rcnn as tv
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor
from torchvision.ops import MultiScaleRoIAlign

from ..backbones import fpn_backbone, get_backbone, two_stage_parts
from ...detection.contract import DetectorContract
from ...layers import guard_inputs
from ...registry import Figure, Published, TestSettings, register_model
from . import FEW_ROIS, SMALL_BACKBONE
from .faster_rcnn import ANCHOR_SIZES, ASPECT_RATIOS, TV_DET, rpn_anchors

PAPER = "He, Gkioxari, Dollár & Girshick, Mask R-CNN, ICCV 2017"
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class MaskRCNN(DetectorContract, tv.MaskRCNN):
    """torchvision's ``MaskRCNN`` under the dcnn_lib contract (input checks; targets need masks)."""

    detector_name = "MaskRCNN"
    target_keys = ("boxes", "labels", "masks")


def _torchvision_mask_rcnn(num_classes: int, **kwargs) -> MaskRCNN:
    model = MaskRCNN(fpn_backbone(get_backbone("resnet50")), num_classes=num_classes, **kwargs)
    return guard_inputs(model, "MaskRCNN", expected=(3, 800, 1333))


@register_model(task="detection", paper=PAPER, year=2017, input_size=(3, 800, 1333),
                # torchvision's twin (below) less 10 classes: 1024·5 + 5 box, 256 + 1 mask weights each
                published=Published(params=Figure(44_401_393 + 53_120 - 10 * ((1024 * 5 + 5) + (256 + 1)),
                                                  "counted: torchvision's twin less 10 classes")),
                test=TestSettings(input_size=(3, 64, 64), kwargs=dict(
                    num_classes=3, fpn=False, stride=8, box_head=32, mask_layers=(8, 8), anchor_sizes=(8, 16, 32),
                    min_size=64, max_size=64, rpn_pre_nms_top_n_train=200, rpn_post_nms_top_n_train=50,
                    rpn_pre_nms_top_n_test=200, rpn_post_nms_top_n_test=50, box_batch_size_per_image=16,
                    **SMALL_BACKBONE)))
def mask_rcnn(num_classes: int = 80, backbone: str = "resnet50", backbone_kwargs: dict | None = None,
              backbone_weights: dict | None = None, fpn: bool = True, stride: int = 16,
              box_head: int = 1024, mask_layers: Sequence[int] = (256, 256, 256, 256),
              anchor_sizes: Sequence[int] = ANCHOR_SIZES, aspect_ratios: Sequence[float] = ASPECT_RATIOS,
              min_size: int = 800, max_size: int = 1333, image_mean: Sequence[float] = IMAGENET_MEAN,
              image_std: Sequence[float] = IMAGENET_STD, **kwargs) -> MaskRCNN:
    """Mask R-CNN (ResNet-50-FPN, COCO's 80 classes): Faster R-CNN + RoIAlign + a mask FCN.

    With ``fpn=False`` the backbone is one conv map of ``backbone`` at ``stride`` (book scale),
    with the paper's single-map anchors; ``kwargs`` go to torchvision's ``MaskRCNN``.
    """
    if fpn:
        trunk = fpn_backbone(get_backbone(backbone, backbone_weights, **(backbone_kwargs or {})))
        model = MaskRCNN(trunk, num_classes + 1, min_size=min_size, max_size=max_size, image_mean=list(image_mean),
                         image_std=list(image_std), **kwargs)
        return guard_inputs(model, "MaskRCNN", expected=(3, min_size, max_size))
    trunk, head, dim = two_stage_parts(backbone, backbone_kwargs, backbone_weights, stride, box_head, 7)
    c = trunk.out_channels
    model = MaskRCNN(trunk, None, min_size=min_size, max_size=max_size, image_mean=list(image_mean),
                     image_std=list(image_std), rpn_anchor_generator=rpn_anchors(anchor_sizes, aspect_ratios),
                     box_roi_pool=MultiScaleRoIAlign(["0"], 7, 2), box_head=head,
                     box_predictor=FastRCNNPredictor(dim, num_classes + 1),
                     mask_roi_pool=MultiScaleRoIAlign(["0"], 14, 2),
                     mask_head=tv.MaskRCNNHeads(c, tuple(mask_layers), 1),
                     mask_predictor=tv.MaskRCNNPredictor(mask_layers[-1], mask_layers[-1], num_classes + 1),
                     **kwargs)
    return guard_inputs(model, "MaskRCNN", expected=(3, min_size, max_size))


@register_model(task="detection", paper=PAPER + " (torchvision's model)", year=2017, input_size=(3, 800, 1333),
                # torchvision's metadata (44,401,393) counts frozen batch norms, see fasterrcnn_resnet50_fpn
                published=Published(params=Figure(44_401_393 + 53_120, TV_DET, "44,401,393 + the 53,120 batch norm weights"),
                                    gmacs=Figure(134.38, TV_DET), other={
                                        "params_frozen_bn": Figure(44_401_393, TV_DET),
                                        "coco_box_ap": Figure(37.9, TV_DET, "COCO val2017, box AP %"),
                                        "coco_mask_ap": Figure(34.6, TV_DET, "COCO val2017, mask AP %")}),
                test=TestSettings(input_size=(3, 64, 64), kwargs=dict(num_classes=4, **FEW_ROIS), torchvision="maskrcnn_resnet50_fpn"))
def maskrcnn_resnet50_fpn(num_classes: int = 91, **kwargs) -> MaskRCNN:
    """torchvision's Mask R-CNN ResNet-50-FPN (91 outputs, background included), with
    dcnn_lib's ``resnet50``; ``kwargs`` go to ``MaskRCNN`` as in torchvision's builder."""
    return _torchvision_mask_rcnn(num_classes, **kwargs)
