"""Explorers: every picture a slider can show is drawn in advance and wired in the browser
(jsdlink slider.index → Stack.selected_index), so the static book responds; with a kernel
the Python side follows. The built page is checked in tests/test_book.py."""
import matplotlib

matplotlib.use("Agg")

import ipywidgets as W  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import dcnn_lib as dl  # noqa: E402
from dcnn_lib.widgets import FrameExplorer  # noqa: E402


def _fig(a, b):
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.set_title(f"a={a} b={b}")
    return fig


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _walk(child)


def _links(explorer):
    return [w for w in explorer._links if isinstance(w, W.widget_link.DirectionalLink)]


def test_frames_cover_the_grid_and_are_linked_in_the_browser():
    ex = FrameExplorer(_fig, {"a": [1, 2, 3], "b": ["x", "y"]}, {"a": 2}, precompute=True)
    assert ex.frame_count == 6 and ex.drawn == 6                    # every picture drawn now
    pictures = {bytes(img.value) for img in ex._frames.values()}
    assert len(pictures) == 6 and all(p.startswith(b"\x89PNG") for p in pictures)
    # level 0: one stack (a); level 1: one stack per value of a (b); every stack linked
    assert [len(level) for level in ex._stacks] == [1, 3]
    links = _links(ex)
    assert len(links) == 4
    for link in links:
        slider, attr = link.source
        stack, target = link.target
        assert attr == "index" and target == "selected_index" and isinstance(stack, W.Stack)
        assert slider is ex.controls["a" if stack in ex._stacks[0] else "b"]
    # the tree the browser walks leads to the picture Python says is shown
    node = ex.widget.children[-1]
    for level, name in enumerate(ex.axes):
        assert node.selected_index == ex.controls[name].index
        node = node.children[node.selected_index]
    assert node is ex.image and ex.values() == {"a": 2, "b": "x"}


def test_moving_a_slider_in_a_kernel_shows_another_picture():
    seen = []
    ex = FrameExplorer(_fig, {"a": [1, 2], "b": [5, 6]}, on_change=seen.append, precompute=True)
    first = bytes(ex.image.value)
    ex.controls["b"].value = 6                                      # what dragging the slider does
    assert bytes(ex.image.value) != first and seen[-1] == {"a": 1, "b": 6}
    assert ex.widget.children[-1].children[0].selected_index == 1   # Python's stacks follow too
    assert ex.update(a=2) == {"a": 2, "b": 6}
    assert ex.frame(a=1, b=5) == first


def test_smoke_runs_draw_on_demand_by_default(monkeypatch):
    monkeypatch.setenv("DCNN_SCALE", "smoke")                      # CI: nbval and papermill at smoke
    assert FrameExplorer(_fig, {"a": [1, 2, 3], "b": [7]}).drawn == 1
    monkeypatch.setenv("DCNN_SCALE", "book")                       # make execute: the book's frames
    assert FrameExplorer(_fig, {"a": [1, 2, 3], "b": [7]}).drawn == 3


def test_single_values_are_fixed_and_lazy_mode_draws_on_demand():
    ex = FrameExplorer(_fig, {"a": [1, 2, 3], "b": [7]}, precompute=False)
    assert list(ex.controls) == ["a"] and ex.values()["b"] == 7
    assert ex.drawn == 1
    ex.update(a=3)
    assert ex.drawn == 2
    assert "drawn as the sliders reach them" in ex.note.value


def test_bad_grids_and_values_are_named():
    with pytest.raises(ValueError, match="max_frames"):
        FrameExplorer(_fig, {"a": range(20), "b": range(20)}, precompute=True)
    with pytest.raises(ValueError, match="no values for control"):
        FrameExplorer(_fig, {"a": [], "b": [1]})
    ex = FrameExplorer(_fig, {"a": [1, 2], "b": [1]})
    with pytest.raises(ValueError, match=r"a=5 is not one of the values \[1, 2\]"):
        ex.update(a=5)
    with pytest.raises(TypeError, match="unknown control 'c'"):
        ex.update(c=1)


def test_rf_explorer_precomputes_its_grid_and_reports_the_table():
    explorer = dl.widgets.rf_explorer(size=64, grid={"kernel": (3, 5), "stride": (1, 2), "dilation": (1,),
                                                     "layers": (1, 2, 4)}, precompute=True, stride=1, layers=2)
    assert explorer.frame_count == 12 and explorer.drawn == 12
    assert explorer.table[-1].size == (5, 5)                        # 1 + 2 + 2
    first = bytes(explorer.image.value)
    assert first[:4] == b"RIFF" and first[8:12] == b"WEBP"           # photo frames: WebP
    explorer.controls["layers"].value = 4
    assert len(explorer.table) == 4 and explorer.table[-1].size == (9, 9)
    assert bytes(explorer.image.value) != first
    explorer.update(stride=2, kernel=5)                             # 5, then + 4·2, + 4·4, + 4·8
    assert [r.size[0] for r in explorer.table] == [5, 13, 29, 61]
    assert [r.output_size[0] for r in explorer.table] == [31, 15, 7, 3]       # padding 1: (64 + 2 - 5) // 2 + 1
    assert explorer.values() == {"kernel": 5, "stride": 2, "padding": 1, "dilation": 1, "layers": 4,
                                 "photo": "chelsea"}


def test_rf_explorer_survives_a_vanishing_map_and_checks_its_arguments():
    explorer = dl.widgets.rf_explorer(size=32, grid={"kernel": (11,), "stride": (4,), "padding": (0,),
                                                     "dilation": (1,), "layers": (1, 6)}, precompute=False)
    explorer.update(layers=6)                                       # 32 -> 6 -> 0: no table, a picture
    assert explorer.table is None and explorer.drawn == 2
    with pytest.raises(TypeError, match="unknown control"):
        dl.widgets.rf_explorer(kernal=3)
    with pytest.raises(ValueError, match=r"kernel values \[13\] are outside 1..11"):
        dl.widgets.rf_explorer(grid={"kernel": (13,)})


def test_static_rf_figure_draws_every_setting():
    fig = dl.widgets.rf_static_figure([{"stride": 1}, {"dilation": 2, "padding": 2}], size=48)
    assert len(fig.axes) == 4
    assert "RF" in fig.axes[1].get_title() and "d=2" in fig.axes[2].get_title()


def test_lrn_and_nms_explorers_carry_their_frames():
    maps = torch.rand(6, 12, 12) * 50
    lrn = dl.widgets.lrn_explorer(maps, channel=1, grid={"size": (3, 5), "alpha": (1e-4,), "k": (2.0,),
                                                         "beta": (0.5, 0.75)}, precompute=True)
    assert lrn.frame_count == 4 and lrn.drawn == 4 and lrn.values()["channel"] == 1
    before = bytes(lrn.image.value)
    lrn.controls["beta"].value = 0.5
    assert bytes(lrn.image.value) != before
    assert not any(isinstance(w, W.Output) for w in _walk(lrn.widget))   # papermill can hang on Output
    with pytest.raises(ValueError, match="channel=9"):
        dl.widgets.lrn_explorer(maps, channel=9)

    boxes = torch.tensor([[10.0, 10, 50, 50], [12, 12, 52, 52], [60, 60, 90, 90]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    nms = dl.widgets.NMSExplorer(torch.rand(3, 100, 100), boxes, scores, iou_threshold=0.5, thresholds=(0.5, 0.95),
                                 precompute=True)
    longest = max(len(dl.widgets.nms_steps(boxes, scores, t)) for t in (0.5, 0.95))
    assert nms.frame_count == 2 * (longest + 1) == nms.drawn
    first = bytes(nms.image.value)
    steps = nms.update(step=1)
    assert bytes(nms.image.value) != first and steps == dl.widgets.nms_steps(boxes, scores, 0.5)
    assert nms.update(iou_threshold=0.95) == dl.widgets.nms_steps(boxes, scores, 0.95)
