"""LeNet-5 against the 1998 paper, and the modern variant."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import dcnn_lib as dl
from dcnn_lib.layers import EuclideanRBF, PartialConv2d, ScaledTanh, Subsampling
from dcnn_lib.layers.rbf import DIGIT_BITMAPS
from dcnn_lib.models.classification.lenet import C3_TABLE

# Table I of the paper, typed from the page: rows are S2 maps, columns C3 maps 0..15.
TABLE_I = """
X...XXX..XXXX.XX
XX...XXX..XXXX.X
XXX...XXX..X.XXX
.XXX..XXXX..X.XX
..XXX..XXXX.XX.X
...XXX..XXXX.XXX
"""

# §II-B, trainable parameters and connections per layer
PAPER = {"c1": (156, 122_304), "s2": (12, 5_880), "c3": (1_516, 151_600), "s4": (32, 2_000),
         "c5": (48_120, 48_120), "f6": (10_164, 10_164)}


def test_c3_table_is_table_one():
    rows = TABLE_I.split()
    expected = torch.tensor([[ch == "X" for ch in row] for row in rows]).T  # C3 x S2
    assert torch.equal(dl.models.get("lenet5").c3.connection_mask(), expected)
    assert [len(t) for t in C3_TABLE] == [3] * 6 + [4] * 9 + [6]


def test_per_layer_parameters_and_connections_equal_the_paper():
    model = dl.models.get("lenet5")
    s = dl.analysis.summary(model, (1, 32, 32))
    for name, (params, connections) in PAPER.items():
        r = s[name]
        assert r.params == params, name
        per_output = 5 * r.activations if r.type == "Subsampling" else r.macs + r.activations
        assert per_output == connections, name
    assert s["output"].params == 0 and s["output"].macs == 840
    total_connections = sum(c for _, c in PAPER.values()) + s["output"].macs
    assert total_connections == dl.models.meta("lenet5").published.other["connections"].value == 340_908
    assert s.trainable_params == s.total_params == 60_000
    assert [r.output_shape for r in s if r.name in PAPER] == [
        (1, 6, 28, 28), (1, 6, 14, 14), (1, 16, 10, 10), (1, 16, 5, 5), (1, 120, 1, 1), (1, 84)]


def test_modern_variant_counts():
    assert sum(p.numel() for p in dl.models.get("lenet5_relu").parameters()) == 61_706
    assert dl.models.meta("lenet5_relu").published.params.value == 61_706
    bn = dl.models.get("lenet5_relu", batch_norm=True)
    assert any(isinstance(m, nn.BatchNorm2d) for m in bn.modules())


@pytest.mark.parametrize("name", ["lenet5", "lenet5_relu"])
def test_forward_backward(name):
    model = dl.models.get(name)
    x = torch.randn(4, 1, 32, 32)
    out = model(x)
    assert out.shape == (4, 10)
    F.cross_entropy(out, torch.tensor([0, 1, 2, 3])).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_partial_conv_equals_a_masked_dense_conv():
    torch.manual_seed(0)
    layer = PartialConv2d(6, C3_TABLE, 5)
    dense = layer.dense_weight()
    mask = layer.connection_mask()
    assert torch.all(dense[~mask] == 0)
    x = torch.randn(2, 6, 14, 14)
    ref = F.conv2d(x, dense.detach(), layer.bias.detach())
    assert torch.allclose(layer(x), ref, atol=1e-6)
    # every weight of map j multiplies only its table inputs: perturbing another input is invisible
    x2 = x.clone()
    x2[:, 5] += 1.0                     # map 5 feeds C3 maps whose table contains 5
    changed = (layer(x2) - layer(x)).abs().amax(dim=(0, 2, 3)) > 0
    assert changed.tolist() == [5 in t for t in C3_TABLE]


def test_partial_conv_rejects_a_bad_table():
    with pytest.raises(ValueError, match=r"table\[1\]"):
        PartialConv2d(3, [(0, 1), (2, 3)], 3)


def test_subsampling_is_sum_times_coefficient_plus_bias():
    layer = Subsampling(2)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([0.5, -2.0]))
        layer.bias.copy_(torch.tensor([1.0, 0.0]))
    x = torch.arange(32.0).reshape(1, 2, 4, 4)
    out = layer(x)
    assert out[0, 0, 0, 0] == 0.5 * (0 + 1 + 4 + 5) + 1.0
    assert out[0, 1, 1, 1] == -2.0 * (26 + 27 + 30 + 31)
    assert sum(p.numel() for p in layer.parameters()) == 4


def test_scaled_tanh_maps_one_to_one():
    f = ScaledTanh()
    assert abs(f(torch.tensor(1.0)).item() - 1.0) < 1e-4
    assert abs(f(torch.tensor(-1.0)).item() + 1.0) < 1e-4


def test_rbf_centres_are_fixed_distinct_digit_drawings():
    assert all(len(b) == 12 and all(len(r) == 7 for r in b) for b in DIGIT_BITMAPS.values())
    rbf = EuclideanRBF(84, 10)
    c = rbf.centres
    assert c.shape == (10, 84) and set(c.unique().tolist()) == {-1.0, 1.0}
    assert torch.cdist(c, c).add(torch.eye(10) * 99).min() > 2  # pairwise distinct
    assert list(rbf.parameters()) == []
    x = c[3:4].clone()
    assert rbf(x).argmax().item() == 3 and rbf(x)[0, 3] == 0
    assert EuclideanRBF(84, 12).centres.shape == (12, 84)   # extra classes get random codes


def test_lecun98_initialisation_bounds():
    model = dl.models.get("lenet5")
    assert model.c1.weight.abs().max() <= 2.4 / 25
    assert model.f6.weight.abs().max() <= 2.4 / 120
    bound = 2.4 / model.c3.row_fan_in.float()
    assert torch.all(model.c3.weight.abs().amax(dim=(1, 2)) <= bound)


def test_bad_options_and_inputs():
    with pytest.raises(ValueError, match="activation must be one of"):
        dl.models.classification.lenet.LeNet5(activation="gelu")
    with pytest.raises(ValueError, match="layer 'c5'.*got 4×4.*designed for inputs of \\(1, 32, 32\\)"):
        dl.models.get("lenet5")(torch.zeros(1, 1, 28, 28))
    with pytest.raises(ValueError, match="layer 'c1' \\(Conv2d\\) expects 1 input channel, got 3"):
        dl.models.get("lenet5_relu")(torch.zeros(1, 3, 32, 32))
