"""Point prompts for promptable segmentation (SAM) on the synthetic scenes.

:class:`PointPromptLoader` turns scenes with instance masks into SAM's training samples: one
item per object (or, with ``one_per_scene=True``, one object drawn at random from each scene
every epoch), with a foreground point drawn uniformly from the object's visible mask (a new
point every epoch when ``resample=True``, seeded by ``(seed, epoch)``; fixed otherwise, for
evaluation), and the object's mask as the target. Batches are
``({"image": (B, 3, H, W), "points": (B, 1, 2) pixel (x, y), "point_labels": (B, 1)}, (B, H, W))``,
the keyword inputs of ``sam_small`` (``dcnn_lib.train.fit`` calls ``model(**inputs)``).
"""
from __future__ import annotations

from typing import Iterator, Sequence

import torch


class PointPromptLoader:
    """One positive point prompt per object of every scene.

    Args:
        images: ``(N, 3, H, W)`` scenes (normalised as the model expects).
        masks: for each scene, its ``(K_i, H, W)`` bool instance masks.
        batch_size, shuffle, seed: as :class:`~dcnn_lib.data.TensorLoader`.
        resample: draw new points every epoch (training) or keep the first draw (evaluation).
        one_per_scene: each epoch, one object drawn at random from every scene (an epoch is as
            long as the number of scenes) instead of every object of every scene.
    """

    def __init__(self, images: torch.Tensor, masks: Sequence[torch.Tensor], batch_size: int = 32,
                 shuffle: bool = False, seed: int = 0, resample: bool = True, one_per_scene: bool = False) -> None:
        if len(images) != len(masks):
            raise ValueError(f"PointPromptLoader: {len(images)} images but {len(masks)} mask sets")
        self.images, self.masks = images, list(masks)
        self.items = [(i, k) for i, m in enumerate(self.masks) for k in range(len(m)) if m[k].any()]
        if not self.items:
            raise ValueError("PointPromptLoader: no object in any scene")
        self.batch_size, self.shuffle, self.seed, self.resample = batch_size, shuffle, seed, resample
        self.one_per_scene = one_per_scene
        self.scenes = sorted({i for i, _ in self.items})
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return -(-(len(self.scenes) if self.one_per_scene else len(self.items)) // self.batch_size)

    def point(self, scene: int, obj: int, generator: torch.Generator) -> tuple[float, float]:
        """A pixel (x, y) drawn uniformly from the object's mask."""
        ys, xs = torch.nonzero(self.masks[scene][obj], as_tuple=True)
        j = int(torch.randint(len(ys), (1,), generator=generator))
        return float(xs[j]), float(ys[j])

    def __iter__(self) -> Iterator[tuple[dict[str, torch.Tensor], torch.Tensor]]:
        epoch = self.epoch if self.resample else 0
        g = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
        items = self.items
        if self.one_per_scene:                      # one random object of every scene
            by_scene: dict[int, list[tuple[int, int]]] = {}
            for it in self.items:
                by_scene.setdefault(it[0], []).append(it)
            items = [objs[int(torch.randint(len(objs), (1,), generator=g))] for objs in by_scene.values()]
        order = torch.randperm(len(items), generator=g) if self.shuffle else torch.arange(len(items))
        points = [self.point(*items[j], g) for j in order.tolist()]
        for b in range(len(self)):
            idx = order[b * self.batch_size:(b + 1) * self.batch_size].tolist()
            scenes = [items[j][0] for j in idx]
            image = self.images[scenes]
            pts = torch.tensor(points[b * self.batch_size:(b + 1) * self.batch_size])[:, None]   # B x 1 x 2
            target = torch.stack([self.masks[s][k] for s, k in (items[j] for j in idx)]).float()
            yield {"image": image, "points": pts, "point_labels": torch.ones(len(idx), 1, dtype=torch.long)}, target
