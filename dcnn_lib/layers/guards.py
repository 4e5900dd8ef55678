"""Clear errors for bad input: which layer, what it got, what it needed.

Without this, an image that is too small for a network fails deep inside PyTorch with
``RuntimeError: Calculated padded input size per channel: (2 x 2). Kernel size: (5 x 5)...``
and no layer name. :func:`guard_inputs` gives a model checks that raise a
:class:`~dcnn_lib.errors.DcnnValueError` (a ``ValueError``) naming the layer (by its module
path), the size or channel count it received, the one it needs, and the shape of the model's
input; and a :class:`~dcnn_lib.errors.DcnnTypeError` (a ``TypeError``) when the input is not
a float tensor of the parameters' dtype (a NumPy array, a list, ``uint8`` pixels, ``float64``).

**Off the hot path.** The checks run once per kind of input, not on every forward: a root
pre-hook reads the input's *signature* (shape, dtype, device, the parameters' dtype and device,
autocast, train/eval). A signature seen before returns at once: one dict lookup, and no hook
at all on the layers. For a new signature the root checks the input's type, dtype and rank
and installs the per-layer checks (pre-hooks on convolutions, pooling and linear layers) for
that one forward; when the forward succeeds the signature is remembered and the layer hooks
are removed. Under ``torch.compile`` (and ``torch.export``) the hooks return at once, so they
add no graph break and no guard to the compiled graph.

Every dcnn_lib model calls :func:`guard_inputs` at the end of ``__init__``; it works on any
``nn.Module``. A custom layer opts in with ``guard_as_conv = True`` and conv-like attributes
(``in_channels``, ``kernel_size``, ``padding``, ``dilation``). A model whose input is a list
of images (the detectors) sets ``takes_image_list = True`` and checks its own inputs.
The hooks are picklable objects, so models still ``deepcopy`` and ``torch.save``.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn
from torch.nn.modules.conv import _ConvNd
from torch.nn.modules.pooling import _AvgPoolNd, _MaxPoolNd

from ..errors import DcnnTypeError, DcnnValueError

SEEN_LIMIT = 256  # signatures remembered per model (then forgotten all at once and learned again)


def _pair(v: Any, n: int) -> tuple[int, ...]:
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


def _compiling() -> bool:
    return torch.compiler.is_compiling()


def autocast_enabled(device_type: str) -> bool:
    """Whether autocast is on for ``device_type`` (``"cpu"``, ``"cuda"``...) in this thread."""
    try:
        return torch.is_autocast_enabled(device_type)
    except TypeError:  # older torch: one flag for CUDA, one for the CPU
        return torch.is_autocast_cpu_enabled() if device_type == "cpu" else torch.is_autocast_enabled()
    except RuntimeError:  # a device without autocast ("meta": the analysis tools' shape-only runs)
        return False


def _describe(x: Any) -> str:
    if isinstance(x, (list, tuple)):
        inner = {type(v).__name__ for v in x}
        return f"a {type(x).__name__} of {len(x)} item{'' if len(x) == 1 else 's'} ({', '.join(sorted(inner))})"
    shape, dtype = getattr(x, "shape", None), getattr(x, "dtype", None)
    kind = f"{type(x).__module__}.{type(x).__name__}" if type(x).__module__ != "builtins" else type(x).__name__
    return f"a {kind}" + (f" of shape {tuple(shape)}" if shape is not None else "") + (
        f" and dtype {dtype}" if dtype is not None else "")


class _InputRecorder:
    """Root pre-hook: the input's checks for a new signature; installs the layer checks."""

    def __init__(self, model_name: str, expected: tuple[int, ...] | None) -> None:
        self.model_name, self.expected = model_name, expected
        self.shape: tuple[int, ...] | None = None
        self.layers: list[tuple[nn.Module, _LayerGuard]] = []
        self.probe: nn.Module | None = None     # the first layer with a weight: the model's dtype/device
        self.active: list[tuple[nn.Module, int]] = []
        self.seen: set = set()
        self.pending: Any = None

    def weight(self) -> torch.Tensor | None:
        """The probe layer's current weight (read through ``_parameters``: always the live one)."""
        return self.probe._parameters.get("weight") if self.probe is not None else None

    def signature(self, module: nn.Module, x: Any) -> Any:
        """What the checks depend on; ``None`` when the input is not one the cache understands.
        Kept cheap: it runs on every forward (a few microseconds)."""
        if isinstance(x, torch.Tensor):
            device = x.device
            parts: Any = (x.shape, x.dtype, device)
        elif isinstance(x, (list, tuple)) and x and all(isinstance(v, torch.Tensor) for v in x):
            device = x[0].device
            parts = tuple((v.shape, v.dtype, v.device) for v in x)
        else:
            return None
        w = self.weight()
        return parts, (w.dtype, w.device) if w is not None else None, module.training, autocast_enabled(device.type)

    def check_input(self, module: nn.Module, x: Any) -> None:
        """Type, dtype, device and rank of a model's input (before any layer sees it)."""
        name = self.model_name
        if not isinstance(x, torch.Tensor):
            hint = ("torch.stack(x)" if isinstance(x, (list, tuple)) and x and all(isinstance(v, torch.Tensor) for v in x)
                    else "torch.as_tensor(x, dtype=torch.float32)")
            raise DcnnTypeError(f"{name}: expected a torch.Tensor batch of images (N, C, H, W), float32, got "
                                f"{_describe(x)}; convert it with {hint}")
        if not x.is_floating_point():
            raise DcnnTypeError(f"{name}: expected a floating-point tensor (float32), got {x.dtype} of shape "
                                f"{tuple(x.shape)}; convert it with x.float()"
                                + (" (pixels 0-255: x.float() / 255, then normalise)" if x.dtype == torch.uint8 else ""))
        w = self.weight()
        if w is not None and "meta" not in (x.device.type, w.device.type):
            if x.dtype != w.dtype and not autocast_enabled(x.device.type):
                raise DcnnTypeError(f"{name}: the input is {x.dtype} but the model's parameters are {w.dtype}; "
                                    f"convert the input with x.to({w.dtype}) (or the model with model.to({x.dtype}))")
            if x.device != w.device:
                raise DcnnValueError(f"{name}: the input is on {x.device} but the model is on {w.device}; "
                                     f"move the input with x.to('{w.device}')")
        want = len(self.expected) + 1 if self.expected else None
        if want is not None and x.ndim != want:
            raise DcnnValueError(
                f"{name}: expected a batch of images (N, {self.expected[0]}, H, W), "
                f"got a tensor of shape {tuple(x.shape)}"
                + (" (add a batch dimension with x.unsqueeze(0))" if x.ndim == want - 1 else "")
            )

    def install(self) -> None:
        if not self.active:
            self.active = [(m, m.register_forward_pre_hook(g).id) for m, g in self.layers]

    def remove(self) -> None:
        for m, key in self.active:
            m._forward_pre_hooks.pop(key, None)
        self.active = []

    def __call__(self, module: nn.Module, args: tuple) -> None:
        if _compiling():
            return
        x = args[0] if args else None
        key = self.signature(module, x)
        if key is not None and key in self.seen:
            if self.active:   # left by a forward that failed
                self.remove()
            return
        if args and not getattr(module, "takes_image_list", False):   # (keyword inputs: layer checks only)
            self.check_input(module, x)
        self.shape = tuple(x.shape) if isinstance(x, torch.Tensor) else None
        self.pending = key
        self.install()

    def context(self) -> str:
        s = f" (model input {self.shape})" if self.shape else ""
        if self.expected:
            s += f"; {self.model_name} was designed for inputs of {self.expected}"
        return s


class _InputDone:
    """Root forward hook: a forward that succeeded remembers its signature; layer checks go."""

    def __init__(self, recorder: _InputRecorder) -> None:
        self.recorder = recorder

    def __call__(self, module: nn.Module, args: tuple, output: Any) -> None:
        if _compiling():
            return
        r = self.recorder
        if r.active:
            r.remove()
        if r.pending is not None:
            if len(r.seen) >= SEEN_LIMIT:
                r.seen.clear()
            r.seen.add(r.pending)
            r.pending = None


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
                raise DcnnValueError(
                    f"{self._where(module)} expects {module.in_features} input features, "
                    f"got {x.shape[-1]}: the input size changed the flattened feature size"
                    f"{self.recorder.context()}"
                )
            return
        nd = 1 if isinstance(module, (nn.Conv1d, nn.MaxPool1d, nn.AvgPool1d)) else (
            3 if isinstance(module, (nn.Conv3d, nn.MaxPool3d, nn.AvgPool3d, nn.ConvTranspose3d)) else 2)
        in_channels = getattr(module, "in_channels", None)
        if in_channels is not None and x.ndim >= nd + 1 and x.shape[-nd - 1] != in_channels:
            raise DcnnValueError(
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
            raise DcnnValueError(
                f"{self._where(module)} with kernel {show(k)}, padding {show(p)}"
                + (f", dilation {show(d)}" if any(di != 1 for di in d) else "")
                + f" needs a feature map of at least {show(tuple(max(n, 1) for n in need))}, "
                f"got {show(size)}: the input is too small for this network{self.recorder.context()}"
            )


def _guarded_layer(module: nn.Module) -> bool:
    return isinstance(module, (_ConvNd, _MaxPoolNd, _AvgPoolNd, nn.Linear)) or getattr(module, "guard_as_conv", False)


def _drop_guards(module: nn.Module) -> None:
    """Remove the guard hooks a part carries from being guarded on its own."""
    for hooks in (module._forward_pre_hooks, module._forward_hooks):
        for key, hook in list(hooks.items()):
            if isinstance(hook, (_InputRecorder, _InputDone, _LayerGuard)):
                if isinstance(hook, _InputRecorder):
                    hook.remove()
                    module._dcnn_guarded = False
                hooks.pop(key, None)


def guard_inputs(model: nn.Module, name: str | None = None,
                 expected: tuple[int, ...] | None = None) -> nn.Module:
    """Give ``model`` the input checks (returns it). Idempotent.

    ``name`` is used in messages (default: the class name); ``expected`` is the input the
    model was designed for, ``(C, H, W)``, quoted in messages and used to check the rank.
    A part that was guarded on its own (a backbone reused inside a segmentation network)
    loses its own checks: the whole model's cover it, and name its layers by their path in
    ``model``.
    """
    if getattr(model, "_dcnn_guarded", False):
        return model
    recorder = _InputRecorder(name or type(model).__name__, tuple(expected) if expected else None)
    for path, module in model.named_modules():
        _drop_guards(module)
        if _guarded_layer(module):
            recorder.layers.append((module, _LayerGuard(path, recorder)))
            if recorder.probe is None and isinstance(module._parameters.get("weight"), torch.Tensor):
                recorder.probe = module
    model.register_forward_pre_hook(recorder)
    model.register_forward_hook(_InputDone(recorder))
    model._dcnn_guarded = True
    return model
