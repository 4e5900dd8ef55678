"""Clear errors for bad input: which layer, what it got, what it needed.

Without this, an image that is too small for a network fails deep inside PyTorch with
``RuntimeError: Calculated padded input size per channel: (2 x 2). Kernel size: (5 x 5)...``
and no layer name. :func:`guard_inputs` installs forward pre-hooks on a model's convolution,
pooling and linear layers that raise ``ValueError`` naming the layer (by its module path), the
size or channel count it received, the one it needs, and the shape of the model's input.

Every dcnn_lib model calls it at the end of ``__init__``; it works on any ``nn.Module``. A
custom layer opts in with ``guard_as_conv = True`` and conv-like attributes (``in_channels``,
``kernel_size``, ``padding``, ``dilation``).
The hooks are picklable objects, so models still ``deepcopy`` and ``torch.save``.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn
from torch.nn.modules.conv import _ConvNd
from torch.nn.modules.pooling import _AvgPoolNd, _MaxPoolNd


def _pair(v: Any, n: int) -> tuple[int, ...]:
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


class _InputRecorder:
    """Root pre-hook: checks the input is a batch ``(N, C, *spatial)`` and remembers its shape."""

    def __init__(self, model_name: str, expected: tuple[int, ...] | None) -> None:
        self.model_name, self.expected = model_name, expected
        self.shape: tuple[int, ...] | None = None

    def __call__(self, module: nn.Module, args: tuple) -> None:
        x = args[0] if args else None
        if not isinstance(x, torch.Tensor):
            return
        want = len(self.expected) + 1 if self.expected else None
        if want is not None and x.ndim != want:
            c = self.expected[0]
            raise ValueError(
                f"{self.model_name}: expected a batch of images (N, {c}, H, W), "
                f"got a tensor of shape {tuple(x.shape)}"
                + (" (add a batch dimension with x.unsqueeze(0))" if x.ndim == want - 1 else "")
            )
        self.shape = tuple(x.shape)

    def context(self) -> str:
        s = f" (model input {self.shape})" if self.shape else ""
        if self.expected:
            s += f"; {self.model_name} was designed for inputs of {self.expected}"
        return s


class _LayerGuard:
    """Pre-hook of one layer: channel count and minimum spatial size (or feature count)."""

    def __init__(self, path: str, recorder: _InputRecorder) -> None:
        self.path, self.recorder = path, recorder

    def _where(self, module: nn.Module) -> str:
        return f"{self.recorder.model_name}: layer '{self.path}' ({type(module).__name__})"

    def __call__(self, module: nn.Module, args: tuple) -> None:
        x = args[0] if args else None
        if not isinstance(x, torch.Tensor):
            return
        if isinstance(module, nn.Linear):
            if x.shape[-1] != module.in_features:
                raise ValueError(
                    f"{self._where(module)} expects {module.in_features} input features, "
                    f"got {x.shape[-1]}: the input size changed the flattened feature size"
                    f"{self.recorder.context()}"
                )
            return
        nd = 1 if isinstance(module, (nn.Conv1d, nn.MaxPool1d, nn.AvgPool1d)) else (
            3 if isinstance(module, (nn.Conv3d, nn.MaxPool3d, nn.AvgPool3d, nn.ConvTranspose3d)) else 2)
        in_channels = getattr(module, "in_channels", None)
        if in_channels is not None and x.ndim >= nd + 1 and x.shape[-nd - 1] != in_channels:
            raise ValueError(
                f"{self._where(module)} expects {in_channels} input channel{'' if in_channels == 1 else 's'}, "
                f"got {x.shape[-nd - 1]} (tensor of shape {tuple(x.shape)}){self.recorder.context()}"
            )
        if isinstance(module, nn.modules.conv._ConvTransposeNd):
            return  # a transposed convolution accepts any size >= 1
        k = _pair(module.kernel_size, nd)
        d = _pair(getattr(module, "dilation", 1), nd)
        p = module.padding
        if isinstance(p, str):  # "same" / "valid"
            p = (0,) * nd if p == "valid" else None
        if p is None:
            return
        p = _pair(p, nd)
        size = tuple(x.shape[-nd:])
        need = tuple(di * (ki - 1) + 1 - 2 * pi for ki, di, pi in zip(k, d, p))
        if any(s < n for s, n in zip(size, need)):
            show = lambda t: "×".join(map(str, t))  # noqa: E731
            raise ValueError(
                f"{self._where(module)} with kernel {show(k)}, padding {show(p)}"
                + (f", dilation {show(d)}" if any(di != 1 for di in d) else "")
                + f" needs a feature map of at least {show(tuple(max(n, 1) for n in need))}, "
                f"got {show(size)}: the input is too small for this network{self.recorder.context()}"
            )


def guard_inputs(model: nn.Module, name: str | None = None,
                 expected: tuple[int, ...] | None = None) -> nn.Module:
    """Install the input checks on ``model`` (returns it). Idempotent.

    ``name`` is used in messages (default: the class name); ``expected`` is the input the
    model was designed for, ``(C, H, W)``, quoted in messages and used to check the rank.
    Layers that already carry another model's guard (a backbone reused inside a segmentation
    network) get this model's instead, so messages name the layer's path in ``model``.
    """
    if getattr(model, "_dcnn_guarded", False):
        return model
    recorder = _InputRecorder(name or type(model).__name__, tuple(expected) if expected else None)
    model.register_forward_pre_hook(recorder)
    for path, module in model.named_modules():
        if isinstance(module, (_ConvNd, _MaxPoolNd, _AvgPoolNd, nn.Linear)) or getattr(module, "guard_as_conv", False):
            # A part that was guarded on its own (a backbone taken from another model) is
            # re-labelled: its layers are named by their path in this model.
            for key, hook in list(module._forward_pre_hooks.items()):
                if isinstance(hook, _LayerGuard):
                    del module._forward_pre_hooks[key]
            module.register_forward_pre_hook(_LayerGuard(path, recorder))
    model._dcnn_guarded = True
    return model
