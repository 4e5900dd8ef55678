"""Segmentation models; importing this package registers them.

Every model takes ``(N, 3, H, W)`` and returns ``{"out": (N, classes, H, W)}`` like
torchvision's segmentation models (``"aux"`` too where there is an auxiliary head; ``sam_tiny``
returns masks for its prompts instead of classes, and their predicted IoUs).
"""
from . import deeplab, dilated, fcn, nabla, pspnet, refinenet, sam, segnet, unet  # noqa: F401
