"""R-CNN's region warping (Girshick et al., CVPR 2014, §2.1 and Appendix A).

"Regardless of the size or aspect ratio of the candidate region, we warp all pixels in a
tight bounding box around it to the required size." Before warping the box is dilated so
that, at the warped size, there are ``p`` pixels of image context around the original box
(p = 16 at 227 × 227); pixels outside the image take the image mean.

:class:`RegionWarp`: ``images (N, 3, H, W)`` already normalised (so 0 is the mean),
``boxes: list of (K_i, 4)`` -> crops ``(sum K_i, 3, size, size)``, anisotropically scaled,
by bilinear sampling (``torchvision.ops.roi_align``, 2 samples per output pixel and axis).
"""
from __future__ import annotations

import torch
import torch.nn as nn
from torchvision.ops import roi_align


def dilate_boxes(boxes: torch.Tensor, context: float) -> torch.Tensor:
    """Grow ``(K, 4)`` boxes about their centres so that the original box fills the middle
    ``1 - 2·context`` of each side."""
    c = (boxes[:, :2] + boxes[:, 2:]) / 2
    half = (boxes[:, 2:] - boxes[:, :2]) / 2 / (1 - 2 * context)
    return torch.cat([c - half, c + half], 1)


class RegionWarp(nn.Module):
    """Warp regions to ``size × size`` crops with ``context`` (a fraction of the side; R-CNN:
    16 / 227) of surrounding image on each side."""

    def __init__(self, size: int = 227, context: float = 16 / 227) -> None:
        super().__init__()
        if not 0 <= context < 0.5:
            raise ValueError(f"RegionWarp: context must be in [0, 0.5), got {context}")
        self.size, self.context = size, context

    def extra_repr(self) -> str:
        return f"size={self.size}, context={self.context:.3f}"

    def forward(self, images: torch.Tensor, boxes: list[torch.Tensor]) -> torch.Tensor:
        rois = [dilate_boxes(b.to(images.dtype), self.context) for b in boxes]
        return roi_align(images, rois, (self.size, self.size), spatial_scale=1.0, sampling_ratio=2, aligned=True)
