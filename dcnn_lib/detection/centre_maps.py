"""Objects as regression maps: the targets and the decoding of UD-Net-style detectors.

A *centre map* is an image-sized map that is 1 at the pixel holding an object's centre and
falls off as a Gaussian around it (nucleus detectors regress such maps, or the similar
"proximity" maps of Sirinukunwattana et al., IEEE TMI 2016, and read the detections off their
local maxima). Here the Gaussian's spread follows the object's box (σ = side /
``sigma_divisor`` along each axis) and, where objects overlap, the larger value wins. For
detectors that also classify and size their objects, every pixel near a centre (map > 0.5)
carries the label and the relative width and height ``(w / W, h / H)`` of the object whose
Gaussian is largest there.

- :func:`centre_targets`: boxes and labels -> ``heat (H, W)``, ``labels (H, W)`` (0 away
  from the centres), ``size (2, H, W)``.
- :func:`find_peaks`: a map -> its local maxima (``window × window`` neighbourhood) above a
  threshold, best first — non-maximum suppression on pixels.
- :func:`decode_centre_maps`: centre map (+ class scores, + size maps) -> detections
  ``{"boxes", "labels", "scores"}``: a box of the regressed size around each peak, labelled
  with the class scoring best there; score = peak height × class probability.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def centre_targets(boxes: torch.Tensor, labels: torch.Tensor, size: tuple[int, int], sigma_divisor: float = 6.0,
                   min_sigma: float = 1.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Target maps for one image (boxes in the image's pixels, labels >= 1)."""
    h, w = size
    dev = boxes.device
    heat = torch.zeros(h, w, device=dev)
    owner = torch.zeros(h, w, dtype=torch.long, device=dev)
    wh = torch.zeros(2, h, w, device=dev)
    ys = torch.arange(h, device=dev, dtype=torch.float32).view(h, 1)
    xs = torch.arange(w, device=dev, dtype=torch.float32).view(1, w)
    for (x1, y1, x2, y2), c in zip(boxes.float().tolist(), labels.tolist()):
        # the peak (exactly 1) sits on the pixel that contains the centre: one maximum per object
        cx, cy = min(int((x1 + x2) / 2), w - 1), min(int((y1 + y2) / 2), h - 1)
        sx, sy = max((x2 - x1) / sigma_divisor, min_sigma), max((y2 - y1) / sigma_divisor, min_sigma)
        g = torch.exp(-((xs - cx) ** 2 / (2 * sx ** 2) + (ys - cy) ** 2 / (2 * sy ** 2)))   # H x W
        closer = g > heat
        owner[closer & (g > 0.5)] = int(c)
        wh[0][closer], wh[1][closer] = (x2 - x1) / w, (y2 - y1) / h
        heat = torch.maximum(heat, g)
    return heat, owner, wh


def find_peaks(heat: torch.Tensor, threshold: float = 0.1, max_peaks: int = 100,
               window: int = 3) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Local maxima of ``heat`` ``(H, W)`` above ``threshold`` (the largest value of their
    ``window × window`` neighbourhood): ``(scores, ys, xs)``, at most ``max_peaks``, best first."""
    pooled = F.max_pool2d(heat[None, None], window, stride=1, padding=window // 2)[0, 0]
    y, x = torch.nonzero((heat == pooled) & (heat > threshold), as_tuple=True)
    scores = heat[y, x]
    order = torch.argsort(scores, descending=True)[:max_peaks]
    return scores[order], y[order], x[order]


def decode_centre_maps(heat: torch.Tensor, class_logits: torch.Tensor | None = None, wh: torch.Tensor | None = None,
                       threshold: float = 0.1, max_detections: int = 100, default_size: float = 0.2,
                       window: int = 3) -> dict[str, torch.Tensor]:
    """Detections of one image from its centre map ``heat`` ``(H, W)``, class scores
    ``class_logits`` ``(C, H, W)`` (``None``: one class, label 1) and relative sizes ``wh``
    ``(2, H, W)`` (``None``: square boxes of ``default_size`` of the image's side)."""
    h, w = heat.shape
    scores, y, x = find_peaks(heat, threshold, max_detections, window)
    if class_logits is not None:
        probs = class_logits[:, y, x].softmax(0)                   # C x K
        p, labels = probs.max(0)
        scores, labels = scores * p, labels + 1
    else:
        labels = torch.ones_like(y)
    if wh is not None:
        bw, bh = wh[0, y, x].clamp(min=0) * w, wh[1, y, x].clamp(min=0) * h
    else:
        bw = torch.full_like(scores, default_size * w)
        bh = torch.full_like(scores, default_size * h)
    cx, cy = x.float() + 0.5, y.float() + 0.5
    boxes = torch.stack([(cx - bw / 2).clamp(0, w), (cy - bh / 2).clamp(0, h),
                         (cx + bw / 2).clamp(0, w), (cy + bh / 2).clamp(0, h)], 1)
    order = torch.argsort(scores, descending=True)
    return {"boxes": boxes[order], "labels": labels[order], "scores": scores[order]}
