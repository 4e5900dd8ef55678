"""ResNet against its papers: Table 1 multiply-adds, Table 6 parameter counts, option A, the five
residual units of the Identity Mappings paper, and the lesion / unraveled-view tools.

(torchvision twins, forward/backward of every registered ResNet and exact parameter counts run in
tests/test_models.py, which covers every registered model.)
"""
import itertools

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import dcnn_lib as dl
from dcnn_lib.layers import BasicBlock, Bottleneck, PreActBlock, ResidualUnit, ZeroPadShortcut, make_shortcut
from dcnn_lib.layers.residual_unit import VARIANTS
from dcnn_lib.models.classification.resnet import TABLE1_GFLOPS, TABLE6, ResNet, cifar_stages


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


# ---- option A ------------------------------------------------------------------------------
def test_option_a_shortcut_adds_no_parameters():
    sc = ZeroPadShortcut(16, 32, stride=2)
    assert n_params(sc) == 0
    x = torch.randn(2, 16, 8, 8)
    y = sc(x)
    assert y.shape == (2, 32, 4, 4)
    assert torch.equal(y[:, :16], x[:, :, ::2, ::2]) and torch.all(y[:, 16:] == 0)
    # the residual and plain CIFAR nets have exactly the same parameters
    for depth in (20, 32, 44, 56):
        assert n_params(dl.models.get(f"resnet{depth}_cifar")) == n_params(dl.models.get(f"plain{depth}_cifar"))
    # option B, by contrast, adds a 1x1 projection + BN in each of the two transitions
    a = dl.models.get("resnet20_cifar")
    b = dl.models.get("resnet20_cifar", shortcut="B")
    assert n_params(b) - n_params(a) == (16 * 32 + 2 * 32) + (32 * 64 + 2 * 64)


def test_make_shortcut_kinds():
    assert make_shortcut("A", 16, 16, 1) is None and make_shortcut("B", 16, 16, 1) is None
    assert isinstance(make_shortcut("A", 16, 32, 2), ZeroPadShortcut)
    proj = make_shortcut("B", 16, 32, 2)
    assert [type(m) for m in proj] == [nn.Conv2d, nn.BatchNorm2d] and proj[0].stride == (2, 2)
    assert isinstance(make_shortcut("C", 16, 16, 1), nn.Sequential)
    with pytest.raises(ValueError, match="shortcut must be one of"):
        make_shortcut("D", 16, 16)
    with pytest.raises(ValueError, match="option A can only add channels"):
        ZeroPadShortcut(32, 16)


# ---- parameter counts ------------------------------------------------------------------------
def cifar_params(depth: int, classes: int = 10, in_channels: int = 3) -> int:
    """Closed form for the §4.2 networks (3x3 convs without bias, BN, option A, fc)."""
    n = (depth - 2) // 6
    total, c_in = 9 * in_channels * 16 + 2 * 16, 16
    for w in (16, 32, 64):
        total += 9 * c_in * w + 9 * w * w + 4 * w           # first block of the stage
        total += (n - 1) * (2 * 9 * w * w + 4 * w)          # the others
        c_in = w
    return total + 64 * classes + classes


@pytest.mark.parametrize("depth", [20, 32, 44, 56, 110])
def test_cifar_parameter_counts_match_table6(depth):
    count = n_params(dl.models.get(f"resnet{depth}_cifar"))
    assert count == cifar_params(depth) == dl.models.meta(f"resnet{depth}_cifar").published.params.value
    paper_m = TABLE6[depth][0]                      # 0.27, 0.46, 0.66, 0.85, 1.7 (millions)
    digits = 1 if paper_m >= 1 else 2
    assert round(count / 1e6, digits) == paper_m
    assert count == n_params(dl.models.get(f"resnet{depth}_cifar", in_channels=1)) + 9 * 2 * 16


def test_cifar_stage_depths():
    assert cifar_stages(20) == (3, 3, 3) and cifar_stages(110) == (18, 18, 18)
    assert cifar_stages(164, "bottleneck") == (18, 18, 18) and cifar_stages(1001, "bottleneck") == (111,) * 3
    with pytest.raises(ValueError, match="6n \\+ 2"):
        cifar_stages(21)
    m = dl.models.get("resnet56_cifar")
    weighted = [x for x in m.modules() if isinstance(x, (nn.Conv2d, nn.Linear))]
    assert len(weighted) == 56                       # 6n + 2 weighted layers, option A adds none


@pytest.mark.parametrize("depth", [164, 1001])
def test_preact_cifar_bottleneck_counts(depth):
    count = dl.models.meta(f"preact_resnet{depth}_cifar").published.params.value
    paper_m = dl.models.meta(f"preact_resnet{depth}_cifar").published.other["params_m"].value   # 1.7M, 10.2M
    assert abs(count / 1e6 - paper_m) / paper_m < 0.015


@pytest.mark.parametrize("depth", [18, 50, 152])
def test_preact_imagenet_has_the_convolutions_of_v15(depth):
    """Pre-activation only moves BN and ReLU: the same convolutions and fc as torchvision's
    ResNet (projections lose their BN; BN sits on a unit's input instead of its output)."""
    ours, ref = dl.models.get(f"preact_resnet{depth}"), dl.models.get(f"resnet{depth}")

    def convs(m):
        return sorted(tuple(x.weight.shape) for x in m.modules() if isinstance(x, (nn.Conv2d, nn.Linear)))

    assert convs(ours) == convs(ref)
    bn = lambda m: sum(n_params(x) for x in m.modules() if isinstance(x, nn.BatchNorm2d))  # noqa: E731
    assert n_params(ours) - bn(ours) == n_params(ref) - bn(ref)


# ---- Table 1 ---------------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [50, 101, 152])
def test_table1_multiply_adds_of_v1(depth):
    macs = dl.analysis.summary(dl.models.get(f"resnet{depth}_v1"), (3, 224, 224)).total_macs
    assert abs(macs / 1e9 - TABLE1_GFLOPS[depth]) / TABLE1_GFLOPS[depth] < 0.03, macs


def test_table1_multiply_adds_of_basic_nets_and_v15():
    for depth in (18, 34):   # basic blocks: v1 and v1.5 are the same network
        macs = dl.analysis.summary(dl.models.get(f"resnet{depth}"), (3, 224, 224)).total_macs
        assert abs(macs / 1e9 - TABLE1_GFLOPS[depth]) / TABLE1_GFLOPS[depth] < 0.03, macs
    v15 = dl.analysis.summary(dl.models.get("resnet50"), (3, 224, 224)).total_macs
    v1 = dl.analysis.summary(dl.models.get("resnet50_v1"), (3, 224, 224)).total_macs
    assert round(v15 / 1e9, 3) == dl.models.meta("resnet50").published.gmacs.value == 4.089
    # the difference is the first 1x1 of stages 3-5 running at 4x the positions
    extra = 3 * (256 * 128 * (56 * 56 - 28 * 28))
    assert v15 - v1 == extra


def test_v1_and_v15_share_weights_and_differ_in_stride_placement():
    v1, v15 = dl.models.get("resnet50_v1"), dl.models.get("resnet50")
    v1.load_state_dict(v15.state_dict(), strict=True)
    assert v1.layer2[0].conv1.stride == (2, 2) and v1.layer2[0].conv2.stride == (1, 1)
    assert v15.layer2[0].conv1.stride == (1, 1) and v15.layer2[0].conv2.stride == (2, 2)
    assert [f.channels for f in v15.feature_info] == [256, 512, 1024, 2048]
    assert [f.stride for f in v15.feature_info] == [4, 8, 16, 32]


def test_bottleneck_operation_counts_of_the_slide():
    """256·256·3·3 ≈ 600K against 256·64 + 64·64·9 + 64·256 ≈ 70K per output position."""
    plain = nn.Conv2d(256, 256, 3, padding=1, bias=False)
    assert dl.analysis.summary(plain, (256, 1, 1)).total_macs == 589_824
    block = Bottleneck(256, 64)
    s = dl.analysis.summary(block, (256, 1, 1))
    assert [r.macs for r in s if r.type == "Conv2d"] == [16_384, 36_864, 16_384]
    assert s.total_macs == 69_632


# ---- the five units ----------------------------------------------------------------------------
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("body", ["basic", "bottleneck"])
@pytest.mark.parametrize("shortcut", ["A", "B"])
def test_each_unit_variant_forward_backward(variant, body, shortcut):
    torch.manual_seed(0)
    unit = ResidualUnit(16, 64, stride=2, variant=variant, body=body, shortcut=shortcut)
    x = torch.randn(2, 16, 8, 8, requires_grad=True)
    y = unit(x)
    assert y.shape == (2, 64, 4, 4)
    y.square().mean().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert all(p.grad is not None for p in unit.parameters())


def test_unit_orderings_follow_the_figure():
    def order(variant):
        u = ResidualUnit(16, 16, variant=variant)
        post = [type(m).__name__ for m in u.post] if u.post is not None else []
        return [type(m).__name__ for m in u.branch], post

    C, B, R = "Conv2d", "BatchNorm2d", "ReLU"
    assert order("original") == ([C, B, R, C, B], [R])
    assert order("bn_after_add") == ([C, B, R, C], [B, R])
    assert order("relu_before_add") == ([C, B, R, C, B, R], [])
    assert order("relu_only_preact") == ([R, C, B, R, C, B], [])
    assert order("full_preact") == ([B, R, C, B, R, C], [])
    # (c) can only add: F >= 0
    u = ResidualUnit(8, 8, variant="relu_before_add").eval()
    x = torch.randn(2, 8, 5, 5)
    assert torch.all(u(x) >= x - 1e-6)
    with pytest.raises(ValueError, match="variant must be one of"):
        ResidualUnit(8, 8, variant="gelu_after_add")


@pytest.mark.parametrize("body, explicit", [("basic", lambda: BasicBlock(16, 32, 2, "B")),
                                            ("bottleneck", lambda: Bottleneck(16, 8, 2, shortcut="B"))])
def test_original_unit_is_the_torchvision_block(body, explicit):
    torch.manual_seed(0)
    block = explicit()
    unit = ResidualUnit(16, 32, 2, variant="original", body=body, shortcut="B")
    state = {(k if k.startswith("downsample") else f"branch.{k}"): v for k, v in block.state_dict().items()}
    unit.load_state_dict(state, strict=True)
    x = torch.randn(2, 16, 8, 8)
    assert torch.allclose(block.eval()(x), unit.eval()(x), atol=1e-6)


def test_preact_shared_activation_feeds_the_projection():
    torch.manual_seed(0)
    unit = PreActBlock(16, 32, stride=2, preact="shared").eval()
    assert unit.preact is not None and [type(m) for m in unit.preact] == [nn.BatchNorm2d, nn.ReLU]
    assert isinstance(unit.downsample[0], nn.Conv2d) and len(unit.downsample) == 1   # no BN on a projection
    x = torch.randn(2, 16, 8, 8)
    a = unit.preact(x)
    assert torch.allclose(unit(x), unit.downsample(a) + unit.branch(a), atol=1e-6)
    # the protocol methods compute the same thing
    assert torch.allclose(unit(x), unit.merge(unit.shortcut(x), unit.residual(x)), atol=1e-6)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_resnet_with_each_unit(variant):
    m = dl.models.get(f"resnet110_cifar_{variant}", depths=(1, 1, 1), in_channels=1)
    out = m(torch.randn(2, 1, 28, 28))
    assert out.shape == (2, 10)
    out.sum().backward()
    if VARIANTS[variant].pre_activation:   # the last unit's output gets its activation before pooling
        assert "relu_final" in dict(m.named_children())


def test_plain_blocks_have_no_shortcut():
    m = dl.models.get("plain20_cifar")
    assert all(b.plain and b.shortcut(torch.zeros(1)) is None for _, b in m.blocks())
    assert dl.analysis.residual_blocks(m) == []
    assert len(dl.analysis.residual_blocks(dl.models.get("resnet20_cifar"))) == 9


def test_bad_configuration():
    with pytest.raises(ValueError, match="block must be"):
        ResNet((1, 1), "wide")
    with pytest.raises(ValueError, match="2 stage depths but 4 widths"):
        ResNet((1, 1))
    with pytest.raises(ValueError, match="layer 'conv1'.*expects 3 input channels, got 1"):
        dl.models.get("resnet20_cifar")(torch.zeros(1, 1, 32, 32))


# ---- lesion and unraveled view ---------------------------------------------------------------------
def test_lesion_deletes_the_branch_and_restores_it():
    torch.manual_seed(0)
    m = dl.models.get("resnet20_cifar", in_channels=1).eval()
    x = torch.randn(3, 1, 28, 28)
    before = m(x)
    block = m.layer2[1]
    inp = {}
    h = block.register_forward_pre_hook(lambda mod, a: inp.setdefault("x", a[0]))
    m(x)
    h.remove()
    with dl.analysis.lesioned(m, ["layer2.1"]) as lm:
        assert type(lm.layer2[1]).__name__ == "SkipOnly"
        assert torch.equal(lm.layer2[1](inp["x"]), inp["x"])          # ReLU(x + 0) = x for x >= 0
        after = lm(x)
    assert not torch.allclose(before, after)
    assert m.layer2[1] is block and torch.equal(m(x), before)
    # a downsampling block keeps its option A shortcut
    with dl.analysis.lesioned(m, ["layer3.0"]) as lm:
        assert lm(x).shape == (3, 10)


def test_swapped_reorders_and_restores_even_after_an_error():
    m = dl.models.get("resnet20_cifar")
    a, b = m.layer1[1], m.layer1[2]
    with pytest.raises(RuntimeError):
        with dl.analysis.swapped(m, {"layer1.1": b, "layer1.2": a}):
            assert m.layer1[1] is b and m.layer1[2] is a
            raise RuntimeError("boom")
    assert m.layer1[1] is a and m.layer1[2] is b
    with pytest.raises(KeyError, match="no submodule 'layer9.0'"):
        with dl.analysis.swapped(m, {"layer9.0": nn.Identity()}):
            pass


def test_path_counts_are_binomial():
    counts = dl.analysis.path_counts(54)
    assert sum(counts) == 2 ** 54 and counts[27] == max(counts)
    assert dl.analysis.path_counts(3) == [1, 3, 3, 1]


@pytest.mark.parametrize("variant", ["original", "full_preact"])
def test_path_gradients_sum_to_the_full_gradient(variant):
    """Σ over all 2^n subsets of the routed gradients = the ordinary gradient at x₀."""
    torch.manual_seed(0)
    m = dl.models.get(f"resnet110_cifar_{variant}", depths=(1, 1, 1), in_channels=1).eval()
    x, y = torch.randn(4, 1, 12, 12), torch.tensor([0, 1, 2, 3])
    n = len(dl.analysis.residual_blocks(m))
    assert n == 3
    total = sum(dl.analysis.path_gradient(m, x, y, s)
                for k in range(n + 1) for s in itertools.combinations(range(n), k))
    full = dl.analysis.path_gradient(m, x, y, range(n))   # sanity: a single path is not the sum
    assert not torch.allclose(total, full)
    # the ordinary gradient at the input of the first block
    store = {}
    first = m.layer1[0]
    hook = first.register_forward_pre_hook(lambda mod, a: (store.setdefault("x", a[0].detach().requires_grad_(True)),))
    loss = F.cross_entropy(m(x), y)
    hook.remove()
    (g,) = torch.autograd.grad(loss, store["x"])
    assert torch.allclose(total, g, atol=1e-6, rtol=1e-4)
    assert "forward" not in first.__dict__                 # routing is undone


def test_path_gradient_norms_and_input_gradients():
    torch.manual_seed(0)
    m = dl.models.get("resnet20_cifar", in_channels=1).train()
    x, y = torch.randn(4, 1, 16, 16), torch.tensor([0, 1, 2, 3])
    norms = dl.analysis.path_gradient_norms(m, x, y, lengths=[0, 4, 9], samples=2)
    assert set(norms) == {0, 4, 9} and all(v > 0 for v in norms.values())
    assert m.training                                       # mode restored
    with pytest.raises(ValueError, match="lengths must lie in 0..9"):
        dl.analysis.path_gradient_norms(m, x, y, lengths=[10])
    buffers = {k: v.clone() for k, v in m.named_buffers()}
    g = dl.analysis.input_gradient_norms(m, x, y, ["layer1.0", "layer3.2"], train_mode=True)
    assert set(g) == {"layer1.0", "layer3.2"} and all(v > 0 for v in g.values())
    assert all(torch.equal(v, buffers[k]) for k, v in m.named_buffers())
    assert all(p.grad is None for p in m.parameters())


def test_recipes_scale_the_input_and_the_depth():
    book, full = dl.recipes.get("resnet56_fmnist", "book"), dl.recipes.get("resnet56_fmnist", "full")
    assert (book.size, book.resize, full.size, full.resize) == (16, True, 28, False)
    assert "downsampled" in book.describe()["data"] and book.model_kwargs == {"in_channels": 1}
    unit_book, unit_full = dl.recipes.get("unit_full_preact", "book"), dl.recipes.get("unit_full_preact", "full")
    assert len(unit_book.build_model().layer1) == 3 and len(unit_full.build_model().layer1) == 18
    train, test = book.for_scale("smoke").loaders()
    x, _ = next(iter(train))
    assert x.shape[1:] == (1, 16, 16)
