"""Network in Network (Lin et al., ICLR 2014): the released 4-block ImageNet model, the small
variant, mlpconv, and the identity behind it: a 1×1 convolution is a Linear layer on channels.
(Forward/backward and wrong-channel errors of every registered model: tests/test_models.py.)"""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import dcnn_lib as dl
from dcnn_lib.layers import MlpConv
from dcnn_lib.models.classification.nin import CAFFE_INIT_STD, IMAGENET_BLOCKS


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_imagenet_nin_parameters_by_hand():
    # (k*k*c_in + 1) * c_out for every convolution of the released prototxt
    convs = [(11, 3, 96), (1, 96, 96), (1, 96, 96), (5, 96, 256), (1, 256, 256), (1, 256, 256),
             (3, 256, 384), (1, 384, 384), (1, 384, 384), (3, 384, 1024), (1, 1024, 1024), (1, 1024, 1000)]
    expected = sum((k * k * c_in + 1) * c_out for k, c_in, c_out in convs)
    model = dl.models.get("nin")
    assert n_params(model) == expected == 7_595_176 == dl.models.meta("nin").published.params.value
    assert round(expected * 4 / 2**20) == 29  # the "29 MB" of the lecture's table (float32, MiB)


@pytest.mark.parametrize("name", ["nin", "nin_small"])
def test_no_fully_connected_layer_and_global_average_pooling(name):
    model = dl.models.get(name)
    assert not any(isinstance(m, nn.Linear) for m in model.modules())
    assert isinstance(model.gap, nn.AdaptiveAvgPool2d) and model.gap.output_size == 1
    last_conv = [m for m in model.modules() if isinstance(m, nn.Conv2d)][-1]
    assert last_conv.kernel_size == (1, 1) and last_conv.out_channels == model.num_classes


def test_imagenet_nin_map_sizes_follow_caffe():
    s = dl.analysis.summary(dl.models.get("nin"), (3, 224, 224), depth=1)
    shapes = {r.name: r.output_shape[1:] for r in s}
    assert shapes["block1"] == (96, 54, 54) and shapes["pool1"] == (96, 27, 27)
    assert shapes["block2"] == (256, 27, 27) and shapes["pool2"] == (256, 13, 13)
    assert shapes["block3"] == (384, 13, 13) and shapes["pool3"] == (384, 6, 6)
    assert shapes["block4"] == (1000, 6, 6) and s.output_shape == (1, 1000)


def test_caffe_initialisation_stds():
    torch.manual_seed(0)
    model = dl.models.get("nin")
    blocks = [model.block1, model.block2, model.block3, model.block4]
    for block, stds in zip(blocks, CAFFE_INIT_STD):
        convs = [m for m in block if isinstance(m, nn.Conv2d)]
        for conv, std in zip(convs, stds):
            assert abs(conv.weight.std().item() - std) < 0.1 * std
            assert not conv.bias.any()
    assert len(IMAGENET_BLOCKS) == 4


def test_mlpconv_is_a_conv_then_1x1_convs():
    block = MlpConv(3, (8, 6, 4), kernel_size=5, padding=2)
    convs = [m for m in block if isinstance(m, nn.Conv2d)]
    assert [(c.kernel_size, c.in_channels, c.out_channels) for c in convs] == [
        ((5, 5), 3, 8), ((1, 1), 8, 6), ((1, 1), 6, 4)]
    assert [n for n, _ in block.named_children()] == ["conv", "relu", "cccp1", "relu1", "cccp2", "relu2"]
    assert block(torch.randn(2, 3, 9, 9)).shape == (2, 4, 9, 9)
    linear_end = MlpConv(3, (8, 4), 3, batch_norm=True, final_activation=False)
    assert [n for n, _ in linear_end.named_children()] == ["conv", "bn", "relu", "cccp1"]
    assert linear_end.cccp1.bias is not None and linear_end.conv.bias is None
    assert (linear_end.eval()(torch.randn(64, 3, 5, 5)) < 0).any()  # no ReLU at the end
    with pytest.raises(ValueError, match="at least"):
        MlpConv(3, (), 3)


def test_1x1_convolution_equals_a_linear_layer_on_channels():
    torch.manual_seed(0)
    conv = nn.Conv2d(16, 8, kernel_size=1)
    linear = nn.Linear(16, 8)
    with torch.no_grad():
        linear.weight.copy_(conv.weight[:, :, 0, 0])
        linear.bias.copy_(conv.bias)
    x = torch.randn(2, 16, 5, 7)
    by_conv = conv(x)
    by_linear = linear(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)   # every pixel's channel vector
    assert torch.allclose(by_conv, by_linear, atol=1e-6)
    by_einsum = torch.einsum("oc,nchw->nohw", conv.weight[:, :, 0, 0], x) + conv.bias[:, None, None]
    assert torch.allclose(by_conv, by_einsum, atol=1e-6)
    # and the MACs are those of the Linear layer at every pixel
    s = dl.analysis.summary(nn.Sequential(conv), (16, 5, 7))
    assert s.total_macs == 16 * 8 * 5 * 7


def test_nin_small_runs_on_28x28_and_has_linear_class_maps():
    model = dl.models.get("nin_small").eval()
    assert model(torch.randn(3, 1, 28, 28)).shape == (3, 10)
    assert n_params(model) == dl.models.meta("nin_small").published.params.value
    assert not isinstance(list(model.block3.children())[-1], nn.ReLU)
    assert dl.models.meta("nin_small").input_size == (1, 28, 28)
    with pytest.raises(ValueError, match="expects 1 input channel"):
        model(torch.randn(1, 3, 28, 28))
    logits = model(torch.randn(64, 1, 28, 28))
    assert (logits < 0).any() and F.softmax(logits, 1).sum(1).allclose(torch.ones(64))
