"""Issue 15, point 8 (model inputs) and issue 20, point 5 (the checks off the hot path).

A model given a NumPy array, a list, integer pixels or float64 raises a named error that says
what it got and what it needs (torch failed deep inside the first convolution before). The
per-layer checks run once per kind of input (shape, dtype, device...), not on every forward.
"""
import copy
import pickle

import numpy as np
import pytest
import torch
import torch.nn as nn

import dcnn_lib as dl
from conftest import library_error
from dcnn_lib.layers import guard_inputs

# one classifier per kind of network, and a segmenter (small enough for every test run)
MODELS = {"lenet5": (1, 32, 32), "resnet20_cifar": (3, 32, 32), "unet": (3, 16, 16)}
OVERRIDES = {"unet": {"widths": (4, 8, 16, 32, 64), "padding": "same"}}


def build(name):
    return dl.models.get(name, **OVERRIDES.get(name, {})).eval()


@pytest.mark.parametrize("name", MODELS)
def test_wrong_kinds_of_input_are_named(name):
    model, size = build(name), MODELS[name]
    x = torch.rand(2, *size)
    model(x)                                                        # the right input passes
    cases = [
        (x.double(), TypeError, r"the input is torch.float64 but the model's parameters are torch.float32; "
                                r"convert the input with x.to\(torch.float32\)"),
        (x.long(), TypeError, r"expected a floating-point tensor \(float32\), got torch.int64 of shape \(2, "),
        ((x * 255).to(torch.uint8), TypeError, r"got torch.uint8 .* \(pixels 0-255: x.float\(\) / 255"),
        (x.int(), TypeError, "got torch.int32"),
        (x.numpy(), TypeError, r"got a numpy.ndarray of shape \(2, .*\) and dtype float32; convert it with "
                               r"torch.as_tensor\(x, dtype=torch.float32\)"),
        (list(x), TypeError, r"got a list of 2 items \(Tensor\); convert it with torch.stack\(x\)"),
        (x.tolist(), TypeError, r"got a list of 2 items \(list\); convert it with torch.as_tensor"),
    ]
    for bad, kind, message in cases:
        with library_error(kind, message):
            model(bad)


def test_float64_works_when_the_model_is_float64_and_under_autocast():
    net = guard_inputs(nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(16, 2)), "toy", expected=(3, 4, 4))
    with library_error(TypeError, "float64 but the model's parameters are torch.float32"):
        net(torch.rand(1, 3, 4, 4, dtype=torch.float64))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert net(torch.rand(1, 3, 4, 4, dtype=torch.bfloat16)).shape == (1, 2)   # autocast mixes dtypes
    assert net.double()(torch.rand(1, 3, 4, 4, dtype=torch.float64)).dtype == torch.float64


def test_shape_only_runs_on_the_meta_device_are_checked_too():
    """The analysis tools run models on ``meta`` tensors (no autocast, no arithmetic there)."""
    with torch.device("meta"):
        model = dl.models.get("lenet5").eval()
    assert model(torch.empty(2, 1, 32, 32, device="meta")).shape == (2, 10)
    with library_error(ValueError, "LeNet5: layer 'c5'"):
        model(torch.empty(1, 1, 28, 28, device="meta"))


def test_inputs_given_by_keyword_get_the_layer_checks():
    model = dl.models.get("sam_small").eval()
    out = model(image=torch.rand(1, 3, 64, 64), points=torch.tensor([[[10.0, 20.0]]]),
                point_labels=torch.tensor([[1]]))
    assert out
    with library_error(ValueError, r"SamSmall: layer '.+' \(\w+\) expects 3 input channels, got 1"):
        model(image=torch.rand(1, 1, 64, 64))


def layer_hooks(model):
    return sum(len(m._forward_pre_hooks) for name, m in model.named_modules() if name)


def test_layer_checks_run_once_per_kind_of_input(monkeypatch):
    from dcnn_lib.layers import guards

    calls = []
    real = guards._LayerGuard.__call__
    monkeypatch.setattr(guards._LayerGuard, "__call__", lambda self, m, a: calls.append(self.path) or real(self, m, a))
    model = dl.models.get("lenet5").eval()
    assert layer_hooks(model) == 0                                  # nothing on the layers at rest
    model(torch.rand(1, 1, 32, 32))
    first = len(calls)
    assert first >= 6 and layer_hooks(model) == 0                   # checked once, hooks gone again
    for _ in range(3):
        model(torch.rand(1, 1, 32, 32))
    assert len(calls) == first                                      # same signature: no layer check
    model(torch.rand(4, 1, 32, 32))                                 # a new batch size: checked again
    assert len(calls) == 2 * first
    with library_error(ValueError, "LeNet5: layer 'c5'"):           # a new, bad size: still named
        model(torch.rand(1, 1, 28, 28))
    after_failure = len(calls)
    model(torch.rand(1, 1, 32, 32))                                 # seen: the hooks left by the failure go
    assert layer_hooks(model) == 0 and len(calls) == after_failure
    model.train()
    model(torch.rand(1, 1, 32, 32))                                 # train mode is another signature
    assert len(calls) == after_failure + first


def test_changing_the_models_dtype_is_a_new_signature():
    model = dl.models.get("resnet20_cifar").eval()
    x = torch.rand(1, 3, 32, 32)
    model(x)
    model.double()
    with library_error(TypeError, "the input is torch.float32 but the model's parameters are torch.float64"):
        model(x)
    assert model(x.double()).dtype == torch.float64


def test_a_backbone_inside_a_model_is_checked_by_the_whole_model_only():
    inner = guard_inputs(nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU()), "inner", expected=(3, 8, 8))
    outer = guard_inputs(nn.Sequential(nn.Conv2d(1, 3, 1), inner, nn.Conv2d(8, 2, 5)), "outer", expected=(1, 8, 8))
    assert len(inner._forward_pre_hooks) == 0 and len(inner._forward_hooks) == 0
    with library_error(ValueError, r"outer: layer '2' \(Conv2d\) with kernel 5×5.*at least 5×5, got 4×4"):
        outer(torch.rand(1, 1, 6, 6))
    assert outer(torch.rand(1, 1, 8, 8)).shape == (1, 2, 2, 2)


def test_copies_keep_their_checks():
    model = dl.models.get("lenet5").eval()
    model(torch.rand(1, 1, 32, 32))
    for twin in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        with library_error(ValueError, "LeNet5: layer 'c5'"):
            twin(torch.rand(1, 1, 28, 28))
        with library_error(TypeError, "numpy.ndarray"):
            twin(np.zeros((1, 1, 32, 32), dtype=np.float32))
