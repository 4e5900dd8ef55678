"""Object detection with any dcnn_lib detector: one contract, one training loop, one
evaluation loop, the metrics, and the parts the detectors in ``dcnn_lib.models.detection`` are
assembled from.

- :mod:`.contract` — torchvision's detection contract, checked for every detector;
- :mod:`.engine` — :func:`fit`, :func:`predict`, :func:`evaluate`, :func:`random_detections`;
- :mod:`.metrics` — VOC and COCO average precision, written out (checked against pycocotools);
- parts (backbones are cut from classifiers by :mod:`dcnn_lib.models.backbones`): :mod:`.proposals`
  (selective search), :mod:`.warp` (R-CNN's region warping), :mod:`.roi_pool` (RoI pooling /
  RoIAlign on one map), :mod:`.yolo_loss` (YOLO's grid targets, loss and decoding),
  :mod:`.centre_maps` (UD-Net's centre-map targets and peak decoding);
- :func:`draw_detections` — ``torchvision.utils.draw_bounding_boxes`` (and masks) on an image.
"""
from .centre_maps import centre_targets, decode_centre_maps, find_peaks
from .contract import DetectorContract, check_detection_inputs, clip_targets, object_classes, validate_targets
from .draw import draw_detections, show_detections
from .engine import (DetectionReport, DetectionStep, detection_loader, evaluate, fit, predict,
                     random_detections, throughput)
from .metrics import (COCO_IOUS, DetectionMetrics, average_precision, match_detections,
                      mean_average_precision, pairwise_mask_iou, point_f1, precision_recall)
from .proposals import ExternalProposals, SelectiveSearch, selective_search
from .roi_pool import SingleScaleRoIPool
from .warp import RegionWarp, dilate_boxes

__all__ = [
    "centre_targets", "decode_centre_maps", "find_peaks", "DetectorContract",
    "check_detection_inputs", "draw_detections", "show_detections", "DetectionReport", "DetectionStep",
    "detection_loader", "evaluate", "fit", "predict", "random_detections", "throughput", "COCO_IOUS",
    "DetectionMetrics", "average_precision", "pairwise_mask_iou", "match_detections", "mean_average_precision", "point_f1",
    "precision_recall", "ExternalProposals", "SelectiveSearch", "selective_search", "SingleScaleRoIPool",
    "RegionWarp", "dilate_boxes",
    "clip_targets", "object_classes", "validate_targets",
]
