"""Measured inference speed of any ``nn.Module``: latency and throughput per batch size.

:func:`profile` times the model's forward pass (eval mode, ``torch.inference_mode``) on
random inputs: for each batch size, ``warmup`` untimed passes (allocator, cuDNN algorithm
choice, lazy initialisation) and then ``repeats`` timed ones. On CUDA every timed pass is
bracketed by ``torch.cuda.synchronize`` so that the clock sees the kernels, not their
launch. The result is a :class:`Profile`: one :class:`ProfileRow` per batch size with the
median latency, its spread (quartiles, fastest and slowest pass) and the throughput
``batch / median``.

The numbers belong to the machine and the moment they were measured: they are for figures and
benchmarks, never for tests or checked notebook outputs. The model is left as it was found
(a copy is converted when ``channels_last``, ``dtype`` or ``device`` ask for another form).

Works on any model; imports no model file.
"""
from __future__ import annotations

import copy
import statistics
import time
from dataclasses import dataclass
from typing import Any, Sequence

import torch
import torch.nn as nn

from ..errors import DcnnTypeError, DcnnValueError
from .forward import check_model, make_input, param_device, param_dtype
from .table import RowTable, fmt_int, fmt_shape


@dataclass(frozen=True)
class ProfileRow:
    """Timings of one batch size, in seconds (``*_s``) over ``repeats`` passes."""

    batch_size: int
    median_s: float
    q1_s: float          # first quartile
    q3_s: float          # third quartile
    min_s: float
    max_s: float
    repeats: int

    @property
    def images_per_s(self) -> float:
        """Throughput: inputs per second at the median latency."""
        return self.batch_size / self.median_s

    @property
    def ms_per_image(self) -> float:
        return 1e3 * self.median_s / self.batch_size

    @property
    def key(self) -> str:
        return f"batch {self.batch_size}"

    def as_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        return {**d, "images_per_s": self.images_per_s, "ms_per_image": self.ms_per_image}


@dataclass(repr=False)
class Profile(RowTable):
    """What :func:`profile` returns: one row per batch size (``p[0]``, ``p["batch 32"]``)."""

    _TABLE = "profile"
    _COLUMNS = ("batch", "median ms", "quartiles ms", "min–max ms", "ms / image", "images / s")
    _RIGHT = frozenset(range(6))
    _CSS = "dcnn-profile"
    _INDEX = "batch_size"

    rows: list[ProfileRow]
    device: str
    dtype: str
    channels_last: bool
    threads: int
    warmup: int

    def _cells(self, r: ProfileRow) -> list[str]:
        ms = lambda s: f"{1e3 * s:,.2f}"  # noqa: E731
        return [str(r.batch_size), ms(r.median_s), f"{ms(r.q1_s)}–{ms(r.q3_s)}", f"{ms(r.min_s)}–{ms(r.max_s)}",
                f"{r.ms_per_image:,.3f}", fmt_int(round(r.images_per_s))]

    def _footer(self) -> str:
        where = self.device + (f" ({self.threads} threads)" if self.device == "cpu" else "")
        layout = ", channels-last" if self.channels_last else ""
        repeats = self.rows[0].repeats if self.rows else 0
        return (f"{self.model_name}, input {fmt_shape(self.input_size)}, {self.dtype}{layout} on {where}: "
                f"{repeats} timed passes per batch size after {self.warmup} warm-up passes")


def _positive_int(where: str, name: str, v: Any, minimum: int = 1) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise DcnnTypeError(f"{where}: {name} must be an int, got {type(v).__name__} {v!r}")
    if v < minimum:
        raise DcnnValueError(f"{where}: {name} must be >= {minimum}, got {v}")
    return v


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _quartiles(times: list[float]) -> tuple[float, float]:
    if len(times) < 2:
        return times[0], times[0]
    q = statistics.quantiles(times, n=4, method="inclusive")
    return q[0], q[2]


def profile(model: nn.Module, input_size: Sequence[int], batch_sizes: Sequence[int] = (1, 32), *,
            warmup: int = 3, repeats: int = 10, device: torch.device | str | None = None,
            channels_last: bool = False, dtype: torch.dtype | None = None) -> Profile:
    """Inference latency and throughput of ``model`` at each batch size.

    Args:
        model: any ``nn.Module`` taking one tensor.
        input_size: one input, ``(C, H, W)`` (no batch axis).
        batch_sizes: the batch sizes to time.
        warmup: untimed passes before timing, per batch size.
        repeats: timed passes per batch size (the median and the spread are over these).
        device: where to run (default: where the parameters are).
        channels_last: run in the channels-last memory format (what tensor cores prefer on CUDA).
        dtype: run in this dtype, e.g. ``torch.bfloat16`` on CUDA (default: the parameters').

    Returns:
        :class:`Profile` (prints as a text table, renders as HTML, ``.to_dataframe()``).
    """
    where = "profile"
    check_model(model, where)
    if isinstance(batch_sizes, int) or not isinstance(batch_sizes, Sequence) or not batch_sizes:
        raise DcnnTypeError(f"{where}: batch_sizes must be a non-empty sequence of ints, e.g. (1, 32), "
                            f"got {batch_sizes!r}")
    sizes = [_positive_int(where, "batch_sizes[]", b) for b in batch_sizes]
    warmup = _positive_int(where, "warmup", warmup, minimum=0)
    repeats = _positive_int(where, "repeats", repeats)
    if isinstance(input_size, torch.Tensor):
        raise DcnnTypeError(f"{where}: input_size must be the size of one input, e.g. (3, 224, 224), not a tensor")
    one = make_input(input_size, where, torch.float32, "meta", unbatched=(), min_len=1,
                     expected="the size of one input without the batch axis, e.g. (3, 224, 224)")
    device = torch.device(device) if device is not None else param_device(model)
    dtype = dtype or param_dtype(model)
    if channels_last and one.ndim != 3:
        raise DcnnValueError(f"{where}: channels_last needs an image input (C, H, W), "
                             f"got input_size {tuple(one.shape)}")
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    same = device == param_device(model) and dtype == param_dtype(model) and not channels_last
    net = model if same else copy.deepcopy(model).to(device=device, dtype=dtype, memory_format=fmt)
    was_training = model.training
    net.eval()
    rows = []
    try:
        with torch.inference_mode():
            for b in sizes:
                x = make_input((b, *one.shape), where, dtype, device, unbatched=()).contiguous(memory_format=fmt)
                for _ in range(warmup):
                    net(x)
                times = []
                for _ in range(repeats):
                    _sync(device)
                    t0 = time.perf_counter()
                    net(x)
                    _sync(device)
                    times.append(time.perf_counter() - t0)
                q1, q3 = _quartiles(times)
                rows.append(ProfileRow(b, statistics.median(times), q1, q3, min(times), max(times), repeats))
    finally:
        model.train(was_training)
    return Profile(model_name=type(model).__name__, input_size=tuple(one.shape), rows=rows, device=str(device),
                   dtype=str(dtype).replace("torch.", ""), channels_last=channels_last,
                   threads=torch.get_num_threads(), warmup=warmup)


__all__ = ["Profile", "ProfileRow", "profile"]
