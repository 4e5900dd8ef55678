"""Region proposals by selective search (Uijlings et al., IJCV 2013), the proposal stage of
R-CNN and Fast R-CNN.

Selective search over-segments the image (Felzenszwalb & Huttenlocher's graph-based
segmentation), then greedily merges the two most similar neighbouring regions (colour,
texture, size and fill similarities) until one region is left; the bounding box of every
region ever formed is a proposal. The implementation is OpenCV's
(``cv2.ximgproc.segmentation``, from ``opencv-contrib-python-headless``).

- :class:`SelectiveSearch`: ``images (list of (3, H, W) in [0, 1]) -> list of (K, 4) boxes``
  (x1, y1, x2, y2, float, in the image's pixels), at most ``max_proposals`` per image in
  OpenCV's order (the hierarchy's most plausible regions first). Results are cached by image
  content (one cache for all instances), so the epochs of a training run, and the detectors
  of a chapter, compute each image's proposals once.
- :class:`ExternalProposals`: the same proposals behind the interface of torchvision's
  ``RegionProposalNetwork`` (``images: ImageList, features, targets -> (proposals, {})``), so
  a ``GeneralizedRCNN`` with it in place of an RPN is Fast R-CNN.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MODES = ("fast", "quality", "single")


def _cv2():
    try:
        import cv2
    except ImportError as err:  # pragma: no cover - the lock installs it
        raise ImportError("selective search needs OpenCV's contrib modules: "
                          "pip install opencv-contrib-python-headless") from err
    if not hasattr(cv2, "ximgproc"):  # pragma: no cover
        raise ImportError("this OpenCV has no ximgproc module (contrib): "
                          "pip install opencv-contrib-python-headless")
    return cv2


def selective_search(image: torch.Tensor, mode: str = "fast", max_proposals: int = 2000,
                     min_size: int = 4) -> torch.Tensor:
    """Selective-search boxes of one ``(3, H, W)`` image in [0, 1] -> ``(K, 4)`` float
    ``(x1, y1, x2, y2)``; boxes with a side under ``min_size`` pixels are dropped."""
    if mode not in MODES:
        raise ValueError(f"selective_search: mode must be one of {MODES}, got {mode!r}")
    if image.ndim != 3 or image.shape[0] != 3:
        raise ValueError(f"selective_search: expected a (3, H, W) image, got {tuple(image.shape)}")
    cv2 = _cv2()
    cv2.setNumThreads(1)
    bgr = (image.detach().cpu().clamp(0, 1).permute(1, 2, 0).numpy()[:, :, ::-1] * 255).astype(np.uint8)
    ss = cv2.ximgproc.segmentation.createSelectiveSearchSegmentation()
    ss.setBaseImage(np.ascontiguousarray(bgr))
    {"fast": ss.switchToSelectiveSearchFast, "quality": ss.switchToSelectiveSearchQuality,
     "single": ss.switchToSingleStrategy}[mode]()
    rects = np.asarray(ss.process(), dtype=np.float32).reshape(-1, 4)      # x, y, w, h
    rects = rects[(rects[:, 2] >= min_size) & (rects[:, 3] >= min_size)][:max_proposals]
    boxes = torch.from_numpy(rects.copy())
    boxes[:, 2:] += boxes[:, :2]
    return boxes


_CACHE: OrderedDict[tuple, torch.Tensor] = OrderedDict()   # (image digest, mode, min_size) -> boxes
CACHE_SIZE = 8192


class SelectiveSearch(nn.Module):
    """Selective-search proposals for a list of images, cached by image content.

    Args:
        mode: OpenCV's strategy: ``"fast"`` (R-CNN's "fast mode": 2 colour spaces, 2 starting
            scales, 2 similarity sets), ``"quality"`` (more diverse, slower) or ``"single"``.
        max_proposals: proposals kept per image (R-CNN: about 2,000).
        min_size: smallest box side kept, in pixels.
        cache: remember each image's proposals (in a cache shared by all instances, at most
            ``CACHE_SIZE`` images).

    ``forward(images)``: list of ``(3, H, W)`` in [0, 1] -> list of ``(K_i, 4)`` boxes on the
    images' device. No parameters.
    """

    def __init__(self, mode: str = "fast", max_proposals: int = 2000, min_size: int = 4, cache: bool = True) -> None:
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"SelectiveSearch: mode must be one of {MODES}, got {mode!r}")
        self.mode, self.max_proposals, self.min_size, self.cache = mode, max_proposals, min_size, cache

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}, max_proposals={self.max_proposals}, min_size={self.min_size}"

    def _key(self, image: torch.Tensor) -> tuple:
        # a coarse fingerprint (4x4 means in steps of 1/16), so that an image that went through
        # a normalisation and back (ExternalProposals) still finds its entry
        x = image.detach().cpu().float().clamp(0, 1)[None]
        thumb = (F.avg_pool2d(x, 4, ceil_mode=True) * 16).round().to(torch.uint8).contiguous().numpy()
        digest = hashlib.blake2b(thumb.tobytes(), digest_size=16).hexdigest()
        return digest, tuple(image.shape), self.mode, self.min_size

    def forward(self, images: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        out = []
        for image in images:
            key = self._key(image) if self.cache else None
            boxes = _CACHE.get(key) if key is not None else None
            if boxes is None:
                boxes = selective_search(image, self.mode, 1_000_000, self.min_size)
                if key is not None:
                    _CACHE[key] = boxes
                    if len(_CACHE) > CACHE_SIZE:
                        _CACHE.popitem(last=False)
            else:
                _CACHE.move_to_end(key)
            out.append(boxes[:self.max_proposals].to(image.device))
        return out


class ExternalProposals(nn.Module):
    """A proposal method behind torchvision's ``RegionProposalNetwork`` interface.

    ``forward(images, features, targets)``: ``images`` is the ``ImageList`` of normalised,
    resized images that ``GeneralizedRCNNTransform`` made; they are un-normalised with
    ``image_mean`` / ``image_std``, cropped to their own size (no batch padding) and handed to
    ``proposer``. Returns ``(list of (K_i, 4) boxes in the resized images' pixels, {})`` — no
    losses: the proposals are not learned.
    """

    def __init__(self, proposer: nn.Module, image_mean: Sequence[float], image_std: Sequence[float]) -> None:
        super().__init__()
        self.proposer = proposer
        self.register_buffer("mean", torch.tensor(image_mean).view(3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(image_std).view(3, 1, 1), persistent=False)

    def forward(self, images, features, targets=None):
        raw = [images.tensors[i, :, :h, :w] * self.std + self.mean for i, (h, w) in enumerate(images.image_sizes)]
        return self.proposer(raw), {}
