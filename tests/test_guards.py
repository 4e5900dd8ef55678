"""Bad input raises a ValueError naming the layer, what it got and what it needed."""
import copy
import io
import pickle

import pytest
import torch
import torch.nn as nn

import dcnn_lib as dl
from dcnn_lib.layers import guard_inputs


def net():
    return guard_inputs(nn.Sequential(nn.Conv2d(3, 4, 3), nn.MaxPool2d(2), nn.Conv2d(4, 4, 3, dilation=2),
                                      nn.Flatten(), nn.Linear(4, 2)), "toy", expected=(3, 12, 12))


def test_right_input_passes():
    assert net()(torch.zeros(2, 3, 12, 12)).shape == (2, 2)


def test_too_small_names_the_layer_and_sizes():
    with pytest.raises(ValueError) as err:
        net()(torch.zeros(1, 3, 7, 7))   # 7 -> conv 5 -> pool 2: the dilated 3x3 (extent 5) cannot run
    msg = str(err.value)
    assert "layer '2' (Conv2d)" in msg and "dilation 2×2" in msg
    assert "at least 5×5, got 2×2" in msg and "(1, 3, 7, 7)" in msg and "(3, 12, 12)" in msg


def test_pooling_too_small():
    with pytest.raises(ValueError, match=r"layer '1' \(MaxPool2d\).*at least 2×2, got 1×1"):
        net()(torch.zeros(1, 3, 3, 3))


def test_wrong_channels_and_rank():
    with pytest.raises(ValueError, match="layer '0' \\(Conv2d\\) expects 3 input channels, got 1"):
        net()(torch.zeros(1, 1, 12, 12))
    with pytest.raises(ValueError, match="expected a batch of images \\(N, 3, H, W\\).*unsqueeze"):
        net()(torch.zeros(3, 12, 12))


def test_linear_feature_mismatch():
    with pytest.raises(ValueError, match="layer '4' \\(Linear\\) expects 4 input features, got 16"):
        net()(torch.zeros(1, 3, 14, 14))


def test_guarded_models_copy_and_pickle():
    m = dl.models.get("lenet5")
    buf = io.BytesIO()
    torch.save(m, buf)
    assert pickle.loads(pickle.dumps(m))(torch.zeros(1, 1, 32, 32)).shape == (1, 10)
    c = copy.deepcopy(m)
    with pytest.raises(ValueError, match="LeNet5: layer 'c5'"):
        c(torch.zeros(1, 1, 28, 28))


def test_guard_is_idempotent():
    m = net()
    n_hooks = len(m._forward_pre_hooks)
    guard_inputs(m)
    assert len(m._forward_pre_hooks) == n_hooks


def test_transposed_conv_is_not_size_checked():
    m = guard_inputs(nn.Sequential(nn.ConvTranspose2d(2, 2, 4, stride=2)))
    assert m(torch.zeros(1, 2, 1, 1)).shape == (1, 2, 4, 4)
    with pytest.raises(ValueError, match="expects 2 input channels, got 3"):
        m(torch.zeros(1, 3, 1, 1))
