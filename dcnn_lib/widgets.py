"""ipywidgets explorers, each with a static fallback for the book (readers have no kernel).

:class:`RFExplorer` — "how big is the receptive field of this stack of convolutions?": sliders
for kernel, stride, padding, dilation and number of layers; it builds the stack, computes its
table with :func:`dcnn_lib.analysis.receptive_field` and draws the field of every layer's
centre unit on a photo, next to the output sizes. :func:`rf_stack_figure` draws the same
thing for one setting without widgets (the static figure, and the explorer's callback).
"""
from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch.nn as nn

from .analysis import receptive_field
from .data import photo_tensor


def _png(fig) -> bytes:
    """``fig`` as PNG bytes (then closed): what an ``ipywidgets.Image`` shows.

    Every explorer here draws into an Image widget, never into an Output widget: an Output
    widget captures the kernel's display messages, and papermill/nbclient can wait forever on
    that capture when a notebook is executed headless (seen in CI)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=72)
    plt.close(fig)
    return buf.getvalue()

DEFAULTS = {"kernel": 3, "stride": 2, "padding": 1, "dilation": 1, "layers": 4}
LIMITS = {"kernel": (1, 11), "stride": (1, 4), "padding": (0, 5), "dilation": (1, 4), "layers": (1, 10)}


def conv_stack(kernel: int = 3, stride: int = 1, padding: int = 0, dilation: int = 1, layers: int = 4,
               channels: int = 1) -> nn.Sequential:
    """``layers`` identical ``Conv2d(kernel, stride, padding, dilation)`` layers, named conv1..."""
    from collections import OrderedDict

    return nn.Sequential(OrderedDict(
        (f"conv{i + 1}", nn.Conv2d(channels, channels, kernel, stride, padding, dilation)) for i in range(layers)))


def rf_stack_figure(kernel: int = 3, stride: int = 2, padding: int = 1, dilation: int = 1, layers: int = 4,
                    photo: str = "chelsea", size: int = 224, axes=None):
    """The field of the centre unit of every layer of :func:`conv_stack` on a ``size``² photo,
    and a table of output size, RF size and stride per layer.

    Returns ``(figure, table)``; ``table`` is ``None`` when the map vanishes (then the figure
    says at which layer), so a widget never raises on a bad setting.
    """
    from . import viz

    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(10.5, 4.6), gridspec_kw={"width_ratios": [1.25, 1]})
    fig = axes[0].figure
    img = photo_tensor(photo, size=size, normalize=False)[0].permute(1, 2, 0).clamp(0, 1).numpy()
    n, vanished = size, None
    for i in range(layers):
        n = (n + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
        if n < 1:
            vanished = i + 1
            break
    setting = f"k={kernel}, s={stride}, p={padding}, d={dilation}, {layers} layers"
    if vanished:
        axes[0].imshow(img)
        axes[0].set_title(setting, fontsize=10)
        for ax in axes:
            ax.set_xticks([])
            ax.set_yticks([])
        axes[1].text(0.5, 0.5, f"the map vanishes at layer {vanished}:\nits input is smaller than the kernel",
                     ha="center", va="center", fontsize=11, color="#d7191c")
        return fig, None
    table = receptive_field(conv_stack(kernel, stride, padding, dilation, layers), (1, size, size))
    names = table.names()
    viz.plot_rf_on_image(img, table, names, ax=axes[0], legend=False,
                         title=f"{setting}: centre unit of each layer")
    cells = [[r.name, f"{r.output_size[0]}×{r.output_size[1]}", f"{r.size[0]:g}", f"{r.stride[0]:g}",
              f"{r.padding[0]:g}"] for r in table]
    axes[1].axis("off")
    tab = axes[1].table(cellText=[["input", f"{size}×{size}", "1", "1", "0"]] + cells,
                        colLabels=["layer", "output", "RF", "stride", "padding"], loc="center", cellLoc="center")
    tab.auto_set_font_size(False)
    tab.set_fontsize(9)
    tab.scale(1, 1.25)
    for i in range(len(cells)):
        tab[i + 2, 0].get_text().set_color(viz.RF_COLOURS[i % len(viz.RF_COLOURS)])
    last = table[-1]
    covered = "covers the whole image" if last.covers_input else f"covers {min(1, last.size[0] / size):.0%} of its side"
    axes[1].set_title(f"last layer: RF {last.size[0]:g} px, {covered}", fontsize=10)
    fig.tight_layout()
    return fig, table


def rf_static_figure(settings: list[dict[str, Any]], photo: str = "chelsea", size: int = 224):
    """The explorer's static fallback: :func:`rf_stack_figure` for several settings, one per row."""
    fig, axes = plt.subplots(len(settings), 2, figsize=(10.5, 4.3 * len(settings)),
                             gridspec_kw={"width_ratios": [1.25, 1]}, squeeze=False)
    for ax_row, setting in zip(axes, settings):
        rf_stack_figure(**{**DEFAULTS, **setting}, photo=photo, size=size, axes=ax_row)
    fig.tight_layout()
    return fig


class RFExplorer:
    """Sliders → a stack of convolutions → its receptive fields drawn on a photo (live).

    ``explorer.update(kernel=5)`` (what the sliders call) redraws and returns the
    :class:`~dcnn_lib.analysis.ReceptiveFields` table (``None`` when the map vanishes);
    ``explorer.table`` holds the last one. Display it in a notebook (``explorer`` as the last
    expression of a cell, or ``display(explorer.widget)``).
    """

    def __init__(self, photo: str = "chelsea", size: int = 224, **values: int) -> None:
        import ipywidgets as W
        from .data import list_photos

        unknown = set(values) - set(DEFAULTS)
        if unknown:
            raise TypeError(f"RFExplorer: unknown control(s) {sorted(unknown)}; controls: {list(DEFAULTS)}")
        self.size = size
        self.controls = {name: W.IntSlider(value=values.get(name, default), min=LIMITS[name][0], max=LIMITS[name][1],
                                           description=name, continuous_update=False)
                         for name, default in DEFAULTS.items()}
        self.photo = W.Dropdown(options=list_photos(), value=photo, description="photo")
        # The drawing is a PNG in an Image widget, not an Output widget: no output capture to
        # synchronise (papermill/nbclient can stall on it), and the saved widget state shows it.
        self.image = W.Image(format="png", layout=W.Layout(max_width="100%"))
        self.table = None
        for control in [*self.controls.values(), self.photo]:
            control.observe(self._on_change, names="value")
        self.widget = W.VBox([W.HBox([W.VBox(list(self.controls.values())[:3]),
                                      W.VBox([*list(self.controls.values())[3:], self.photo])]), self.image])
        self.update()

    def values(self) -> dict[str, int]:
        return {name: c.value for name, c in self.controls.items()}

    def _on_change(self, change: Any = None) -> None:
        self.update()

    def update(self, **values: int):
        """Set controls (without redrawing once per control), redraw, return the table."""
        for name, value in values.items():
            if name not in self.controls:
                raise TypeError(f"RFExplorer.update: unknown control {name!r}; controls: {list(self.controls)}")
            c = self.controls[name]
            c.unobserve(self._on_change, names="value")
            c.value = int(np.clip(value, c.min, c.max))
            c.observe(self._on_change, names="value")
        fig, self.table = rf_stack_figure(**self.values(), photo=self.photo.value, size=self.size)
        self.image.value = _png(fig)
        return self.table

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def rf_explorer(photo: str = "chelsea", size: int = 224, **values: int) -> RFExplorer:
    """An :class:`RFExplorer` (kernel, stride, padding, dilation, layers; a photo)."""
    return RFExplorer(photo, size, **values)


__all__ = ["DEFAULTS", "LIMITS", "conv_stack", "rf_stack_figure", "rf_static_figure", "RFExplorer", "rf_explorer"]


# ---- detection: IoU and non-maximum suppression (the detection chapter) ------------------------
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
        ax.text(x1 + 1, y1 - 1.5, label, color="white", fontsize=7, va="bottom",
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
        _, ax = plt.subplots(figsize=(4.6, 4.6))
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
        title = (f"step {step}/{len(steps)}: keep the best, suppress {len(s['suppressed'])} "
                 f"(IoU > {iou_threshold:g}); {len(s['remaining'])} left")
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax.figure, steps


def nms_static_figure(image, boxes, scores, iou_threshold: float = 0.5, max_steps: int = 5):
    """The NMS explorer's static fallback: the candidates and the first steps, side by side."""
    steps = nms_steps(boxes, scores, iou_threshold)
    shown = list(range(0, min(len(steps), max_steps) + 1))
    if len(steps) > max_steps:
        shown[-1] = len(steps)
    fig, axes = plt.subplots(1, len(shown), figsize=(3.2 * len(shown), 3.5), squeeze=False)
    for ax, k in zip(axes[0], shown):
        nms_step_figure(image, boxes, scores, iou_threshold, k, ax=ax)
        ax.title.set_fontsize(7.5)
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


class NMSExplorer:
    """Step through non-maximum suppression on an image: sliders for the IoU threshold and the
    step (each change redraws :func:`nms_step_figure` into an Image widget).
    ``explorer.update(step=3)`` moves the sliders and returns the list of steps. Display it in
    a notebook (last expression of a cell)."""

    def __init__(self, image, boxes, scores, iou_threshold: float = 0.5) -> None:
        import ipywidgets as W

        self.image, self.boxes, self.scores = image, boxes, scores
        self.steps = nms_steps(boxes, scores, iou_threshold)
        self.threshold = W.FloatSlider(value=iou_threshold, min=0.05, max=0.95, step=0.05,
                                       description="IoU threshold", continuous_update=False)
        self.step = W.IntSlider(value=0, min=0, max=len(self.steps), description="step", continuous_update=False)
        self.threshold.observe(self._limit_steps, names="value")
        self.picture = W.Image(format="png", layout=W.Layout(max_width="100%"))
        for control in (self.threshold, self.step):
            control.observe(lambda _: self._draw(self.threshold.value, self.step.value), names="value")
        self.widget = W.VBox([W.HBox([self.threshold, self.step]), self.picture])
        self._draw(self.threshold.value, self.step.value)

    def _limit_steps(self, change: Any) -> None:
        self.step.max = len(nms_steps(self.boxes, self.scores, change["new"]))

    def _draw(self, iou_threshold: float, step: int) -> None:
        fig, self.steps = nms_step_figure(self.image, self.boxes, self.scores, iou_threshold, step)
        self.picture.value = _png(fig)

    def update(self, **values: float) -> list[dict[str, Any]]:
        """Set ``iou_threshold`` and/or ``step`` (as the sliders do); returns the NMS steps."""
        unknown = set(values) - {"iou_threshold", "step"}
        if unknown:
            raise TypeError(f"NMSExplorer.update: unknown control(s) {sorted(unknown)}; controls: iou_threshold, step")
        if "iou_threshold" in values:
            self.threshold.value = float(values["iou_threshold"])
        if "step" in values:
            self.step.value = int(values["step"])
        return self.steps

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


__all__ += ["draw_box", "nms_steps", "iou_figure", "nms_step_figure", "nms_static_figure", "candidate_boxes", "NMSExplorer"]


# --- Local response normalisation (chapter "AlexNet, LRN and ZFNet") --------------------------
LRN_DEFAULTS = {"size": 5, "alpha": 1e-4, "beta": 0.75, "k": 2.0}  # AlexNet §3.3


def _lrn_outputs(maps, size: int, alpha: float, beta: float, k: float):
    """``maps`` (C, H, W) → (across, within) normalised, both (C, H, W) numpy arrays."""
    import torch

    from .layers import LocalResponseNorm

    x = torch.as_tensor(maps, dtype=torch.float32)[None]
    with torch.no_grad():
        return tuple(LocalResponseNorm(size, alpha, beta, k, mode)(x)[0].numpy() for mode in ("across", "within"))


def _lrn_row(axes, maps, channel: int, size: int, alpha: float, beta: float, k: float, label: str = "") -> None:
    """One row of panels for one channel: the map, across-maps LRN, within-map LRN, and a profile."""
    import numpy as np

    across, within = _lrn_outputs(maps, size, alpha, beta, k)
    a = np.asarray(maps[channel], dtype=float)
    row = a.shape[0] // 2
    panels = [(a, f"map {channel}{label}"),
              (across[channel], f"across maps (n={size})"),
              (within[channel], f"within the map ({size}×{size})")]
    for ax, (img, title) in zip(axes, panels):
        ax.imshow(img, cmap="magma")
        ax.set_title(title, fontsize=8)
        ax.set_xticks([]), ax.set_yticks([])
        ax.axhline(row, color="cyan", lw=0.5, alpha=0.6)
    prof = axes[3]
    peak = max(a[row].max(), 1e-12)
    for values, name, style in ((a, "input", "-"), (across[channel], "across", "--"), (within[channel], "within", ":")):
        scale = values[row].max() or 1.0
        prof.plot(values[row] / scale, style, lw=1, label=f"{name} (max {scale / peak:.2f}× input)")
    prof.set_title("middle row, each curve ÷ its max", fontsize=8)
    prof.legend(fontsize=6, loc="upper right")
    prof.tick_params(labelsize=6)


def lrn_figure(maps, channels=(0,), settings=None, size: float = 2.3):
    """Static figure: each channel (rows) under each LRN setting, both modes side by side.

    ``maps``: feature maps ``(C, H, W)`` (tensor or array). ``settings``: dicts of ``size``,
    ``alpha``, ``beta``, ``k`` (paper parameterisation; default AlexNet's). Rows are every
    (setting, channel) pair; columns: the map, across-maps LRN, within-map LRN, a profile.
    This is the fallback of :func:`lrn_explorer` for readers without a kernel.
    """
    import matplotlib.pyplot as plt

    settings = list(settings or [LRN_DEFAULTS])
    rows = [(s, c) for s in settings for c in channels]
    fig, axes = plt.subplots(len(rows), 4, figsize=(4 * size * 1.1, len(rows) * size), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 1, 1, 1.3]})
    for ax_row, (s, c) in zip(axes, rows):
        s = {**LRN_DEFAULTS, **s}
        label = f"  (k={s['k']:g}, α={s['alpha']:g}, β={s['beta']:g})" if len(settings) > 1 else ""
        _lrn_row(ax_row, maps, c, s["size"], s["alpha"], s["beta"], s["k"], label)
    fig.tight_layout()
    return fig


def lrn_explorer(maps, channel: int = 0, **initial):
    """Sliders for n, k, α (log scale), β and the channel over feature maps ``(C, H, W)``:
    the map, its across-maps and within-map LRN, and a profile, redrawn on every change.

    Returns an ``ipywidgets.VBox`` (display it in a notebook). Without a kernel (the built
    book) it shows its initial state; :func:`lrn_figure` is its static fallback.
    """
    import math

    import ipywidgets as w

    s = {**LRN_DEFAULTS, **initial}
    style = {"description_width": "70px"}
    layout = w.Layout(width="300px")
    controls = {
        "channel": w.IntSlider(value=channel, min=0, max=len(maps) - 1, description="channel", style=style, layout=layout),
        "size": w.IntSlider(value=s["size"], min=1, max=15, description="n", style=style, layout=layout),
        "k": w.FloatSlider(value=s["k"], min=0.1, max=5.0, step=0.1, description="k", style=style, layout=layout),
        "log_alpha": w.FloatSlider(value=math.log10(s["alpha"]), min=-6.0, max=-1.0, step=0.25, description="log₁₀ α",
                                   style=style, layout=layout),
        "beta": w.FloatSlider(value=s["beta"], min=0.0, max=2.0, step=0.05, description="β", style=style, layout=layout),
    }
    picture = w.Image(format="png", layout=w.Layout(max_width="100%"))

    def draw(channel, size, k, log_alpha, beta):
        fig, axes = plt.subplots(1, 4, figsize=(11, 2.6), gridspec_kw={"width_ratios": [1, 1, 1, 1.3]})
        _lrn_row(axes, maps, channel, size, 10 ** log_alpha, beta, k, f"  (α={10 ** log_alpha:.2g})")
        fig.tight_layout()
        picture.value = _png(fig)

    for c in controls.values():
        c.observe(lambda _: draw(**{n: c.value for n, c in controls.items()}), names="value")
    draw(**{n: c.value for n, c in controls.items()})
    box = w.VBox([w.HBox([controls["channel"], controls["size"], controls["k"]]),
                  w.HBox([controls["log_alpha"], controls["beta"]]), picture])
    box.controls, box.picture = controls, picture    # for tests and callers that drive the sliders
    return box
