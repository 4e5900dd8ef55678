"""Synthetic scenes for segmentation and detection, built offline from real images.

Each scene pastes a few real Fashion-MNIST items, tinted and rescaled, at random positions on
a textured background cropped from a photograph in ``skimage.data`` (grass, brick, gravel).
Everything a segmentation or detection model needs comes out **exact by construction**:

- ``semantic``: ``(H, W)`` int64, 0 = background, ``c + 1`` = Fashion-MNIST class ``c``;
- ``masks``: ``(K, H, W)`` bool, the *visible* pixels of each object (later objects occlude
  earlier ones);
- ``boxes``: ``(K, 4)`` float ``(x1, y1, x2, y2)``, the tight box of each visible mask
  (``x2``/``y2`` exclusive, torchvision's convention);
- ``labels``: ``(K,)`` int64 in ``1..10`` (0 is background, as in torchvision's detectors).

:class:`SceneObjects` draws single-object scenes the same way, for classification (a
detector's pre-training on the scenes' own domain).

Train scenes use items of the Fashion-MNIST training split, test scenes items of the test
split, so no object is seen in both. Scene ``i`` of a given ``seed`` is always the same.
These are **synthetic** data: figures that show them say so (:data:`SYNTHETIC`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .fashion import CLASSES, fashion_mnist_tensors

SYNTHETIC = "synthetic scenes: Fashion-MNIST items pasted on skimage textures"
TEXTURES = ("grass", "brick", "gravel")
SCENE_CLASSES = ("background", *CLASSES)


def _texture(name: str) -> np.ndarray:
    import skimage.data

    img = getattr(skimage.data, name)().astype(np.float32) / 255.0
    return img if img.ndim == 2 else img.mean(-1)


@dataclass(frozen=True)
class SceneConfig:
    """How scenes are drawn. Sizes are in pixels of the ``size × size`` canvas."""

    size: int = 128
    objects: tuple[int, int] = (1, 4)          # objects per scene, inclusive range
    item_size: tuple[int, int] = (28, 64)      # side of a pasted 28×28 item after rescaling
    threshold: float = 0.2                     # item pixels above this (of 1) belong to the mask
    min_visible: float = 0.3                   # drop objects with less of their mask visible
    max_overlap: float = 0.3                   # a new item covers at most this much of an earlier one's box
    tries: int = 10                            # placements tried before accepting overlap
    textures: tuple[str, ...] = TEXTURES


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Fraction of box ``b``'s area that box ``a`` covers."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(w, 0) * max(h, 0) / ((b[2] - b[0]) * (b[3] - b[1]))


class FashionScenes(torch.utils.data.Dataset):
    """``n`` synthetic scenes; ``scenes[i]`` is ``(image, target)``.

    ``image``: ``(3, size, size)`` float in ``[0, 1]``; ``target``: dict with ``semantic``,
    ``masks``, ``boxes``, ``labels`` (see the module docstring) — the format torchvision's
    detection models take. ``split`` chooses the Fashion-MNIST split the items come from.
    """

    def __init__(self, split: str = "train", n: int = 1000, seed: int = 0,
                 config: SceneConfig | None = None, items: tuple[torch.Tensor, torch.Tensor] | None = None,
                 **overrides: Any) -> None:
        if split not in ("train", "test"):
            raise ValueError(f"FashionScenes: split must be 'train' or 'test', got {split!r}")
        if n < 1:
            raise ValueError(f"FashionScenes: n must be >= 1, got {n}")
        cfg = config or SceneConfig()
        if overrides:
            cfg = SceneConfig(**{**cfg.__dict__, **overrides})
        lo, hi = cfg.item_size
        if not 8 <= lo <= hi <= cfg.size:
            raise ValueError(f"FashionScenes: item_size {cfg.item_size} must satisfy 8 <= min <= max <= size ({cfg.size})")
        if not 1 <= cfg.objects[0] <= cfg.objects[1]:
            raise ValueError(f"FashionScenes: objects {cfg.objects} must be a range with 1 <= min <= max")
        self.split, self.n, self.seed, self.config = split, n, seed, cfg
        images, labels = items if items is not None else fashion_mnist_tensors(train=split == "train")
        self.items, self.item_labels = images, labels
        self.textures = [_texture(t) for t in cfg.textures]
        self.classes = SCENE_CLASSES
        self.note = SYNTHETIC

    def __len__(self) -> int:
        return self.n

    def _rng(self, index: int) -> np.random.Generator:
        # independent of the other scenes, of n and of the order scenes are read in
        return np.random.default_rng([self.seed, index, 0 if self.split == "train" else 1])

    def _background(self, rng: np.random.Generator) -> np.ndarray:
        s = self.config.size
        tex = self.textures[rng.integers(len(self.textures))]
        y, x = rng.integers(0, tex.shape[0] - s + 1), rng.integers(0, tex.shape[1] - s + 1)
        patch = tex[y:y + s, x:x + s]
        tint = rng.uniform(0.3, 0.8, size=3).astype(np.float32)
        return (0.15 + 0.5 * patch[None]) * tint[:, None, None]          # 3 x s x s, darkish

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if not 0 <= index < self.n:
            raise IndexError(f"scene {index} out of range (n={self.n})")
        cfg, rng = self.config, self._rng(index)
        s = cfg.size
        image = self._background(rng)
        owner = np.full((s, s), -1, dtype=np.int64)       # which object each pixel shows
        full_area, labels, placed = [], [], []
        for k in range(int(rng.integers(cfg.objects[0], cfg.objects[1] + 1))):
            j = int(rng.integers(len(self.items)))
            side = int(rng.integers(cfg.item_size[0], cfg.item_size[1] + 1))
            item = F.interpolate(self.items[j][None, None].float() / 255, size=(side, side),
                                 mode="bilinear", align_corners=False)[0, 0].numpy()
            mask = item > cfg.threshold
            if not mask.any():
                continue
            for _ in range(cfg.tries):
                y, x = int(rng.integers(0, s - side + 1)), int(rng.integers(0, s - side + 1))
                if all(_overlap((x, y, x + side, y + side), b) <= cfg.max_overlap for b in placed):
                    break
            placed.append((x, y, x + side, y + side))
            colour = rng.uniform(0.5, 1.0, size=3).astype(np.float32)
            alpha = np.clip(item / max(cfg.threshold * 2, 1e-6), 0, 1) * mask
            shade = (0.45 + 0.55 * item) * colour[:, None, None]     # bright enough on any texture
            region = image[:, y:y + side, x:x + side]
            image[:, y:y + side, x:x + side] = region * (1 - alpha) + shade * alpha
            owner[y:y + side, x:x + side][mask] = k
            full_area.append(int(mask.sum()))
            labels.append(int(self.item_labels[j]) + 1)
        masks, boxes, keep = [], [], []
        for k, (area, label) in enumerate(zip(full_area, labels)):
            visible = owner == k
            if visible.sum() < cfg.min_visible * area:
                owner[visible] = -1                      # mostly hidden: background, not an object
                continue
            ys, xs = np.nonzero(visible)
            masks.append(visible)
            boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
            keep.append(label)
        semantic = np.zeros((s, s), dtype=np.int64)
        for m, label in zip(masks, keep):
            semantic[m] = label
        target = {
            "semantic": torch.from_numpy(semantic),
            "masks": torch.from_numpy(np.stack(masks)) if masks else torch.zeros(0, s, s, dtype=torch.bool),
            "boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
            "labels": torch.tensor(keep, dtype=torch.int64),
        }
        return torch.from_numpy(np.clip(image, 0, 1).astype(np.float32)), target


def collate_detection(batch: Sequence[tuple[torch.Tensor, dict]]) -> tuple[list[torch.Tensor], list[dict]]:
    """For torchvision-style detectors: a list of images and a list of targets."""
    images, targets = zip(*batch)
    return list(images), list(targets)


def collate_segmentation(batch: Sequence[tuple[torch.Tensor, dict]]) -> tuple[torch.Tensor, torch.Tensor]:
    """For segmentation models: images ``(N, 3, H, W)`` and semantic masks ``(N, H, W)``."""
    images, targets = zip(*batch)
    return torch.stack(images), torch.stack([t["semantic"] for t in targets])


class SceneObjects(torch.utils.data.Dataset):
    """Single-object scenes for *classification*: ``objects[i]`` is ``(image, class)``.

    The scenes' counterpart of ImageNet for a detector's pre-training: one Fashion-MNIST item,
    tinted and rescaled as in :class:`FashionScenes`, on the same textured backgrounds, and its
    class index ``0..9`` (Fashion-MNIST's). ``image``: ``(3, size, size)``, standardised with
    ``mean``/``std`` (Fashion-MNIST's by default, as the detectors standardise their input);
    ``normalize=False`` keeps ``[0, 1]``. Synthetic (:data:`SYNTHETIC`).
    """

    def __init__(self, split: str = "train", n: int = 10_000, seed: int = 0, size: int = 48,
                 item_size: tuple[int, int] = (20, 40), normalize: bool = True,
                 items: tuple[torch.Tensor, torch.Tensor] | None = None) -> None:
        from .fashion import MEAN, STD

        self.scenes = FashionScenes(split, n=n, seed=seed, items=items, size=size, objects=(1, 1),
                                    item_size=item_size)
        self.mean, self.std = (MEAN, STD) if normalize else (0.0, 1.0)
        self.classes, self.note = CLASSES, SYNTHETIC

    def __len__(self) -> int:
        return len(self.scenes)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image, target = self.scenes[index]
        if len(target["labels"]) != 1:           # an item with no pixel above the mask threshold
            raise RuntimeError(f"SceneObjects: scene {index} of seed {self.scenes.seed} has no object")
        return (image - self.mean) / self.std, int(target["labels"][0]) - 1
