"""Receptive fields drawn: the grid of fields layer by layer, fields on a photo, the effective
receptive field (chapter "Receptive fields")."""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

import math

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
