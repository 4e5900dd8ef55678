"""The one contract every detector in dcnn_lib keeps: torchvision's.

- **Training mode**: ``model(images, targets)`` returns a dict of scalar losses (their sum is
  what the optimiser minimises).
- **Eval mode**: ``model(images)`` returns one dict per image with ``boxes`` ``(K, 4)`` float
  ``(x1, y1, x2, y2)`` in the input image's pixels, ``labels`` ``(K,)`` int64 (0 is background
  and never returned), ``scores`` ``(K,)`` float, best first; Mask R-CNN adds ``masks``
  ``(K, 1, H, W)`` (probabilities).

``images`` is a list of ``(3, H, W)`` float tensors in [0, 1] (a batch tensor ``(N, 3, H, W)``
is accepted too); sizes may differ. ``targets`` is a list of dicts with ``boxes`` ``(M, 4)``
and ``labels`` ``(M,)`` (``masks`` ``(M, H, W)`` for Mask R-CNN); ``M`` may be 0.

:class:`DetectorContract` is the mixin that checks these inputs and raises a ``ValueError``
that names the detector, the image and the layer that could not take it (before PyTorch fails
deep inside a normalisation or a convolution with a shape error).
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn as nn


def first_conv(model: nn.Module) -> tuple[str, nn.Module | None]:
    """``(path, module)`` of the first convolution of ``model`` (module order)."""
    for path, m in model.named_modules():
        if isinstance(m, nn.modules.conv._ConvNd):
            return path, m
    return "", None


def check_detection_inputs(name: str, model: nn.Module, images: Any, targets: Any, *,
                           training: bool, in_channels: int = 3) -> None:
    """Raise ``ValueError`` unless ``images`` / ``targets`` follow the detection contract."""
    if isinstance(images, torch.Tensor):
        if images.ndim != 4:
            raise ValueError(f"{name}: expected a list of (C, H, W) images or a (N, C, H, W) batch, "
                             f"got a tensor of shape {tuple(images.shape)}")
        images = list(images)
    if not isinstance(images, (list, tuple)) or not images:
        raise ValueError(f"{name}: expected a non-empty list of (C, H, W) image tensors, got {type(images).__name__}")
    path, conv = first_conv(model)
    for i, img in enumerate(images):
        if not isinstance(img, torch.Tensor) or img.ndim != 3:
            shape = tuple(img.shape) if isinstance(img, torch.Tensor) else type(img).__name__
            raise ValueError(f"{name}: image {i} must be a (C, H, W) tensor, got {shape}")
        if img.shape[0] != in_channels:
            layer = f" layer '{path}' ({type(conv).__name__})" if conv is not None else ""
            raise ValueError(f"{name}:{layer} expects {in_channels} input channels, got {img.shape[0]} "
                             f"(image {i} has shape {tuple(img.shape)})")
        if not img.is_floating_point():
            raise ValueError(f"{name}: image {i} must be a float tensor in [0, 1], got {img.dtype}")
    if training:
        if targets is None:
            raise ValueError(f"{name}: in training mode the model needs targets (a list of dicts with "
                             "'boxes' and 'labels'); call model.eval() to detect")
        if len(targets) != len(images):
            raise ValueError(f"{name}: {len(images)} images but {len(targets)} targets")
        for i, t in enumerate(targets):
            if "boxes" not in t or "labels" not in t:
                raise ValueError(f"{name}: target {i} needs 'boxes' and 'labels', got keys {list(t)}")
            b = t["boxes"]
            if not isinstance(b, torch.Tensor) or b.ndim != 2 or b.shape[-1] != 4:
                shape = tuple(b.shape) if isinstance(b, torch.Tensor) else type(b).__name__
                raise ValueError(f"{name}: target {i} boxes must be a (M, 4) tensor, got {shape}")
            if len(b) and bool((b[:, 2:] <= b[:, :2]).any()):
                raise ValueError(f"{name}: target {i} has a box with x2 <= x1 or y2 <= y1: "
                                 f"{b[(b[:, 2:] <= b[:, :2]).any(1)][0].tolist()}")


class DetectorContract:
    """Mixin of every dcnn_lib detector: input checks and the contract's metadata.

    Subclasses set ``detector_name`` (used in messages) and may set ``target_keys`` (the
    target fields the model uses; the training loop passes only those). Put it first among
    the bases (``class FasterRCNN(DetectorContract, torchvision...FasterRCNN)``): its
    ``forward`` checks the inputs and calls the other base's ``forward``.
    """

    detector_name: str = "Detector"
    in_channels: int = 3
    target_keys: tuple[str, ...] = ("boxes", "labels")

    def check_inputs(self, images: Sequence[torch.Tensor] | torch.Tensor,
                     targets: Sequence[dict] | None) -> list[torch.Tensor]:
        check_detection_inputs(self.detector_name, self, images, targets,  # type: ignore[arg-type]
                               training=self.training, in_channels=self.in_channels)  # type: ignore[attr-defined]
        return list(images)

    def forward(self, images, targets=None):
        """Check the inputs, then run the detector this mixin is combined with (torchvision's
        ``GeneralizedRCNN`` / ``SSD`` forward)."""
        return super().forward(self.check_inputs(images, targets), targets)  # type: ignore[misc]
