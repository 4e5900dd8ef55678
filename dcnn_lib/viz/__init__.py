"""Matplotlib figures the chapters share (learning curves, confusion matrices, image grids,
receptive fields), the book's figure defaults, and tables as HTML.

Legible in the book: a figure is shown at ``dpi`` pixels per inch and scaled down to the text
column (~800 px) when wider, so what counts is font size against figure width.
:data:`BOOK_STYLE` (applied by :func:`use_book_style`, which ``dl.runtime.setup`` calls)
draws at 100 dpi on an opaque white ground, 8 inches wide by default, 10-13 pt text;
:func:`smallest_text_px` measures a figure as the book will show it.
"""
from __future__ import annotations

import math
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..htmltable import HTMLTable, html_table  # noqa: F401  (dl.viz.html_table)

#: The book's text column in pixels: figures must be legible at this width.
COLUMN_PX = 800
#: The smallest text height (px) a figure may show once scaled to :data:`COLUMN_PX`.
MIN_TEXT_PX = 10.0
#: Matplotlib settings of every chapter (:func:`use_book_style`).
BOOK_STYLE = {
    "figure.dpi": 100,                 # 8 in = 800 px: a default-size figure fills the column 1:1
    "savefig.dpi": "figure",
    "figure.figsize": (8.0, 4.2),
    "figure.facecolor": "white",       # opaque: readable on the dark theme too
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.transparent": False,
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "legend.title_fontsize": 10,
    "figure.titlesize": 13,
}


def use_book_style() -> None:
    """Apply :data:`BOOK_STYLE` to matplotlib (``dl.runtime.setup`` calls it)."""
    plt.rcParams.update(BOOK_STYLE)


def smallest_text_px(fig, column_px: float = COLUMN_PX) -> float:
    """Height in pixels of the smallest text ``fig`` draws, as the book shows it: saved at
    ``fig.dpi`` with a tight bounding box (what the notebook stores), then scaled down to
    ``column_px`` when wider. ``inf`` when the figure draws no text."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    sizes: list[float] = []
    draw_text = renderer.draw_text

    def record(gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if str(s).strip():
            sizes.append(prop.get_size_in_points())
        return draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)

    renderer.draw_text = record
    try:
        fig.draw(renderer)
    finally:
        renderer.draw_text = draw_text
    if not sizes:
        return math.inf
    width_px = fig.get_tightbbox(renderer).width * fig.dpi
    return min(sizes) * fig.dpi / 72 * min(1.0, column_px / width_px)


def plot_history(histories: Sequence, labels: Sequence[str] | None = None, axes=None,
                 reference: dict[str, float] | None = None):
    """Loss and accuracy per epoch for one or more :class:`~dcnn_lib.train.History`.

    Train curves are solid, validation curves dashed, one colour per run. ``reference`` draws
    horizontal lines on the accuracy panel (``{"d2l LeNet, 10 epochs": 0.789}``).
    Returns the figure.
    """
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(8.6, 3.6))
    else:
        fig = axes[0].figure
    labels = list(labels) if labels is not None else [h.name or f"run {i}" for i, h in enumerate(histories)]
    for i, (h, label) in enumerate(zip(histories, labels)):
        color = f"C{i}"
        ep = h["epoch"]
        axes[0].plot(ep, h["train_loss"], color=color, label=f"{label} train")
        axes[1].plot(ep, h["train_acc"], color=color, label=f"{label} train")
        if not all(math.isnan(v) for v in h["val_loss"]):
            axes[0].plot(ep, h["val_loss"], color=color, ls="--", label=f"{label} test")
            axes[1].plot(ep, h["val_acc"], color=color, ls="--", label=f"{label} test")
    for j, (name, value) in enumerate((reference or {}).items()):
        axes[1].axhline(value, color="0.4", ls=":", lw=1)
        axes[1].annotate(name, (axes[1].get_xlim()[0], value), xytext=(3, 3), textcoords="offset points",
                         fontsize=9.5, color="0.3")
    axes[0].set(xlabel="epoch", ylabel="loss", title="loss")
    axes[1].set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9.5)
    fig.tight_layout()
    return fig


def plot_confusion(matrix: torch.Tensor | np.ndarray, classes: Sequence[str], ax=None,
                   title: str = "confusion matrix", normalize: bool = True):
    """Confusion matrix (rows: true class, columns: predicted), row-normalised by default."""
    m = np.asarray(matrix, dtype=float)
    if normalize:
        m = m / np.maximum(m.sum(1, keepdims=True), 1)
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 6))
    else:
        fig = ax.figure
    im = ax.imshow(m, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right", fontsize=10)
    ax.set_yticks(range(len(classes)), classes, fontsize=10)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            if m[i, j] >= 0.005:
                ax.text(j, i, f"{m[i, j]:.2f}" if normalize else f"{int(m[i, j])}", ha="center",
                        va="center", fontsize=8, color="white" if m[i, j] > 0.5 * m.max() else "black")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return fig


def show_images(images: torch.Tensor | np.ndarray, titles: Sequence[str] | None = None, ncols: int = 8,
                cmap: str = "gray", size: float = 1.4, suptitle: str | None = None, max_width: float = 8.4):
    """A grid of images ``(N, H, W)``, ``(N, 1, H, W)`` or ``(N, 3, H, W)``; each is min-max scaled.
    ``size``: inches a panel, shrunk so that the grid is at most ``max_width`` inches wide."""
    x = images.detach().cpu().float().numpy() if isinstance(images, torch.Tensor) else np.asarray(images, float)
    if x.ndim == 4:
        x = x.transpose(0, 2, 3, 1)
        if x.shape[-1] == 1:
            x = x[..., 0]
    n = len(x)
    nrows = max(1, math.ceil(n / ncols))
    size = min(size, max_width / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * size * (1.25 if titles else 1)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = x[i]
        lo, hi = img.min(), img.max()
        ax.imshow((img - lo) / (hi - lo + 1e-12), cmap=cmap if img.ndim == 2 else None)
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def show_misclassified(images: torch.Tensor, logits: torch.Tensor, targets: torch.Tensor,
                       classes: Sequence[str], n: int = 16, ncols: int = 8):
    """The ``n`` most confidently wrong predictions, titled ``true → predicted (p)``."""
    prob = logits.float().softmax(1)
    conf, pred = prob.max(1)
    wrong = (pred != targets).nonzero().flatten()
    order = wrong[conf[wrong].argsort(descending=True)][:n]
    titles = [f"{classes[targets[i]]}\n→ {classes[pred[i]]} ({conf[i]:.2f})" for i in order.tolist()]
    return show_images(images[order], titles, ncols=ncols, size=1.5,
                       suptitle=f"most confident mistakes ({len(wrong):,} wrong of {len(targets):,})")


def label_colours(n: int) -> np.ndarray:
    """``(n, 3)`` RGB colours for label maps: black for 0 (background), then tab10/tab20."""
    cmap = plt.get_cmap("tab10" if n <= 11 else "tab20")
    return np.array([(0.0, 0.0, 0.0)] + [cmap(i % cmap.N)[:3] for i in range(n - 1)])


def overlay(image: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray, num_classes: int,
            alpha: float = 0.55) -> np.ndarray:
    """An ``(H, W, 3)`` picture: ``image`` (``(3, H, W)`` in [0, 1]) with non-background labels
    painted over it in :func:`label_colours`."""
    img = image.detach().cpu().float().numpy() if isinstance(image, torch.Tensor) else np.asarray(image, float)
    img = np.clip(img.transpose(1, 2, 0), 0, 1)
    lab = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    colours = label_colours(num_classes)[np.clip(lab, 0, num_classes - 1)]
    fg = ((lab > 0) & (lab < num_classes))[..., None]
    return np.where(fg, (1 - alpha) * img + alpha * colours, img)


def show_segmentation(images: torch.Tensor, rows: dict[str, torch.Tensor], classes: Sequence[str],
                      size: float = 1.2, suptitle: str | None = None, legend: bool = True):
    """A grid: one column per image, the images on top, then one row per label map in ``rows``
    (``{"truth": (N, H, W), "unet": (N, H, W), ...}``) painted over the images."""
    n, names = len(images), list(rows)
    fig, axes = plt.subplots(len(names) + 1, n, figsize=(n * size + (1.6 if legend else 0), (len(names) + 1) * size),
                             squeeze=False)
    for j in range(n):
        img = images[j].detach().cpu().float().clamp(0, 1).permute(1, 2, 0).numpy()
        axes[0, j].imshow(img)
        for i, name in enumerate(names, start=1):
            axes[i, j].imshow(overlay(images[j], rows[name][j], len(classes)))
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    for i, name in enumerate(["image", *names]):
        axes[i, 0].set_ylabel(name, fontsize=10, rotation=0, ha="right", va="center")
    if legend:
        from matplotlib.patches import Patch

        colours = label_colours(len(classes))
        fig.legend(handles=[Patch(color=colours[c], label=classes[c]) for c in range(1, len(classes))],
                   loc="center right", fontsize=9.5, frameon=False)
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    fig.tight_layout(rect=(0, 0, 1 - (1.6 / (n * size + 1.6) if legend else 0), 1))
    return fig


# ---- receptive fields (receptive-fields chapter) -----------------------------------------------


# Figures of single chapters, one module each (re-exported: dl.viz.plot_rf_grid ...).
from .receptive_fields import RF_COLOURS, plot_erf, plot_rf_grid, plot_rf_on_image  # noqa: E402,F401
from .capsules_masks import plot_routing, show_block_masks, show_perturbations  # noqa: E402,F401
