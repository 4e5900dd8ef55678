"""Detection helpers and the non-maximum-suppression explorer (detection chapter): IoU of two
boxes, greedy NMS one step at a time, and an explorer that steps through it."""
from __future__ import annotations

from typing import Any, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .frames import FrameExplorer, with_value

#: IoU thresholds the NMS explorer offers in the book.
THRESHOLDS = (0.3, 0.5, 0.7)


def nms_steps(boxes, scores, iou_threshold: float = 0.5) -> list[dict[str, Any]]:
    """Greedy non-maximum suppression, one step at a time.

    Each step keeps the best remaining box and removes every remaining box that overlaps it
    with IoU ``> iou_threshold`` (the rule of ``torchvision.ops.nms``, whose result is the
    list of kept boxes of the last step). Returns a list of dicts: ``keep`` (the box kept at
    this step), ``suppressed`` (indices removed by it, with ``ious``), ``kept`` (all kept so
    far) and ``remaining`` (still undecided after the step), indices into ``boxes``.
    """
    import torch
    from torchvision.ops import box_iou

    boxes, scores = torch.as_tensor(boxes, dtype=torch.float32), torch.as_tensor(scores, dtype=torch.float32)
    order = torch.argsort(scores, descending=True, stable=True).tolist()
    iou = box_iou(boxes, boxes)
    kept: list[int] = []
    steps = []
    while order:
        best, rest = order[0], order[1:]
        kept.append(best)
        gone = [j for j in rest if iou[best, j] > iou_threshold]   # torchvision: IoU > threshold
        order = [j for j in rest if j not in gone]
        steps.append({"keep": best, "suppressed": gone, "ious": [float(iou[best, j]) for j in gone],
                      "kept": list(kept), "remaining": list(order)})
    return steps


def draw_box(ax, box, color: str, lw: float = 1.5, ls: str = "-", label: str | None = None, alpha: float = 1.0) -> None:
    """Draw one ``(x1, y1, x2, y2)`` box (pixels) on the matplotlib axes ``ax``: an unfilled
    rectangle of ``color``, line width ``lw`` and style ``ls``, with an optional ``label`` tag
    at its top-left corner."""
    import matplotlib.patches as patches

    x1, y1, x2, y2 = [float(v) for v in box]
    ax.add_patch(patches.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor=color, lw=lw, ls=ls,
                                   alpha=alpha))
    if label:
        ax.text(x1 + 1, y1 - 1.5, label, color="white", fontsize=9, va="bottom",
                bbox=dict(facecolor=color, edgecolor="none", pad=1, alpha=0.85))


def iou_figure(box_a, box_b, image=None, ax=None):
    """Two boxes, their intersection (filled) and union, and IoU = intersection / union."""
    import torch
    from torchvision.ops import box_iou

    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    a, b = torch.as_tensor(box_a, dtype=torch.float32), torch.as_tensor(box_b, dtype=torch.float32)
    if image is not None:
        ax.imshow(_hwc(image))
    ix1, iy1 = max(a[0], b[0]), max(a[1], b[1])
    ix2, iy2 = min(a[2], b[2]), min(a[3], b[3])
    import matplotlib.patches as patches

    if ix2 > ix1 and iy2 > iy1:
        ax.add_patch(patches.Rectangle((float(ix1), float(iy1)), float(ix2 - ix1), float(iy2 - iy1),
                                       color="#fdae61", alpha=0.6))
    draw_box(ax, a, "#2c7bb6", 2, label="A")
    draw_box(ax, b, "#d7191c", 2, label="B")
    inter = max(float(ix2 - ix1), 0) * max(float(iy2 - iy1), 0)
    union = float((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])) - inter
    value = float(box_iou(a[None], b[None])[0, 0])
    ax.set_title(f"IoU = {inter:.0f} / {union:.0f} = {value:.2f}", fontsize=10)
    if image is None:
        lo = float(torch.minimum(a[:2], b[:2]).min()) - 5
        hi = float(torch.maximum(a[2:], b[2:]).max()) + 5
        ax.set_xlim(lo, hi)
        ax.set_ylim(hi, lo)
        ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    return ax.figure, value


def _hwc(image):
    import torch

    x = image.detach().cpu() if isinstance(image, torch.Tensor) else torch.as_tensor(image)
    return x.permute(1, 2, 0).clamp(0, 1).numpy() if x.ndim == 3 and x.shape[0] in (1, 3) else x.numpy()


def nms_step_figure(image, boxes, scores, iou_threshold: float = 0.5, step: int = 0, ax=None):
    """The state of greedy NMS after ``step`` steps (0: the candidates) on ``image``: boxes
    kept so far in green, the box kept at this step thick blue, the boxes it suppresses
    dashed red (with their IoU), undecided candidates grey. Returns ``(figure, steps)``."""
    steps = nms_steps(boxes, scores, iou_threshold)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.2, 5.2))
    ax.imshow(_hwc(image))
    n = len(scores)
    step = int(np.clip(step, 0, len(steps)))
    if step == 0:
        for j in range(n):
            draw_box(ax, boxes[j], "0.85", 1)
        title = f"{n} candidate boxes"
    else:
        s = steps[step - 1]
        for j in s["remaining"]:
            draw_box(ax, boxes[j], "0.85", 1)
        for j in s["kept"][:-1]:
            draw_box(ax, boxes[j], "#1a9641", 1.5, label=f"{float(scores[j]):.2f}")
        for j, v in zip(s["suppressed"], s["ious"]):
            draw_box(ax, boxes[j], "#d7191c", 1.2, ls="--", label=f"IoU {v:.2f}")
        draw_box(ax, boxes[s["keep"]], "#2c7bb6", 2.5, label=f"keep {float(scores[s['keep']]):.2f}")
        title = (f"step {step}/{len(steps)}: keep the best,\nsuppress {len(s['suppressed'])} "
                 f"(IoU > {iou_threshold:g}); {len(s['remaining'])} left")
    ax.set_title(title, fontsize=11)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax.figure, steps


def nms_static_figure(image, boxes, scores, iou_threshold: float = 0.5, max_steps: int = 5):
    """The candidates and the first steps of NMS (the last panel: the final state), three
    panels a row so that labels stay readable at page width."""
    steps = nms_steps(boxes, scores, iou_threshold)
    shown = list(range(0, min(len(steps), max_steps) + 1))
    if len(steps) > max_steps:
        shown[-1] = len(steps)
    ncols = min(3, len(shown))
    nrows = -(-len(shown) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.9 * ncols, 3.3 * nrows), squeeze=False)
    for ax in axes.flat[len(shown):]:
        ax.axis("off")
    for ax, k in zip(axes.flat, shown):
        nms_step_figure(image, boxes, scores, iou_threshold, k, ax=ax)
        ax.title.set_fontsize(10)
    fig.tight_layout()
    return fig


def candidate_boxes(boxes, per_box: int = 6, jitter: float = 0.15, seed: int = 0):
    """Demo detections for the NMS explorer: ``per_box`` jittered copies of each box (shifts and
    size changes of about ``jitter`` of the box's side), with random scores. Returns
    ``(boxes (K, 4), scores (K,))``."""
    import torch

    g = torch.Generator().manual_seed(seed)
    b = torch.as_tensor(boxes, dtype=torch.float32).repeat_interleave(per_box, 0)
    wh = (b[:, 2:] - b[:, :2]).repeat(1, 2)
    out = b + torch.randn(b.shape, generator=g) * jitter * wh
    out = torch.cat([torch.minimum(out[:, :2], out[:, 2:] - 2), out[:, 2:]], 1)
    return out, torch.rand(len(out), generator=g) * 0.6 + 0.3


class NMSExplorer(FrameExplorer):
    """Step through non-maximum suppression on an image: sliders for the IoU threshold and the
    step, one picture (:func:`nms_step_figure`) per combination, drawn in advance so the
    sliders work in the static book. The step slider runs to the longest run over the
    thresholds; past a threshold's last step the picture shows its final state.

    ``explorer.update(step=3)`` moves the sliders and returns the NMS steps at the current
    threshold (:func:`nms_steps`). Display it in a notebook (last expression of a cell).
    """

    def __init__(self, image, boxes, scores, iou_threshold: float = 0.5,
                 thresholds: Sequence[float] = THRESHOLDS, precompute: bool | None = None) -> None:
        self.boxes, self.scores, self.scene = boxes, scores, image
        thresholds = with_value([float(t) for t in thresholds], float(iou_threshold))
        longest = max(len(nms_steps(boxes, scores, t)) for t in thresholds)
        super().__init__(self._draw_frame, {"iou_threshold": thresholds, "step": list(range(longest + 1))},
                         {"iou_threshold": float(iou_threshold), "step": 0},
                         descriptions={"iou_threshold": "IoU threshold"}, precompute=precompute,
                         name="NMSExplorer")

    def _draw_frame(self, iou_threshold: float, step: int):
        return nms_step_figure(self.scene, self.boxes, self.scores, iou_threshold, step)[0]

    @property
    def steps(self) -> list[dict[str, Any]]:
        """The NMS steps at the current threshold."""
        return nms_steps(self.boxes, self.scores, self.values()["iou_threshold"])

    def update(self, **values: float) -> list[dict[str, Any]]:
        """Set ``iou_threshold`` and/or ``step`` (as the sliders do); returns :attr:`steps`."""
        super().update(**values)
        return self.steps


__all__ = ["THRESHOLDS", "draw_box", "nms_steps", "iou_figure", "nms_step_figure", "nms_static_figure",
           "candidate_boxes", "NMSExplorer"]
