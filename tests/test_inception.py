"""The Inception family against its papers, torchvision and timm.

The generic contract (forward/backward, reference parameter counts, torchvision twins, input
checks) is in test_models.py; here: GoogLeNet's Table 1 module by module, BN-Inception's
figure, Inception-v4 / Inception-ResNet against timm's published sizes, the auxiliary heads,
the 299×299 forward of the big networks, and the Inception module's building rules.
"""
import pytest
import torch
import torch.nn as nn
import torchvision

import dcnn_lib as dl
from dcnn_lib.layers import ConvBNAct, Inception, InceptionResNetBlock, LocalResponseNorm
from dcnn_lib.layers.inception import avgpool, conv, maxpool, split
from dcnn_lib.models.classification.googlenet import AUX_LOSS_WEIGHT, TABLE1, TABLE1_PRINTED
from dcnn_lib.models.classification.inception_v2 import BN_INCEPTION


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# ---- GoogLeNet as published ------------------------------------------------------------------
# Table 1, typed from the paper: #1×1, #3×3 reduce, #3×3, #5×5 reduce, #5×5, pool proj, output maps.
TABLE1_TYPED = {
    "inception3a": (64, 96, 128, 16, 32, 32, 256), "inception3b": (128, 128, 192, 32, 96, 64, 480),
    "inception4a": (192, 96, 208, 16, 48, 64, 512), "inception4b": (160, 112, 224, 24, 64, 64, 512),
    "inception4c": (128, 128, 256, 24, 64, 64, 512), "inception4d": (112, 144, 288, 32, 64, 64, 528),
    "inception4e": (256, 160, 320, 32, 128, 128, 832), "inception5a": (256, 160, 320, 32, 128, 128, 832),
    "inception5b": (384, 192, 384, 48, 128, 128, 1024),
}


def module_params(c_in, c1, c3r, c3, c5r, c5, pp, k5=5, bias=True):
    """Weights (+ biases) of one inception module from its filter counts."""
    b = int(bias)
    return ((c_in + b) * c1 + (c_in + b) * c3r + (9 * c3r + b) * c3 + (c_in + b) * c5r
            + (k5 * k5 * c5r + b) * c5 + (c_in + b) * pp)


def test_table1_rows_are_the_papers():
    rows = {name: tuple(row[:6]) for name, row in TABLE1 if row is not None}
    assert rows == {k: v[:6] for k, v in TABLE1_TYPED.items()}
    assert [n for n, r in TABLE1 if r is None] == ["maxpool3", "maxpool4"]
    assert TABLE1_PRINTED["inception5b"] == {"output": "7×7×1024", "depth": 2, "params": "1388K", "ops": "71M"}


def test_googlenet_paper_module_parameters_equal_the_filter_table():
    model = dl.models.get("googlenet_paper")
    c_in = 192
    for name, (c1, c3r, c3, c5r, c5, pp, out) in TABLE1_TYPED.items():
        module = getattr(model, name)
        assert n_params(module) == module_params(c_in, c1, c3r, c3, c5r, c5, pp), name
        assert module.out_channels == c1 + c3 + c5 + pp == out, name
        c_in = out
    # stem, classifier and the two auxiliary heads (1×1 conv 128, FC 1024, FC 1000)
    assert n_params(model.conv1) == 7 * 7 * 3 * 64 + 64
    assert n_params(model.conv2) + n_params(model.conv3) == (64 * 64 + 64) + (9 * 64 * 192 + 192)
    assert n_params(model.fc) == 1024 * 1000 + 1000
    for aux, c in (("aux1", 512), ("aux2", 528)):
        assert n_params(getattr(model, aux)) == (c * 128 + 128) + (2048 * 1024 + 1024) + (1024 * 1000 + 1000)
    counted = sum(n_params(getattr(model, n)) for n in [*TABLE1_TYPED, "conv1", "conv2", "conv3", "fc", "aux1", "aux2"])
    assert counted == n_params(model) == 13_378_280


def test_googlenet_paper_is_the_published_network():
    model = dl.models.get("googlenet_paper")
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    assert all(c.bias is not None for c in convs)
    assert model.inception3a.branch3[1].conv.kernel_size == (5, 5)          # 5×5, not torchvision's 3×3
    assert [n for n, m in model.named_children() if isinstance(m, LocalResponseNorm)] == ["norm1", "norm2"]
    assert model.maxpool4.kernel_size == 3 and model.dropout.p == 0.4
    assert model.aux1.dropout.p == 0.7 and isinstance(model.aux1.pool, nn.AvgPool2d)
    assert AUX_LOSS_WEIGHT == 0.3
    # Table 1's output sizes, module by module, at 224 × 224
    s = dl.analysis.summary(model, (3, 224, 224), depth=1)
    for name, printed in TABLE1_PRINTED.items():
        if name in ("conv2+conv3",):
            continue
        h, w, c = (int(v) for v in printed["output"].split("×"))
        assert s[name].output_shape[1:] in ((c, h, w), (c,)), name


def test_googlenet_twin_with_aux_heads_and_transform_input():
    """torchvision's conventions: aux heads (13,004,888 parameters) and transform_input."""
    torch.manual_seed(0)
    theirs = torchvision.models.googlenet(weights=None, aux_logits=True, transform_input=True, init_weights=True)
    ours = dl.models.get("googlenet", aux_logits=True, transform_input=True)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    assert n_params(ours) == dl.models.meta("googlenet").published.other["params_with_aux"].value == 13_004_888
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.allclose(ours.eval()(x), theirs.eval()(x), rtol=1e-4, atol=1e-5)
    assert ours.inception3a.branch3[1].conv.kernel_size == (3, 3)           # torchvision's "5×5"


# ---- auxiliary heads ------------------------------------------------------------------------
AUX = {"googlenet_paper": ((3, 224, 224), {}, 2), "googlenet": ((3, 224, 224), {"aux_logits": True}, 2),
       "googlenet_small": ((1, 28, 28), {}, 2), "inception_v3": ((3, 299, 299), {}, 1)}


@pytest.mark.parametrize("name", AUX)
def test_aux_heads_in_training_mode_only(name):
    size, kwargs, n_aux = AUX[name]
    model = dl.models.get(name, **kwargs)
    x = torch.randn(2, *size)
    with torch.no_grad():
        out = model.train()(x)
        assert isinstance(out, tuple) and len(out) == 1 + n_aux
        assert all(o.shape == (2, model.num_classes) for o in out)
        assert isinstance(model.eval()(x), torch.Tensor)
        without = dl.models.get(name, **{**kwargs, "aux_logits": False})
        assert isinstance(without.train()(x), torch.Tensor)
    assert n_params(without) < n_params(model)


def test_fit_trains_auxiliary_heads(fake_fashion_mnist):
    model = dl.models.get("googlenet_small", width=0.125)
    before = {k: v.clone() for k, v in model.state_dict().items() if k.startswith("aux")}
    train, test = dl.data.fashion_mnist_loaders(batch_size=10, size=28)
    h = dl.train.fit(model, train, 1, val_loader=test, progress=False)
    assert len(h) == 1 and 0 <= h.last["val_acc"] <= 1
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items() if k in before)


# ---- Inception v2 (BN-Inception) --------------------------------------------------------------
def test_bn_inception_follows_figure_5():
    model = dl.models.get("inception_v2")
    assert {n: model.module_channels[n] for n, _ in BN_INCEPTION} == {
        "inception3a": 256, "inception3b": 320, "inception3c": 576, "inception4a": 576, "inception4b": 576,
        "inception4c": 608, "inception4d": 608, "inception4e": 1056, "inception5a": 1024, "inception5b": 1024}
    s = dl.analysis.summary(model, (3, 224, 224), depth=1)
    assert s["inception3b"].output_shape == (1, 320, 28, 28) and s["inception3c"].output_shape == (1, 576, 14, 14)
    assert s["inception4e"].output_shape == (1, 1056, 7, 7) and s["fc"].output_shape == (1, 1000)
    # double 3×3 instead of 5×5, average pooling in the pool branch, batch norm everywhere
    b3 = model.inception3a.branch3
    assert [m.conv.kernel_size for m in b3] == [(1, 1), (3, 3), (3, 3)]
    assert isinstance(model.inception3a.branch4[0], nn.AvgPool2d)
    assert isinstance(model.inception5b.branch4[0], nn.MaxPool2d)
    assert all(m.bn is not None for m in model.modules() if isinstance(m, ConvBNAct))


# ---- Inception v3, v4, Inception-ResNet at 299 × 299 ---------------------------------------------
def test_inception_v4_parameters_equal_timm():
    n = n_params(dl.models.get("inception_v4"))
    assert n == 42_679_816 and round(n / 1e6, 2) == dl.models.meta("inception_v4").published.other["params_m"].value == 42.68


def test_inception_resnet_v2_parameters_equal_timm_and_block_counts():
    model = dl.models.get("inception_resnet_v2")
    assert round(n_params(model) / 1e6, 2) == 55.84
    f = model.features
    assert (len(f.inception_resnet_a), len(f.inception_resnet_b), len(f.inception_resnet_c)) == (10, 20, 10)
    assert [b.scale for b in f.inception_resnet_c] == [0.2] * 9 + [1.0]
    assert isinstance(f.inception_resnet_c[-1].relu, nn.Identity) and isinstance(f.inception_resnet_c[0].relu, nn.ReLU)
    assert {b.scale for b in f.inception_resnet_a} == {0.17} and {b.scale for b in f.inception_resnet_b} == {0.1}
    paper_counts = dl.models.get("inception_resnet_v2", depths=(5, 10, 5))
    assert n_params(paper_counts) < n_params(model)


@pytest.mark.parametrize("name,stages", [
    ("inception_v3", None),
    ("inception_v4", {"stem": (384, 35), "reduction_a": (1024, 17), "reduction_b": (1536, 8)}),
    ("inception_resnet_v1", {"stem": (256, 35), "reduction_a": (896, 17), "reduction_b": (1792, 8)}),
    ("inception_resnet_v2", {"stem": (320, 35), "reduction_a": (1088, 17), "inception_resnet_c": (2080, 8),
                             "conv": (1536, 8)}),
])
def test_forward_at_299(name, stages):
    model = dl.models.get(name).eval()
    x = torch.randn(1, 3, 299, 299, generator=torch.Generator().manual_seed(0))
    shapes = {}
    hooks = [getattr(model.features, s).register_forward_hook(
        lambda m, i, o, s=s: shapes.__setitem__(s, tuple(o.shape[1:]))) for s in (stages or {})]
    with torch.no_grad():
        out = model(x)
    for h in hooks:
        h.remove()
    assert out.shape == (1, 1000) and torch.isfinite(out).all()
    assert shapes == {s: (c, k, k) for s, (c, k) in (stages or {}).items()}


# ---- building blocks -------------------------------------------------------------------------
def test_inception_module_from_branch_lists():
    m = Inception(8, {"a": [conv(4, 1)], "b": [conv(2, 1), conv(6, 5)], "c": [maxpool()],
                      "d": [avgpool(), conv(3, 1)]}, norm=False)
    assert m.branch_channels == {"a": 4, "b": 6, "c": 8, "d": 3} and m.out_channels == 21
    assert m(torch.randn(2, 8, 9, 9)).shape == (2, 21, 9, 9)
    assert isinstance(m.a, ConvBNAct) and isinstance(m.b, nn.Sequential) and isinstance(m.c, nn.MaxPool2d)
    assert n_params(m) == (8 * 4 + 4) + (8 * 2 + 2) + (25 * 2 * 6 + 6) + (8 * 3 + 3)
    with pytest.raises(ValueError, match="no layers"):
        Inception(8, {"a": []})


def test_flat_naming_is_torchvisions():
    m = Inception(16, {"branch1x1": [conv(4, 1)], "branch3x3": [conv(8, 1), split(conv(4, (1, 3)), conv(4, (3, 1)))],
                       "branch_pool": [avgpool(), conv(2, 1)]}, flat=True)
    keys = {k.rsplit(".", 2)[0] for k in m.state_dict()}
    assert keys == {"branch1x1", "branch3x3_1", "branch3x3_2a", "branch3x3_2b", "branch_pool"}
    tv = torchvision.models.inception.InceptionE(16)
    assert {k.split(".")[0] for k in tv.state_dict()} >= {"branch1x1", "branch3x3_1", "branch3x3_2a", "branch3x3_2b"}
    assert m(torch.randn(1, 16, 5, 5)).shape == (1, 4 + 8 + 2, 5, 5)


def test_residual_scaling():
    torch.manual_seed(0)
    branches = {"b0": [conv(4, 1)], "b1": [conv(4, 1), conv(4, 3)]}
    block = InceptionResNetBlock(6, branches, scale=0.2).eval()
    x = torch.randn(2, 6, 7, 7)
    with torch.no_grad():
        r = block.project(block.branches(x))
        assert torch.allclose(block(x), torch.relu(x + 0.2 * r))
        block.scale = 0.0
        assert torch.equal(block(x), torch.relu(x))
    linear = InceptionResNetBlock(6, branches, scale=1.0, activation=False).eval()
    with torch.no_grad():
        assert torch.allclose(linear(x), x + linear.project(linear.branches(x)))
    assert dl.layers.is_residual_block(block)


# ---- recipes and diagrams ----------------------------------------------------------------------
def test_inception_recipes(fake_fashion_mnist):
    recipe = dl.recipes.get("googlenet_small", "smoke")
    assert recipe.fit_kwargs()["aux_weight"] == 0.3 and recipe.fit_kwargs()["channels_last"] is True
    assert dl.recipes.get("googlenet_small_no_aux").model_kwargs["aux_logits"] is False
    scales = {dl.recipes.get(n).model_kwargs["scale"] for n in dl.recipes.RECIPES if n.startswith("inception_resnet_small")}
    assert scales == {1.0, 0.2}
    model, h = recipe.train(progress=False)
    assert len(h) == 1 and 0 <= h.last["val_acc"] <= 1 and model.aux_logits


def test_module_diagram_is_drawn_from_the_branches():
    import matplotlib

    matplotlib.use("Agg")
    from dcnn_lib.diagrams import describe_branch, draw_module

    m = dl.models.get("googlenet_paper").inception3a
    assert describe_branch(m.specs["branch3"]) == "1×1 conv 16 → 5×5 conv 32"
    texts = [t.get_text() for t in draw_module(m).texts]
    assert "5×5 conv 32" in texts and "filter concat (256 maps)" in texts
    block = dl.models.get("inception_resnet_small").features.inception_resnet_a[0]
    texts = [t.get_text() for t in draw_module(block).texts]
    assert any("residual scaling" in t for t in texts) and "+ shortcut, ReLU" in texts
    with pytest.raises(TypeError, match="Inception module"):
        draw_module(nn.Conv2d(1, 1, 1))
