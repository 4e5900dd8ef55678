"""FractalNet against its paper: the expansion rule, the join (element-wise mean), local and
global drop-path, one column alone, and the parameter count (33.7M built, 38.6M printed)."""
import pytest
import torch
import torch.nn as nn

import dcnn_lib as dl
from dcnn_lib.layers import FractalBlock, FractalJoin
from dcnn_lib.models.classification.fractalnet import CIFAR_WIDTHS, PAPER_PARAMS_M, FractalNet, fractal_params


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def test_parameter_counts_and_the_papers_figure():
    m = dl.models.get("fractalnet20_cifar")
    assert n_params(m) == fractal_params() == 33_724_618                 # osmr/imgclsmob asserts the same
    assert n_params(dl.models.get("fractalnet20_cifar", num_classes=100)) == 33_770_788
    assert fractal_params(bias=True, bn_affine=False) == 33_714_314      # the authors' Caffe layout
    assert n_params(dl.models.get("fractalnet20_cifar", num_columns=4)) == fractal_params(num_columns=4) == 76_106_634
    # the paper's 38.6M is not this layout; counting every conv at the block's width comes closest
    assert round(n_params(m) / 1e6, 1) == 33.7 != PAPER_PARAMS_M
    assert abs(fractal_params(all_square=True) / 1e6 - PAPER_PARAMS_M) < 0.2
    # closed form = the built network for other layouts too
    assert n_params(FractalNet((8, 16), 2, 0.0, in_channels=1)) == fractal_params((8, 16), 2, in_channels=1)


def test_expansion_rule_layout():
    for C in (1, 2, 3, 4):
        block = FractalBlock(3, 8, C)
        convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
        assert len(convs) == 2 ** C - 1
        assert [len(col) for col in block.columns] == [2 ** c for c in range(C)]
        assert sum(c.in_channels == 3 for c in convs) == C                # the first conv of each column
        assert block.depth == 2 ** (C - 1)
    assert FractalBlock(3, 8, 3).joins() == [[2, 3], [1, 2, 3]]
    assert FractalBlock(3, 8, 4).joins() == [[3, 4], [2, 3, 4], [3, 4], [1, 2, 3, 4]]
    m = dl.models.get("fractalnet20_cifar")
    assert m.num_layers == 20 and len(m.blocks()) == 5
    assert [b.out_channels for b in m.blocks()] == list(CIFAR_WIDTHS)


def test_block_is_f_C_of_the_recursion():
    """C = 3 by hand: f₃(z) = join(f₂(f₂(z)), conv(z)), the joins merged; pool before the last join."""
    torch.manual_seed(0)
    block = FractalBlock(2, 4, 3, drop_path=0.15).eval()
    x = torch.randn(2, 2, 8, 8)
    c1, c2, c3 = block.columns
    pool = block.pool
    j1 = (c3[1](c3[0](x)) + c2[0](x)) / 2                                 # f₂(z) = join(conv∘conv, conv)
    deep = pool(c3[3](c3[2](j1)))
    expected = (deep + pool(c2[1](j1)) + pool(c1[0](x))) / 3              # one join of three
    assert torch.allclose(block(x), expected, atol=1e-6)


def test_join_is_the_mean_of_the_survivors():
    join = FractalJoin(0.15)
    a, b, c = (torch.full((1, 2, 2, 2), v, requires_grad=True) for v in (1.0, 2.0, 6.0))
    assert torch.equal(join([a, b, c], keep=[True, True, True]), torch.full((1, 2, 2, 2), 3.0))
    out = join([a, b, c], keep=[True, False, True])
    assert torch.equal(out, torch.full((1, 2, 2, 2), 3.5))                # the dropped input contributes nothing
    out.sum().backward()
    assert b.grad is None and torch.all(a.grad == 0.5) and torch.all(c.grad == 0.5)
    with pytest.raises(ValueError, match="at least one True"):
        join([a, b], keep=[False, False])
    with pytest.raises(ValueError, match="one shape"):
        join([a, torch.zeros(1, 3, 2, 2)])
    with pytest.raises(ValueError, match="drop_prob"):
        FractalJoin(1.0)


def test_local_drop_path_keeps_at_least_one_and_drops_at_the_rate():
    torch.manual_seed(0)
    join = FractalJoin(0.9)
    draws = [join.sample(3) for _ in range(500)]
    assert all(any(k) for k in draws)
    rate = 1 - sum(map(sum, draws)) / (3 * 500)
    assert 0.6 < rate < 0.9                          # 0.9 per input, raised by the keep-one rule
    join = FractalJoin(0.15).train()
    torch.manual_seed(0)
    x = [torch.full((1, 1, 1, 1), float(v)) for v in (0, 3, 6)]
    values = {float(join(x)) for _ in range(200)}
    assert values > {3.0} and values <= {0.0, 3.0, 6.0, 1.5, 4.5, 3.0}   # means of the survivors
    join.eval()
    assert float(join(x)) == 3.0                                          # test time: all inputs


def test_global_drop_path_runs_one_column_and_trains_only_it():
    torch.manual_seed(0)
    m = FractalNet((4, 8), 3, 0.0, in_channels=1).train()
    x, y = torch.randn(4, 1, 16, 16), torch.tensor([0, 1, 2, 3])
    with m.only_column(2):
        out = m(x)
        nn.functional.cross_entropy(out, y).backward()
    for block in m.blocks():
        for c, col in enumerate(block.columns, start=1):
            grads = [p.grad for p in col.parameters()]
            assert all(g is not None for g in grads) if c == 2 else all(g is None for g in grads)
    # the same as running the column's convolutions and pooling by hand
    m.eval()
    with m.only_column(3):
        z = x
        for block in m.blocks():
            z = block.pool(block.columns[2](z))
        assert torch.allclose(m(x), m.fc(m.flatten(m.avgpool(z))), atol=1e-6)
    assert m.column is None
    with pytest.raises(ValueError, match="column must lie in 1..3"):
        with m.only_column(4):
            pass


def test_training_mixes_local_and_global_drop_path_and_eval_uses_all_columns():
    torch.manual_seed(0)
    m = FractalNet((4, 8), 3, 0.0, global_drop=0.5, in_channels=1).train()
    x = torch.randn(2, 1, 16, 16)
    columns = []
    for _ in range(60):
        m(x)
        columns.append(m.last_column)
    assert None in columns and {1, 2, 3} <= set(columns)
    m.global_drop = 0.0
    m(x)
    assert m.last_column is None
    m.eval()
    assert torch.equal(m(x), m(x))                                       # deterministic: every column, mean joins


def test_bad_configuration():
    with pytest.raises(ValueError, match="3 block widths but 2 dropout rates"):
        FractalNet((8, 16, 32), dropout=(0.1, 0.2))
    with pytest.raises(ValueError, match="num_columns must be >= 1"):
        FractalBlock(3, 8, 0)
    with pytest.raises(ValueError, match=r"layer 'block1.columns.\d.0.conv'.*expects 3 input channels, got 1"):
        dl.models.get("fractalnet20_cifar").eval()(torch.zeros(1, 1, 32, 32))


def test_diagram_draws_every_convolution_and_join():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from dcnn_lib.diagrams import draw_fractal

    for C in (2, 3, 4):
        block = FractalBlock(3, 8, C)
        ax = draw_fractal(block)
        assert sum(t.get_text() == "conv" for t in ax.texts) == 2 ** C - 1
        bars = [p for p in ax.patches if p.get_facecolor()[:3] == matplotlib.colors.to_rgb("#7bc67b")]
        assert len(bars) == len(block.joins())
        plt.close(ax.figure)
    with pytest.raises(TypeError, match="expects a FractalBlock"):
        draw_fractal(nn.Conv2d(1, 1, 1))
