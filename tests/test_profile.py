"""dl.analysis.profile on a tiny model: the structure of the result, never its timings."""
import pytest
import torch
import torch.nn as nn

import dcnn_lib as dl
from dcnn_lib.errors import DcnnTypeError, DcnnValueError


def tiny():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(4, 3))


def test_one_row_per_batch_size_with_median_spread_and_throughput():
    p = dl.analysis.profile(tiny(), (1, 16, 16), batch_sizes=(1, 4), warmup=1, repeats=5)
    assert [r.batch_size for r in p] == [1, 4] and p.names() == ["batch 1", "batch 4"]
    for r in p:
        assert r.repeats == 5
        assert 0 < r.min_s <= r.q1_s <= r.median_s <= r.q3_s <= r.max_s
        assert r.images_per_s == pytest.approx(r.batch_size / r.median_s)
        assert r.ms_per_image == pytest.approx(1e3 * r.median_s / r.batch_size)
    assert p["batch 4"] is p[1]
    assert (p.device, p.dtype, p.channels_last, p.warmup) == ("cpu", "float32", False, 1)
    df = p.to_dataframe()
    assert list(df.index) == [1, 4] and {"median_s", "images_per_s", "q1_s", "q3_s"} <= set(df.columns)
    text, html = str(p), p._repr_html_()
    assert "images / s" in text and "5 timed passes" in text and html.startswith("<table class='dcnn-profile'")


def test_the_model_is_left_as_found():
    model = tiny().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    dl.analysis.profile(model, (1, 16, 16), batch_sizes=(2,), warmup=1, repeats=2)
    assert model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())   # BN statistics too
    dl.analysis.profile(model, (1, 16, 16), batch_sizes=(2,), warmup=0, repeats=1, channels_last=True,
                        dtype=torch.bfloat16)
    assert all(p.dtype == torch.float32 and p.is_contiguous() for p in model.parameters())


def test_options_are_recorded():
    p = dl.analysis.profile(tiny(), (1, 16, 16), batch_sizes=(2,), warmup=0, repeats=1, channels_last=True,
                            dtype=torch.bfloat16)
    assert (p.dtype, p.channels_last) == ("bfloat16", True) and "channels-last" in str(p)


@pytest.mark.parametrize("kwargs,kind,match", [
    ({"batch_sizes": 32}, DcnnTypeError, "batch_sizes"),
    ({"batch_sizes": (1, 0)}, DcnnValueError, "batch_sizes"),
    ({"repeats": 0}, DcnnValueError, "repeats"),
    ({"warmup": 1.5}, DcnnTypeError, "warmup"),
    ({"input_size": (0, 16, 16)}, DcnnValueError, "input_size"),
    ({"input_size": torch.zeros(1, 16, 16)}, DcnnTypeError, "input_size"),
])
def test_bad_arguments_are_named(kwargs, kind, match):
    args = {"input_size": (1, 16, 16), **kwargs}
    with pytest.raises(kind, match=match):
        dl.analysis.profile(tiny(), **args)
    with pytest.raises(DcnnTypeError, match="nn.Module"):
        dl.analysis.profile(lambda x: x, (1, 16, 16))
