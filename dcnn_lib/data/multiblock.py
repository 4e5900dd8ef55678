"""I-JEPA's multi-block masking (Assran et al., "Self-Supervised Learning from Images with a
Joint-Embedding Predictive Architecture", CVPR 2023, §3 and Fig. 4).

On the grid of patches of each image:

- ``n_targets`` (4) **target blocks**: rectangles covering a fraction ``target_scale``
  (0.15-0.2) of the grid each, of aspect ratio (height / width) ``target_aspect`` (0.75-1.5);
  they may overlap each other. The predictor must predict the target encoder's
  representations of these patches.
- one **context block**: a square covering ``context_scale`` (0.85-1.0) of the grid, minus
  every patch of every target block (``allow_overlap=False``) — the context encoder sees only
  these, so the targets cannot be copied from the input.

As in the official code (``src/masks/multiblock.py``), the block *sizes* are drawn once per
batch, the *positions* once per image, and a context left with ``min_keep`` patches or fewer
is drawn again (after 20 failures, one target stops constraining it, then another...). Masks
are lists of flat patch indices (row-major), so a batch of them is a rectangular tensor.

Where this differs from the official code (each a choice the paper does not make):

- every draw comes from one ``torch.Generator``, so a seed gives the same masks (the official
  collator seeds the sizes but draws positions from the global generator);
- scale and aspect ratio are drawn independently, as the paper's text says (the official
  code uses one uniform number for both, so larger targets are always taller);
- a block may touch the last row and column and may span the whole grid (the official code
  draws the corner below ``side - size`` and shrinks sizes below the grid side, so the bottom
  row and right column are never in a target block and the context is never the full image);
- when contexts of a batch have different sizes, each is cut to the smallest by dropping
  randomly chosen patches (the official code keeps the first ones, i.e. drops the bottom rows).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class BlockMasks:
    """Patch indices of one batch. ``context``: ``(N, K_context)``; ``targets``:
    ``(n_targets, N, K_target)``; both sorted row-major indices into an ``h × w`` ``grid``."""

    context: torch.Tensor
    targets: torch.Tensor
    grid: tuple[int, int]

    def dense(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Boolean maps: context ``(N, h, w)`` and targets ``(n_targets, N, h, w)``."""
        h, w = self.grid
        n = self.context.shape[0]
        ctx = torch.zeros(n, h * w, dtype=torch.bool)
        ctx.scatter_(1, self.context, True)
        m = self.targets.shape[0]
        tgt = torch.zeros(m * n, h * w, dtype=torch.bool)
        tgt.scatter_(1, self.targets.reshape(m * n, -1), True)
        return ctx.reshape(n, h, w), tgt.reshape(m, n, h, w)


def block_size(grid: tuple[int, int], scale: float, aspect: float) -> tuple[int, int]:
    """``(height, width)`` of a block covering ``scale`` of the grid with ``height / width =
    aspect`` (rounded; at least 1, at most the grid)."""
    h_grid, w_grid = grid
    area = int(h_grid * w_grid * scale)
    h = int(round(math.sqrt(area * aspect)))
    w = int(round(math.sqrt(area / aspect)))
    return min(max(h, 1), h_grid), min(max(w, 1), w_grid)


def _uniform(lo_hi: tuple[float, float], g: torch.Generator) -> float:
    lo, hi = lo_hi
    return lo + float(torch.rand((), generator=g)) * (hi - lo)


def _place(grid: tuple[int, int], size: tuple[int, int], g: torch.Generator) -> torch.Tensor:
    """A block of ``size`` at a random position: boolean ``(h, w)`` map."""
    (h_grid, w_grid), (h, w) = grid, size
    top = int(torch.randint(0, h_grid - h + 1, (), generator=g))
    left = int(torch.randint(0, w_grid - w + 1, (), generator=g))
    m = torch.zeros(h_grid, w_grid, dtype=torch.bool)
    m[top:top + h, left:left + w] = True
    return m


def multiblock_masks(batch_size: int, grid: tuple[int, int], *, n_targets: int = 4,
                     target_scale: tuple[float, float] = (0.15, 0.2),
                     target_aspect: tuple[float, float] = (0.75, 1.5),
                     context_scale: tuple[float, float] = (0.85, 1.0), min_keep: int = 10,
                     allow_overlap: bool = False, generator: torch.Generator | None = None) -> BlockMasks:
    """Context and target blocks for a batch of ``batch_size`` images on an ``h × w`` grid.

    Defaults are the paper's and the official ViT-H/14 configuration's (``min_keep=10`` is
    for its 16×16 grid; a 7×7 grid needs fewer). Returns :class:`BlockMasks`.
    """
    h_grid, w_grid = grid
    if batch_size < 1 or n_targets < 1:
        raise ValueError(f"multiblock_masks: batch_size and n_targets must be >= 1, got {batch_size}, {n_targets}")
    for name, (lo, hi) in (("target_scale", target_scale), ("context_scale", context_scale)):
        if not 0 < lo <= hi <= 1:
            raise ValueError(f"multiblock_masks: {name} must satisfy 0 < min <= max <= 1, got {(lo, hi)}")
    if not 0 < target_aspect[0] <= target_aspect[1]:
        raise ValueError(f"multiblock_masks: target_aspect must satisfy 0 < min <= max, got {target_aspect}")
    if not 0 <= min_keep < h_grid * w_grid:
        raise ValueError(f"multiblock_masks: min_keep must be in [0, {h_grid * w_grid}), got {min_keep}")
    g = generator if generator is not None else torch.Generator().manual_seed(0)
    t_size = block_size(grid, _uniform(target_scale, g), _uniform(target_aspect, g))  # once per batch
    c_size = block_size(grid, _uniform(context_scale, g), 1.0)
    targets, contexts = [], []
    for _ in range(batch_size):
        blocks = [_place(grid, t_size, g) for _ in range(n_targets)]
        targets.append(torch.stack([b.flatten().nonzero().squeeze(1) for b in blocks]))
        constraints = 0 if allow_overlap else n_targets          # targets that must stay out
        tries = 0
        while True:
            ctx = _place(grid, c_size, g)
            for b in blocks[:constraints]:
                ctx &= ~b
            if int(ctx.sum()) > min_keep:
                break
            tries += 1
            if tries % 20 == 0:                                  # relax: one target fewer
                constraints = max(constraints - 1, 0)
        contexts.append(ctx.flatten().nonzero().squeeze(1))
    keep = min(len(c) for c in contexts)
    contexts = [c if len(c) == keep else c[torch.randperm(len(c), generator=g)[:keep].sort().values]
                for c in contexts]
    return BlockMasks(torch.stack(contexts), torch.stack(targets, dim=1), (h_grid, w_grid))
