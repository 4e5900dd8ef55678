"""One forward pass for the analysis tools: arguments checked, rows chosen, meta device.

:func:`summary <dcnn_lib.analysis.summary>` and :func:`receptive_field
<dcnn_lib.analysis.receptive_field>` both run a model once under a
:class:`~torch.utils._python_dispatch.TorchDispatchMode` and report one row per module. What
they share is here:

- :func:`check_model` and :func:`make_input`: named errors for a model that is not a module
  and for a malformed ``input_size``;
- :func:`row_modules`: which modules get a row (leaves, ``summary_leaf`` layers, or ``depth``
  levels down);
- :class:`OpMode`: a dispatch mode that can run every operation on the ``meta`` device (shapes
  only, no memory, no arithmetic). The parameters are viewed as meta tensors operation by
  operation, so the model itself is not touched and a 10,000 × 10,000 input costs nothing;
- :func:`eval_mode`: eval mode and no gradients for the pass, the model left as it was found;
  :func:`preserved`: whatever a meta pass cached in the modules, undone.
"""
from __future__ import annotations

import contextlib
import copy
import operator
from typing import Any, Callable, Iterator, Sequence

import torch
import torch.nn as nn
from torch.utils._python_dispatch import TorchDispatchMode

from ..errors import DcnnTypeError, DcnnValueError


def tensors(out: Any) -> list[torch.Tensor]:
    """Every tensor in ``out`` (a tensor, or tuples, lists and dicts of them), in order."""
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, dict):
        out = list(out.values())
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in tensors(o)]
    return []


def map_tensors(fn: Callable[[torch.Tensor], Any], obj: Any) -> Any:
    """``obj`` with ``fn`` applied to every tensor in it (named tuples are left as they are)."""
    if isinstance(obj, torch.Tensor):
        return fn(obj)
    if isinstance(obj, (list, tuple)) and any(isinstance(o, (torch.Tensor, list, tuple)) for o in obj):
        return type(obj)(map_tensors(fn, o) for o in obj) if not hasattr(obj, "_fields") else obj
    if isinstance(obj, dict):
        return {k: map_tensors(fn, v) for k, v in obj.items()}
    return obj


def to_meta(t: Any) -> Any:
    if isinstance(t, torch.Tensor) and t.device.type != "meta":
        return t.to("meta")
    return t


def check_model(model: Any, where: str) -> None:
    if not isinstance(model, nn.Module):
        raise DcnnTypeError(f"{where}: model must be an nn.Module (a network), got {type(model).__name__} "
                            f"{model!r:.60}; wrap a function in a module whose forward calls it")


def make_input(input_size: Sequence[int] | torch.Tensor, where: str, dtype: torch.dtype,
               device: torch.device | str = "meta", unbatched: tuple[int, ...] = (3,),
               min_len: int = 2, expected: str = "(C, H, W) or (N, C, H, W) of positive ints") -> torch.Tensor:
    """The input a tool runs on: ``input_size`` itself when it is a tensor; else a tensor of
    that size, with a batch of one added when it has a length in ``unbatched`` (``(C, H, W)``
    -> ``(1, C, H, W)``): empty on ``meta``, zero-mean random numbers (seed 0) elsewhere."""
    if isinstance(input_size, torch.Tensor):
        return input_size
    if isinstance(input_size, (str, bytes)) or not isinstance(input_size, Sequence):
        raise DcnnTypeError(f"{where}: input_size must be {expected} or an input tensor, got "
                            f"{type(input_size).__name__} {input_size!r}")
    try:
        if any(isinstance(s, bool) for s in input_size):
            raise TypeError
        size = tuple(operator.index(s) for s in input_size)
    except TypeError:
        raise DcnnTypeError(f"{where}: input_size must be {expected}, got {tuple(input_size)!r}") from None
    if len(size) < min_len or any(s < 1 for s in size):
        raise DcnnValueError(f"{where}: input_size must be {expected}, got {size!r}")
    size = (1, *size) if len(size) in unbatched else size
    if torch.device(device).type == "meta":
        return torch.empty(size, device="meta", dtype=dtype)
    return torch.randn(size, generator=torch.Generator().manual_seed(0), dtype=dtype).to(device)


def param_device(model: nn.Module) -> torch.device:
    """Where the model's parameters are (the CPU for a model without any)."""
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def param_dtype(model: nn.Module) -> torch.dtype:
    p = next((p for p in model.parameters() if p.is_floating_point()), None)
    return p.dtype if p is not None else torch.float32


def row_modules(model: nn.Module, depth: int | None) -> list[tuple[str, nn.Module]]:
    """Modules that get a row: leaves, modules marked ``summary_leaf = True`` (a layer built
    from parts, like ``PartialConv2d``), and modules ``depth`` levels down."""
    out: list[tuple[str, nn.Module]] = []

    def visit(prefix: str, module: nn.Module, level: int) -> None:
        children = list(module.named_children())
        if (not children or getattr(module, "summary_leaf", False)
                or (depth is not None and level >= depth)):
            out.append((prefix, module))
            return
        for name, child in children:
            visit(f"{prefix}.{name}" if prefix else name, child, level + 1)

    visit("", model, 0)
    return out


def hooked_modules(model: nn.Module, depth: int | None) -> Iterator[tuple[str, nn.Module, bool]]:
    """``(name, module, is_row)`` for the row modules and every container above them (the
    modules inside a row are not visited: a row is one unit)."""
    rows = row_modules(model, depth)
    row_ids = {id(m) for _, m in rows}
    inside = {id(c) for _, m in rows for c in m.modules() if c is not m}
    for name, module in model.named_modules():
        if id(module) not in inside:
            yield name, module, id(module) in row_ids


@contextlib.contextmanager
def eval_mode(model: nn.Module, grad: bool = False) -> Iterator[None]:
    """The model in eval mode (and, unless ``grad``, without autograd) for the block; its
    training flag is restored afterwards."""
    was_training = model.training
    model.eval()
    try:
        with torch.set_grad_enabled(grad):
            yield
    finally:
        model.train(was_training)


@contextlib.contextmanager
def preserved(model: nn.Module) -> Iterator[None]:
    """Every module's attributes as they were before the block, afterwards.

    A forward pass on the meta device must leave nothing behind: a module that caches what it
    computes (anchors moved to the input's device, position tables, lazily made parameters)
    would otherwise keep meta tensors and fail on the next real input. Attributes are restored
    one level deep (a cache dict or list filled in place is restored too; hook registries,
    which the tools clean up themselves, are left alone)."""
    saved = [(m, {k: copy.copy(v) if isinstance(v, (dict, list, set)) and "hook" not in k else v
                  for k, v in m.__dict__.items()}) for m in model.modules()]
    try:
        yield
    finally:
        for m, attrs in saved:
            m.__dict__.clear()
            m.__dict__.update(attrs)


@contextlib.contextmanager
def hooks(modules: Sequence[tuple[nn.Module, Callable, Callable]]) -> Iterator[None]:
    """Forward pre- and post-hooks on modules for the block, removed afterwards."""
    handles = []
    try:
        for module, pre, post in modules:
            handles.append(module.register_forward_pre_hook(pre))
            handles.append(module.register_forward_hook(post))
        yield
    finally:
        for h in handles:
            h.remove()


class OpMode(TorchDispatchMode):
    """A dispatch mode that sees every ATen operation. With ``meta=True`` every operation runs
    on the ``meta`` device (its tensor arguments, parameters included, viewed there first).
    Subclasses override :meth:`on_op`."""

    def __init__(self, meta: bool) -> None:
        super().__init__()
        self.meta = meta

    def on_op(self, func: Any, args: tuple, kwargs: dict, given: tuple[tuple, dict]) -> Any:
        """Run ``func`` (on ``args``, already on meta when ``meta``); ``given``: the arguments
        as the model passed them (its parameters are recognisable there)."""
        return func(*args, **kwargs)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        given = (args, kwargs)
        if self.meta:
            args, kwargs = map_tensors(to_meta, args), map_tensors(to_meta, kwargs)
        return self.on_op(func, args, kwargs, given)


__all__: list[str] = []
