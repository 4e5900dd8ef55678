"""Figures of the capsule and JEPA chapters: routing by agreement iteration by iteration,
capsule perturbations (Sabour et al.'s Fig. 4), I-JEPA's context and target blocks."""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

def plot_routing(routing, classes: Sequence[str], grid: tuple[int, int, int], image=None, top: int = 3):
    """Routing by agreement on one image, iteration by iteration (a ``Routing`` recorded with
    ``record=True``, batch of one; ``grid`` = (capsule types, H, W) of the children).

    One column per iteration: above, the parents' lengths ‖v_j‖ (bars); below, for each of the
    ``top`` longest parents after the last iteration, the coupling coefficient c_ij of every
    child position, averaged over the capsule types (a map over the children's grid). The first
    iteration's coefficients are all ``1/J``; agreement then moves the children's output to the
    parents that agree with it. Returns the figure.
    """
    r = len(routing.history)
    lengths = [v[0].norm(dim=-1).cpu() for v in routing.output_history]
    winners = lengths[-1].argsort(descending=True)[:top].tolist()
    rows = 1 + len(winners)
    extra = image is not None
    fig, axes = plt.subplots(rows, r + extra, figsize=(8, 1.9 * rows + 0.4), squeeze=False)
    types, gh, gw = grid
    vmax = max(float(c[0][:, j].max()) for c in routing.history for j in winners)
    for it in range(r):
        ax = axes[0, it + extra]
        colours = ["C3" if j in winners[:1] else "C0" for j in range(len(classes))]
        ax.bar(range(len(classes)), lengths[it].numpy(), color=colours)
        ax.set_ylim(0, 1)
        ax.set_xticks(range(len(classes)), [c[:4] for c in classes], rotation=90, fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
        ax.set_title(f"iteration {it + 1}: ‖v_j‖", fontsize=9)
        c = routing.history[it][0].cpu()                              # I x J
        for row, j in enumerate(winners, start=1):
            m = c[:, j].view(types, gh, gw).mean(0)
            ax = axes[row, it + extra]
            im = ax.imshow(m.numpy(), cmap="viridis", vmin=0, vmax=vmax)
            ax.set_xticks([])
            ax.set_yticks([])
            if it == 0:
                ax.set_ylabel(f"c_ij → {classes[j][:8]}", fontsize=8)
    if extra:
        axes[0, 0].imshow(np.asarray(image).squeeze(), cmap="gray")
        axes[0, 0].set_title("input", fontsize=9)
        for ax in axes[:, 0]:
            ax.axis("off")
    bar = fig.colorbar(im, ax=axes[1:, extra:].ravel().tolist(), fraction=0.03, pad=0.02)
    bar.set_label("mean c_ij", fontsize=9)
    bar.ax.tick_params(labelsize=8)
    return fig


def show_perturbations(images: torch.Tensor, deltas: Sequence[float], dims: Sequence[int] | None = None,
                       size: float = 0.65):
    """Sabour et al.'s Fig. 4: rows = capsule dimensions, columns = the shift added to that
    dimension, each cell the decoded image. ``images``: ``(D, len(deltas), C, H, W)`` from
    ``CapsNet.perturb``; ``dims`` picks rows (default: all)."""
    x = images.detach().cpu().float()
    dims = list(range(x.shape[0])) if dims is None else list(dims)
    fig, axes = plt.subplots(len(dims), len(deltas), figsize=(len(deltas) * size + 0.6, len(dims) * size),
                             squeeze=False)
    for r, d in enumerate(dims):
        for c, delta in enumerate(deltas):
            ax = axes[r, c]
            ax.imshow(x[d, c].squeeze(0).numpy(), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"{delta:+.2f}", fontsize=8)
            if c == 0:
                ax.set_ylabel(f"dim {d}", fontsize=8)
    fig.subplots_adjust(wspace=0.05, hspace=0.05)
    return fig


def show_block_masks(images: torch.Tensor | np.ndarray, masks, patch_size: int, n: int | None = None,
                     size: float = 2.0, suptitle: str | None = None):
    """I-JEPA's masks drawn on the images: the context block's patches tinted blue, each target
    block outlined in its own colour (targets may overlap). ``images``: ``(N, C, H, W)`` or
    ``(N, H, W)``; ``masks``: a :class:`~dcnn_lib.data.multiblock.BlockMasks` of the same batch."""
    x = images.detach().cpu().float().numpy() if isinstance(images, torch.Tensor) else np.asarray(images, float)
    if x.ndim == 4:
        x = x.transpose(0, 2, 3, 1)
        x = x[..., 0] if x.shape[-1] == 1 else x
    ctx, tgt = masks.dense()
    n = min(n or len(x), len(x))
    colours = ["#e41a1c", "#ff7f00", "#4daf4a", "#984ea3", "#a65628", "#f781bf"]
    fig, axes = plt.subplots(1, n, figsize=(n * size, size * 1.15), squeeze=False)
    for i, ax in enumerate(axes.flat):
        img = x[i]
        img = (img - img.min()) / (img.max() - img.min() + 1e-12)
        rgb = np.repeat(img[..., None], 3, -1) if img.ndim == 2 else img
        shade = np.kron(ctx[i].numpy(), np.ones((patch_size, patch_size)))[:rgb.shape[0], :rgb.shape[1]]
        tinted = rgb * (1 - 0.45 * shade[..., None]) + 0.45 * shade[..., None] * np.array([0.2, 0.4, 1.0])
        ax.imshow(tinted)
        for k in range(tgt.shape[0]):
            rows, cols = np.nonzero(tgt[k, i].numpy())
            if len(rows):
                r0, c0 = rows.min() * patch_size - 0.5, cols.min() * patch_size - 0.5
                h, w = (rows.max() - rows.min() + 1) * patch_size, (cols.max() - cols.min() + 1) * patch_size
                ax.add_patch(plt.Rectangle((c0, r0), w, h, fill=False, lw=2, ec=colours[k % len(colours)]))
        ax.set_title(f"context {int(ctx[i].sum())} patches", fontsize=10)
        ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    fig.tight_layout()
    return fig
