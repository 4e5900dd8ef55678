"""R-CNN: Girshick, Donahue, Darrell & Malik, "Rich feature hierarchies for accurate object
detection and semantic segmentation", CVPR 2014.

"Regions with CNN features", in four parts that this class only assembles:

1. ``proposals`` — about 2,000 category-independent regions per image from selective search
   (:class:`~dcnn_lib.detection.proposals.SelectiveSearch`, fast mode);
2. ``warp`` — each region, dilated by 16 pixels of context, warped to the CNN's fixed input
   (:class:`~dcnn_lib.detection.warp.RegionWarp`): ``(K, 3, s, s)``;
3. ``cnn`` — a classifier from the registry without its output layer
   (:class:`~dcnn_lib.models.backbones.RegionCNN`; the paper: Krizhevsky et al.'s network,
   ``alexnet_paper``), giving pool5 ``(K, P)`` and fc7 ``(K, D)`` features;
4. ``svm`` — one linear SVM per class on fc7 (``Linear(D, C)``), and ``box_regressor`` —
   one linear regression per class on pool5 (``Linear(P, 4C)``, Appendix C).

Training follows the paper's three objectives, each on its own examples:

- ``loss_classifier`` — *domain-specific fine-tuning* of the CNN: a ``(C + 1)``-way softmax
  layer (``finetune``) on fc7, regions with IoU ≥ 0.5 with a ground-truth box labelled with
  its class, the rest background, mini-batches biased to 25 % positives;
- ``loss_svm`` — the SVMs' hinge loss: positives are the ground-truth boxes only; a region is
  a negative for class c when its IoU with every object of class c is below 0.3; per class
  only the highest-scoring negatives (3 per positive, at least 8) enter the loss —
  *hard negative mining*;
- ``loss_box_reg`` — ridge regression of the targets ``t = ((g_x − p_x)/p_w, (g_y − p_y)/p_h,
  log(g_w/p_w), log(g_h/p_h))`` from pool5, for regions with IoU ≥ 0.6.

Test: every proposal is warped and scored by every SVM; each class's boxes are refined by its
regressor and non-maximum suppression (IoU 0.3) keeps the best of overlapping ones.

Departures from the paper, all deliberate:

- **One optimisation instead of three stages.** The paper fine-tunes the CNN, caches fc7
  features on disk, trains the SVMs with liblinear and hard-negative mining, then the
  regressors. Here the three losses are summed and minimised together by SGD/Adam; the SVMs
  and regressors read *detached* features (``.detach()``), so, as in the paper, they do not
  change the CNN; their L2 penalty is the optimiser's weight decay.
- **Scores** are the SVM margins passed through a sigmoid (same ranking; in [0, 1] like
  every other detector's scores).
- **Regression targets** are divided by (0.1, 0.1, 0.2, 0.2) as Fast R-CNN does, to give the
  four outputs similar scales.
- **Warp size** is the backbone's input (224 for ``alexnet_paper``; the paper's Caffe network
  took 227).
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.detection._utils import BoxCoder
from torchvision.ops import batched_nms, box_iou, clip_boxes_to_image, remove_small_boxes

from ..backbones import RegionCNN, get_backbone
from ...detection.contract import DetectorContract
from ...detection.proposals import SelectiveSearch
from ...detection.warp import RegionWarp
from ...layers import guard_inputs
from ...registry import Figure, Published, TestSettings, register_model
from . import SMALL_BACKBONE

PAPER = ("Girshick, Donahue, Darrell & Malik, Rich feature hierarchies for accurate object detection "
         "and semantic segmentation, CVPR 2014")
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class RCNN(DetectorContract, nn.Module):
    """R-CNN under the detection contract (see the module docstring).

    Args:
        backbone: a features/classifier model (``dcnn_lib.models.backbones.RegionCNN``
            takes it apart).
        num_classes: C, object classes without background (20 on VOC).
        warp_size: side of the warped crops (the backbone's input).
        context: context around each region, as a fraction of the warped side (16/227).
        proposals: the proposal module (default: selective search, fast mode, 2,000 boxes).
        train_rois_per_image: regions per image fed to the CNN in training (+ the ground truth).
        fg_fraction: share of positives in the fine-tuning mini-batch (0.25: 32 of 128).
        score_thresh, nms_thresh, detections_per_img: test-time filtering (NMS IoU 0.3).
        image_mean, image_std: the backbone's input normalisation.
    """

    detector_name = "RCNN"

    def __init__(self, backbone: nn.Module, num_classes: int = 20, warp_size: int = 224,
                 context: float = 16 / 227, proposals: nn.Module | None = None,
                 train_rois_per_image: int = 128, fg_fraction: float = 0.25,
                 score_thresh: float = 0.01, nms_thresh: float = 0.3, detections_per_img: int = 100,
                 image_mean: Sequence[float] = IMAGENET_MEAN, image_std: Sequence[float] = IMAGENET_STD) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.proposals = proposals if proposals is not None else SelectiveSearch("fast", 2000)
        self.warp = RegionWarp(warp_size, context)
        self.cnn = RegionCNN(backbone)                                     # crops -> pool5, fc7
        self.finetune = nn.Linear(self.cnn.fc7_dim, num_classes + 1)       # fine-tuning softmax
        self.svm = nn.Linear(self.cnn.fc7_dim, num_classes)                # one linear SVM per class
        self.box_regressor = nn.Linear(self.cnn.pool5_dim, 4 * num_classes)  # one regressor per class
        nn.init.normal_(self.finetune.weight, std=0.01)
        nn.init.zeros_(self.finetune.bias)
        nn.init.normal_(self.svm.weight, std=0.001)
        nn.init.zeros_(self.svm.bias)
        nn.init.zeros_(self.box_regressor.weight)
        nn.init.zeros_(self.box_regressor.bias)
        self.box_coder = BoxCoder(weights=(10.0, 10.0, 5.0, 5.0))
        self.train_rois_per_image, self.fg_fraction = train_rois_per_image, fg_fraction
        self.score_thresh, self.nms_thresh, self.detections_per_img = score_thresh, nms_thresh, detections_per_img
        self.register_buffer("image_mean", torch.tensor(image_mean).view(3, 1, 1), persistent=False)
        self.register_buffer("image_std", torch.tensor(image_std).view(3, 1, 1), persistent=False)
        guard_inputs(self, "RCNN", expected=(3, warp_size, warp_size))

    # ---- parts of the forward pass ----------------------------------------------------------
    def _features(self, images: list[torch.Tensor], boxes: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Warp ``boxes`` of each image and run the CNN: pool5 ``(K, P)``, fc7 ``(K, D)``."""
        crops = torch.cat([self.warp(((img - self.image_mean) / self.image_std)[None], [b])   # K_i x 3 x s x s
                           for img, b in zip(images, boxes)])     # images may differ in size: one at a time
        return self.cnn(crops)                                    # one CNN pass over all regions

    def _sample(self, proposals: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
        """Training regions of one image: the ground truth, the positives (IoU >= 0.5, up to
        ``fg_fraction``) and random others, ``train_rois_per_image`` in all."""
        if len(gt):
            iou = box_iou(proposals, gt).max(1).values
        else:
            iou = torch.zeros(len(proposals), device=proposals.device)
        fg = torch.nonzero(iou >= 0.5).squeeze(1)
        bg = torch.nonzero(iou < 0.5).squeeze(1)
        n_fg = min(len(fg), int(self.train_rois_per_image * self.fg_fraction))
        fg = fg[torch.randperm(len(fg), device=fg.device)[:n_fg]]
        bg = bg[torch.randperm(len(bg), device=bg.device)[:self.train_rois_per_image - n_fg]]
        return torch.cat([gt, proposals[fg], proposals[bg]])

    def _losses(self, rois: list[torch.Tensor], targets: list[dict], pool5: torch.Tensor,
                fc7: torch.Tensor) -> dict[str, torch.Tensor]:
        C = self.num_classes
        labels, svm_targets, reg_targets, reg_mask = [], [], [], []
        for r, t in zip(rois, targets):
            gt, gl = t["boxes"], t["labels"]
            n_gt = len(gt)
            iou = box_iou(r, gt) if n_gt else torch.zeros(len(r), 0, device=r.device)
            best, arg = (iou.max(1) if n_gt else (torch.zeros(len(r), device=r.device),
                                                   torch.zeros(len(r), dtype=torch.long, device=r.device)))
            matched = gl[arg] if n_gt else torch.zeros(len(r), dtype=torch.long, device=r.device)
            labels.append(torch.where(best >= 0.5, matched, torch.zeros_like(matched)))
            # SVM targets: +1 ground truth of class c, -1 IoU < 0.3 with every object of c, 0 ignore
            y = torch.full((len(r), C), -1.0, device=r.device)
            for c in range(1, C + 1):
                of_c = gl == c
                if of_c.any():
                    y[iou[:, of_c].max(1).values >= 0.3, c - 1] = 0.0
            if n_gt:
                y[torch.arange(n_gt, device=r.device), gl - 1] = 1.0   # the first n_gt rois are the gt
            svm_targets.append(y)
            reg_mask.append(best >= 0.6)
            reg_targets.append(self.box_coder.encode_single(gt[arg] if n_gt else r, r))
        labels_t = torch.cat(labels)
        y = torch.cat(svm_targets)
        loss_classifier = F.cross_entropy(self.finetune(fc7), labels_t)

        scores = self.svm(fc7.detach())                                     # K x C
        pos, neg = y > 0, y < 0
        hinge_pos = F.relu(1 - scores)[pos]
        hinge_neg = F.relu(1 + scores).masked_fill(~neg, -1.0)              # hard negatives: highest
        k = max(8, 3 * int(pos.sum(0).max()) if pos.any() else 8)
        hard = hinge_neg.topk(min(k, len(hinge_neg)), dim=0).values          # k x C
        hard = hard[hard >= 0]
        loss_svm = (hinge_pos.sum() + hard.sum()) / max(1, len(hinge_pos) + len(hard))

        mask = torch.cat(reg_mask) & (labels_t > 0)
        deltas = self.box_regressor(pool5.detach()).view(-1, C, 4)
        if mask.any():
            cls = labels_t[mask] - 1
            pred = deltas[mask, cls]
            loss_box_reg = F.mse_loss(pred, torch.cat(reg_targets)[mask], reduction="sum") / max(1, len(labels_t))
        else:
            loss_box_reg = deltas.sum() * 0.0
        return {"loss_classifier": loss_classifier, "loss_svm": loss_svm, "loss_box_reg": loss_box_reg}

    def _detect(self, images: list[torch.Tensor]) -> list[dict[str, torch.Tensor]]:
        proposals = self.proposals(images)
        pool5, fc7 = self._features(images, proposals)
        scores = torch.sigmoid(self.svm(fc7))                                # K x C
        deltas = self.box_regressor(pool5)                                   # K x 4C
        out, start = [], 0
        for img, p in zip(images, proposals):
            k = len(p)
            s, d = scores[start:start + k], deltas[start:start + k]
            start += k
            boxes = self.box_coder.decode_single(d, p) if k else p.new_zeros(0, 4 * self.num_classes)
            boxes = clip_boxes_to_image(boxes.reshape(k, self.num_classes, 4), img.shape[-2:])
            labels = torch.arange(1, self.num_classes + 1, device=p.device).expand(k, -1)
            boxes, s, labels = boxes.reshape(-1, 4), s.reshape(-1), labels.reshape(-1)
            keep = torch.nonzero(s > self.score_thresh).squeeze(1)
            boxes, s, labels = boxes[keep], s[keep], labels[keep]
            keep = remove_small_boxes(boxes, 1.0)
            boxes, s, labels = boxes[keep], s[keep], labels[keep]
            keep = batched_nms(boxes, s, labels, self.nms_thresh)[:self.detections_per_img]
            out.append({"boxes": boxes[keep], "labels": labels[keep], "scores": s[keep]})
        return out

    def forward(self, images, targets=None):
        images = self.check_inputs(images, targets)
        if not self.training:
            return self._detect(images)
        with torch.no_grad():
            proposals = self.proposals(images)
            rois = [self._sample(p, t["boxes"]) for p, t in zip(proposals, targets)]
        pool5, fc7 = self._features(images, rois)
        return self._losses(rois, targets, pool5, fc7)


# Parameters of the paper's configuration: alexnet_paper without fc8, the fine-tuning softmax
# on fc7, 20 SVMs on fc7 (4096-d) and 20 class-specific regressors on pool5 (6·6·256 = 9216-d).
_ALEXNET_2012 = 60_965_224
_FC8 = 4096 * 1000 + 1000
_PAPER_PARAMS = _ALEXNET_2012 - _FC8 + (4096 * 21 + 21) + (4096 * 20 + 20) + (9216 * 80 + 80)


@register_model(task="detection", paper=PAPER, year=2014, input_size=(3, 500, 500),
                published=Published(params=Figure(_PAPER_PARAMS, "counted: AlexNet 2012 without fc8, SVMs, box regressors"),
                                    other={"voc2007_map": Figure(58.5, "paper, Table 1", "with box regression"),
                                           "voc2007_map_no_bbox_reg": Figure(54.2, "paper, Table 1")}),
                test=TestSettings(input_size=(3, 64, 64), kwargs=dict(num_classes=3, warp_size=32, train_rois_per_image=16,
                                                              **SMALL_BACKBONE)))
def rcnn(num_classes: int = 20, backbone: str = "alexnet_paper", backbone_kwargs: dict | None = None,
         backbone_weights: dict | None = None, warp_size: int = 224, **kwargs) -> RCNN:
    """R-CNN: selective search, warped regions, AlexNet features, per-class SVMs and box regressors.

    ``backbone`` is any registered features/classifier model (built with ``backbone_kwargs``,
    loaded with ``backbone_weights``); VOC's 20 classes by default.
    """
    cnn = get_backbone(backbone, backbone_weights, **(backbone_kwargs or {}))
    return RCNN(cnn, num_classes, warp_size, **kwargs)
