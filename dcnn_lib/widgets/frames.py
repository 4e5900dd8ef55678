"""Explorers that respond without a kernel: one picture per point of a grid of slider values.

A :class:`FrameExplorer` draws one picture (a matplotlib figure, as PNG) for every combination
of the values its sliders offer, and keeps them in nested ``ipywidgets.Stack`` widgets, one
level per slider. Each slider's ``index`` is linked *in the browser* (``jsdlink``) to the
``selected_index`` of every stack of its level, so moving a slider in the static book (no
kernel, only the saved widget state) shows another picture. With a kernel the same links
work and Python observers keep :meth:`FrameExplorer.values` and any readout up to date;
``precompute=False`` draws each picture only when a slider first reaches it (live, for grids
too large to draw ahead).

The widget tree (saved in the notebook's widget state, rendered by the book)::

    VBox
    ├── HBox of SelectionSliders      (one per control with more than one value)
    ├── HTML note                     ("N pictures, precomputed: ...")
    └── Stack  (level 0, selected_index ← slider 0 index)
        └── Stack ...                 (level 1, selected_index ← slider 1 index)
            └── Image                 (one PNG per point of the grid)
"""
from __future__ import annotations

import io
from typing import Any, Callable, Mapping, Sequence

import matplotlib.pyplot as plt

#: Pictures drawn at most when ``precompute=True`` (a page carries all of them).
MAX_FRAMES = 160
#: Resolution of explorer pictures: a figure 8 inches wide fills an 800 px column.
FRAME_DPI = 100


def png(fig, dpi: int = FRAME_DPI, colours: int | None = 256, fmt: str = "png") -> bytes:
    """``fig`` as image bytes on an opaque white background (then closed): what an
    ``ipywidgets.Image`` shows.

    ``fmt="png"``: ``colours`` (default 256) reduces the picture to a palette, which makes
    plot-like frames (a page embeds dozens) three to five times smaller; ``None`` keeps full
    colour. ``fmt="webp"`` (lossy, quality 85) suits frames made mostly of a photo: half the
    size of a 256-colour PNG.

    Explorers draw into ``Image`` widgets, never into ``Output`` widgets: an Output widget
    captures the kernel's display messages, and papermill/nbclient can wait forever on that
    capture when a notebook is executed headless (seen in CI)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    plt.close(fig)
    if fmt not in ("png", "webp"):
        raise ValueError(f"png: fmt={fmt!r}; expected 'png' or 'webp'")
    if fmt == "png" and not colours:
        return buf.getvalue()
    from PIL import Image

    buf.seek(0)
    img = Image.open(buf).convert("RGB")
    out = io.BytesIO()
    if fmt == "webp":
        img.save(out, format="webp", quality=85)
    else:
        img.quantize(colours, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(
            out, format="png", optimize=True)
    return out.getvalue()


def _label(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class FrameExplorer:
    """Sliders over ``grid`` and one picture per combination of their values.

    ``draw(**values)`` returns a matplotlib figure for one combination (every control of
    ``grid``, by name). ``grid`` maps control names to the values a slider offers, in order;
    a control with one value is fixed (no slider). ``value`` chooses the starting point
    (default: the first value of each control). ``labels`` (optional) maps a control name to
    a function that writes a value for the slider's readout; ``descriptions`` to the text
    left of the slider.

    ``precompute=True`` draws every picture now (at most ``max_frames``), so the book
    responds without a kernel; ``precompute=False`` draws a picture when a slider first
    reaches it (a live kernel only; the static book shows only the pictures drawn so far).
    The default, ``None``, precomputes unless the run is at ``smoke`` scale
    (``DCNN_SCALE=smoke``: CI's nbval and papermill runs, which need no frames).
    ``on_change(values)`` is called after every change in a kernel. ``fmt``: the pictures'
    format, ``"png"`` or ``"webp"`` (see :func:`png`).
    """

    def __init__(self, draw: Callable[..., Any], grid: Mapping[str, Sequence[Any]],
                 value: Mapping[str, Any] | None = None, *, labels: Mapping[str, Callable[[Any], str]] | None = None,
                 descriptions: Mapping[str, str] | None = None, precompute: bool | None = None,
                 max_frames: int = MAX_FRAMES, dpi: int = FRAME_DPI, fmt: str = "png",
                 on_change: Callable[[dict[str, Any]], None] | None = None, name: str = "explorer") -> None:
        import ipywidgets as W

        self.name = name
        self.grid = {k: list(v) for k, v in grid.items()}
        empty = [k for k, v in self.grid.items() if not v]
        if empty:
            raise ValueError(f"{name}: no values for control(s) {empty}; give each control at least one value")
        value = dict(value or {})
        unknown = set(value) - set(self.grid)
        if unknown:
            raise TypeError(f"{name}: unknown control(s) {sorted(unknown)}; controls: {list(self.grid)}")
        for k, v in value.items():
            if v not in self.grid[k]:
                raise ValueError(f"{name}: {k}={v!r} is not one of the values {self.grid[k]}")
        self._draw, self._dpi, self._fmt, self._on_change = draw, dpi, fmt, on_change
        if precompute is None:
            from ..runtime import resolve_scale

            precompute = resolve_scale("auto") != "smoke"
        self.axes = [k for k, v in self.grid.items() if len(v) > 1]        # controls with a slider
        self.frame_count = 1
        for k in self.axes:
            self.frame_count *= len(self.grid[k])
        if precompute and self.frame_count > max_frames:
            sizes = " × ".join(f"{len(self.grid[k])} {k}" for k in self.axes)
            raise ValueError(f"{name}: {sizes} = {self.frame_count} pictures to precompute, more than "
                             f"max_frames={max_frames}; offer fewer values per slider, or pass "
                             "precompute=False (a live kernel draws each picture on demand)")
        labels, descriptions = dict(labels or {}), dict(descriptions or {})
        style = {"description_width": "initial"}
        self.controls = {
            k: W.SelectionSlider(options=[(labels.get(k, _label)(v), v) for v in self.grid[k]],
                                 value=value.get(k, self.grid[k][0]), description=descriptions.get(k, k),
                                 continuous_update=True, style=style, layout=W.Layout(width="250px"))
            for k in self.axes}
        self._fixed = {k: value.get(k, v[0]) for k, v in self.grid.items() if len(v) == 1}
        self._frames: dict[tuple[int, ...], Any] = {}
        self._stacks: list[list[Any]] = [[] for _ in self.axes]
        root = self._build(0, ())
        self._links = [W.jsdlink((self.controls[k], "index"), (stack, "selected_index"))
                       for level, k in enumerate(self.axes) for stack in self._stacks[level]]
        if precompute:
            for key in self._frames:
                self._render(key)
        else:
            self._render(self._key())
        fixed = ", ".join(f"{k} = {_label(v)}" for k, v in self._fixed.items())
        note = (f"{self.frame_count} pictures, drawn in advance for every combination of the slider values: "
                "the sliders work in the book without a running kernel" if precompute else
                "pictures are drawn as the sliders reach them: run the notebook to explore")
        self.note = W.HTML(f"<small>{note}{'; fixed: ' + fixed if fixed else ''}.</small>")
        self.widget = W.VBox([W.HBox(list(self.controls.values()), layout=W.Layout(flex_flow="row wrap")),
                              self.note, root])
        for c in self.controls.values():
            c.observe(self._changed, names="value")

    # -- the widget tree ------------------------------------------------------------------------
    def _build(self, level: int, prefix: tuple[int, ...]):
        import ipywidgets as W

        if level == len(self.axes):
            image = W.Image(format=self._fmt, layout=W.Layout(max_width="100%"))
            self._frames[prefix] = image
            return image
        k = self.axes[level]
        children = [self._build(level + 1, prefix + (i,)) for i in range(len(self.grid[k]))]
        stack = W.Stack(children, selected_index=self.controls[k].index)
        self._stacks[level].append(stack)
        return stack

    def _key(self) -> tuple[int, ...]:
        return tuple(self.controls[k].index for k in self.axes)

    def _values_at(self, key: tuple[int, ...]) -> dict[str, Any]:
        return {**self._fixed, **{k: self.grid[k][i] for k, i in zip(self.axes, key)}}

    def _render(self, key: tuple[int, ...]) -> None:
        image = self._frames[key]
        if not image.value:
            out = self._draw(**self._values_at(key))
            fig = out[0] if isinstance(out, tuple) else out
            image.value = png(fig, self._dpi, fmt=self._fmt)

    def _changed(self, change: Any = None) -> None:
        for level, k in enumerate(self.axes):          # what the browser links do, for Python's view
            for stack in self._stacks[level]:
                stack.selected_index = self.controls[k].index
        self._render(self._key())
        if self._on_change is not None:
            self._on_change(self.values())

    # -- public ---------------------------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        """The current value of every control (fixed ones included)."""
        return {k: self.controls[k].value if k in self.controls else self._fixed[k] for k in self.grid}

    def update(self, **values: Any) -> dict[str, Any]:
        """Move sliders as a reader would (each value must be one the slider offers); returns
        :meth:`values`."""
        for k, v in values.items():
            if k not in self.grid:
                raise TypeError(f"{self.name}.update: unknown control {k!r}; controls: {list(self.grid)}")
            if v not in self.grid[k]:
                raise ValueError(f"{self.name}.update: {k}={v!r} is not one of the values {self.grid[k]}; "
                                 f"build the explorer with grid={{{k!r}: [...]}} to offer it")
        for k, v in values.items():
            if k in self.controls:
                self.controls[k].value = v
        return self.values()

    @property
    def image(self):
        """The ``Image`` widget of the picture shown now."""
        return self._frames[self._key()]

    @property
    def drawn(self) -> int:
        """How many pictures have been drawn so far."""
        return sum(1 for image in self._frames.values() if image.value)

    def frame(self, **values: Any) -> bytes:
        """The picture shown for ``values`` (missing controls: their current value); drawn if needed."""
        current = {**self.values(), **values}
        key = tuple(self.grid[k].index(current[k]) for k in self.axes)
        self._render(key)
        return bytes(self._frames[key].value)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def with_value(values: Sequence[Any], value: Any) -> list[Any]:
    """``values`` with ``value`` added in sorted position when missing (a starting value a
    caller asks for is always on the slider)."""
    out = list(values)
    if value not in out:
        out = sorted([*out, value])
    return out


__all__ = ["FrameExplorer", "png", "with_value", "MAX_FRAMES", "FRAME_DPI"]
