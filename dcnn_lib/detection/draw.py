"""Detections drawn on images with ``torchvision.utils.draw_bounding_boxes`` (and
``draw_segmentation_masks`` for Mask R-CNN), and a grid of such images."""
from __future__ import annotations

import math
from typing import Sequence

import torch
from torchvision.utils import draw_bounding_boxes, draw_segmentation_masks

PALETTE = ("#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#ffff33", "#a65628", "#f781bf",
           "#999999", "#66c2a5", "#fc8d62", "#8da0cb")


def _font() -> str | None:
    """A TrueType font for the labels (matplotlib's DejaVu Sans), so that they can be sized."""
    try:
        from matplotlib import font_manager

        return font_manager.findfont("DejaVu Sans", fallback_to_default=True)
    except Exception:  # pragma: no cover - matplotlib always ships it
        return None


def draw_detections(image: torch.Tensor, detections: dict[str, torch.Tensor], classes: Sequence[str] | None = None,
                    score_threshold: float = 0.5, mask_threshold: float = 0.5, width: int = 1,
                    scale: int = 1, show_scores: bool = True, masks: bool = True,
                    font_size: int | None = None) -> torch.Tensor:
    """``image`` ``(3, H, W)`` in [0, 1] with the detections scoring at least ``score_threshold``
    (or ground truth: a dict without ``scores``) drawn on it, one colour per class; ``masks``
    are overlaid when present (and ``masks=True``). ``scale`` enlarges small images first
    (nearest neighbour); ``font_size`` defaults to 5 pixels per unit of ``scale``.
    Returns a ``uint8`` ``(3, H·scale, W·scale)`` image."""
    img = (image.detach().cpu().clamp(0, 1) * 255).to(torch.uint8)
    det = {k: v.detach().cpu() for k, v in detections.items()}
    keep = det["scores"] >= score_threshold if "scores" in det else torch.ones(len(det["boxes"]), dtype=torch.bool)
    boxes, labels = det["boxes"][keep].float(), det["labels"][keep]
    colors = [PALETTE[int(c) % len(PALETTE)] for c in labels]
    if masks and "masks" in det and keep.any():
        m = det["masks"][keep]
        m = m[:, 0] if m.ndim == 4 else m
        img = draw_segmentation_masks(img, m > mask_threshold if m.dtype != torch.bool else m,
                                      alpha=0.45, colors=colors)
    if scale != 1:
        img = torch.nn.functional.interpolate(img[None].float(), scale_factor=scale, mode="nearest")[0].to(torch.uint8)
        boxes = boxes * scale
    names = []
    for i, c in enumerate(labels.tolist()):
        name = classes[c] if classes is not None and c < len(classes) else str(c)
        names.append(f"{name} {float(det['scores'][keep][i]):.2f}" if show_scores and "scores" in det else name)
    if len(boxes):
        font = _font()
        img = draw_bounding_boxes(img, boxes, labels=names, colors=colors, width=width, font=font,
                                  font_size=(font_size or 5 * scale) if font else None)
    return img


def show_detections(images: Sequence[torch.Tensor], detections: Sequence[dict], classes: Sequence[str] | None = None,
                    titles: Sequence[str] | None = None, ncols: int = 4, size: float = 2.6,
                    score_threshold: float = 0.5, scale: int = 2, suptitle: str | None = None, **kwargs):
    """A grid of :func:`draw_detections` images; returns the figure."""
    import matplotlib.pyplot as plt

    n = len(images)
    nrows = max(1, math.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * size * 1.08), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            drawn = draw_detections(images[i], detections[i], classes, score_threshold, scale=scale, **kwargs)
            ax.imshow(drawn.permute(1, 2, 0).numpy())
            if titles is not None:
                ax.set_title(titles[i], fontsize=8)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    return fig
