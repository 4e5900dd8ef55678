"""The receptive-field explorer: its callback (what a slider calls in a live kernel) and its
static fallback."""
import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

import dcnn_lib as dl  # noqa: E402


def test_explorer_callback_recomputes_the_fields():
    explorer = dl.widgets.rf_explorer(size=64, kernel=3, stride=1, padding=1, layers=2)
    assert explorer.table[-1].size == (5, 5)                       # 1 + 2 + 2
    first = bytes(explorer.image.value)
    assert first.startswith(b"\x89PNG")                            # the drawing the widget shows
    explorer.controls["layers"].value = 4                           # a slider move runs the callback
    assert len(explorer.table) == 4 and explorer.table[-1].size == (9, 9)
    assert bytes(explorer.image.value) != first                           # ... redrawn
    table = explorer.update(stride=2, kernel=5, padding=2)          # 5, then + 4·2, + 4·4, + 4·8
    assert table is explorer.table and [r.size[0] for r in table] == [5, 13, 29, 61]
    assert [r.output_size[0] for r in table] == [32, 16, 8, 4]
    assert explorer.values() == {"kernel": 5, "stride": 2, "padding": 2, "dilation": 1, "layers": 4}
    explorer.photo.value = "coffee"                                 # the photo control redraws too
    assert explorer.table[-1].size == (61, 61)


def test_explorer_survives_a_vanishing_map_and_rejects_unknown_controls():
    explorer = dl.widgets.rf_explorer(size=32)
    assert explorer.update(kernel=11, stride=4, padding=0, layers=6) is None   # 32 -> 6 -> 0
    assert explorer.update(layers=1)[-1].output_size == (6, 6)
    with pytest.raises(TypeError, match="unknown control"):
        explorer.update(kernal=3)


def test_static_fallback_draws_every_setting():
    fig = dl.widgets.rf_static_figure([{"stride": 1}, {"dilation": 2, "padding": 2}], size=48)
    assert len(fig.axes) == 4
    assert "RF" in fig.axes[1].get_title() and "d=2" in fig.axes[2].get_title()


def test_lrn_and_nms_explorers_redraw_into_an_image_on_every_change():
    """No Output widget (papermill can hang on its capture): each slider change redraws a PNG."""
    import torch

    maps = torch.rand(6, 12, 12) * 50
    box = dl.widgets.lrn_explorer(maps, channel=1)
    before = box.picture.value
    assert before[:8] == b"\x89PNG\r\n\x1a\n"
    box.controls["beta"].value = 0.25                   # what moving the slider does
    assert box.picture.value != before
    assert not any(type(c).__name__ == "Output" for c in box.children)

    boxes = torch.tensor([[10.0, 10, 50, 50], [12, 12, 52, 52], [60, 60, 90, 90]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    image = torch.rand(3, 100, 100)
    nms = dl.widgets.NMSExplorer(image, boxes, scores, iou_threshold=0.5)
    first = nms.picture.value
    steps = nms.update(step=1)
    assert nms.picture.value != first and len(steps) >= 1
    nms.update(iou_threshold=0.95)                      # nothing overlaps that much: more steps kept
    assert nms.step.max == len(dl.widgets.nms_steps(boxes, scores, 0.95))
