"""DenseNet against its paper: every row of Table 2 from one builder (counts in closed form and
the paper's rounded figures), Table 1's growth and compression, torchvision's multiply-adds,
and the memory-efficient (checkpointed) dense layers.

(torchvision twins, forward/backward of every registered DenseNet and the registered exact
counts run in tests/test_models.py, which covers every registered model.)
"""
import math

import pytest
import torch
import torch.nn as nn

import dcnn_lib as dl
from dcnn_lib.layers import DenseBlock, DenseLayer, Transition, compressed
from dcnn_lib.models.classification.densenet import (IMAGENET, TABLE2, DenseNet, cifar_layers, densenet_cifar,
                                                     imagenet_densenet)


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def table2_params(depth: int, k: int, bc: bool, classes: int = 10) -> int:
    """Closed form of the authors' Torch layout (3×3 convs without bias, BN, fc)."""
    n = (depth - 4) // (6 if bc else 3)
    c = 2 * k if bc else 16
    total = 9 * 3 * c                                           # first convolution
    for b in range(3):
        for i in range(n):
            cin = c + i * k
            if bc:
                total += 2 * cin + cin * 4 * k + 2 * 4 * k + 9 * 4 * k * k   # BN, 1x1 to 4k, BN, 3x3 to k
            else:
                total += 2 * cin + 9 * cin * k                               # BN, 3x3 to k
        c += n * k
        if b < 2:
            out = c // 2 if bc else c
            total += 2 * c + c * out                                         # transition: BN, 1x1
            c = out
    return total + 2 * c + c * classes + classes                              # final BN, fc


@pytest.mark.parametrize("row", list(TABLE2))
def test_every_table2_row_from_one_builder(row):
    depth, k, bc = row
    model = densenet_cifar(depth, k, bc)
    count = n_params(model)
    assert count == table2_params(depth, k, bc)
    assert n_params(densenet_cifar(depth, k, bc, num_classes=100)) == table2_params(depth, k, bc, 100)
    assert round(count / 1e6, 1) == TABLE2[row]["params_m"]            # 1.0, 7.0, 27.2, 0.8, 15.3, 25.6
    blocks = [b for _, b in model.dense_blocks()]
    assert [len(b) for b in blocks] == [cifar_layers(depth, bc)] * 3
    weighted = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(weighted) == depth                                       # L counts every weighted layer


def test_registered_cifar_rows_and_keywords():
    assert n_params(dl.models.get("densenet40_cifar")) == 1_019_722
    assert n_params(dl.models.get("densenet_bc100_cifar")) == 769_162
    assert n_params(dl.models.get("densenet40_cifar", num_classes=100)) == 1_060_132
    assert n_params(dl.models.get("densenet_bc100_cifar", num_classes=100)) == 800_032
    # other rows by keyword, from the registered builders
    assert n_params(dl.models.get("densenet40_cifar", depth=100, growth_rate=24)) == table2_params(100, 24, False)
    assert n_params(dl.models.get("densenet_bc100_cifar", depth=250, growth_rate=24)) == table2_params(250, 24, True)
    with pytest.raises(ValueError, match="6n \\+ 4"):
        cifar_layers(101, True)
    with pytest.raises(ValueError, match="3n \\+ 4"):
        cifar_layers(41, False)


def test_growth_bottleneck_and_compression_in_densenet121():
    m = dl.models.get("densenet121")
    k, blocks, init = IMAGENET[121]
    c = init
    for i, (name, block) in enumerate(m.dense_blocks()):
        assert block.in_channels == c and block.out_channels == c + blocks[i] * k
        layer = block["denselayer1"]
        assert layer.conv1.out_channels == 4 * k and layer.conv2.out_channels == k      # bottleneck 4k -> k
        c = block.out_channels
        if i < 3:
            t = m.features.get_submodule(f"transition{i + 1}")
            assert t.out_channels == c // 2                                             # θ = 0.5
            c //= 2
    assert c == 1024 == m.classifier.in_features
    assert [f.channels for f in m.feature_info] == [256, 512, 1024, 1024]
    assert [f.stride for f in m.feature_info] == [4, 8, 16, 32]
    assert compressed(255, 0.5) == 127
    with pytest.raises(ValueError, match="compression"):
        compressed(64, 1.5)


def test_densenet264_and_161_layouts():
    assert n_params(imagenet_densenet(161)) == dl.models.meta("densenet161").published.params.value
    m = imagenet_densenet(264)
    assert [len(b) for _, b in m.dense_blocks()] == [6, 12, 64, 48]
    # weighted layers: two convs a dense layer, the stem, 3 transitions, the fc
    for depth in (121, 161, 169, 201):
        assert 2 * sum(IMAGENET[depth][1]) + 5 == depth
    assert 2 * sum(IMAGENET[264][1]) + 5 == 265     # Table 1's "DenseNet-264" row counts one layer less
    with pytest.raises(ValueError, match="depth must be one of"):
        imagenet_densenet(100)


def test_densenet121_against_resnet50_multiply_adds():
    dn = dl.analysis.summary(dl.models.get("densenet121"), (3, 224, 224))
    rn = dl.analysis.summary(dl.models.get("resnet50"), (3, 224, 224))
    assert round(dn.total_macs / 1e9, 3) == dl.models.meta("densenet121").published.gmacs.value == 2.834
    assert dn.total_params < rn.total_params / 3 and dn.total_macs < rn.total_macs


def test_dense_layer_reads_everything_before_it():
    torch.manual_seed(0)
    block = DenseBlock(3, 4, growth_rate=2, bn_size=None).eval()
    x = torch.randn(1, 4, 5, 5)
    y = block(x)
    assert y.shape == (1, 4 + 3 * 2, 5, 5)
    assert torch.equal(y[:, :4], x)                             # the input passes through unchanged
    l1, l2 = block["denselayer1"], block["denselayer2"]
    x1 = l1(x)
    assert torch.equal(y[:, 4:6], x1)
    assert torch.allclose(y[:, 6:8], l2(torch.cat([x, x1], 1)), atol=1e-6)
    with pytest.raises(ValueError, match="DenseLayer: expects inputs with 6 channels in all, got 4"):
        l2([x])


def test_memory_efficient_layers_compute_the_same_and_keep_less():
    torch.manual_seed(0)
    naive = densenet_cifar(40, 12).train()
    efficient = densenet_cifar(40, 12, memory_efficient=True).train()
    efficient.load_state_dict(naive.state_dict())
    x = torch.randn(4, 3, 32, 32)
    ya, yb = naive(x), efficient(x)
    assert torch.allclose(ya, yb, atol=1e-5)
    ya.square().sum().backward()
    yb.square().sum().backward()
    for (n, a), b in zip(naive.named_parameters(), efficient.parameters()):
        assert torch.allclose(a.grad, b.grad, rtol=1e-4, atol=1e-5), n
    for (n, a), b in zip(naive.named_buffers(), efficient.buffers()):   # running statistics updated once
        assert torch.allclose(a, b, atol=1e-6), n
    kept_naive, kept_efficient = kept_after_forward(naive, x), kept_after_forward(efficient, x)
    assert kept_efficient < kept_naive / 3
    # the switch works in place on a built network
    assert all(layer.memory_efficient for _, b in naive.set_memory_efficient().dense_blocks() for layer in b.values())


def kept_after_forward(model: nn.Module, x: torch.Tensor) -> int:
    """Bytes still allocated after a training-mode forward pass whose output is kept: what
    autograd holds for the backward pass (``dl.analysis.peak_memory``'s ``end``).
    (``saved_tensors`` cannot see checkpointing: reading a recomputed node's saved tensors
    recomputes them.)"""
    keep = []
    return dl.analysis.peak_memory(lambda: keep.append(model(x)))["end"]


def test_naive_dense_memory_grows_quadratically_with_depth():
    """Kept activations of one block: a new concatenation per layer -> ~n² channels in all."""
    x = torch.randn(2, 8, 8, 8, requires_grad=True)

    def kept(n, efficient):
        return kept_after_forward(DenseBlock(n, 8, growth_rate=4, bn_size=None, memory_efficient=efficient), x)

    a, b = kept(8, False), kept(16, False)
    assert b / a > 3.0                                   # doubling depth: about 4x (quadratic)
    e, f = kept(8, True), kept(16, True)
    assert f / e < 2.5                                   # checkpointed: about 2x (linear)


def test_transition_and_dropout_layout():
    t = Transition(10, 5)
    assert [n for n, _ in t.named_children()] == ["norm", "relu", "conv", "pool"]
    assert t(torch.randn(2, 10, 8, 8)).shape == (2, 5, 4, 4)
    m = densenet_cifar(40, 12, drop_rate=0.2)
    assert "dropout" in dict(m.features.transition1.named_children())
    layer = m.features.denseblock1["denselayer1"]
    assert layer.drop_rate == 0.2
    layer.eval()
    x = torch.randn(1, 16, 4, 4)
    assert torch.equal(layer(x), layer(x))                # no dropout at test time


def test_bad_configuration():
    with pytest.raises(ValueError, match="stem must be"):
        DenseNet((1, 1), stem="tiny")
    with pytest.raises(ValueError, match="block_config"):
        DenseNet(())
    with pytest.raises(ValueError, match="layer 'features.conv0'.*expects 3 input channels, got 1"):
        dl.models.get("densenet40_cifar")(torch.zeros(1, 1, 32, 32))
    with pytest.raises(ValueError, match="num_layers must be >= 1"):
        DenseBlock(0, 4, 2)
    assert isinstance(DenseLayer(4, 2), nn.Module) and math.isclose(DenseLayer(4, 2, drop_rate=0.1).drop_rate, 0.1)
