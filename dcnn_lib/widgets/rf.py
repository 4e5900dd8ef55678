"""The receptive-field explorer (receptive-fields chapter): "how big is the receptive field of
this stack of convolutions?" Sliders for kernel, stride, padding, dilation and number of
layers; each picture builds the stack, computes its table with
:func:`dcnn_lib.analysis.receptive_field` and draws the field of every layer's centre unit on
a photo, next to the output sizes."""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import torch.nn as nn

from ..analysis import receptive_field
from ..data import photo_tensor
from .frames import FrameExplorer, with_value

DEFAULTS = {"kernel": 3, "stride": 2, "padding": 1, "dilation": 1, "layers": 4}
LIMITS = {"kernel": (1, 11), "stride": (1, 4), "padding": (0, 5), "dilation": (1, 4), "layers": (1, 10)}
#: The values the book's sliders offer (3 × 2 × 1 × 2 × 6 = 72 pictures); a live kernel can
#: offer any within ``LIMITS`` (``rf_explorer(grid={"kernel": range(1, 12)}, precompute=False)``).
GRID = {"kernel": (3, 5, 7), "stride": (1, 2), "padding": (1,), "dilation": (1, 2), "layers": (1, 2, 3, 4, 5, 6)}


def conv_stack(kernel: int = 3, stride: int = 1, padding: int = 0, dilation: int = 1, layers: int = 4,
               channels: int = 1) -> nn.Sequential:
    """``layers`` identical ``Conv2d(kernel, stride, padding, dilation)`` layers, named conv1..."""
    return nn.Sequential(OrderedDict(
        (f"conv{i + 1}", nn.Conv2d(channels, channels, kernel, stride, padding, dilation)) for i in range(layers)))


def _vanishes_at(size: int, kernel: int, stride: int, padding: int, dilation: int, layers: int) -> int | None:
    """The first layer whose output would be empty, or ``None``."""
    n = size
    for i in range(layers):
        n = (n + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
        if n < 1:
            return i + 1
    return None


def rf_table(kernel: int = 3, stride: int = 2, padding: int = 1, dilation: int = 1, layers: int = 4, size: int = 224):
    """The :class:`~dcnn_lib.analysis.ReceptiveFields` of :func:`conv_stack` on a ``size``²
    input, or ``None`` when the map vanishes before the last layer."""
    if _vanishes_at(size, kernel, stride, padding, dilation, layers):
        return None
    return receptive_field(conv_stack(kernel, stride, padding, dilation, layers), (1, size, size))


def rf_stack_figure(kernel: int = 3, stride: int = 2, padding: int = 1, dilation: int = 1, layers: int = 4,
                    photo: str = "chelsea", size: int = 224, axes=None):
    """The field of the centre unit of every layer of :func:`conv_stack` on a ``size``² photo,
    and a table of output size, RF size and stride per layer.

    Returns ``(figure, table)``; ``table`` is ``None`` when the map vanishes (then the figure
    says at which layer), so an explorer never raises on a bad setting.
    """
    from .. import viz

    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(8.4, 4.0), gridspec_kw={"width_ratios": [1, 1.1]})
    fig = axes[0].figure
    img = photo_tensor(photo, size=size, normalize=False)[0].permute(1, 2, 0).clamp(0, 1).numpy()
    setting = f"k={kernel}, s={stride}, p={padding}, d={dilation}, {layers} layers"
    vanished = _vanishes_at(size, kernel, stride, padding, dilation, layers)
    if vanished:
        axes[0].imshow(img)
        axes[0].set_title(setting, fontsize=11)
        for ax in axes:
            ax.set_xticks([])
            ax.set_yticks([])
        axes[1].text(0.5, 0.5, f"the map vanishes at layer {vanished}:\nits input is smaller than the kernel",
                     ha="center", va="center", fontsize=12, color="#d7191c")
        return fig, None
    table = rf_table(kernel, stride, padding, dilation, layers, size)
    viz.plot_rf_on_image(img, table, table.names(), ax=axes[0], legend=False, title=setting)
    cells = [[r.name, f"{r.output_size[0]}×{r.output_size[1]}", f"{r.size[0]:g}", f"{r.stride[0]:g}",
              f"{r.padding[0]:g}"] for r in table]
    axes[1].axis("off")
    tab = axes[1].table(cellText=[["input", f"{size}×{size}", "1", "1", "0"]] + cells,
                        colLabels=["layer", "output", "RF", "stride", "padding"], loc="center", cellLoc="center")
    tab.auto_set_font_size(False)
    tab.set_fontsize(11)
    tab.scale(1, 1.35)
    for i in range(len(cells)):
        tab[i + 2, 0].get_text().set_color(viz.RF_COLOURS[i % len(viz.RF_COLOURS)])
    last = table[-1]
    covered = "the whole image" if last.covers_input else f"{min(1, last.size[0] / size):.0%} of its side"
    axes[1].set_title(f"last layer: RF {last.size[0]:g} px,\ncovers {covered}", fontsize=11)
    fig.tight_layout()
    return fig, table


def rf_static_figure(settings: list[dict[str, Any]], photo: str = "chelsea", size: int = 224):
    """:func:`rf_stack_figure` for several settings, one per row (a static figure)."""
    fig, axes = plt.subplots(len(settings), 2, figsize=(8.4, 3.8 * len(settings)),
                             gridspec_kw={"width_ratios": [1, 1.1]}, squeeze=False)
    for ax_row, setting in zip(axes, settings):
        rf_stack_figure(**{**DEFAULTS, **setting}, photo=photo, size=size, axes=ax_row)
    fig.tight_layout()
    return fig


class RFExplorer(FrameExplorer):
    """Sliders → a stack of convolutions → its receptive fields drawn on a photo.

    Every combination of the slider values (``grid``, default :data:`GRID`; starting values
    are added to it) is drawn in advance, so the sliders work in the static book.
    ``explorer.update(kernel=5)`` moves sliders as a reader does; ``explorer.table`` is the
    :class:`~dcnn_lib.analysis.ReceptiveFields` of the current setting (``None`` when the map
    vanishes). ``photo`` may be a list of photo names (a slider over photos).
    """

    def __init__(self, photo: str | Sequence[str] = "chelsea", size: int = 224,
                 grid: Mapping[str, Sequence[int]] | None = None, precompute: bool | None = None, **values: int) -> None:
        unknown = set(values) - set(DEFAULTS)
        if unknown:
            raise TypeError(f"RFExplorer: unknown control(s) {sorted(unknown)}; controls: {list(DEFAULTS)}")
        grid = {**GRID, **dict(grid or {})}
        for name, v in grid.items():
            lo, hi = LIMITS.get(name, (None, None))
            bad = [x for x in v if lo is not None and not lo <= x <= hi]
            if bad:
                raise ValueError(f"RFExplorer: {name} values {bad} are outside {lo}..{hi}")
        start = {**{k: v for k, v in DEFAULTS.items() if k not in values and v in grid[k]}, **values}
        grid = {k: with_value(v, start[k]) if k in start else list(v) for k, v in grid.items()}
        photos = [photo] if isinstance(photo, str) else list(photo)
        self.size = size
        super().__init__(self._draw_frame, {**grid, "photo": photos}, {**start, "photo": photos[0]},
                         precompute=precompute, fmt="webp", name="RFExplorer")

    def _draw_frame(self, photo: str, **values: int):
        return rf_stack_figure(**values, photo=photo, size=self.size)[0]

    @property
    def table(self):
        v = self.values()
        v.pop("photo")
        return rf_table(**v, size=self.size)


def rf_explorer(photo: str | Sequence[str] = "chelsea", size: int = 224,
                grid: Mapping[str, Sequence[int]] | None = None, precompute: bool | None = None, **values: int) -> RFExplorer:
    """An :class:`RFExplorer` (kernel, stride, padding, dilation, layers; a photo)."""
    return RFExplorer(photo, size, grid, precompute, **values)


__all__ = ["DEFAULTS", "LIMITS", "GRID", "conv_stack", "rf_table", "rf_stack_figure", "rf_static_figure",
           "RFExplorer", "rf_explorer"]
