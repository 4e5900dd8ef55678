"""Res2Net: the hierarchical split inside one bottleneck (shapes, which split reads which), the
range of receptive fields inside a block, the official width/scale table, and the compute."""
import pytest
import torch
import torch.nn as nn

import dcnn_lib as dl
from dcnn_lib.layers import Bottleneck, Res2NetBottleneck
from dcnn_lib.models.classification.res2net import OFFICIAL, Res2Net


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("setting", list(OFFICIAL))
def test_official_settings_match_the_readme(setting):
    depth, w, s = setting
    m = Res2Net({50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}[depth], w, s)
    assert round(n_params(m) / 1e6, 2) == OFFICIAL[setting][0]           # 25.29, 25.70, 25.06, 37.05, 48.40, 45.21


def test_res2net50_multiply_adds_are_the_papers_gflops():
    s = dl.analysis.summary(dl.models.get("res2net50_26w_4s"), (3, 224, 224))
    assert s.total_params == 25_699_120
    assert round(s.total_macs / 1e9, 3) == dl.models.meta("res2net50_26w_4s").published.gmacs.value == 4.255
    assert 0 < s.total_macs / 1e9 - OFFICIAL[50, 26, 4][1] < 0.06        # the README's "4.2 GFLOPs" are MACs


def test_split_shapes():
    torch.manual_seed(0)
    block = Res2NetBottleneck(256, 64, base_width=26, scale=4).eval()
    assert block.width == 26 and block.conv1.out_channels == 104 and len(block.convs) == 3
    ys = block.splits(torch.randn(2, 256, 8, 8))
    assert [tuple(y.shape) for y in ys] == [(2, 26, 8, 8)] * 4
    first = Res2NetBottleneck(256, 128, stride=2, base_width=26, scale=4, first=True).eval()
    ys = first.splits(torch.randn(2, 256, 8, 8))
    assert [tuple(y.shape) for y in ys] == [(2, 52, 4, 4)] * 4              # the pass-through split is pooled
    assert isinstance(first.pool, nn.AvgPool2d) and first.pool.stride == 2
    assert first(torch.randn(2, 256, 8, 8)).shape == (2, 512, 4, 4)
    m = dl.models.get("res2net50_26w_4s")
    assert [b.width for _, b in m.blocks()][::4] == [26, 52, 104, 104] and m.layer4[0].width == 208
    assert all(b.first == (name.endswith(".0")) for name, b in m.blocks())


def test_hierarchy_which_split_reads_which():
    """y_i = K_i(x_i + y_{i-1}): changing split j changes the outputs of groups j, j+1, ... only."""
    torch.manual_seed(0)
    block = Res2NetBottleneck(16, 16, base_width=16, scale=4).eval()     # 4 splits of 4 maps
    h = torch.relu(block.bn1(block.conv1(torch.randn(1, 16, 5, 5))))

    class Fixed(nn.Module):          # feed chosen 1x1 outputs into the hierarchy
        def forward(self, _):
            return self.h

    block.conv1, block.bn1 = Fixed(), nn.Identity()
    block.conv1.h = h
    base = block.splits(None)
    for j in range(4):
        h2 = h.clone()
        h2[:, 4 * j:4 * j + 4] += 1.0
        block.conv1.h = h2
        changed = [not torch.allclose(a, b) for a, b in zip(base, block.splits(None))]
        if j < 3:
            assert changed == [i >= j for i in range(3)] + [False]       # K_j and every later K
        else:
            assert changed == [False, False, False, True]                # the pass-through group
    first = Res2NetBottleneck(16, 16, base_width=16, scale=4, first=True).eval()
    first.conv1, first.bn1 = Fixed(), nn.Identity()
    first.conv1.h = h
    base = first.splits(None)
    h2 = h.clone()
    h2[:, :4] += 1.0
    first.conv1.h = h2
    assert [not torch.allclose(a, b) for a, b in zip(base, first.splits(None))] == [True, False, False, False]


@pytest.mark.parametrize("scale", [2, 4, 8])
def test_receptive_fields_inside_one_block(scale):
    """K_i sees 2i + 1 pixels of the 1×1 maps: 3, 5, 7, ... ("multi-scale at a granular level")."""
    block = Res2NetBottleneck(64, 64, base_width=64 // scale * 2, scale=scale)
    rf = dl.analysis.receptive_field(block, (64, 32, 32))
    sizes = [rf[f"convs.{i}"].size[0] for i in range(scale - 1)]
    assert sizes == [2 * i + 3 for i in range(scale - 1)]
    assert rf["conv1"].size[0] == 1 and rf["conv3"].size[0] == 2 * scale - 1


def test_scale_one_is_a_resnet_bottleneck():
    r2 = Res2NetBottleneck(256, 64, base_width=64, scale=1)
    assert len(r2.convs) == 1 and not hasattr(r2, "pool")
    assert n_params(r2) == n_params(Bottleneck(256, 64))
    with pytest.raises(ValueError, match="scale must be >= 1"):
        Res2NetBottleneck(64, 64, scale=0)
    with pytest.raises(ValueError, match="splits of 0.5 maps"):
        Res2NetBottleneck(64, 1, base_width=32)


def test_bad_configuration():
    with pytest.raises(ValueError, match="stem must be"):
        Res2Net(stem="tiny")
    with pytest.raises(ValueError, match="4 stage depths but 3 widths"):
        Res2Net(widths=(64, 128, 256))
    with pytest.raises(ValueError, match="layer 'conv1'.*expects 3 input channels, got 1"):
        dl.models.get("res2net50_26w_4s")(torch.zeros(1, 1, 32, 32))


def test_scales_at_equal_budget():
    from dcnn_lib.models.classification.res2net import equal_budget_width
    from dcnn_lib.recipes.dense import RES2NET_SCALES

    ref = n_params(dl.models.get("res2net_small"))
    config = dict(depths=(1, 1, 1), widths=(16, 48, 96), stem="small", stem_width=16, in_channels=1, num_classes=10)
    for s, w in RES2NET_SCALES.items():
        assert equal_budget_width(s, ref, **config) == w
        count = n_params(dl.recipes.get(f"res2net_small_s{s}", "smoke").build_model())
        assert abs(count - ref) / ref < 0.01                   # within 1 % of 26w×4s
    assert equal_budget_width(4, ref, **config) == 26
