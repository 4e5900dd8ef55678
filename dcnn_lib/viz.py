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

from .htmltable import HTMLTable, html_table  # noqa: F401  (dl.viz.html_table)

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

RF_COLOURS = ("#2b83ba", "#1a9641", "#f07f1a", "#d7191c", "#7b3294", "#008080", "#b8860b", "#c51b7d")


def _rf_colour(i: int) -> str:
    return RF_COLOURS[i % len(RF_COLOURS)]


def plot_rf_grid(rf, names: Sequence[str], unit: Sequence[int] | None = None, axes=None,
                 colours: Sequence[str] | None = None, input_colour: str = "#9ecae1"):
    """The receptive field of one unit, drawn two ways for a chain of layers (the lecture's
    worked example): left, each map as a grid with the unit and what it reads highlighted;
    right, every unit drawn at the centre of its field on the input grid, with the field of
    the chosen unit of each layer as a rectangle.

    ``rf``: a :class:`~dcnn_lib.analysis.ReceptiveFields` table; ``names``: the rows to draw,
    in order; ``unit``: the unit of the last row (default ``(0, 0)``... its top-left unit).
    """
    from matplotlib.patches import Rectangle

    rows = [rf[n] for n in names]
    colours = list(colours or [_rf_colour(i + 1) for i in range(len(rows))])
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), gridspec_kw={"width_ratios": [1.5, 1]})
    fig = axes[0].figure
    h, w = rf.input_size
    last = rows[-1]
    unit = tuple(unit) if unit is not None else (0, 0)
    field = last.input_box(*unit)

    # Left: the maps side by side, each with its own cells.
    ax = axes[0]
    pad = int(max(r.padding[0] for r in rows[:1]))  # the first layer's own padding ring
    x0 = 0.0
    grids = [(None, (h, w), input_colour)] + [(r, r.output_size, c) for r, c in zip(rows, colours)]
    for k, (row, (gh, gw), colour) in enumerate(grids):
        ring = pad if k == 0 else 0
        for i in range(-ring, gh + ring):
            for j in range(-ring, gw + ring):
                inside = 0 <= i < gh and 0 <= j < gw
                if row is None:
                    hit = field.lo[0] <= i <= field.hi[0] and field.lo[1] <= j <= field.hi[1]
                else:
                    b = row.input_box(i, j) if inside else None
                    hit = (row is last and (i, j) == unit) or (
                        row is not last and b is not None and b.lo[0] >= field.lo[0] and b.hi[0] <= field.hi[0]
                        and b.lo[1] >= field.lo[1] and b.hi[1] <= field.hi[1])
                face = colour if hit else ("white" if inside else "#f4f4f4")
                ax.add_patch(Rectangle((x0 + j, -i), 1, -1, facecolor=face, edgecolor="0.35" if inside else "0.7",
                                       lw=0.8, ls="-" if inside else "--", alpha=1.0 if inside else 0.9))
        label = "input" if row is None else f"{row.name}: {row.output_size[0]}×{row.output_size[1]}"
        ax.text(x0 + gw / 2, 1.2 + ring, label, ha="center", va="bottom", fontsize=11)
        x0 += gw + 2 * ring + 1.5
    ax.set_xlim(-pad - 0.5, x0)
    ax.set_ylim(-h - pad - 0.5, pad + 2.5)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"the maps: unit {unit} of {last.name} and what it reads\n(dashed: padding)", fontsize=12)

    # Right: the fixed-size view on the input grid.
    ax = axes[1]
    margin = int(max(max(r.padding) for r in rows)) + 1
    for i in range(-margin, h + margin):
        for j in range(-margin, w + margin):
            inside = 0 <= i < h and 0 <= j < w
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=input_colour if inside else "white",
                                   edgecolor="0.6" if inside else "0.85", lw=0.6, alpha=0.5 if inside else 1))
    for k, (row, colour) in enumerate(zip(rows, colours)):
        ys, xs = np.meshgrid(*[np.arange(n) for n in row.output_size], indexing="ij")
        cy, cx = row.input_centre(ys.ravel(), xs.ravel())
        ax.scatter(cx, cy, s=160 / (k + 1), color=colour, edgecolor="black", lw=0.5, zorder=3 + k,
                   label=f"{row.name}: RF {row.size[0]}, stride {row.stride[0]}")
        u = unit if row is last else tuple(int(v) for v in row.feature_coord(*last.input_centre(*unit)))
        b = row.input_box(*u)
        ax.add_patch(Rectangle((b.lo[1] - 0.5, b.lo[0] - 0.5), b.size[1], b.size[0], fill=False,
                               edgecolor=colour, lw=2.2, zorder=2 + k))
    ax.set_xlim(-margin - 0.5, w + margin - 0.5)
    ax.set_ylim(h + margin - 0.5, -margin - 0.5)
    ax.set_aspect("equal")
    ax.set_xticks(range(w))
    ax.set_yticks(range(h))
    ax.tick_params(labelsize=10)
    ax.legend(fontsize=11, loc="upper center", bbox_to_anchor=(0.5, -0.08), frameon=False)
    ax.set_title("every unit at the centre of its field\n(input pixels)", fontsize=12)
    fig.tight_layout()
    return fig


def plot_rf_on_image(image: np.ndarray | torch.Tensor, rf, names: Sequence[str], unit: str | Sequence[int] = "centre",
                     ax=None, colours: Sequence[str] | None = None, title: str | None = None, legend: bool = True):
    """The field of one unit of each layer in ``names``, drawn on ``image`` (``(H, W[, 3])``,
    uint8 or float in [0, 1], at the table's input size). ``unit="centre"``: each layer's centre
    unit. Fields reaching past the border are drawn in full, dashed."""
    from matplotlib.patches import Rectangle

    img = image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    if img.ndim == 3 and img.shape[0] in (1, 3) and img.shape[-1] not in (1, 3):
        img = img.transpose(1, 2, 0)
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.5, 5.5))
    ax.imshow(img.squeeze(), cmap="gray" if img.ndim == 2 or img.shape[-1] == 1 else None)
    h, w = rf.input_size
    for k, name in enumerate(names):
        row = rf[name]
        u = row.centre_unit if unit == "centre" else tuple(unit)
        b = row.input_box(*u)
        inside = b.lo[0] >= 0 and b.lo[1] >= 0 and b.hi[0] <= h - 1 and b.hi[1] <= w - 1
        colour = (colours or RF_COLOURS)[k % len(colours or RF_COLOURS)]
        ax.add_patch(Rectangle((b.lo[1] - 0.5, b.lo[0] - 0.5), b.size[1], b.size[0], fill=False, edgecolor=colour,
                               lw=2, ls="-" if inside else "--",
                               label=f"{name}: {row.size[0]}×{row.size[1]} px, stride {row.stride[0]}"))
        c = row.input_centre(*u)
        ax.plot(c[1], c[0], "+", color=colour, ms=8)
    pad = max(max(0.0, -rf[n].input_box(*rf[n].centre_unit).lo[0]) for n in names) if names else 0
    ax.set_xlim(-pad - 0.5, w + pad - 0.5)
    ax.set_ylim(h + pad - 0.5, -pad - 0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    if legend:
        ax.legend(fontsize=9.5, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    if title:
        ax.set_title(title, fontsize=11)
    return ax.figure


def plot_erf(erf: np.ndarray, row=None, image: np.ndarray | None = None, mass=None, ax=None,
             title: str | None = None, cmap: str = "inferno", log: bool = False):
    """An effective receptive field (``(H, W)`` gradient map) as a heat map, optionally over
    ``image``, with the theoretical field of ``row``'s centre unit (a rectangle) and the discs
    holding 68% / 95% of the mass (``mass``: an :class:`~dcnn_lib.analysis.ERFMass`)."""
    from matplotlib.patches import Circle, Rectangle

    if ax is None:
        fig, ax = plt.subplots(figsize=(4.5, 4.5))
    m = np.asarray(erf, dtype=float)
    shown = np.log10(m + m.max() * 1e-6) if log else m / (m.max() or 1)
    if image is not None:
        ax.imshow(np.asarray(image), cmap="gray" if np.asarray(image).ndim == 2 else None)
        ax.imshow(shown, cmap=cmap, alpha=0.6)
    else:
        ax.imshow(shown, cmap=cmap)
    if row is not None:
        b = row.input_box(*row.centre_unit)
        ax.add_patch(Rectangle((b.lo[1] - 0.5, b.lo[0] - 0.5), b.size[1], b.size[0], fill=False, edgecolor="cyan",
                               lw=1.5, ls="--", label=f"theoretical RF {row.size[0]}×{row.size[1]}"))
    if mass is not None:
        for f, r in mass.radii.items():
            ax.add_patch(Circle((mass.centre[1], mass.centre[0]), r, fill=False, edgecolor="white", lw=1.2,
                                ls="-" if f < 0.9 else ":", label=f"{f:.0%} of the mass: r = {r:.1f} px"))
    ax.set_xlim(-0.5, m.shape[1] - 0.5)
    ax.set_ylim(m.shape[0] - 0.5, -0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    if row is not None or mass is not None:
        ax.legend(fontsize=9, loc="lower center", bbox_to_anchor=(0.5, -0.3), frameon=False)
    if title:
        ax.set_title(title, fontsize=10.5)
    return ax.figure


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
