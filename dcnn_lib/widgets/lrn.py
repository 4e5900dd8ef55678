"""Local response normalisation (chapter "AlexNet, LRN and ZFNet"): a static figure of both
modes and an explorer over n, k, α, β."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .frames import FrameExplorer, with_value

LRN_DEFAULTS = {"size": 5, "alpha": 1e-4, "beta": 0.75, "k": 2.0}  # AlexNet §3.3
#: The values the book's sliders offer (4 × 2 × 3 × 3 = 72 pictures per channel).
LRN_GRID = {"size": (1, 3, 5, 9), "k": (1.0, 2.0), "alpha": (1e-4, 1e-3, 1e-2), "beta": (0.5, 0.75, 1.0)}


def _lrn_outputs(maps, size: int, alpha: float, beta: float, k: float):
    """``maps`` (C, H, W) → (across, within) normalised, both (C, H, W) numpy arrays."""
    import torch

    from ..layers import LocalResponseNorm

    x = torch.as_tensor(maps, dtype=torch.float32)[None]
    with torch.no_grad():
        return tuple(LocalResponseNorm(size, alpha, beta, k, mode)(x)[0].numpy() for mode in ("across", "within"))


def _lrn_row(axes, maps, channel: int, size: int, alpha: float, beta: float, k: float, label: str = "") -> None:
    """One row of panels for one channel: the map, across-maps LRN, within-map LRN, and a profile."""
    across, within = _lrn_outputs(maps, size, alpha, beta, k)
    a = np.asarray(maps[channel], dtype=float)
    row = a.shape[0] // 2
    panels = [(a, f"map {channel}{label}"),
              (across[channel], f"across maps (n={size})"),
              (within[channel], f"within the map ({size}×{size})")]
    for ax, (img, title) in zip(axes, panels):
        ax.imshow(img, cmap="magma")
        ax.set_title(title, fontsize=10)
        ax.set_xticks([]), ax.set_yticks([])
        ax.axhline(row, color="cyan", lw=0.5, alpha=0.6)
    prof = axes[3]
    peak = max(a[row].max(), 1e-12)
    for values, name, style in ((a, "input", "-"), (across[channel], "across", "--"), (within[channel], "within", ":")):
        scale = values[row].max() or 1.0
        prof.plot(values[row] / scale, style, lw=1.2, label=f"{name} (max {scale / peak:.2f}×)")
    prof.set_title("middle row, ÷ its max", fontsize=10)
    prof.legend(fontsize=8.5, loc="lower center")
    prof.tick_params(labelsize=8.5)


def lrn_figure(maps, channels=(0,), settings=None, size: float = 2.1):
    """Static figure: each channel (rows) under each LRN setting, both modes side by side.

    ``maps``: feature maps ``(C, H, W)`` (tensor or array). ``settings``: dicts of ``size``,
    ``alpha``, ``beta``, ``k`` (paper parameterisation; default AlexNet's). Rows are every
    (setting, channel) pair; columns: the map, across-maps LRN, within-map LRN, a profile.
    """
    settings = list(settings or [LRN_DEFAULTS])
    rows = [(s, c) for s in settings for c in channels]
    fig, axes = plt.subplots(len(rows), 4, figsize=(4 * size * 1.05, len(rows) * size * 1.1), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 1, 1, 1.3]})
    for ax_row, (s, c) in zip(axes, rows):
        s = {**LRN_DEFAULTS, **s}
        label = f"\nk={s['k']:g}, α={s['alpha']:g}, β={s['beta']:g}" if len(settings) > 1 else ""
        _lrn_row(ax_row, maps, c, s["size"], s["alpha"], s["beta"], s["k"], label)
    fig.tight_layout()
    return fig


def _lrn_frame(maps, channel: int, size: int, k: float, alpha: float, beta: float):
    fig, axes = plt.subplots(1, 4, figsize=(8.6, 2.6), gridspec_kw={"width_ratios": [1, 1, 1, 1.3]})
    _lrn_row(axes, maps, channel, size, alpha, beta, k)
    fig.tight_layout()
    return fig


class LRNExplorer(FrameExplorer):
    """Sliders for n, k, α and β (and the channel, when ``grid`` offers several) over feature
    maps ``(C, H, W)``: the map, its across-maps and within-map LRN, and a profile; every
    combination drawn in advance so the sliders work in the static book."""

    def __init__(self, maps, channel: int = 0, grid: Mapping[str, Sequence[Any]] | None = None,
                 precompute: bool | None = None, **initial: float) -> None:
        unknown = set(initial) - set(LRN_DEFAULTS)
        if unknown:
            raise TypeError(f"lrn_explorer: unknown setting(s) {sorted(unknown)}; settings: {list(LRN_DEFAULTS)}")
        if not 0 <= channel < len(maps):
            raise ValueError(f"lrn_explorer: channel={channel} but the maps have {len(maps)} channels (0..{len(maps) - 1})")
        start = {**LRN_DEFAULTS, **initial, "channel": channel}
        grid = {"channel": (channel,), **LRN_GRID, **dict(grid or {})}
        grid = {name: with_value(values, start[name]) for name, values in grid.items()}
        self.maps = maps
        super().__init__(lambda **v: _lrn_frame(maps, **v), grid, start,
                         labels={"alpha": lambda a: f"{a:.0e}"},
                         descriptions={"size": "n", "alpha": "α", "beta": "β"}, precompute=precompute,
                         name="lrn_explorer")


def lrn_explorer(maps, channel: int = 0, grid: Mapping[str, Sequence[Any]] | None = None,
                 precompute: bool | None = None, **initial: float) -> LRNExplorer:
    """An :class:`LRNExplorer` over ``maps`` starting at ``channel`` and the ``initial``
    settings (default AlexNet's: n=5, k=2, α=1e-4, β=0.75)."""
    return LRNExplorer(maps, channel, grid, precompute, **initial)


__all__ = ["LRN_DEFAULTS", "LRN_GRID", "lrn_figure", "LRNExplorer", "lrn_explorer"]
