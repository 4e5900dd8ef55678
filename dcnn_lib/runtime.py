"""Where and how big a chapter runs: device, scale, seeds and the provenance line.

Scales (see DESIGN.md):

- ``smoke``: seconds; every code path runs on a sliver of data (CI, nbval).
- ``book``: the default on a CPU; a few minutes a chapter with real results.
- ``full``: the default on CUDA; the real experiment.

A notebook's parameters cell says ``SCALE = "auto"``; :func:`resolve_scale` turns that into
``full`` on CUDA and ``book`` elsewhere, unless the environment variable ``DCNN_SCALE`` says
otherwise (that is how CI and ``make execute`` steer notebooks without editing them).
"""
from __future__ import annotations

import os
import platform
import random
from typing import Any, TypeVar

import numpy as np
import torch

from .errors import DcnnTypeError, DcnnValueError

SCALES = ("smoke", "book", "full")
T = TypeVar("T")


def device(prefer: str | None = None) -> torch.device:
    """The best available device: CUDA, then Apple MPS, then the CPU (or ``prefer`` if given)."""
    if prefer is not None:
        return torch.device(prefer)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def resolve_scale(scale: str | None = "auto") -> str:
    """``"auto"`` becomes ``$DCNN_SCALE`` if set, else ``full`` on CUDA and ``book`` otherwise.

    An explicit scale is returned as is, after validation. The argument and the environment
    variable are read the same way: case and surrounding spaces do not matter (``" Book"`` is
    ``book``); ``None`` or ``""`` mean ``"auto"``; anything else raises
    :class:`~dcnn_lib.errors.DcnnValueError` (a string that names no scale) or
    :class:`~dcnn_lib.errors.DcnnTypeError` (not a string), naming where the value came from.
    """
    if scale is not None and not isinstance(scale, str):
        raise DcnnTypeError(f"SCALE must be a string, one of {SCALES} or 'auto', got {type(scale).__name__} {scale!r}")
    source, given = "SCALE", scale
    scale = (scale or "").strip().lower() or "auto"
    if scale == "auto":
        source, given = "DCNN_SCALE", os.environ.get("DCNN_SCALE", "")
        scale = given.strip().lower() or "auto"
        if scale == "auto":
            return "full" if torch.cuda.is_available() else "book"
    if scale not in SCALES:
        raise DcnnValueError(f"{source} must be one of {SCALES} or 'auto', got {given!r}")
    return scale


def pick(scale: str, *, smoke: T, book: T, full: T) -> T:
    """The value for ``scale``: ``pick(SCALE, smoke=1, book=8, full=30)``."""
    try:
        return {"smoke": smoke, "book": book, "full": full}[scale]
    except KeyError:
        raise DcnnValueError(f"scale must be one of {SCALES}, got {scale!r} (call resolve_scale first)") from None


def seed_everything(seed: int = 0) -> int:
    """Seed Python, NumPy and torch (all devices). Returns ``seed``."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds CUDA and MPS too
    return seed


def versions() -> dict[str, str]:
    import torchvision

    from . import __version__

    return {
        "dcnn_lib": __version__,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "python": platform.python_version(),
    }


def describe_device(dev: torch.device | None = None) -> str:
    dev = dev or device()
    if dev.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(dev)})"
    if dev.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads)"
    return dev.type


def provenance(scale: str, seed: int | None = None, dev: torch.device | None = None) -> str:
    """The one-line record printed at the top of every chapter."""
    v = versions()
    parts = [
        f"device {describe_device(dev)}",
        f"scale {scale}",
        f"dcnn_lib {v['dcnn_lib']}",
        f"torch {v['torch']}",
        f"torchvision {v['torchvision']}",
        f"python {v['python']}",
    ]
    if seed is not None:
        parts.append(f"seed {seed}")
    return " · ".join(parts)


def setup(scale: str = "auto", seed: int = 0, *, verbose: bool = True) -> tuple[str, torch.device]:
    """What a chapter's first cell does: resolve the scale, seed, pick the device, apply the
    book's figure style (:func:`dcnn_lib.viz.use_book_style`), print provenance.

    Returns ``(scale, device)``.
    """
    global _CURRENT_SCALE
    scale = _CURRENT_SCALE = resolve_scale(scale)
    seed_everything(seed)
    dev = device()
    from .viz import use_book_style   # the book's figure defaults: legible at page width, opaque

    use_book_style()
    report = os.environ.get("DCNN_PEAK_MEMORY_FILE")
    if report:
        _report_peak_memory_at_exit(report, dev)
    if verbose:
        print(provenance(scale, seed, dev))
    return scale, dev


def _report_peak_memory_at_exit(path: str, dev: torch.device) -> None:
    """When the process ends, write its peak GPU memory (``torch.cuda.max_memory_allocated``,
    bytes; 0 on the CPU) and the device to ``path`` as JSON: how ``benchmarks/gpu_check.sh``
    learns each chapter's peak memory (``DCNN_PEAK_MEMORY_FILE``)."""
    import atexit
    import json

    def write() -> None:
        peak = torch.cuda.max_memory_allocated() if dev.type == "cuda" else 0
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"device": describe_device(dev), "max_memory_allocated": peak}, f)

    atexit.register(write)


_CURRENT_SCALE: str | None = None


def current_scale() -> str | None:
    """The scale of the running chapter (set by :func:`setup`; ``None`` before it ran)."""
    return _CURRENT_SCALE


def online(host: str = "download.pytorch.org", port: int = 443, timeout: float = 1.5) -> bool:
    """True when ``host`` answers; False offline or when ``DCNN_OFFLINE`` is set.

    The default host is where torchvision's pretrained weights live: a machine may reach a
    package index (PyPI) and nothing else, so ask about the host you are going to use."""
    if os.environ.get("DCNN_OFFLINE", "").strip() not in ("", "0"):
        return False
    import socket

    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


DRY_RUN_STEPS = 2


def dry_run() -> bool:
    """True when ``DCNN_DRY_RUN`` is set (not ``0``): every training, evaluation and long loop of
    the library stops after a couple (:data:`DRY_RUN_STEPS`) of steps, while sizes, models and
    data paths stay those of the scale. CI executes every chapter at ``full`` this way on a CPU
    (``make test-full-dry``)."""
    return os.environ.get("DCNN_DRY_RUN", "").strip() not in ("", "0")


__all__: list[Any] = [
    "SCALES", "DRY_RUN_STEPS", "device", "resolve_scale", "pick", "seed_everything", "versions",
    "describe_device", "provenance", "setup", "online", "dry_run",
]
