"""dl.analysis.summary on tiny networks whose numbers are worked out by hand."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import dcnn_lib as dl


def tiny_cnn():
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),   # 8x8x8: params 3*8*9 + 8 = 224, MACs 8*8*8 * 27 = 13,824
        nn.ReLU(),
        nn.MaxPool2d(2),                 # 8x4x4 = 128 activations
        nn.Flatten(),
        nn.Linear(128, 10),              # params 1,290, MACs 1,280
    )


def test_hand_worked_rows():
    s = dl.analysis.summary(tiny_cnn(), (3, 8, 8))
    assert [r.name for r in s] == ["0", "1", "2", "3", "4"]
    assert [r.type for r in s] == ["Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear"]
    assert [r.output_shape for r in s] == [(1, 8, 8, 8), (1, 8, 8, 8), (1, 8, 4, 4), (1, 128), (1, 10)]
    assert [r.params for r in s] == [224, 0, 0, 0, 1290]
    assert [r.macs for r in s] == [13_824, 0, 0, 0, 1_280]
    assert [r.activations for r in s] == [512, 512, 128, 128, 10]
    assert s.total_params == 1514 and s.trainable_params == 1514
    assert s.total_macs == 15_104
    assert s.total_activations == 1290
    assert s.output_shape == (1, 10)


def test_strided_dilated_grouped_conv_macs():
    conv = nn.Conv2d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2, bias=False)
    s = dl.analysis.summary(conv, (4, 9, 9))
    # output (9 + 4 - 4 - 1) // 2 + 1 = 5; each output sees 2 input channels * 9 taps
    assert s[0].output_shape == (1, 6, 5, 5)
    assert s[0].macs == 6 * 5 * 5 * 2 * 9
    assert s[0].params == 6 * 2 * 9


def test_per_image_numbers_do_not_depend_on_batch():
    a = dl.analysis.summary(tiny_cnn(), (3, 8, 8))
    b = dl.analysis.summary(tiny_cnn(), (4, 3, 8, 8))
    assert [r.macs for r in a] == [r.macs for r in b]
    assert [r.activations for r in a] == [r.activations for r in b]
    assert b[0].output_shape == (4, 8, 8, 8)


class Shared(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)
        self.scale = nn.Parameter(torch.ones(4))  # owned and used by a non-leaf module
        self.unused = nn.Linear(4, 1)             # never called

    def forward(self, x):
        return self.lin(self.lin(x)) * self.scale


def test_module_called_twice_gets_two_rows_and_is_counted_once():
    s = dl.analysis.summary(Shared(), torch.zeros(2, 4))
    # the container's own use of `scale` is a row of its own, after its children's
    assert [(r.name, r.call) for r in s] == [("lin", 1), ("lin", 2), ("Shared", 1)]
    assert [r.params for r in s] == [20, 0, 4]
    assert s["lin#2"].macs == 16 and s["Shared"].macs == 0 and s["Shared"].type == "Shared"
    assert s["Shared"].activations == 4      # its output is its own (the multiply), not a child's
    assert s.total_params == 29 and s.leaf_params == 24
    assert "5 not on any row" in str(s)       # the unused head


class FunctionalAttention(nn.Module):
    """Like torchvision's Swin attention: children hold the weights, forward uses them directly."""

    def __init__(self, dim=8):
        super().__init__()
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)

    def forward(self, x):                          # N x L x dim
        q, k, v = F.linear(x, self.qkv.weight, self.qkv.bias).chunk(3, -1)
        return F.linear(F.scaled_dot_product_attention(q, k, v), self.proj.weight, self.proj.bias)


@pytest.mark.parametrize("device", [None, "cpu"])
def test_a_containers_own_arithmetic_is_a_row(device):
    # L = 5 tokens of 8: qkv 5·8·24 = 960, QKᵀ 5·5·8 = 200, AV 200, proj 5·8·8 = 320
    s = dl.analysis.summary(nn.Sequential(FunctionalAttention()), torch.randn(1, 5, 8), device=device)
    assert s.names() == ["0"] and s["0"].type == "FunctionalAttention"
    assert s["0"].macs == 960 + 200 + 200 + 320
    assert s["0"].params == 8 * 24 + 24 + 8 * 8 + 8 and s.leaf_params == s.total_params
    assert s["0"].output_shape == (1, 5, 8) and s["0"].activations == 40


def test_index_by_name_position_and_errors():
    s = dl.analysis.summary(tiny_cnn(), (3, 8, 8))
    assert s["4"] is s[-1] and s[0].name == "0"
    assert s.names() == ["0", "1", "2", "3", "4"]
    with pytest.raises(KeyError, match="no layer 'features.9'"):
        s["features.9"]


def test_depth_and_summary_leaf():
    model = nn.Sequential(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()), nn.Flatten())
    s = dl.analysis.summary(model, (1, 5, 5), depth=1)
    assert [r.name for r in s] == ["0", "1"]
    assert s["0"].params == 20 and s["0"].macs == 2 * 9 * 9
    lenet = dl.models.get("lenet5")
    assert "c3" in dl.analysis.summary(lenet, (1, 32, 32)).names()  # PartialConv2d is one row


def test_renderings_and_records():
    s = dl.analysis.summary(tiny_cnn(), (3, 8, 8))
    text = str(s)
    assert "13,824" in text and "1,514 parameters" in text and repr(s) == text
    html = s._repr_html_()
    assert html.startswith("<table") and "<th" in html and "1,290" in html
    assert s.to_records()[0]["macs"] == 13_824
    assert list(s.to_dataframe().index) == s.names()


def test_leaves_the_model_as_it_found_it():
    model = tiny_cnn().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    dl.analysis.summary(model, (3, 8, 8))
    assert model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def test_bad_input_size():
    with pytest.raises(ValueError, match="input_size"):
        dl.analysis.summary(tiny_cnn(), (3, 0, 8))
