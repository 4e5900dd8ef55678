"""YOLO v1's targets, loss and decoding (Redmon, Divvala, Girshick & Farhadi, CVPR 2016, §2).

The image is divided into an ``S × S`` grid. The cell that contains an object's centre is
"responsible" for it. Each cell predicts ``B`` boxes ``(x, y, √w, √h, confidence)`` and ``C``
conditional class probabilities, so the head's raw output is ``S × S × (5B + C)``; per cell
the layout here is ``[x, y, √w, √h, conf] × B`` then the ``C`` class scores:

- ``x, y``: the centre, as an offset in [0, 1] inside the cell;
- ``√w, √h``: the square roots of the width and height relative to the image (the paper
  predicts square roots "to reflect that small deviations in large boxes matter less than in
  small boxes");
- ``conf``: trained towards the IoU between the predicted box and the ground truth.

Of a cell's ``B`` predictors the one whose box has the highest IoU with the object is
responsible for it. The loss (the paper's eq. 3), summed over the grid and averaged over the
batch, with ``λ_coord = 5`` and ``λ_noobj = 0.5``:

    λ_coord Σ_resp [(x − x̂)² + (y − ŷ)² + (√w − √ŵ)² + (√h − √ĥ)²]
    + Σ_resp (C − IoU)²  +  λ_noobj Σ_not-resp C²
    + Σ_cells-with-object Σ_c (p(c) − p̂(c))²

A cell predicts one set of class probabilities, so it can hold one object: when several
centres fall in one cell, the largest object is kept (the paper notes this limit: "our model
struggles with small objects that appear in groups").

Decoding: class-specific confidence ``Pr(class | object) · conf`` (eq. 2, both clamped to
[0, 1]) for each of the ``S·S·B`` boxes, a score threshold, and per-class non-maximum
suppression (``torchvision.ops.batched_nms``).
"""
from __future__ import annotations

import torch
from torchvision.ops import batched_nms, box_iou


def _pred_boxes(raw: torch.Tensor, S: int, B: int, size: tuple[int, int]) -> torch.Tensor:
    """``(N, S, S, 5B + C)`` raw -> ``(N, S, S, B, 4)`` boxes (x1, y1, x2, y2) in pixels."""
    h, w = size
    n = raw.shape[0]
    p = raw[..., :5 * B].reshape(n, S, S, B, 5)
    rows = torch.arange(S, device=raw.device, dtype=raw.dtype).view(1, S, 1, 1)
    cols = torch.arange(S, device=raw.device, dtype=raw.dtype).view(1, 1, S, 1)
    cx = (cols + p[..., 0]) / S * w
    cy = (rows + p[..., 1]) / S * h
    bw, bh = p[..., 2] ** 2 * w, p[..., 3] ** 2 * h
    return torch.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], -1)


def _grid_targets(boxes: torch.Tensor, targets: list[dict[str, torch.Tensor]], S: int, B: int, C: int,
                  image_size: tuple[int, int]) -> tuple[torch.Tensor, ...]:
    """The grid's targets for predicted ``boxes`` ``(N, S, S, B, 4)``: ``resp`` ``(N, S, S, B)``
    (the responsible predictors), ``obj_cell`` ``(N, S, S)``, ``t_xywh`` ``(N, S, S, B, 4)``,
    ``t_iou`` ``(N, S, S, B)`` and ``t_cls`` ``(N, S, S, C)``."""
    n = boxes.shape[0]
    h, w = image_size
    dev, dt = boxes.device, boxes.dtype
    resp = torch.zeros(n, S, S, B, dtype=torch.bool, device=dev)
    obj_cell = torch.zeros(n, S, S, dtype=torch.bool, device=dev)
    t_xywh = torch.zeros(n, S, S, B, 4, device=dev, dtype=dt)
    t_iou = torch.zeros(n, S, S, B, device=dev, dtype=dt)
    t_cls = torch.zeros(n, S, S, C, device=dev, dtype=dt)
    for k, t in enumerate(targets):
        gt, labels = t["boxes"].to(dev, dt), t["labels"].to(dev)
        if len(gt) == 0:
            continue
        area = (gt[:, 2] - gt[:, 0]) * (gt[:, 3] - gt[:, 1])
        for g in torch.argsort(area, descending=True).tolist():      # largest first keeps a cell
            x1, y1, x2, y2 = gt[g].tolist()
            cx, cy = (x1 + x2) / 2 / w * S, (y1 + y2) / 2 / h * S
            i, j = min(int(cy), S - 1), min(int(cx), S - 1)
            if obj_cell[k, i, j]:
                continue
            obj_cell[k, i, j] = True
            with torch.no_grad():
                ious = box_iou(boxes[k, i, j].detach(), gt[g:g + 1])[:, 0]      # B
            b = int(ious.argmax())
            resp[k, i, j, b] = True
            t_iou[k, i, j, b] = ious[b]
            t_xywh[k, i, j, b] = torch.tensor([cx - j, cy - i, ((x2 - x1) / w) ** 0.5, ((y2 - y1) / h) ** 0.5],
                                              device=dev, dtype=dt)
            t_cls[k, i, j, int(labels[g]) - 1] = 1
    return resp, obj_cell, t_xywh, t_iou, t_cls


def yolo_v1_loss(raw: torch.Tensor, targets: list[dict[str, torch.Tensor]], S: int, B: int, C: int,
                 image_size: tuple[int, int], lambda_coord: float = 5.0,
                 lambda_noobj: float = 0.5) -> dict[str, torch.Tensor]:
    """The four terms of eq. 3 for ``raw`` ``(N, S, S, 5B + C)`` and ``targets`` (boxes in
    the pixels of the ``image_size`` input, labels in ``1..C``). Returns
    ``{"loss_coord", "loss_obj", "loss_noobj", "loss_class"}`` (each already weighted)."""
    n = raw.shape[0]
    pred = raw[..., :5 * B].reshape(n, S, S, B, 5)
    cls = raw[..., 5 * B:]
    resp, obj_cell, t_xywh, t_iou, t_cls = _grid_targets(_pred_boxes(raw, S, B, image_size), targets, S, B, C,
                                                         image_size)
    conf = pred[..., 4]
    loss_coord = lambda_coord * ((pred[..., :4] - t_xywh) ** 2).sum(-1)[resp].sum()
    loss_obj = ((conf - t_iou) ** 2)[resp].sum()
    loss_noobj = lambda_noobj * (conf ** 2)[~resp].sum()
    loss_class = ((cls - t_cls) ** 2).sum(-1)[obj_cell].sum()
    return {"loss_coord": loss_coord / n, "loss_obj": loss_obj / n, "loss_noobj": loss_noobj / n,
            "loss_class": loss_class / n}


@torch.no_grad()
def yolo_v1_responsible(raw: torch.Tensor, targets: list[dict[str, torch.Tensor]], S: int, B: int, C: int,
                        image_size: tuple[int, int]) -> dict[str, torch.Tensor]:
    """What the grid predicts for each object it is trained on: for every object cell (one
    object per cell, as in the loss), the responsible predictor's ``iou`` with the object, its
    ``confidence``, and ``class_correct`` (the cell's highest class score is the object's
    class); plus ``empty_confidence``, the confidences of all predictors that are responsible
    for nothing. Tells which part of the loss a model has not learned yet."""
    n = raw.shape[0]
    conf = raw[..., :5 * B].reshape(n, S, S, B, 5)[..., 4]
    resp, obj_cell, _, t_iou, t_cls = _grid_targets(_pred_boxes(raw, S, B, image_size), targets, S, B, C,
                                                    image_size)
    return {"iou": t_iou[resp], "confidence": conf[resp],
            "class_correct": raw[..., 5 * B:].argmax(-1)[obj_cell] == t_cls.argmax(-1)[obj_cell],
            "empty_confidence": conf[~resp]}


def yolo_v1_decode(raw: torch.Tensor, S: int, B: int, C: int, image_size: tuple[int, int],
                   score_thresh: float = 0.005, nms_thresh: float = 0.5,
                   detections_per_img: int = 100) -> list[dict[str, torch.Tensor]]:
    """Detections of ``raw`` ``(N, S, S, 5B + C)``: boxes (in the ``image_size`` input's
    pixels, clipped), class-specific confidences (eq. 2), per-class NMS."""
    n = raw.shape[0]
    h, w = image_size
    boxes = _pred_boxes(raw, S, B, image_size).reshape(n, S * S * B, 4)
    boxes = torch.stack([boxes[..., 0].clamp(0, w), boxes[..., 1].clamp(0, h),
                         boxes[..., 2].clamp(0, w), boxes[..., 3].clamp(0, h)], -1)
    conf = raw[..., :5 * B].reshape(n, S, S, B, 5)[..., 4].clamp(0, 1)              # N S S B
    probs = raw[..., 5 * B:].clamp(0, 1)                                              # N S S C
    scores = (conf[..., None] * probs[:, :, :, None, :]).reshape(n, S * S * B, C)     # eq. 2
    out = []
    for k in range(n):
        s = scores[k].flatten()
        keep = s > score_thresh
        idx = torch.nonzero(keep).squeeze(1)
        box_idx, labels = idx // C, idx % C + 1
        b, sc = boxes[k][box_idx], s[idx]
        ok = (b[:, 2] > b[:, 0]) & (b[:, 3] > b[:, 1])
        b, sc, labels = b[ok], sc[ok], labels[ok]
        order = batched_nms(b, sc, labels, nms_thresh)[:detections_per_img]
        out.append({"boxes": b[order], "labels": labels[order], "scores": sc[order]})
    return out
