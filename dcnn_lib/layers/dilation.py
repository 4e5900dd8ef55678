"""Trade a stage's stride for dilation: the "dilated" (atrous) backbones of DeepLab and PSPNet.

A classification ResNet divides the resolution by 32. Segmentation networks keep more of it
(output stride 16 or 8) by removing the stride of the last stages and dilating their 3×3
convolutions instead, so every later layer sees the same input window as before — the
receptive field keeps growing without losing resolution (Yu & Koltun 2016; Chen et al. 2017).

:func:`dilate_stage` does this to one stage (an ``nn.Sequential`` of residual blocks) in place,
exactly as torchvision's ``replace_stride_with_dilation``: the first block loses its stride and
keeps the *previous* dilation, every later block gets the new one. ``multi_grid`` (DeepLabv3
§3.2: unit rates (1, 2, 4) in block 4) multiplies the rate block by block instead.
"""
from __future__ import annotations

from typing import Sequence

import torch.nn as nn


def dilate_stage(stage: nn.Module, dilation: int, previous_dilation: int = 1,
                 multi_grid: Sequence[int] | None = None) -> nn.Module:
    """Remove the stride of ``stage`` and dilate its 3×3 convolutions (in place; returns it).

    Args:
        stage: a sequence of blocks (``layer3`` / ``layer4`` of a ResNet).
        dilation: rate of the blocks after the first.
        previous_dilation: rate of the first block (the stage's rate before this one).
        multi_grid: per-block multipliers of ``dilation`` (applied to every block, the first
            included); cycled if shorter than the stage.
    """
    blocks = list(stage.children())
    for i, block in enumerate(blocks):
        if multi_grid:
            rate = dilation * multi_grid[i % len(multi_grid)]
        else:
            rate = previous_dilation if i == 0 else dilation
        for conv in block.modules():
            if not isinstance(conv, nn.Conv2d):
                continue
            if conv.stride != (1, 1):
                conv.stride = (1, 1)
            if conv.kernel_size == (3, 3):
                conv.dilation, conv.padding = (rate, rate), (rate, rate)
    return stage
