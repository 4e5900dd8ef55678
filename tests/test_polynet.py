"""PolyNet: the PolyInception algebra (poly-2 = I + F + F·F with F's weights shared, and the
other five modules), the release's weight sharing, its residual scales and its compute."""
import pytest
import torch
import torch.nn as nn

import dcnn_lib as dl
from dcnn_lib.layers import POLY_KINDS, InceptionResidual, PolyInception, ir_block_a, IR_BLOCKS, scale_branches
from dcnn_lib.models.classification.polynet import PolyNet, residual_scales


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def small_block() -> nn.Module:
    return InceptionResidual(16, scale_branches(ir_block_a(IR_BLOCKS["v2"]["a"]), 0.25))


@pytest.fixture
def x():
    return torch.randn(2, 16, 6, 6, generator=torch.Generator().manual_seed(0))


def test_poly2_is_I_plus_F_plus_FF_with_one_F(x):
    torch.manual_seed(0)
    poly = PolyInception(small_block, "poly-2", scale=0.5).eval()
    assert len(poly.blocks) == 1 and n_params(poly) == n_params(small_block())
    F = poly.blocks[0]
    expected = torch.relu(x + 0.5 * F(x) + 0.5 * F(torch.relu(F(x))))
    assert torch.allclose(poly(x), expected, atol=1e-6)
    poly3 = PolyInception(small_block, "poly-3", scale=1.0).eval()
    F = poly3.blocks[0]
    f1 = F(x)
    f2 = F(torch.relu(f1))
    assert torch.allclose(poly3(x), torch.relu(x + f1 + f2 + F(torch.relu(f2))), atol=1e-6)


def test_mpoly_and_way_modules(x):
    torch.manual_seed(0)
    one = n_params(small_block())
    mpoly = PolyInception(small_block, "mpoly-3").eval()
    F, G, H = mpoly.blocks
    gf = G(torch.relu(F(x)))
    assert torch.allclose(mpoly(x), torch.relu(x + F(x) + gf + H(torch.relu(gf))), atol=1e-6)
    way = PolyInception(small_block, "2-way").eval()
    F, G = way.blocks
    assert torch.allclose(way(x), torch.relu(x + F(x) + G(x)), atol=1e-6)
    res = PolyInception(small_block, "residual").eval()
    assert torch.allclose(res(x), torch.relu(x + res.blocks[0](x)), atol=1e-6)
    counts = {k: n_params(PolyInception(small_block, k)) for k in POLY_KINDS}
    assert counts == {"residual": one, "poly-2": one, "mpoly-2": 2 * one, "2-way": 2 * one,
                      "poly-3": one, "mpoly-3": 3 * one, "3-way": 3 * one}


def test_release_sharing_ties_branch_convolutions_only(x):
    torch.manual_seed(0)
    poly = PolyInception(small_block, "poly-3", share="branches")
    a, b, c = poly.blocks
    convs = lambda blk: [m for m in blk.branches.modules() if isinstance(m, nn.Conv2d)]  # noqa: E731
    for ca, cb, cc in zip(convs(a), convs(b), convs(c)):
        assert ca.weight is cb.weight is cc.weight
    assert a.project.conv.weight is not b.project.conv.weight
    bns = [m for m in poly.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len({id(m.weight) for m in bns}) == len(bns)                   # batch norms: one per application
    branch_convs = sum(m.weight.numel() for m in convs(a))
    assert n_params(poly) == 3 * n_params(a) - 2 * branch_convs
    poly(x).sum().backward()                                              # the shared weight gets all three gradients
    assert a.branches.branch0.conv.weight.grad is not None
    with pytest.raises(ValueError, match="kind must be one of"):
        PolyInception(small_block, "poly-4")
    with pytest.raises(ValueError, match="share must be one of"):
        PolyInception(small_block, "poly-2", share="some")


def test_very_deep_polynet_layout():
    m = dl.models.get("polynet")
    kinds = {s: [mod.kind for mod in m.features.get_submodule(s)] for s in ("stage_a", "stage_b", "stage_c")}
    assert kinds["stage_a"] == ["2-way"] * 10
    assert kinds["stage_b"] == ["poly-3", "2-way"] * 10 and kinds["stage_c"] == ["poly-3", "2-way"] * 5
    scales = [mod.scale for s in kinds for mod in m.features.get_submodule(s)]
    assert len(scales) == 40 and scales == pytest.approx(residual_scales())
    # the release's printed values (Cadene's port): 1, 0.992308, ..., 0.923077 (stage B), ..., 0.7
    assert scales[1] == pytest.approx(0.992308, abs=1e-6) and scales[10] == pytest.approx(0.923077, abs=1e-6)
    assert scales[-1] == pytest.approx(0.7)
    assert m.fc.in_features == 2048 and not hasattr(m, "feature_info")


def test_very_deep_polynet_compute_at_331():
    m = dl.models.get("polynet")
    s = dl.analysis.summary(m, (3, 331, 331))
    assert s.total_params == 95_366_600
    assert round(s.total_macs / 1e9, 2) == dl.models.meta("polynet").published.gmacs.value == 34.70
    assert s["features.stage_c.9.relu"].output_shape[-2:] == (9, 9)


def test_polynet_patterns_build_baselines():
    ir = PolyNet((1, 1, 1), {"a": ("residual",), "b": ("residual",), "c": ("residual",)})
    assert [type(b).__name__ for b in ir.features.stage_a] == ["PolyInception"]
    assert n_params(ir) < n_params(PolyNet((1, 1, 1)))


def test_small_polynet_comparison_has_equal_parameters():
    from dcnn_lib.recipes.dense import POLY_ARMS

    counts = {kind: n_params(dl.recipes.get(f"polynet_small_{kind.replace('-', '')}", "smoke").build_model())
              for kind in POLY_ARMS}
    assert len(set(counts.values())) == 1, counts
    s = {kind: dl.analysis.summary(dl.recipes.get(f"polynet_small_{kind.replace('-', '')}", "smoke").build_model(),
                                   (1, 28, 28)).total_macs for kind in ("residual", "poly-2")}
    assert 1.5 < s["poly-2"] / s["residual"] < 2.0             # F² costs one more pass of each block
    m = dl.models.get("polynet_small")
    assert [mod.kind for mod in m.features.stage_a] == ["2-way", "2-way"]
    assert [mod.kind for mod in m.features.stage_b] == ["poly-2", "poly-2"]
    assert m(torch.randn(2, 1, 28, 28)).shape == (2, 10)
