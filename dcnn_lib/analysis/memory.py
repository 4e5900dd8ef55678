"""What a forward pass really keeps in memory, measured on any ``nn.Module``.

A per-layer table (:func:`dcnn_lib.analysis.summary`) adds up output sizes. Two measurements
answer the questions that sum is usually asked to answer:

- :func:`saved_tensors`: the tensors autograd keeps from the forward pass for the backward
  pass (found by walking the autograd graph of the output and reading every node's saved
  tensors; tensors that share storage are counted once, parameters are left out). This is the
  activation memory training needs per batch.
- :func:`peak_memory`: the peak of the bytes allocated while a function runs (CUDA: the
  allocator's statistics; CPU: the allocation and free events of ``torch.profiler``), relative
  to what was allocated before it started. A no-grad forward pass frees each activation as soon
  as the next layer has consumed it; a training step keeps the saved tensors and adds the
  gradients.

Imports no model file.
"""
from __future__ import annotations

import contextlib
import os
import sys
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch
import torch.nn as nn

from .forward import check_model, make_input, param_device, param_dtype
from .table import fmt_int, html_table


@dataclass(frozen=True)
class SavedTensor:
    """One storage autograd keeps for the backward pass."""

    node: str            # the autograd node that saved it first (e.g. ``ConvolutionBackward0``)
    attribute: str       # what the node calls it (``input``, ``result``, ``result1``...)
    shape: tuple[int, ...]
    dtype: str
    nbytes: int          # bytes of the storage (a view's whole storage)


@dataclass
class SavedTensors:
    """The result of :func:`saved_tensors`: one row per distinct storage, in graph order from
    the output back to the input."""

    tensors: list[SavedTensor]
    batch: int

    @property
    def total_bytes(self) -> int:
        return sum(t.nbytes for t in self.tensors)

    def bytes_by(self, key: str = "node") -> "OrderedDict[str, int]":
        """Total bytes grouped by ``"node"``, ``"dtype"`` or ``"attribute"``."""
        out: OrderedDict[str, int] = OrderedDict()
        for t in self.tensors:
            k = getattr(t, key)
            out[k] = out.get(k, 0) + t.nbytes
        return out

    def to_dataframe(self):
        import pandas as pd

        return pd.DataFrame([t.__dict__ for t in self.tensors])

    def __len__(self) -> int:
        return len(self.tensors)

    def __str__(self) -> str:
        lines = [f"{len(self.tensors)} tensors saved for backward, {self.total_bytes:,} bytes "
                 f"({self.total_bytes / 2**20:,.1f} MiB) for a batch of {self.batch}"]
        for node, n in self.bytes_by("node").items():
            lines.append(f"  {node:32s} {n:>14,} bytes")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        rows = [[k, fmt_int(v)] for k, v in self.bytes_by("node").items()]
        return html_table(["autograd node", "bytes saved"], rows, {1}, "dcnn-memory", str(self).splitlines()[0])


def _saved_attributes(node: Any) -> list[tuple[str, torch.Tensor]]:
    out = []
    for attr in dir(node):
        if not attr.startswith("_saved_"):
            continue
        try:
            value = getattr(node, attr)
        except RuntimeError:  # a saved tensor already freed (after backward)
            continue
        values = value if isinstance(value, (tuple, list)) else (value,)
        for i, v in enumerate(values):
            if isinstance(v, torch.Tensor):
                name = attr[len("_saved_"):] + (f"[{i}]" if len(values) > 1 else "")
                out.append((name, v))
    return out


def saved_tensors(model: nn.Module, input_size: Sequence[int] | torch.Tensor, *,
                  train: bool = True) -> SavedTensors:
    """Run ``model`` forward with gradients and list what autograd saved for the backward pass.

    Args:
        model: any module taking one tensor.
        input_size: ``(C, H, W)`` (batch 1), ``(N, C, H, W)`` or an input tensor.
        train: run in training mode (dropout and batch norm save what they save in training).

    Parameters (and views of them, like a transposed weight) are not counted: they exist
    whether or not a backward pass follows.
    """
    check_model(model, "saved_tensors")
    params = {q.untyped_storage().data_ptr() for q in model.parameters()}
    device = param_device(model)  # a seeded random batch of the given size (batch 1 for C, H, W)
    x = make_input(input_size, "saved_tensors", param_dtype(model), device, unbatched=(2, 3)).to(device)
    was_training = model.training
    model.train(train)
    try:
        with torch.enable_grad():
            out = model(x)
        outs = [o for o in (out if isinstance(out, (tuple, list)) else [out]) if isinstance(o, torch.Tensor)]
        seen_nodes, seen_storage, rows = set(), set(), []
        stack = [o.grad_fn for o in outs if o.grad_fn is not None]
        while stack:
            node = stack.pop()
            if node is None or node in seen_nodes:
                continue
            seen_nodes.add(node)
            for attr, t in _saved_attributes(node):
                ptr = t.untyped_storage().data_ptr()
                if ptr in params or ptr in seen_storage or t.untyped_storage().nbytes() == 0:
                    continue
                seen_storage.add(ptr)
                rows.append(SavedTensor(type(node).__name__, attr, tuple(t.shape),
                                        str(t.dtype).replace("torch.", ""), t.untyped_storage().nbytes()))
            stack.extend(fn for fn, _ in node.next_functions if fn is not None)
    finally:
        model.train(was_training)
    return SavedTensors(rows, batch=x.shape[0])


@contextlib.contextmanager
def _quiet_native_stderr():
    """Silence file descriptor 2 (the profiler's native start/stop log lines, which Jupyter
    would show in the cell's output); Python's ``sys.stderr`` and exceptions are untouched."""
    try:
        sys.stderr.flush()
        saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    except (OSError, AttributeError, ValueError):
        yield
        return
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def peak_memory(fn: Callable[[], Any], device: torch.device | str = "cpu") -> dict[str, int]:
    """Run ``fn()`` and return ``{"peak": bytes, "end": bytes}`` allocated above the level at
    the start (``end``: still allocated when it returned, e.g. saved tensors and gradients).

    CUDA: ``torch.cuda`` allocator statistics. CPU: every allocation and free recorded by
    ``torch.profiler`` (``profile_memory=True``), replayed in time order.
    """
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        base = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        fn()
        torch.cuda.synchronize(device)
        return {"peak": torch.cuda.max_memory_allocated(device) - base,
                "end": torch.cuda.memory_allocated(device) - base}
    from torch.profiler import ProfilerActivity, profile

    with _quiet_native_stderr(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    deltas = sorted((e.time_range.start, e.self_cpu_memory_usage) for e in prof.events()
                    if e.self_cpu_memory_usage != 0)
    current = peak = 0
    for _, delta in deltas:
        current += delta
        peak = max(peak, current)
    return {"peak": int(peak), "end": int(current)}
