"""RoI pooling on one feature map, behind the interface of torchvision's ``MultiScaleRoIAlign``
(which ``RoIHeads`` calls as ``pool(features, proposals, image_shapes)``).

Fast R-CNN's RoI max pooling (Girshick, ICCV 2015, §2.1): each region of interest, projected
onto the conv feature map (coordinates times ``1 / stride``, rounded), is divided into an
``H × W`` grid of sub-windows (7 × 7 for VGG-16) and each sub-window is max-pooled, giving a
fixed-size ``(C, H, W)`` feature whatever the region's size. Mask R-CNN replaced the two
roundings by bilinear sampling (RoIAlign, ``torchvision.ops.roi_align``); both operators are
torchvision's.

:class:`SingleScaleRoIPool`: ``features: dict[str, (N, C, h, w)], proposals: list[(K_i, 4)],
image_shapes: list[(H, W)] -> (sum K_i, C, out, out)``. The scale ``1 / stride`` is inferred
from the feature map and image sizes (a power of two, as ``MultiScaleRoIAlign`` does).
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
from torchvision.ops import roi_align, roi_pool


class SingleScaleRoIPool(nn.Module):
    """RoI max pooling (``mode="pool"``, Fast R-CNN) or RoIAlign (``mode="align"``, Mask R-CNN)
    of the feature map ``featmap_name`` to ``output_size × output_size``."""

    def __init__(self, output_size: int = 7, mode: str = "pool", featmap_name: str = "0",
                 sampling_ratio: int = 2) -> None:
        super().__init__()
        if mode not in ("pool", "align"):
            raise ValueError(f"SingleScaleRoIPool: mode must be 'pool' or 'align', got {mode!r}")
        self.output_size = (output_size, output_size)
        self.mode, self.featmap_name, self.sampling_ratio = mode, featmap_name, sampling_ratio

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}, mode={self.mode!r}"

    def forward(self, features: dict[str, torch.Tensor], proposals: list[torch.Tensor],
                image_shapes: list[tuple[int, int]]) -> torch.Tensor:
        x = features[self.featmap_name]
        # the map covers the padded batch; 1/stride is the nearest power of two (as torchvision)
        width = max(s[1] for s in image_shapes)
        scale = 2.0 ** round(math.log2(x.shape[-1] / width))
        if self.mode == "pool":
            return roi_pool(x, proposals, self.output_size, spatial_scale=scale)
        return roi_align(x, proposals, self.output_size, spatial_scale=scale,
                         sampling_ratio=self.sampling_ratio, aligned=False)
