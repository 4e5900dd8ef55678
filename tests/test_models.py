"""The contract every registered model keeps (DESIGN.md, "Quality bars"), driven by the registry:
every name of ``dl.models.list_models()`` is tested, whatever its task, with the settings of
``dl.models.meta(name).test`` (input size, small configuration, torchvision twin).

- its parameter count equals ``meta(name).published.params`` (the paper's configuration,
  built on the ``meta`` device: shapes only, no memory);
- a wrong number of input channels raises a ValueError that names a layer;
- with a torchvision twin (``test.torchvision``, built with ``test.torchvision_kwargs``),
  torchvision's state_dict loads with ``strict=True`` and the outputs are equal (weights are
  torchvision's random initialisation: tests never use the network);
- classifiers run forward and backward here; segmentation and detection models in
  tests/test_segmentation.py and tests/test_detection.py (maps and losses), also for every
  registered name, at ``meta(name).test_input_size`` with ``test.kwargs``.

Model files add nothing here: registering a model is enough to be tested
(tests/test_one_file_model.py proves it on a new module).
"""
import pytest
import torch
import torch.nn.functional as F

import dcnn_lib as dl

ALL = dl.models.list_models()
CLASSIFIERS = dl.models.list_models(task="classification")


def _input(name: str, batch: int = 2, extra_channels: int = 0) -> torch.Tensor:
    c, h, w = dl.models.meta(name).test_input_size
    return torch.randn(batch, c + extra_channels, h, w, generator=torch.Generator().manual_seed(0))


def _small(name: str) -> torch.nn.Module:
    """The model in its test configuration (``test.kwargs``; classifiers: the paper's)."""
    torch.manual_seed(0)
    return dl.models.get(name, **dl.models.meta(name).test.kwargs)


def _logits(out):
    if isinstance(out, dict):
        return out["out"]
    if isinstance(out, (tuple, list)):       # (logits, aux...) in training mode
        return out[0]
    return getattr(out, "logits", out)        # torchvision's InceptionOutputs / GoogLeNetOutputs


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_forward_backward(name):
    model = _small(name).train()
    outputs = model(_input(name))
    out = _logits(outputs)
    assert out.shape[0] == 2 and out.ndim == 2
    # auxiliary heads (the rest of a training-mode tuple) take part in the loss, as in training
    aux = [a for a in outputs[1:] if a is not None] if isinstance(outputs, (tuple, list)) else []
    target = torch.zeros(2, dtype=torch.long)
    sum(F.cross_entropy(o, target) for o in [out, *aux]).backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize("name", [n for n in ALL if dl.models.meta(n).published.params])
def test_parameter_count_equals_the_published_one(name):
    with torch.device("meta"):
        model = dl.models.get(name)
    assert sum(p.numel() for p in model.parameters()) == dl.models.meta(name).published.params.value


# Detection twins return boxes, not logits: tests/test_detection.py compares their detections.
TWINS = [n for n in ALL if dl.models.meta(n).test.torchvision and dl.models.meta(n).task != "detection"]


@pytest.mark.parametrize("name", TWINS)
def test_torchvision_twin_loads_strictly_and_matches(name):
    import torchvision

    info = dl.models.meta(name)
    torch.manual_seed(0)
    theirs = torchvision.models.get_model(info.test.torchvision, weights=None, **info.test.torchvision_kwargs).eval()
    ours = dl.models.get(name).eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = _input(name)
    with torch.no_grad():
        a, b = _logits(ours(x)), _logits(theirs(x))
    assert a.shape == b.shape
    assert torch.allclose(a, b, rtol=1e-4, atol=1e-5), (a - b).abs().max()


@pytest.mark.parametrize("name", ALL)
def test_wrong_channels_name_a_layer(name):
    model = _small(name).eval()
    bad = _input(name, batch=1, extra_channels=1)
    c = bad.shape[1] - 1
    with pytest.raises(ValueError, match=rf"layer '.+' .*expects {c} input channels?, got {c + 1}"):
        model(list(bad)) if dl.models.meta(name).task == "detection" else model(bad)
