"""dl.analysis.receptive_field and effective_receptive_field.

Tiny networks whose fields are worked out by hand (the recurrence r += (k - 1) d j, j *= s,
P += p j, and unit o's field [o j - P, o j - P + r - 1]), the lecture's worked example,
coordinate round trips, and the property that defines a receptive field: on real
architectures made linear and positive, the analytic field of a centre unit is exactly the
set of input pixels with a nonzero gradient.
"""
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

import dcnn_lib as dl

receptive_field = dl.analysis.receptive_field


def box(row, *unit, clip=False):
    b = row.input_box(*unit, clip=clip)
    return (*b.lo, *b.hi)


# ---- the lecture's worked example -------------------------------------------------------------

def seed_net():
    # 5×5 input, kernel 3×3, padding 1, stride 2, twice: 5×5 -> 3×3 (green) -> 2×2 (orange)
    return nn.Sequential(nn.Conv2d(1, 1, 3, stride=2, padding=1), nn.Conv2d(1, 1, 3, stride=2, padding=1))


def test_the_lectures_worked_example():
    rf = receptive_field(seed_net(), (1, 5, 5))
    green, orange = rf[0], rf[1]
    assert green.output_size == (3, 3) and orange.output_size == (2, 2)
    # green: r = 3, j = 2, P = 1; orange: r = 3 + (3 - 1)·2 = 7, j = 4, P = 1 + 1·2 = 3
    assert (green.size, green.stride, green.padding) == ((3, 3), (2, 2), (1, 1))
    assert (orange.size, orange.stride, orange.padding) == ((7, 7), (4, 4), (3, 3))
    assert box(green, 1, 1) == (1, 1, 3, 3)               # the centre green unit sees pixels 1..3
    assert box(orange, 0, 0) == (-3, -3, 3, 3)            # 7×7, reaching 3 px into the padding
    assert box(orange, 1, 1, clip=True) == (1, 1, 4, 4)   # inside the image: pixels 1..4
    assert orange.input_centre(1, 1) == (4, 4) and orange.start == (0, 0) and green.start == (0, 0)
    assert dl.analysis.conv_output_size(5, 3, 2, 1) == 3 and dl.analysis.conv_output_size(3, 3, 2, 1) == 2


# ---- hand-worked chains ----------------------------------------------------------------------

def test_chain_of_conv_and_pooling():
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(),
                        nn.Conv2d(4, 4, 3, stride=2, padding=1), nn.BatchNorm2d(4),
                        nn.MaxPool2d(2), nn.Conv2d(4, 4, 5, padding=2))
    rf = receptive_field(net, (1, 16, 16))
    assert rf.names() == ["0", "1", "2", "3", "4", "5"]
    assert [r.output_size for r in rf] == [(16, 16), (16, 16), (8, 8), (8, 8), (4, 4), (4, 4)]
    assert [r.size[0] for r in rf] == [3, 3, 5, 5, 7, 23]        # 3; +2·1; +1·2; +4·4
    assert [r.stride[0] for r in rf] == [1, 1, 2, 2, 4, 4]
    assert [r.padding[0] for r in rf] == [1, 1, 2, 2, 2, 10]     # 1; +1·1; +0; +2·4
    assert all(r.aligned and r.uniform for r in rf)
    assert box(rf[-1], 2, 3) == (2 * 4 - 10, 3 * 4 - 10, 2 * 4 - 10 + 22, 3 * 4 - 10 + 22)


def test_dilation_and_groups():
    net = nn.Sequential(nn.Conv2d(4, 4, 3, dilation=2, padding=2, groups=2),
                        nn.Conv2d(4, 4, 3, dilation=4, padding=4, groups=4),
                        nn.Conv2d(4, 4, 3, stride=2, padding=1),
                        nn.Conv2d(4, 4, 3, dilation=2, padding=2))
    rf = receptive_field(net, (4, 32, 32))
    # 1 + 2·2 = 5; 5 + 2·4 = 13; 13 + 2·1 = 15 (j 2); 15 + 2·2·2 = 23
    assert [r.size[0] for r in rf] == [5, 13, 15, 23]
    assert [r.stride[0] for r in rf] == [1, 1, 2, 2]
    assert [r.padding[0] for r in rf] == [2, 6, 7, 11]


def test_asymmetric_kernels_and_strides():
    net = nn.Sequential(nn.Conv2d(1, 1, (1, 7), padding=(0, 3)), nn.Conv2d(1, 1, (7, 1), padding=(3, 0)),
                        nn.Conv2d(1, 1, (3, 1), stride=(2, 1), padding=(1, 0)))
    rf = receptive_field(net, (1, 9, 9))
    assert [r.size for r in rf] == [(1, 7), (7, 7), (9, 7)]
    assert [r.padding for r in rf] == [(0, 3), (3, 3), (4, 3)]
    assert rf[-1].stride == (2, 1) and rf[-1].output_size == (5, 9)
    assert "9 × 7" in str(rf)


def test_ceil_mode_pooling():
    net = nn.Sequential(nn.MaxPool2d(2, 2, ceil_mode=True), nn.Conv2d(1, 1, 3, padding=1),
                        nn.AvgPool2d(3, 2, ceil_mode=True))
    rf = receptive_field(net, (1, 5, 5))
    # 5 -> ceil((5 - 2) / 2) + 1 = 3 (floor mode: 2); the last window holds pixel 4 and a virtual 5
    assert rf[0].output_size == (3, 3) and (rf[0].size, rf[0].stride) == ((2, 2), (2, 2))
    assert box(rf[0], 2, 2) == (4, 4, 5, 5) and box(rf[0], 2, 2, clip=True) == (4, 4, 4, 4)
    assert rf[1].size == (6, 6) and rf[1].padding == (2, 2)       # 2 + 2·2, P = 0 + 1·2
    # 3 -> ceil((3 - 3) / 2) + 1 = 1 window of 3
    assert rf[2].output_size == (1, 1) and rf[2].size == (10, 10)  # 6 + 2·2
    assert dl.analysis.conv_output_size(6, 3, 2, ceil_mode=True) == 3
    assert dl.analysis.conv_output_size(6, 3, 2) == 2


def test_adaptive_and_global_pooling_flatten_linear_see_the_whole_input():
    net = nn.Sequential(nn.AdaptiveAvgPool2d(3), nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(1, 2))
    rf = receptive_field(net, (1, 5, 5))
    pool = rf[0]
    # bins of 5 -> 3: [0, 1], [1, 3], [3, 4] (PyTorch's floor(o n / m) .. ceil((o + 1) n / m) - 1)
    assert [box(pool, o, o)[::2] for o in range(3)] == [(0, 1), (1, 3), (3, 4)]
    assert pool.size == (3, 3) and not pool.uniform
    assert rf[1].size == (5, 5) and rf[1].output_size == (1, 1)
    assert [r.type for r in rf][2:] == ["Flatten", "Linear"]
    assert not rf[-1].spatial and rf[-1].size == (5, 5) and rf[-1].covers_input
    assert box(rf[-1]) == (0, 0, 4, 4)


def test_transposed_convolution_and_upsampling():
    rf = receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3, 2, 1), nn.ConvTranspose2d(1, 1, 2, 2)), (1, 8, 8))
    up = rf[1]
    assert up.output_size == (8, 8) and up.stride == (1, 1)
    # output o comes from input unit o // 2 of the 4×4 map, whose field is [2i - 1, 2i + 1]
    assert [box(up, o, o)[::2] for o in range(8)] == [(2 * (o // 2) - 1, 2 * (o // 2) + 1) for o in range(8)]
    # k = 4, s = 2, p = 1 (FCN, DCGAN): output o gathers inputs i with o = 2i - 1 + t, t = 0..3
    t = receptive_field(nn.ConvTranspose2d(1, 1, 4, 2, 1), (1, 4, 4))[0]
    assert [box(t, o, o)[::2] for o in range(8)] == [(0, 0), (0, 1), (0, 1), (1, 2), (1, 2), (2, 3), (2, 3), (3, 3)]
    assert t.stride == (0.5, 0.5)
    near = receptive_field(nn.Upsample(scale_factor=2, mode="nearest"), (1, 4, 4))[0]
    assert [box(near, o, 0)[0] for o in range(8)] == [0, 0, 1, 1, 2, 2, 3, 3] and near.size == (1, 1)
    bil = receptive_field(nn.Upsample(size=(8, 8), mode="bilinear", align_corners=False), (1, 4, 4))[0]
    # source o/2 - 1/4, clamped at 0: taps floor(src) and floor(src) + 1 (structural, zero weights too)
    assert [box(bil, o, 0)[::2] for o in range(8)] == [(0, 1), (0, 1), (0, 1), (1, 2), (1, 2), (2, 3), (2, 3), (3, 3)]


def test_elementwise_layers_keep_the_field():
    net = nn.Sequential(nn.Conv2d(2, 2, 3, padding=1), nn.BatchNorm2d(2), nn.ReLU(), nn.Dropout(), nn.Sigmoid())
    rf = receptive_field(net, (2, 6, 6))
    assert {(r.size, r.stride, r.padding) for r in rf} == {((3, 3), (1, 1), (1, 1))}


# ---- multi-path --------------------------------------------------------------------------------

class Residual(nn.Module):
    def __init__(self, c=2):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(c, c, 3, padding=1), nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        out = self.conv2(torch.relu(self.conv1(x)))
        out += x                                   # in place, as torchvision's ResNets
        return out


def test_residual_add_is_the_union_of_aligned_paths():
    net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), Residual(), Residual())
    rf = receptive_field(net, (1, 8, 8))
    assert rf.names() == ["0", "1.conv1", "1.conv2", "1.add", "2.conv1", "2.conv2", "2.add"]
    assert rf["1.add"].size == (7, 7) and rf["2.add"].size == (11, 11)   # 3 + 2 + 2, then + 4
    assert rf["1"].size == (7, 7) and rf["1"].type == "Residual"        # a container, by name
    assert all(r.aligned for r in rf) and not rf.unaligned


class Branches(nn.Module):
    """Inception-like: 1×1, 3×3, 5×5 and 3×3 pooling branches concatenated on channels."""

    def __init__(self):
        super().__init__()
        self.b1, self.b3 = nn.Conv2d(1, 1, 1), nn.Conv2d(1, 1, 3, padding=1)
        self.b5, self.pool = nn.Conv2d(1, 1, 5, padding=2), nn.MaxPool2d(3, 1, 1)

    def forward(self, x):
        return torch.cat([self.b1(x), self.b3(x), self.b5(x), self.pool(x)], 1)


def test_concatenation_of_different_fields():
    rf = receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3, 2, 1), Branches()), (1, 8, 8))
    assert [rf[f"1.{b}"].size[0] for b in ("b1", "b3", "b5", "pool")] == [3, 7, 11, 7]   # 3 + (k - 1)·2
    cat = rf["1.cat"]
    assert cat.size == (11, 11) and cat.padding == (5, 5) and cat.aligned and cat.uniform
    assert rf["1"].size == cat.size


class TwoPaths(nn.Module):
    def __init__(self, a, b):
        super().__init__()
        self.a, self.b = a, b

    def forward(self, x):
        return self.a(x) + self.b(x)


class Crop(nn.Module):
    def forward(self, x):
        return x[:, :, :4, :4]


def test_unaligned_merge_is_flagged_and_reported_as_the_union():
    # 3×3/2 pad 1: unit o sees [2o - 1, 2o + 1] (centre 2o); 2×2/2: [2o, 2o + 1] (centre 2o + ½)
    rf = receptive_field(TwoPaths(nn.Conv2d(1, 1, 3, 2, 1), nn.Conv2d(1, 1, 2, 2)), (1, 8, 8))
    add = rf["add"]
    assert not add.aligned and rf.unaligned == [add]
    assert "unaligned merge" in add.note and "0.5 px apart" in add.note
    assert add.size == (3, 3) and box(add, 1, 2) == (1, 3, 3, 5)
    # different strides: a 3×3/2 path (j 2) plus a crop of the input (j 1): the union per unit
    rf = receptive_field(TwoPaths(nn.Conv2d(1, 1, 3, 2, 1), Crop()), (1, 8, 8))
    add = rf["add"]
    assert not add.aligned and "strides 1, 2" in add.note and not add.uniform
    assert [box(add, o, o)[::2] for o in range(4)] == [(-1, 1), (1, 3), (2, 5), (3, 7)]
    assert add.size == (5, 5)
    after = receptive_field(nn.Sequential(TwoPaths(nn.Conv2d(1, 1, 3, 2, 1), Crop()), nn.ReLU()), (1, 8, 8))
    assert not after[-1].aligned and "after an unaligned merge" in str(after)


def test_squeeze_excitation_gate_makes_the_field_global():
    class SE(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.fc = nn.Conv2d(2, 2, 3, padding=1), nn.Linear(2, 2)

        def forward(self, x):
            y = self.conv(x)
            return y * torch.sigmoid(self.fc(y.mean((2, 3)))).view(-1, 2, 1, 1)

    rf = receptive_field(SE(), (2, 8, 8))
    assert rf[-1].output_size == (8, 8) and box(rf[-1], 0, 0) == (-1, -1, 8, 8) and rf[-1].covers_input


# ---- the table -----------------------------------------------------------------------------

def test_index_by_position_name_and_container():
    model = torchvision.models.resnet18(weights=None)
    rf = receptive_field(model, (3, 224, 224))
    assert rf[0] is rf["conv1"] and rf[-1] is rf["fc"]
    assert rf["layer4"].size == (435, 435) and rf["layer4"].stride == (32, 32) and rf["layer4"].output_size == (7, 7)
    assert rf["layer1.0.add"].type == "add" and "layer1.0.relu#2" in rf.names()
    assert rf["flatten"].output_size == (1, 1) and not rf["flatten"].spatial
    with pytest.raises(KeyError, match="no layer 'layer5'.*layer4"):
        rf["layer5"]
    text, html = str(rf), rf._repr_html_()
    assert "layer4.1.conv2" in text and html.startswith("<table") and "435" in html and repr(rf) == text
    assert list(rf.to_dataframe().index) == rf.names()


def test_the_model_is_left_as_found_and_bad_input_is_named():
    model = seed_net().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    receptive_field(model, (1, 5, 5))
    assert model.training and all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    with pytest.raises(ValueError, match="input_size"):
        receptive_field(model, (1, 0, 5))
    with pytest.raises(TypeError, match="nn.Module"):
        receptive_field(lambda x: x, (1, 5, 5))
    with pytest.raises(IndexError, match="outside"):
        receptive_field(model, (1, 5, 5))[-1].input_box(2, 0)


def test_a_forward_that_needs_real_values_runs_on_real_data():
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3)

        def forward(self, x):
            return self.conv(x) if x.abs().sum().item() >= 0 else x

    rf = receptive_field(Branchy(), (1, 8, 8))
    assert rf.traced_on == "cpu" and rf["conv"].size == (3, 3)


# ---- coordinates --------------------------------------------------------------------------

@pytest.mark.parametrize("arch,size", [("vgg16", 224), ("resnet50", 224), ("inception_v3", 299)])
def test_coordinate_round_trips(arch, size):
    rf = receptive_field(torchvision.models.get_model(arch, weights=None, init_weights=False)
                         if arch != "resnet50" else torchvision.models.resnet50(), (3, size, size))
    for row in [r for r in rf if r.spatial and r.uniform][::7]:
        h, w = row.output_size
        ys, xs = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
        cy, cx = row.input_centre(ys.ravel(), xs.ravel())
        b = row.input_box(ys.ravel(), xs.ravel())
        assert np.allclose(cy, (b.lo[0] + b.hi[0]) / 2) and np.allclose(b.hi[1] - b.lo[1] + 1, row.size[1])
        # centre of unit o: o j - P + (r - 1) / 2
        assert np.allclose(cx, xs.ravel() * row.stride[1] - row.padding[1] + (row.size[1] - 1) / 2)
        for y, x in [(0, 0), (h - 1, w - 1), (h // 2, w // 3)]:
            assert row.feature_coord(*row.input_centre(y, x)) == (y, x), row.name


# ---- the property that defines a receptive field -----------------------------------------

def _avg_instead_of_max(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                        return_indices=False):
    assert dilation in (1, (1, 1)) and not return_indices
    return F.avg_pool2d(input, kernel_size, stride, padding, ceil_mode=ceil_mode, count_include_pad=True)


def _linear_positive(model):
    """Weights made positive averages (|w| / Σ|w| per output), biases zero, in float64."""
    model = model.double().eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                w = m.weight.abs() + 1e-3
                m.weight.copy_(w / w.flatten(1).sum(1).view(-1, *[1] * (w.ndim - 1)))
                if m.bias is not None:
                    m.bias.zero_()
    return model


ARCHS = [
    ("alexnet", 127, ["features.2", "features.5", "features.7", "features.9"]),
    ("vgg16", 96, ["features.4", "features.9", "features.16", "features.21"]),
    ("resnet50", 160, ["maxpool", "layer1.0", "layer1", "layer2.0.conv2", "layer2"]),
    ("googlenet", 160, ["maxpool1", "conv3", "maxpool2", "inception3a", "inception3b"]),
    # Mixed_6b.branch7x7_2 follows a 1×7 convolution: a 159×255 field
    ("inception_v3", 299, ["maxpool1", "Mixed_5b", "Mixed_5d", "Mixed_6a", "Mixed_6b.branch7x7_2"]),
]


@pytest.mark.parametrize("arch,size,layers", ARCHS, ids=[a[0] for a in ARCHS])
def test_analytic_field_equals_the_nonzero_gradient_extent(arch, size, layers, monkeypatch):
    """Random input, ReLU removed, positive weights, max pooling replaced by average pooling:
    the network is linear with positive coefficients, so a pixel has a nonzero gradient exactly
    when some path connects it to the unit — the structural receptive field."""
    torch.manual_seed(0)
    kwargs = {"init_weights": False} if arch in ("vgg16", "googlenet", "inception_v3") else {}
    model = torchvision.models.get_model(arch, weights=None, **kwargs)
    analytic = receptive_field(model, (3, size, size))   # the real model: ReLU, max pooling
    monkeypatch.setattr(F, "relu", lambda x, inplace=False: x)
    monkeypatch.setattr(F, "max_pool2d", _avg_instead_of_max)
    model = _linear_positive(model)
    x = torch.randn(1, 3, size, size, dtype=torch.float64)
    checked = 0
    for name in layers:
        row = analytic[name]
        erf = dl.analysis.effective_receptive_field(model, layer=name, inputs=x)
        ys, xs = np.nonzero(erf > 0)
        extent = (ys.min(), xs.min(), ys.max(), xs.max())
        assert extent == box(row, *row.centre_unit, clip=True), (name, row.size, extent)
        checked += not row.covers_input      # the field is a real part of the image
    assert checked >= 3


# ---- effective receptive field -------------------------------------------------------------

def test_erf_of_a_uniform_kernel_is_a_flat_box_and_of_a_stack_is_centred():
    conv = nn.Conv2d(1, 1, 5, padding=2, bias=False)
    nn.init.constant_(conv.weight, 1.0)
    erf = dl.analysis.effective_receptive_field(conv, (1, 11, 11), n_samples=4)
    assert erf.shape == (11, 11)
    assert np.allclose(erf[3:8, 3:8], 1.0) and erf.sum() == pytest.approx(25.0)
    stack = nn.Sequential(*[nn.Conv2d(1, 1, 3, padding=1) for _ in range(6)])
    erf = dl.analysis.effective_receptive_field(stack, (1, 21, 21), n_samples=4)
    ys, xs = np.nonzero(erf)
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (4, 16, 4, 16)   # 13×13 around pixel 10
    assert np.unravel_index(erf.argmax(), erf.shape) != (4, 4)


def test_erf_mass_radius_of_a_gaussian():
    yy, xx = np.indices((61, 61))
    sigma = 4.0
    g = np.exp(-((yy - 30) ** 2 + (xx - 30) ** 2) / (2 * sigma ** 2))
    mass = dl.analysis.erf_mass(g, rf=(41, 41))
    assert mass.radii[0.68] == pytest.approx(1.51 * sigma, abs=0.5)
    assert mass.radii[0.95] == pytest.approx(2.45 * sigma, abs=0.5)
    assert mass.rf_fraction(0.95) == pytest.approx(mass.radii[0.95] / 20)
    assert "68% of the gradient within" in str(mass)
    with pytest.raises(ValueError, match="2-D"):
        dl.analysis.erf_mass(np.zeros((3, 3)))


def test_erf_takes_a_row_and_photos():
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, stride=2, padding=1))
    photo = dl.data.photo_tensor("chelsea", size=32)
    erf = dl.analysis.effective_receptive_field(net, inputs=photo, layer="2")
    rf = receptive_field(net, (3, 32, 32))["2"]
    ys, xs = np.nonzero(erf)
    assert (ys.min(), ys.max()) == (box(rf, 8, 8)[0], box(rf, 8, 8)[2])
    mass = dl.analysis.erf_mass(erf, rf=rf)
    assert mass.centre == (16.0, 16.0) and mass.rf_size == (5.0, 5.0)
    with pytest.raises(ValueError, match="layer='nope'"):
        dl.analysis.effective_receptive_field(net, (3, 32, 32), layer="nope")
