"""dl.efficiency: the registry's efficiency table, its agreement with torchvision's published
multiply-adds, the Pareto front and the correlations; dl.ilsvrc's data.

Counts run on the meta device (no memory, no initialisation). torchvision's figures ship in the
installed package (``weights.meta["_ops"]``): nothing here touches the network.
"""
from __future__ import annotations

import math

import pytest
import torch.nn as nn
import torchvision

import dcnn_lib as dl
from dcnn_lib.errors import DcnnValueError


@pytest.fixture(scope="module")
def table():
    return dl.efficiency.efficiency_table()


def _tv_weights(name: str, side: int):
    """torchvision's weights of ``name`` evaluated at ``side`` pixels (IMAGENET1K_V1 first)."""
    enum = list(torchvision.models.get_model_weights(name))
    at_side = [w for w in enum if w.transforms().crop_size[0] == side]
    return next((w for w in at_side if w.name == "IMAGENET1K_V1"), at_side[0])


def test_every_imagenet_classifier_is_in_the_table_with_its_counts(table):
    names = dl.efficiency.imagenet_classifiers()
    assert list(table.index) == names and len(names) >= 20
    for name in names:
        m, row = dl.models.meta(name), table.loc[name]
        assert m.task == "classification" and m.input_size[0] == 3 and min(m.input_size[1:]) >= 224
        assert row["params"] == sum(p.numel() for p in dl.efficiency.build(name, "meta").parameters())
        assert row["gmacs"] > 0 and row["act_mb"] > 0 and row["side"] == m.input_size[-1]
        if m.published.params is not None:          # the registry's exact published counts
            assert row["params"] == m.published.params.value, name
        if m.published.top1 is not None:            # published top-1 carried over, with its source
            assert row["top1"] == m.published.top1.value and row["top1_source"].startswith(m.published.top1.source)
        else:
            assert math.isnan(row["top1"]) and row["top1_source"] == ""
    assert table["top1"].notna().sum() >= 10
    # small Fashion-MNIST configurations and CIFAR networks are not ImageNet classifiers
    assert not {"lenet5", "vgg_small", "resnet56_cifar", "convnext_fashion_small"} & set(names)


def test_the_table_grows_with_the_registry(monkeypatch):
    from dcnn_lib import registry

    before = dl.efficiency.imagenet_classifiers()

    @dl.models.register_model(task="classification", paper="test", year=2026, input_size=(3, 224, 224))
    def tiny_imagenet_net(num_classes: int = 1000) -> nn.Module:
        return nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, num_classes))

    try:
        assert dl.efficiency.imagenet_classifiers() == sorted(before + ["tiny_imagenet_net"])
        row = dl.efficiency.efficiency_table(["tiny_imagenet_net"]).loc["tiny_imagenet_net"]
        assert row["params"] == 3 * 8 * 9 + 8 + 8 * 1000 + 1000
        assert row["gmacs"] * 1e9 == pytest.approx(111 * 111 * 8 * 27 + 8 * 1000)
    finally:
        registry._REGISTRY.pop("tiny_imagenet_net")


def test_mac_totals_equal_torchvisions_published_gflops_within_one_percent(table):
    """Every registered model with a torchvision twin: our count of OUR model equals the figure
    torchvision publishes for ITS model (multiply-adds, despite the name GFLOPS)."""
    twins = [n for n in table.index if dl.models.meta(n).test.torchvision]
    assert len(twins) >= 5, twins
    for name in twins:
        m = dl.models.meta(name)
        weights = _tv_weights(m.test.torchvision, m.input_size[-1])
        published = weights.meta["_ops"]
        assert table.loc[name, "gmacs"] == pytest.approx(published, rel=0.01), (name, published)
        assert table.loc[name, "params"] == weights.meta["num_params"], name


def test_pareto_front_by_hand():
    cost = [1.0, 2.0, 3.0, 2.0, 5.0, float("nan"), 0.5]
    acc = [70.0, 75.0, 74.0, 75.0, 80.0, 99.0, float("nan")]
    # 3.0/74 is beaten by 2.0/75; the two equal points do not beat each other; NaNs are never on it
    assert dl.efficiency.pareto_front(cost, acc) == [True, True, False, True, True, False, False]
    with pytest.raises(DcnnValueError, match="same length"):
        dl.efficiency.pareto_front([1, 2], [1])


def test_correlation_by_hand():
    c = dl.efficiency.correlation([1, 2, 3, 4, float("nan")], [2, 4, 6, 8, 1])
    assert c["n"] == 4 and c["pearson"] == pytest.approx(1) and c["spearman"] == pytest.approx(1)
    assert c["pearson_log"] == pytest.approx(1)
    c = dl.efficiency.correlation([1, 2, 3, 4], [1, 8, 27, 64])     # monotone, not linear
    assert c["spearman"] == pytest.approx(1) and c["pearson"] < 1 and c["pearson_log"] == pytest.approx(1)
    assert dl.efficiency.correlation([1, 2, 3], [3, 2, 1])["spearman"] == pytest.approx(-1)
    ties = dl.efficiency.correlation([1, 1, 2, 3], [1, 2, 3, 4])["spearman"]
    assert 0.9 < ties < 1
    with pytest.raises(DcnnValueError, match="3 pairs"):
        dl.efficiency.correlation([1, 2], [1, 2])


def test_latency_table_rows_per_model_and_batch_never_its_timings():
    lat = dl.efficiency.latency_table(["alexnet"], batch_sizes=(1, 2), warmup=0, repeats=2, max_seconds=0)
    assert list(lat["batch"]) == [1, 2] and set(lat["name"]) == {"alexnet"}
    assert (lat["repeats"] == 1).all() and (lat["ms"] > 0).all()
    assert lat["images_per_s"].iloc[1] == pytest.approx(2e3 / lat["ms"].iloc[1])


def test_unknown_names_are_the_registrys_error():
    with pytest.raises(dl.errors.UnknownModelError, match="resnet50"):
        dl.efficiency.efficiency_table(["resnet5O"])


# ---- ILSVRC ------------------------------------------------------------------------------------


def test_the_winners_series_2010_to_2017():
    w = dl.ilsvrc.winners()
    assert list(w.index) == list(range(2010, 2018))
    assert list(w["top5_error"]) == sorted(w["top5_error"], reverse=True)   # every year better
    assert all(w["source"].str.len() > 0)
    assert w.loc[2013, "team"] == "Clarifai" and "14.8" in w.loc[2013, "note"]


def test_the_lectures_table_is_checked_row_by_row():
    t = dl.ilsvrc.lecture_table()
    assert len(t) == 8 and set(t["verdict"]) <= {"as published", "corrected", "ambiguous"}
    googlenet = t[t["team"].str.startswith("GoogLeNet")].iloc[0]
    assert googlenet["verdict"] == "corrected" and "22 layers" in googlenet["correction"]
    assert all(t.loc[t["verdict"] != "as published", "correction"].str.len() > 0)
