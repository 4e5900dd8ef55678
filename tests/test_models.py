"""The contract every registered model keeps (DESIGN.md, "Quality bars"):

- it builds with no arguments (the paper's configuration) and runs forward and backward;
- its parameter count equals ``meta(name).published.params`` when the paper or
  torchvision gives one;
- with a torchvision twin, torchvision's state_dict loads with ``strict=True`` and the
  outputs are equal (weights are torchvision's random initialisation: pretrained weights
  need the network, which tests never use; the twin is built with
  ``meta(name).test.torchvision_kwargs`` when set, e.g. GoogLeNet without auxiliary heads);
- a wrong number of input channels raises a ValueError that names a layer.

Model files add nothing here: registering a model is enough to be tested.
"""
import pytest
import torch
import torch.nn.functional as F

import dcnn_lib as dl

CLASSIFIERS = dl.models.list_models(task="classification")


def _input(name: str, batch: int = 2) -> torch.Tensor:
    size = dl.models.meta(name).test_input_size
    return torch.randn(batch, *size, generator=torch.Generator().manual_seed(0))


def _logits(out):
    if isinstance(out, dict):
        return out["out"]
    if isinstance(out, (tuple, list)):       # (logits, aux...) in training mode
        return out[0]
    return getattr(out, "logits", out)        # torchvision's InceptionOutputs / GoogLeNetOutputs


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_forward_backward(name):
    torch.manual_seed(0)
    model = dl.models.get(name, **dl.models.meta(name).test.kwargs).train()   # the small test configuration
    outputs = model(_input(name))
    out = _logits(outputs)
    assert out.shape[0] == 2 and out.ndim == 2
    # auxiliary heads (the rest of a training-mode tuple) take part in the loss, as in training
    aux = [a for a in outputs[1:] if a is not None] if isinstance(outputs, (tuple, list)) else []
    target = torch.zeros(2, dtype=torch.long)
    sum(F.cross_entropy(o, target) for o in [out, *aux]).backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize("name", [n for n in CLASSIFIERS if dl.models.meta(n).published.params])
def test_parameter_count_equals_the_reference(name):
    model = dl.models.get(name)
    assert sum(p.numel() for p in model.parameters()) == dl.models.meta(name).published.params.value


# Detection twins return boxes, not logits: tests/test_detection.py checks them.
TWINS = [n for n in dl.models.list_models() if dl.models.meta(n).test.torchvision
         and dl.models.meta(n).task != "detection"]


@pytest.mark.parametrize("name", TWINS)
def test_torchvision_twin_loads_strictly_and_matches(name):
    import torchvision

    info = dl.models.meta(name)
    torch.manual_seed(0)
    # test.torchvision_kwargs: how torchvision builds the twin (e.g. googlenet without aux heads)
    theirs = torchvision.models.get_model(info.test.torchvision, weights=None, **info.test.torchvision_kwargs).eval()
    ours = dl.models.get(name).eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = _input(name)
    with torch.no_grad():
        a, b = _logits(ours(x)), _logits(theirs(x))
    assert a.shape == b.shape
    assert torch.allclose(a, b, rtol=1e-4, atol=1e-5), (a - b).abs().max()


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_wrong_channels_name_a_layer(name):
    x = _input(name, batch=1)
    bad = torch.randn(1, x.shape[1] + 1, *x.shape[2:])
    with pytest.raises(ValueError, match=r"layer '.+' .*expects \d+ input channel"):
        dl.models.get(name).eval()(bad)
