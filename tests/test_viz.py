"""The book's figure defaults and tables: every figure the library draws is legible at the
column width (smallest text >= dl.viz.MIN_TEXT_PX once scaled to 800 px), figures are opaque,
and any table becomes a themed HTML table with a plain-text twin."""
import matplotlib

matplotlib.use("Agg")

import io  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

import dcnn_lib as dl  # noqa: E402
from dcnn_lib import diagrams, viz, widgets  # noqa: E402


@pytest.fixture(autouse=True)
def book_style():
    with matplotlib.rc_context():
        viz.use_book_style()
        yield
        plt.close("all")


def _history():
    from dcnn_lib.train import History

    h = History(name="run")
    for e in range(1, 4):
        h.append(epoch=e, train_loss=1 / e, train_acc=0.5 + e / 10, val_loss=1.2 / e, val_acc=0.45 + e / 10)
    return h


def _rf():
    return dl.analysis.receptive_field(widgets.conv_stack(3, 2, 1, 1, 3), (1, 16, 16))


CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def _figures():
    torch.manual_seed(0)
    rf = _rf()
    boxes = torch.tensor([[10.0, 10, 50, 50], [12, 12, 52, 52], [60, 60, 90, 90], [62, 58, 92, 88]])
    scores = torch.tensor([0.9, 0.8, 0.7, 0.6])
    return {
        "plot_history": lambda: viz.plot_history([_history(), _history()], ["a", "b"], reference={"d2l": 0.8}),
        "plot_confusion": lambda: viz.plot_confusion(torch.randint(0, 50, (10, 10)), CLASSES),
        "show_images": lambda: viz.show_images(torch.rand(16, 1, 28, 28), titles=CLASSES + CLASSES[:6]),
        "show_misclassified": lambda: viz.show_misclassified(torch.rand(40, 1, 28, 28), torch.randn(40, 10),
                                                             torch.randint(0, 10, (40,)), CLASSES),
        "show_segmentation": lambda: viz.show_segmentation(torch.rand(6, 3, 32, 32),
                                                           {"truth": torch.randint(0, 4, (6, 32, 32))},
                                                           ["bg", "a", "b", "c"]),
        "plot_rf_grid": lambda: viz.plot_rf_grid(rf, rf.names()[:2]),
        "plot_rf_on_image": lambda: viz.plot_rf_on_image(np.random.rand(16, 16), rf, rf.names()),
        "plot_erf": lambda: viz.plot_erf(np.random.rand(16, 16), rf[-1], mass=dl.analysis.erf_mass(
            np.random.rand(16, 16), rf=rf[-1])),
        "rf_stack_figure": lambda: widgets.rf_stack_figure(5, 2, 1, 1, 4, size=64)[0],
        "lrn_figure": lambda: widgets.lrn_figure(torch.rand(6, 12, 12) * 50, channels=(0, 1),
                                                 settings=[{}, {"k": 1.0}]),
        "nms_static_figure": lambda: widgets.nms_static_figure(torch.rand(3, 100, 100), boxes, scores, 0.3),
        "iou_figure": lambda: widgets.iou_figure(boxes[0], boxes[1])[0],
        "draw_module (Inception-v4 A)": lambda: diagrams.draw_module(
            dl.layers.inception_v4_a(384)).figure,
    }


FIGURES = _figures()


@pytest.mark.parametrize("name", list(FIGURES))
def test_every_library_figure_is_legible_at_the_column_width(name):
    fig = FIGURES[name]()
    px = viz.smallest_text_px(fig)
    assert px >= viz.MIN_TEXT_PX, f"{name}: smallest text {px:.1f} px at {viz.COLUMN_PX} px, want >= {viz.MIN_TEXT_PX}"


def test_the_measure_can_fail():
    fig, ax = plt.subplots(figsize=(16, 3))
    ax.set_title("tiny", fontsize=7)
    assert viz.smallest_text_px(fig) < viz.MIN_TEXT_PX             # 7 pt at 100 dpi, scaled by 0.5
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.set_title("fine", fontsize=12)
    ax.tick_params(labelsize=10)
    assert viz.smallest_text_px(fig) == pytest.approx(10 * 100 / 72, rel=0.1)


def test_book_style_saves_opaque_white_figures():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")                                  # what the inline backend does
    img = Image.open(io.BytesIO(buf.getvalue())).convert("RGBA")
    assert img.getpixel((0, 0)) == (255, 255, 255, 255)
    assert fig.dpi == 100 and tuple(fig.get_size_inches()) == (8.0, 4.2)


def test_runtime_setup_applies_the_style():
    with matplotlib.rc_context({"figure.dpi": 72, "figure.facecolor": (1, 1, 1, 0)}):
        dl.runtime.setup("smoke", 0, verbose=False)
        assert plt.rcParams["figure.dpi"] == 100 and plt.rcParams["figure.facecolor"] == "white"


def test_html_table_from_rows_dicts_and_columns():
    t = viz.html_table([{"model": "lenet5", "params": 61_706, "acc": 0.91234},
                        {"model": "alexnet", "params": 61_100_840, "acc": None}],
                       caption="two models", formats={"acc": ".3f"})
    html = t._repr_html_()
    assert '<table class="dataframe dcnn-table">' in html and "<caption>two models</caption>" in html
    assert '<td class="num">61,100,840</td>' in html and '<td class="text">lenet5</td>' in html
    assert "0.912" in html and "<NA>" not in html and "—" in html            # missing: em dash
    text = str(t).splitlines()
    assert text[0] == "two models" and text[1].split() == ["model", "params", "acc"]
    assert text[3].endswith("61,706  0.912")                                 # numbers right-aligned
    same = viz.html_table({"model": ["lenet5", "alexnet"], "params": [61_706, 61_100_840],
                           "acc": [0.91234, None]}, caption="two models", formats={"acc": ".3f"})
    assert str(same) == str(t)
    rows = viz.html_table([("a", 1), ("b", 2)], columns=["name", "n"])
    assert rows.rows == [["a", "1"], ["b", "2"]] and rows.numeric == [False, True]
    assert viz.html_table([("<b>", 1)], columns=["x", "y"]).to_html().count("&lt;b&gt;") == 1


def test_html_table_from_pandas_and_library_tables():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"acc": [0.5, pd.NA], "n": [1, 2]}, index=["a", "b"]).rename_axis("run")
    t = viz.html_table(df)
    assert t.columns == ["run", "acc", "n"] and t.rows[1][1] == "—"
    styled = viz.html_table(df.style.format(precision=2))
    assert styled.to_html().startswith('<div class="dcnn-table">') and "<style" in styled.to_html()
    summary = dl.analysis.summary(widgets.conv_stack(3, 1, 1, 1, 2), (1, 8, 8))
    t = viz.html_table(summary)
    assert len(t) == len(summary.to_records()) and any(t.numeric)


def test_html_table_names_bad_input():
    with pytest.raises(TypeError, match="need columns"):
        viz.html_table([(1, 2)])
    with pytest.raises(ValueError, match="row 1 has 1 cells, expected 2"):
        viz.html_table([(1, 2), (3,)], columns=["a", "b"])
    with pytest.raises(KeyError, match=r"formats for unknown column\(s\) \['z'\]"):
        viz.html_table([{"a": 1}], formats={"z": ".2f"})
    with pytest.raises(ValueError, match="different lengths"):
        viz.html_table({"a": [1, 2], "b": [1]})
