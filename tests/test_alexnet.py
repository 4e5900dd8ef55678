"""AlexNet, LRN and ZFNet: the layer against its formulas and PyTorch, the models against the
papers' layer sizes. (Twin loading, parameter references and the forward/backward contract of
every registered model are also checked generically in test_models.py.)"""
import itertools

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import dcnn_lib as dl
from dcnn_lib.layers import LocalResponseNorm
from dcnn_lib.models.classification.alexnet import ALEXNET_2012, PAPER_NEURONS, AlexNet


def _maps(shape=(2, 11, 9, 8), scale=20.0, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * scale


# ---------------------------------------------------------------------------------------------
# Local response normalisation
def _across_by_hand(a, n, alpha, beta, k):
    """§3.3 of the paper, literally: b_i = a_i / (k + α Σ_{j=max(0, i-n/2)}^{min(N-1, i+n/2)} a_j²)^β."""
    out = torch.empty_like(a)
    channels = a.shape[1]
    for i in range(channels):
        lo, hi = max(0, i - n // 2), min(channels - 1, i + n // 2)
        out[:, i] = a[:, i] / (k + alpha * (a[:, lo:hi + 1] ** 2).sum(1)) ** beta
    return out


@pytest.mark.parametrize("n", [1, 3, 5, 7])
def test_lrn_across_is_the_papers_formula(n):
    a = _maps()
    got = LocalResponseNorm(n, 1e-4, 0.75, 2.0)(a)
    assert torch.allclose(got, _across_by_hand(a, n, 1e-4, 0.75, 2.0), rtol=1e-12, atol=0)


@pytest.mark.parametrize("n,alpha,beta,k", [(5, 1e-4, 0.75, 2.0), (2, 1e-3, 0.5, 1.0), (4, 3e-4, 1.0, 0.5),
                                            (7, 2e-5, 0.75, 1.0), (1, 1e-2, 2.0, 3.0)])
def test_lrn_across_equals_torch_with_alpha_times_n(n, alpha, beta, k):
    a = _maps(scale=30.0).float()
    ours = LocalResponseNorm(n, alpha, beta, k)
    theirs = nn.LocalResponseNorm(n, alpha=alpha * n, beta=beta, k=k)  # PyTorch divides α by n
    assert torch.allclose(ours(a), theirs(a), rtol=1e-5, atol=1e-6)
    assert torch.allclose(ours.to_torch()(a), theirs(a), rtol=0, atol=0)
    back = LocalResponseNorm.from_torch(theirs)
    assert (back.size, back.beta, back.k) == (n, beta, k) and back.alpha == pytest.approx(alpha)


def test_lrn_alexnet_constants_differ_from_torch_with_the_same_numbers():
    """Same numbers, different layers: the conventions really differ (the test can fail)."""
    a = _maps(scale=100.0).float()
    assert not torch.allclose(LocalResponseNorm(5, 1e-4, 0.75, 2.0)(a), nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0)(a))


def test_lrn_within_equals_caffe_within_channel():
    """Caffe WITHIN_CHANNEL: x · (1 + α_caffe/n² · Σ_{n×n} x²)^-β with zero padding, α_caffe = α·n²."""
    a = _maps(scale=10.0)
    for n in (1, 3, 5):
        alpha, beta = 1e-3, 0.75
        box_sum = F.avg_pool2d(a * a, n, stride=1, padding=n // 2, count_include_pad=True) * n * n
        caffe = a * (1 + (alpha * n * n) / (n * n) * box_sum) ** -beta
        assert torch.allclose(LocalResponseNorm(n, alpha, beta, 1.0, mode="within")(a), caffe, rtol=1e-12)


def _affected(mode, n, c=5, y=4, x=3):
    """Which outputs change when one input unit changes."""
    a = _maps(shape=(1, 11, 9, 8)).abs() + 1
    lrn = LocalResponseNorm(n, 1e-2, 0.75, 1.0, mode=mode)
    b = a.clone()
    b[0, c, y, x] += 5.0
    return (lrn(a) - lrn(b)).abs()[0] > 0


@pytest.mark.parametrize("n", [3, 4, 5])
def test_lrn_within_stays_inside_the_map_and_the_window(n):
    changed = _affected("within", n)
    c, y, x = 5, 4, 3
    assert changed[c].any() and not changed[torch.arange(11) != c].any()   # only map c
    rows, cols = changed[c].nonzero().T
    # output (i, j) sums i - n//2 .. i + (n-1)//2: it sees row y when y - (n-1)//2 <= i <= y + n//2
    assert rows.min() == y - (n - 1) // 2 and rows.max() == y + n // 2
    assert cols.min() == x - (n - 1) // 2 and cols.max() == x + n // 2
    assert len(rows) == n * n


@pytest.mark.parametrize("n", [3, 4, 5])
def test_lrn_across_stays_at_the_location_and_spans_n_maps(n):
    changed = _affected("across", n)
    c, y, x = 5, 4, 3
    where = changed.nonzero()
    assert (where[:, 1] == y).all() and (where[:, 2] == x).all()           # same position only
    assert sorted(where[:, 0].tolist()) == list(range(c - (n - 1) // 2, c + n // 2 + 1))


def test_lrn_receptive_field_across_keeps_it_within_grows_it():
    """The receptive-field tool sees LRN's structure: across maps is pointwise in space,
    within a map an n×n window (and AlexNet's pool5 sees 195×195 pixels, stride 32)."""
    for mode, grown in (("across", 0), ("within", 4)):
        net = nn.Sequential(nn.Conv2d(3, 8, 3), LocalResponseNorm(5, mode=mode))
        assert dl.analysis.receptive_field(net, (3, 32, 32))[-1].size == (3 + grown, 3 + grown)
    rf = dl.analysis.receptive_field(dl.models.get("alexnet_paper"), (3, 224, 224))["features.pool5"]
    assert rf.size == (195, 195) and rf.stride == (32, 32)


def test_lrn_rejects_bad_arguments_and_shapes():
    for kwargs in ({"size": 0}, {"size": 2.5}, {"mode": "spatial"}, {"alpha": -1.0}, {"k": 0.0}):
        with pytest.raises(ValueError, match="LocalResponseNorm"):
            LocalResponseNorm(**kwargs)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        LocalResponseNorm()(torch.zeros(3, 8, 8))
    with pytest.raises(ValueError, match="across maps only"):
        LocalResponseNorm(mode="within").to_torch()


def test_lrn_has_no_parameters_and_correct_gradients():
    for mode in ("across", "within"):
        lrn = LocalResponseNorm(3, 1e-2, 0.75, 1.0, mode=mode)
        assert not list(lrn.parameters())
        x = _maps(shape=(1, 4, 5, 5), scale=3.0).requires_grad_()
        assert torch.autograd.gradcheck(lrn, (x,))


# ---------------------------------------------------------------------------------------------
# AlexNet 2012: the paper's layer sizes
# §3.5: (kernels, kernel height, width, depth) per conv layer; fully connected (outputs, inputs).
PAPER_CONVS = {"conv1": (96, 11, 11, 3), "conv2": (256, 5, 5, 48), "conv3": (384, 3, 3, 256),
               "conv4": (384, 3, 3, 192), "conv5": (256, 3, 3, 192)}
PAPER_FCS = {"fc6": (4096, 6 * 6 * 256), "fc7": (4096, 4096), "fc8": (1000, 4096)}


def _paper_params():
    conv = {k: n * (h * w * d + 1) for k, (n, h, w, d) in PAPER_CONVS.items()}
    fc = {k: out * (inp + 1) for k, (out, inp) in PAPER_FCS.items()}
    return {**conv, **fc}


def test_alexnet_paper_parameters_follow_from_the_papers_layer_sizes():
    per_layer = _paper_params()
    assert sum(per_layer.values()) == 60_965_224                      # "60 million parameters"
    model = dl.models.get("alexnet_paper")
    for name, count in per_layer.items():
        part = "features" if name.startswith("conv") else "classifier"
        layer = model.get_submodule(f"{part}.{name}")
        assert sum(p.numel() for p in layer.parameters()) == count, name
    assert sum(p.numel() for p in model.parameters()) == dl.models.meta("alexnet_paper").published.params.value
    fc_share = sum(per_layer[k] for k in PAPER_FCS) / sum(per_layer.values())
    assert fc_share > 0.96                                            # the parameters sit in the FC layers


def test_alexnet_paper_kernel_shapes_and_two_towers():
    model = dl.models.get("alexnet_paper")
    for name, (n, h, w, d) in PAPER_CONVS.items():
        conv = model.features.get_submodule(name)
        assert tuple(conv.weight.shape) == (n, d, h, w), name
        assert conv.groups == (2 if name in ("conv2", "conv4", "conv5") else 1), name


def test_a_tower_never_sees_the_other_gpus_maps():
    conv2 = dl.models.get("alexnet_paper").features.conv2           # 96 -> 256, groups 2
    x = torch.randn(1, 96, 27, 27, requires_grad=True)
    conv2(x)[:, :128].sum().backward()                                # tower 1's outputs
    assert x.grad[:, :48].abs().sum() > 0 and x.grad[:, 48:].abs().sum() == 0
    conv3 = dl.models.get("alexnet_paper").features.conv3           # sees both towers
    y = torch.randn(1, 256, 13, 13, requires_grad=True)
    conv3(y)[:, :192].sum().backward()
    assert y.grad[:, 128:].abs().sum() > 0


def test_alexnet_paper_sizes_224_to_55_and_the_neuron_counts():
    model = dl.models.get("alexnet_paper")
    s = dl.analysis.summary(model, (3, 224, 224))
    assert s["features.conv1"].output_shape == (1, 96, 55, 55)
    assert [s[f"features.pool{i}"].output_shape[-1] for i in (1, 2, 5)] == [27, 13, 6]
    assert model.classifier.fc6.in_features == 9216
    neurons = [s[n].activations for n in ("features.conv1", "features.conv2", "features.conv3", "features.conv4",
                                           "features.conv5", "classifier.fc6", "classifier.fc7", "classifier.fc8")]
    assert neurons[1:] == list(PAPER_NEURONS[1:])                    # the paper's counts, but...
    assert neurons[0] == 55 * 55 * 96 == 290_400 != PAPER_NEURONS[0]  # ... its first one is not 55·55·96


def test_alexnet_paper_pads_only_right_and_bottom_as_cuda_convnet():
    """1 + ceil((224 - 11) / 4) = 55 windows starting at 0, 4, ..., 216: the first sees no padding."""
    model = dl.models.get("alexnet_paper").eval()
    x = torch.randn(1, 3, 224, 224)
    conv1 = model.features.conv1
    with torch.no_grad():
        out = conv1(model.features.pad1(x))
        first = conv1(x[:, :, :11, :11])[0, :, 0, 0]
        last = conv1(F.pad(x[:, :, 216:, 216:], (0, 3, 0, 3)))[0, :, 0, 0]
    assert torch.allclose(out[0, :, 0, 0], first, atol=1e-5)
    assert torch.allclose(out[0, :, 54, 54], last, atol=1e-5)


def test_alexnet_paper_layer_order_and_initialisation():
    model = dl.models.get("alexnet_paper")
    assert list(model.features._modules)[:6] == ["pad1", "conv1", "relu1", "norm1", "pool1", "conv2"]
    assert list(model.classifier._modules) == ["fc6", "relu6", "drop6", "fc7", "relu7", "drop7", "fc8"]
    norm = model.features.norm1
    assert (norm.size, norm.alpha, norm.beta, norm.k, norm.mode) == (5, 1e-4, 0.75, 2.0, "across")
    pool = model.features.pool1
    assert (pool.kernel_size, pool.stride) == (3, 2)                  # overlapping pooling
    ones = {"conv2", "conv4", "conv5", "fc6", "fc7"}
    for name in [*PAPER_CONVS, *PAPER_FCS]:
        layer = model.get_submodule(("features." if name.startswith("conv") else "classifier.") + name)
        assert torch.all(layer.bias == (1.0 if name in ones else 0.0)), name
        assert abs(layer.weight.std().item() - 0.01) < 0.002, name


def test_options_remove_lrn_and_dropout_and_change_the_units():
    model = dl.models.get("alexnet_paper", lrn=False, dropout=0.0, activation="tanh")
    kinds = {type(m) for m in model.modules()}
    assert LocalResponseNorm not in kinds and nn.ReLU not in kinds and nn.Tanh in kinds
    assert all(m.p == 0.0 for m in model.modules() if isinstance(m, nn.Dropout))
    with pytest.raises(ValueError, match="activation"):
        dl.models.get("alexnet_paper", activation="sigmoid")


# ---------------------------------------------------------------------------------------------
# torchvision's AlexNet and ZFNet
def test_torchvision_alexnet_keeps_its_layout_and_dropout_before_fc():
    import torchvision

    ours, theirs = dl.models.get("alexnet"), torchvision.models.alexnet(weights=None)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [type(m) for m in ours.classifier] == [type(m) for m in theirs.classifier]
    assert isinstance(ours.classifier[0], nn.Dropout) and isinstance(ours.classifier[1], nn.Linear)
    assert [c.out_channels for c in ours.convs()] == [64, 192, 384, 256, 256]


# Zeiler & Fergus, Figure 3: (kernels, size, stride) and the map sizes it prints.
ZF_CONVS = {"conv1": (96, 7, 2, 3), "conv2": (256, 5, 2, 96), "conv3": (384, 3, 1, 256),
            "conv4": (384, 3, 1, 384), "conv5": (256, 3, 1, 384)}


def test_zfnet_follows_figure_3():
    model = dl.models.get("zfnet")
    s = dl.analysis.summary(model, (3, 224, 224))
    sizes = {n: s[f"features.{n}"].output_shape[-1] for n in ("conv1", "pool1", "conv2", "pool2", "conv3", "pool5")}
    assert sizes == {"conv1": 110, "pool1": 55, "conv2": 26, "pool2": 13, "conv3": 13, "pool5": 6}
    expected = 0
    for name, (n, k, stride, depth) in ZF_CONVS.items():
        conv = model.features.get_submodule(name)
        assert (conv.out_channels, conv.kernel_size[0], conv.stride[0], conv.in_channels, conv.groups) == \
               (n, k, stride, depth, 1), name
        expected += n * (k * k * depth + 1)
    assert model.classifier.fc6.in_features == 6 * 6 * 256 == 9216
    expected += 4096 * (9216 + 1) + 4096 * (4096 + 1) + 1000 * (4096 + 1)
    assert sum(p.numel() for p in model.parameters()) == expected == dl.models.meta("zfnet").published.params.value
    # pooling before normalisation in layers 1 and 2
    names = list(model.features._modules)
    assert names.index("pool1") < names.index("norm1") and names.index("pool2") < names.index("norm2")


def test_zfnet_filter_renormalisation():
    model = dl.models.get("zfnet")
    with torch.no_grad():
        model.features.conv1.weight[:3] *= 100                       # three filters far too large
    assert model.renormalize_filters_(0.1) == 3
    rms = model.features.conv1.weight.pow(2).mean(dim=(1, 2, 3)).sqrt()
    assert torch.all(rms <= 0.1 + 1e-6) and torch.allclose(rms[:3], torch.full((3,), 0.1))
    assert model.renormalize_filters_(0.1) == 0


# ---------------------------------------------------------------------------------------------
# small inputs
@pytest.mark.parametrize("name,kwargs", [("alexnet_small", {}), ("zfnet_small", {}),
                                         ("alexnet_small", {"activation": "tanh", "lrn": False}),
                                         ("alexnet", {"num_classes": 10, "in_channels": 1})])
def test_forward_backward_on_small_inputs(name, kwargs):
    torch.manual_seed(0)
    model = dl.models.get(name, **kwargs).train()
    size = 64 if "small" in name else 63                               # 63: torchvision's smallest
    x = torch.randn(3, 1, size, size)
    out = model(x)
    assert out.shape == (3, 10)
    F.cross_entropy(out, torch.tensor([0, 1, 2])).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_small_models_keep_the_papers_tables():
    mini, paper = dl.models.get("alexnet_small"), dl.models.get("alexnet_paper")
    for a, b in itertools.zip_longest(mini.convs(), paper.convs()):
        assert (a.kernel_size, a.stride, a.groups) == (b.kernel_size, b.stride, b.groups)
        assert a.out_channels * 4 == b.out_channels
    s = dl.analysis.summary(mini, (1, 64, 64))
    assert s["features.conv1"].output_shape == (1, 24, 15, 15)
    assert s["features.pool5"].output_shape == (1, 64, 1, 1)
    z = dl.analysis.summary(dl.models.get("zfnet_small"), (1, 64, 64))
    assert z["features.conv1"].output_shape == (1, 24, 30, 30)      # twice AlexNet's resolution


def test_paper_sized_models_refuse_other_input_sizes_naming_the_layer():
    with pytest.raises(ValueError, match=r"layer 'classifier\.fc6'.*9216"):
        dl.models.get("alexnet_paper").eval()(torch.zeros(1, 3, 256, 256))
    with pytest.raises(ValueError, match="no feature map"):
        AlexNet(ALEXNET_2012, input_size=(3, 32, 32))


# ---------------------------------------------------------------------------------------------
# the chapter's convergence measurement
def test_step_windows_continue_one_endless_stream():
    from dcnn_lib.data import TensorLoader
    from dcnn_lib.recipes.alexnet import StepWindows

    loader = TensorLoader(torch.arange(10.0).reshape(10, 1, 1, 1), torch.arange(10), batch_size=3, shuffle=False)
    windows = StepWindows(loader, steps=3)                            # 4 batches a pass: 3+1, then 2+2...
    seen = []
    for epoch in range(3):
        windows.set_epoch(epoch)
        assert len(windows) == 3
        seen += [y.tolist() for _, y in windows]
    assert seen == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9], [0, 1, 2], [3, 4, 5], [6, 7, 8], [9], [0, 1, 2]]
    with pytest.raises(ValueError, match="steps"):
        StepWindows(loader, 0)


def test_steps_to_error_stops_at_the_thresholds(fake_fashion_mnist):
    from dataclasses import replace

    from dcnn_lib.recipes.alexnet import steps_to_error

    recipe = replace(dl.recipes.get("alexnet_small_relu_sgd", "smoke"), size=64, batch_size=10)
    run = steps_to_error(recipe, thresholds=(1.0,), window=2, progress=False)
    assert run["steps"] == {1.0: 2} and len(run["history"]) == 1 and not run["diverged"]
    never = steps_to_error(recipe, thresholds=(1.0, -1.0), window=2, progress=False)
    assert never["steps"] == {1.0: 2, -1.0: None}
    assert len(never["history"]) == recipe.n_epochs * 3 // 2           # 30 images / 10 per batch, every window
    blown = steps_to_error(recipe, thresholds=(-1.0,), window=1, lr=1e12, progress=False)
    assert blown["diverged"] and blown["steps"] == {-1.0: None}
