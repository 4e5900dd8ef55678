"""The tracer against the pure recurrence, on every plain chain of layers in the registry.

`dl.analysis.receptive_field` traces a network's real forward pass operation by operation;
`rf_size`, `rf_jump`, `rf_padding` and `conv_output_size` are the textbook recurrence of a
chain of layers (Araujo et al., Distill 2019). On a network without merges the two must agree
at every convolution and pooling. Which registered networks are plain chains is found here,
not listed: a network is a chain when no operation of its forward pass takes two tensors that
both derive from the input (no residual add, no concatenation of branches, no gating). The
search stops at a network's first merge, so ResNets cost little. A network whose forward needs
real values before any merge (a detector's decoding) is not a chain of layers; the test checks
that only detectors are set aside that way.
"""
from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn as nn
from torch.utils._python_dispatch import TorchDispatchMode

import dcnn_lib as dl
from dcnn_lib.analysis import conv_output_size, rf_jump, rf_padding, rf_size


class _NotAChain(Exception):
    pass


class _Lineage(TorchDispatchMode):
    """Marks every tensor computed from the input; raises at the first operation that takes
    two different marked tensors (a merge of two paths)."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        flat = [t for t in torch.utils._pytree.tree_leaves((args, kwargs)) if isinstance(t, torch.Tensor)]
        marked = {id(t) for t in flat if getattr(t, "_from_input", False)}
        if len(marked) > 1:
            raise _NotAChain(str(func))
        out = func(*args, **kwargs)
        if marked:
            for t in torch.utils._pytree.tree_leaves(out):
                if isinstance(t, torch.Tensor):
                    t._from_input = True
        return out


def _input_size(name: str) -> tuple[int, ...]:
    meta = dl.models.meta(name)
    get = meta.get if isinstance(meta, dict) else (lambda k, d=None: getattr(meta, k, d))
    size = get("input_size")
    return tuple(size) if not isinstance(size, int) else (3, size, size)


def _build(name: str) -> nn.Module:
    """The network on the meta device (no memory, no initialisation cost)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.device("meta"):
            return dl.models.get(name).eval()


def _is_chain(model: nn.Module, size: tuple[int, ...]) -> bool:
    x = torch.empty((1, *size), device="meta")
    x._from_input = True
    try:
        with torch.no_grad(), _Lineage():
            model(x)
    except _NotAChain:
        return False
    return True


def _task(name: str) -> str | None:
    meta = dl.models.meta(name)
    return meta.get("task") if isinstance(meta, dict) else getattr(meta, "task", None)


def _chains() -> tuple[dict[str, tuple[nn.Module, tuple[int, ...]]], list[str]]:
    """Every registered network that is a plain chain (built on the meta device), with its
    input size; and the networks whose forward needs real values before any merge (a
    detector's decoding, R-CNN's region proposals): pipelines with data-dependent steps, not
    chains of layers."""
    chains, needs_real = {}, []
    for name in dl.models.list_models():
        size = _input_size(name)
        model = _build(name)
        try:
            if _is_chain(model, size):
                chains[name] = (model, size)
        except Exception:
            needs_real.append(name)
    return chains, needs_real


@pytest.fixture(scope="module")
def chains():
    found, needs_real = _chains()
    assert all(_task(name) == "detection" for name in needs_real), needs_real
    return found


def _recurrence_layer(module: nn.Module) -> tuple[tuple[int, ...], ...] | None:
    """``(kernel, stride, padding, dilation)`` per axis of a convolution or pooling layer the
    recurrence covers; None for any other layer."""
    if isinstance(module, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
        return None
    if not all(hasattr(module, a) for a in ("kernel_size", "stride", "padding")):
        return None

    def pair(v):
        return tuple(v) if isinstance(v, (tuple, list)) else (v, v)

    k, s = pair(module.kernel_size), pair(module.stride or module.kernel_size)
    d = pair(getattr(module, "dilation", 1))
    p = module.padding
    if p == "valid":
        p = 0
    elif p == "same":
        p = tuple((ki - 1) * di // 2 for ki, di in zip(k, d))
    return k, s, pair(p), d


def _check(model: nn.Module, size: tuple[int, ...]) -> int:
    """Walk the table: recurrence layers must match the recurrence; any other spatial row
    keeps the field or ends the part the recurrence covers. Returns the layers checked."""
    table = dl.analysis.receptive_field(model, size)
    assert table.merges == 0, "the tracer saw a merge that the lineage search did not"
    n = list(size[-2:])
    r, j, P = [1.0, 1.0], [1.0, 1.0], [0.0, 0.0]
    checked = 0
    for row in table:
        if not row.spatial:
            break
        try:
            module = model.get_submodule(row.name)
        except AttributeError:
            module = None
        layer = _recurrence_layer(module) if module is not None and row.call == 1 else None
        if layer is None:
            if (row.size, row.stride, row.padding, row.output_size) != (tuple(r), tuple(j), tuple(P), tuple(n)):
                break  # a layer the recurrence does not describe (transposed conv, crop, adaptive pool)
            continue
        k, s, p, d = layer
        ceil = bool(getattr(module, "ceil_mode", False))
        for a in range(2):
            n[a] = conv_output_size(n[a], k[a], s[a], p[a], d[a], ceil_mode=ceil)
            r[a], P[a], j[a] = rf_size(r[a], j[a], k[a], d[a]), rf_padding(P[a], j[a], p[a]), rf_jump(j[a], s[a])
        assert row.output_size == tuple(n), row.name
        assert (row.size, row.stride, row.padding) == (tuple(r), tuple(j), tuple(P)), row.name
        assert row.aligned and row.uniform, row.name
        checked += 1
    return checked


def test_tracer_equals_the_recurrence_on_every_chain_in_the_registry(chains):
    assert len(chains) >= 15, sorted(chains)          # VGGs, plain nets, LeNets, NiN, AlexNet...
    assert not {"resnet50", "googlenet", "inception_v3"} & set(chains)   # merges are found
    checked = {name: _check(model, size) for name, (model, size) in chains.items()}
    assert all(n >= 1 for n in checked.values()), checked
    assert sum(checked.values()) >= 300, checked


def test_the_search_finds_merges_and_chains():
    chain = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2))
    assert _is_chain(chain, (1, 8, 8))

    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3, padding=1)

        def forward(self, x):
            return x + self.conv(x)

    assert not _is_chain(Residual(), (1, 8, 8))
    assert dl.analysis.receptive_field(Residual(), (1, 8, 8)).merges == 1
    assert dl.analysis.receptive_field(chain, (1, 8, 8)).merges == 0
