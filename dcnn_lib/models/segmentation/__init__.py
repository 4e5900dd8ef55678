"""Segmentation models (``dcnn_lib.models`` imports every module here: a new file registers its models).

Every model takes ``(N, 3, H, W)`` and returns ``{"out": (N, classes, H, W)}`` like
torchvision's segmentation models (``"aux"`` too where there is an auxiliary head; ``sam_small``
returns masks for its prompts instead of classes, and their predicted IoUs).
"""
