"""torchvision's ``transform_input`` for Inception weights ported from TensorFlow.

torchvision's GoogLeNet and Inception v3 ImageNet weights were trained (in TensorFlow) on
pixels scaled to [-1, 1], ``(x - 0.5) / 0.5``; torchvision's data pipeline normalises with the
ImageNet mean and std instead. With ``transform_input=True`` the model turns the second into
the first before its first layer: ``x_c · std_c / 0.5 + (mean_c - 0.5) / 0.5`` per channel.
torchvision switches it on when it loads those weights, and leaves it off otherwise.
"""
from __future__ import annotations

import torch
import torch.nn as nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class InceptionInputTransform(nn.Module):
    """ImageNet-normalised RGB → the [-1, 1] scaling of TensorFlow's Inception weights.

    Shapes: ``(N, 3, H, W) -> (N, 3, H, W)``. No parameters (buffers are not saved).
    """

    def __init__(self) -> None:
        super().__init__()
        std, mean = torch.tensor(IMAGENET_STD), torch.tensor(IMAGENET_MEAN)
        self.register_buffer("scale", (std / 0.5).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("shift", ((mean - 0.5) / 0.5).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"InceptionInputTransform: expects RGB batches (N, 3, H, W), got {tuple(x.shape)}")
        return x * self.scale + self.shift
