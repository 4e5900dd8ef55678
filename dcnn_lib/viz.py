"""Matplotlib figures the chapters share: learning curves, confusion matrices, image grids."""
from __future__ import annotations

import math
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch


def plot_history(histories: Sequence, labels: Sequence[str] | None = None, axes=None,
                 reference: dict[str, float] | None = None):
    """Loss and accuracy per epoch for one or more :class:`~dcnn_lib.train.History`.

    Train curves are solid, validation curves dashed, one colour per run. ``reference`` draws
    horizontal lines on the accuracy panel (``{"d2l LeNet, 10 epochs": 0.789}``).
    Returns the figure.
    """
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
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
                         fontsize=8, color="0.3")
    axes[0].set(xlabel="epoch", ylabel="loss", title="loss")
    axes[1].set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_confusion(matrix: torch.Tensor | np.ndarray, classes: Sequence[str], ax=None,
                   title: str = "confusion matrix", normalize: bool = True):
    """Confusion matrix (rows: true class, columns: predicted), row-normalised by default."""
    m = np.asarray(matrix, dtype=float)
    if normalize:
        m = m / np.maximum(m.sum(1, keepdims=True), 1)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.2, 5.4))
    else:
        fig = ax.figure
    im = ax.imshow(m, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(classes)), classes, fontsize=8)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            if m[i, j] >= 0.005:
                ax.text(j, i, f"{m[i, j]:.2f}" if normalize else f"{int(m[i, j])}", ha="center",
                        va="center", fontsize=6.5, color="white" if m[i, j] > 0.5 * m.max() else "black")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return fig


def show_images(images: torch.Tensor | np.ndarray, titles: Sequence[str] | None = None, ncols: int = 8,
                cmap: str = "gray", size: float = 1.4, suptitle: str | None = None):
    """A grid of images ``(N, H, W)``, ``(N, 1, H, W)`` or ``(N, 3, H, W)``; each is min-max scaled."""
    x = images.detach().cpu().float().numpy() if isinstance(images, torch.Tensor) else np.asarray(images, float)
    if x.ndim == 4:
        x = x.transpose(0, 2, 3, 1)
        if x.shape[-1] == 1:
            x = x[..., 0]
    n = len(x)
    nrows = max(1, math.ceil(n / ncols))
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
            ax.set_title(titles[i], fontsize=7)
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
