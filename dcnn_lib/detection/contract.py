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

Targets are checked the same way for every detector (:func:`validate_targets`), before any
detector-specific code sees them; a bad target raises a :class:`~dcnn_lib.errors.DcnnValueError`
(or ``DcnnTypeError``) that names the detector, the target, the box and the rule:

- boxes are finite, with ``0 <= x1 < x2 <= W`` and ``0 <= y1 < y2 <= H`` in the pixels of
  their image (a tolerance of :data:`BOX_TOLERANCE` pixels absorbs rounding). A box that
  sticks out is rejected, not clipped silently (YOLO used to wrap it to the opposite side of
  the grid): :func:`clip_targets` clips boxes to their images and drops those left empty;
- labels are integers in ``1..C`` (``C`` object classes, :func:`object_classes`): 0 is the
  background of the contract, never a target (torchvision's R-CNNs would take it as
  background, YOLO as its last class);
- ``boxes``, ``labels`` (and ``masks``) hold one entry per object: equal lengths.

:class:`DetectorContract` is the mixin that checks these inputs and raises a ``ValueError``
that names the detector, the image and the layer that could not take it (before PyTorch fails
deep inside a normalisation or a convolution with a shape error).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn as nn

from ..errors import DcnnTypeError, DcnnValueError
from ..layers.guards import autocast_enabled


def first_conv(model: nn.Module) -> tuple[str, nn.Module | None]:
    """``(path, module)`` of the first convolution of ``model`` (module order)."""
    for path, m in model.named_modules():
        if isinstance(m, nn.modules.conv._ConvNd):
            return path, m
    return "", None


BOX_TOLERANCE = 1e-3   # pixels a box may stick out of its image (rounding), in the contract's checks


def object_classes(model: nn.Module) -> int | None:
    """``C``, the number of object classes of a detector (its labels are ``1..C``).

    Read from the model, so that it holds whatever ``num_classes`` meant to the builder:
    torchvision's R-CNN box predictor and SSD head count the background (``C + 1`` scores),
    the other detectors store ``num_classes``. ``None`` when the model says nothing.
    """
    predictor = getattr(getattr(model, "roi_heads", None), "box_predictor", None)
    if predictor is not None and hasattr(predictor, "cls_score"):
        return predictor.cls_score.out_features - 1
    scoring = getattr(getattr(model, "head", None), "classification_head", None)
    if scoring is not None and hasattr(scoring, "num_columns"):
        return scoring.num_columns - 1
    n = getattr(model, "num_classes", None)
    return int(n) if isinstance(n, int) else None


def _first(mask: torch.Tensor) -> int:
    return int(torch.nonzero(mask)[0, 0])


def validate_targets(name: str, image_sizes: Sequence[tuple[int, int]], targets: Any,
                     num_classes: int | None) -> None:
    """Raise a named error unless ``targets`` follow the contract for images of ``image_sizes``
    (``(H, W)`` each) and labels ``1..num_classes`` (see the module docstring for the rules)."""
    if not isinstance(targets, (list, tuple)):
        raise DcnnTypeError(f"{name}: targets must be a list of dicts (one per image), got {type(targets).__name__}")
    if len(targets) != len(image_sizes):
        raise DcnnValueError(f"{name}: {len(image_sizes)} images but {len(targets)} targets (one dict per image)")
    for i, (t, (h, w)) in enumerate(zip(targets, image_sizes)):
        where = f"{name}: target {i}"
        if not isinstance(t, Mapping):
            raise DcnnTypeError(f"{where} must be a dict with 'boxes' and 'labels', got {type(t).__name__}")
        if "boxes" not in t or "labels" not in t:
            raise DcnnValueError(f"{where} needs 'boxes' and 'labels', got keys {list(t)}")
        b, lab = t["boxes"], t["labels"]
        if not isinstance(b, torch.Tensor) or b.ndim != 2 or b.shape[-1] != 4:
            shape = tuple(b.shape) if isinstance(b, torch.Tensor) else type(b).__name__
            raise DcnnValueError(f"{where}: boxes must be a (M, 4) tensor of (x1, y1, x2, y2), got {shape}")
        if b.dtype == torch.bool or b.is_complex():
            raise DcnnTypeError(f"{where}: boxes must hold real numbers (float32), got {b.dtype}")
        if not isinstance(lab, torch.Tensor) or lab.ndim != 1:
            shape = tuple(lab.shape) if isinstance(lab, torch.Tensor) else type(lab).__name__
            raise DcnnValueError(f"{where}: labels must be a (M,) tensor, got {shape}")
        if lab.is_floating_point() or lab.is_complex() or lab.dtype == torch.bool:
            raise DcnnTypeError(f"{where}: labels must be an integer tensor (int64), got {lab.dtype}; "
                                "convert with labels.long()")
        if len(b) != len(lab):
            raise DcnnValueError(f"{where} has {len(b)} boxes but {len(lab)} labels: one label per box")
        masks = t.get("masks")
        if isinstance(masks, torch.Tensor) and (masks.ndim != 3 or len(masks) != len(b)):
            raise DcnnValueError(f"{where}: masks must be (M, H, W) with M = {len(b)} boxes, got {tuple(masks.shape)}")
        if not len(b):
            continue
        bf = b.detach().float()
        bad = ~torch.isfinite(bf).all(1)
        if bad.any():
            k = _first(bad)
            raise DcnnValueError(f"{where}, box {k} is not finite: {bf[k].tolist()}; every coordinate must be "
                                 "a number (NaN or inf boxes would give NaN losses)")
        bad = (bf[:, 2:] <= bf[:, :2]).any(1)
        if bad.any():
            k = _first(bad)
            raise DcnnValueError(f"{where}, box {k} has x2 <= x1 or y2 <= y1: {bf[k].tolist()} "
                                 "(boxes are (x1, y1, x2, y2) with positive width and height)")
        tol = BOX_TOLERANCE
        bad = (bf[:, 0] < -tol) | (bf[:, 1] < -tol) | (bf[:, 2] > w + tol) | (bf[:, 3] > h + tol)
        if bad.any():
            k = _first(bad)
            raise DcnnValueError(
                f"{where}, box {k} {bf[k].tolist()} lies outside image {i} of {h} x {w} pixels: boxes need "
                f"0 <= x1 < x2 <= {w} and 0 <= y1 < y2 <= {h}; clip them with "
                "dl.detection.clip_targets(images, targets) (boxes left empty are dropped)")
        lo, hi = int(lab.min()), int(lab.max())
        if lo < 1 or (num_classes is not None and hi > num_classes):
            k = _first((lab < 1) | (lab > (num_classes if num_classes is not None else hi)))
            classes = f"1..{num_classes}" if num_classes is not None else "1 or more"
            hint = (" (0 is the background, never a target: shift 0-based class ids by +1)" if int(lab[k]) == 0
                    else "")
            raise DcnnValueError(f"{where}, box {k} has label {int(lab[k])}: labels are object classes "
                                 f"{classes}{hint}")


def clip_targets(images: Sequence[torch.Tensor] | Sequence[tuple[int, int]], targets: Sequence[dict]) -> list[dict]:
    """``targets`` with every box clipped to its image and the boxes left without area dropped
    (with their labels, masks and any other per-object field). ``images``: the images, or
    their ``(H, W)`` sizes. The contract rejects boxes outside the image; this makes them fit."""
    out = []
    for img, t in zip(images, targets):
        h, w = img.shape[-2:] if isinstance(img, torch.Tensor) else img
        b = t["boxes"]
        clipped = torch.stack([b[:, 0].clamp(0, w), b[:, 1].clamp(0, h), b[:, 2].clamp(0, w),
                               b[:, 3].clamp(0, h)], 1) if len(b) else b
        keep = (clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])
        per_object = {k: v[keep] for k, v in t.items()
                      if k != "boxes" and isinstance(v, torch.Tensor) and v.ndim and len(v) == len(b)}
        out.append({**t, **per_object, "boxes": clipped[keep]})
    return out


def _param_dtype(model: nn.Module) -> torch.dtype | None:
    p = next(model.parameters(), None)
    return p.dtype if p is not None else None


def check_detection_inputs(name: str, model: nn.Module, images: Any, targets: Any, *,
                           training: bool, in_channels: int = 3) -> None:
    """Raise a named error unless ``images`` / ``targets`` follow the detection contract
    (targets only in training: :func:`validate_targets`)."""
    if isinstance(images, torch.Tensor):
        if images.ndim != 4:
            raise DcnnValueError(f"{name}: expected a list of (C, H, W) images or a (N, C, H, W) batch, "
                                 f"got a tensor of shape {tuple(images.shape)}")
        images = list(images)
    if not isinstance(images, (list, tuple)) or not images:
        what = type(images).__name__ if not isinstance(images, (list, tuple)) else "an empty list"
        raise DcnnTypeError(f"{name}: expected a non-empty list of (C, H, W) float image tensors, got {what}"
                            + (" (convert with [torch.as_tensor(x, dtype=torch.float32) for x in images])"
                               if type(images).__module__ == "numpy" else ""))
    path, conv = first_conv(model)
    dtype = _param_dtype(model)
    for i, img in enumerate(images):
        if not isinstance(img, torch.Tensor) or img.ndim != 3:
            shape = tuple(img.shape) if isinstance(img, torch.Tensor) else type(img).__name__
            raise DcnnValueError(f"{name}: image {i} must be a (C, H, W) tensor, got {shape}")
        if img.shape[0] != in_channels:
            layer = f" layer '{path}' ({type(conv).__name__})" if conv is not None else ""
            raise DcnnValueError(f"{name}:{layer} expects {in_channels} input channels, got {img.shape[0]} "
                                 f"(image {i} has shape {tuple(img.shape)})")
        if not img.is_floating_point():
            raise DcnnTypeError(f"{name}: image {i} must be a float tensor in [0, 1], got {img.dtype} "
                                "(uint8 pixels: img.float() / 255)")
        if dtype is not None and img.dtype != dtype and not autocast_enabled(img.device.type):
            raise DcnnTypeError(f"{name}: image {i} is {img.dtype} but the model's parameters are {dtype}: "
                                f"convert the images with img.to({dtype}) (or the model with model.to({img.dtype}))")
    if training:
        if targets is None:
            raise DcnnValueError(f"{name}: in training mode the model needs targets (a list of dicts with "
                                 "'boxes' and 'labels'); call model.eval() to detect")
        validate_targets(name, [tuple(img.shape[-2:]) for img in images], targets, object_classes(model))


class DetectorContract:
    """Mixin of every dcnn_lib detector: input checks and the contract's metadata.

    Subclasses set ``detector_name`` (used in messages) and may set ``target_keys`` (the
    target fields the model uses; the training loop passes only those). Put it first among
    the bases (``class FasterRCNN(DetectorContract, torchvision...FasterRCNN)``): its
    ``forward`` checks the inputs and calls the other base's ``forward``.
    """

    detector_name: str = "Detector"
    in_channels: int = 3
    takes_image_list = True  # dcnn_lib.layers.guard_inputs leaves the input checks to check_inputs
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
