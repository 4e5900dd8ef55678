"""Accuracy against cost for every ImageNet classifier of the registry (design-principles chapter).

The tables grow with the registry: a model family that registers an ImageNet classifier is in
them the next time they are computed, with nothing to edit here.

- :func:`imagenet_classifiers`: registered classifiers of ImageNet (three-channel input of
  224 px or more, 1000 classes by default);
- :func:`efficiency_table`: parameters, multiply-adds and activation memory counted by
  :func:`dcnn_lib.analysis.summary` on the ``meta`` device (no memory, no initialisation), next
  to the published figures of the registry (GMACs and top-1 with their sources);
- :func:`latency_table`: measured inference time of each model per batch size
  (:func:`dcnn_lib.analysis.profile`, with a time budget so that a table of models from 0.7 to
  170 GMACs fits in a few minutes);
- :func:`pareto_front`: which models no other beats in both cost and accuracy;
- :func:`correlation`: Pearson and Spearman coefficients of two columns (how well operations
  predict measured time, as Canziani, Paszke and Culurciello 2016 found).

Numbers are plain columns of pandas DataFrames (``gmacs`` in 10^9 multiply-adds, ``params`` a
count, ``act_mb`` megabytes of layer outputs per image in float32).
"""
from __future__ import annotations

import gc
import math
import warnings
from typing import Any, Iterable, Sequence

import torch
import torch.nn as nn

from . import runtime
from .analysis import profile, summary
from .errors import DcnnValueError
from .models import get, list_models, meta

IMAGENET_CLASSES = 1000
MIN_SIDE = 224


def imagenet_classifiers() -> list[str]:
    """Names of the registered ImageNet classifiers, sorted: task ``classification``, an RGB
    input of at least 224 px and 1000 classes in the paper's configuration."""
    names = []
    for name in list_models(task="classification"):
        m = meta(name)
        c, h, w = m.input_size
        if c == 3 and min(h, w) >= MIN_SIDE and m.defaults.get("num_classes") == IMAGENET_CLASSES:
            names.append(name)
    return names


def build(name: str, device: str | torch.device = "cpu") -> nn.Module:
    """The paper's configuration of ``name`` in eval mode, on ``device``. On ``meta`` no memory is
    used; a builder that reads values while it initialises is built on the CPU instead."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if torch.device(device).type == "meta":
            try:
                with torch.device("meta"):
                    return get(name).eval()
            except (NotImplementedError, RuntimeError):
                pass
            return get(name).eval()
        return get(name).to(device).eval()


def _figure(fig: Any) -> tuple[float, str]:
    if fig is None:
        return math.nan, ""
    return float(fig.value), fig.source + (f" ({fig.note})" if fig.note else "")


def _names(names: Iterable[str] | None) -> list[str]:
    names = imagenet_classifiers() if names is None else list(names)
    if not names:
        raise DcnnValueError("efficiency: no model names given (and none registered)")
    for n in names:
        meta(n)   # unknown names: the registry's error, with the closest names
    return names


def efficiency_table(names: Iterable[str] | None = None):
    """One row per model (default: :func:`imagenet_classifiers`), indexed by name.

    Columns: ``year``, ``side`` (input pixels), ``params`` and ``gmacs`` (counted),
    ``act_mb`` (every layer's output for one image, float32 megabytes: what inference holds at
    most, training keeps most of it), ``published_gmacs``, ``top1`` (published ImageNet top-1,
    %, ``NaN`` where the registry has none) and ``top1_source``.
    """
    import pandas as pd

    rows = []
    for name in _names(names):
        m = meta(name)
        model = build(name, "meta")
        s = summary(model, m.input_size)
        top1, top1_source = _figure(m.published.top1)
        rows.append({"name": name, "year": m.year, "side": m.input_size[-1], "params": s.total_params,
                     "gmacs": s.total_macs / 1e9, "act_mb": 4 * s.total_activations / 2**20,
                     "published_gmacs": _figure(m.published.gmacs)[0], "top1": top1, "top1_source": top1_source})
        del model
    return pd.DataFrame(rows).set_index("name")


def latency_table(names: Iterable[str] | None = None, *, batch_sizes: Sequence[int] = (1, 8), warmup: int = 1,
                  repeats: int = 3, max_seconds: float | None = 2.0, device: str | torch.device = "cpu"):
    """Measured inference time of every model (default: :func:`imagenet_classifiers`) at each
    batch size: one row per (model, batch) with ``ms`` (median milliseconds per batch),
    ``ms_per_image``, ``images_per_s`` and ``repeats`` (timed passes; ``max_seconds`` is the
    budget of timed passes per batch size, see :func:`dcnn_lib.analysis.profile`).

    Models are built one at a time with their default initialisation and freed after timing.
    Under ``DCNN_DRY_RUN`` only the first :data:`~dcnn_lib.runtime.DRY_RUN_STEPS` models run,
    with one pass each. The numbers belong to the machine and the moment: never test them.
    """
    import pandas as pd

    names = _names(names)
    if runtime.dry_run():
        names, warmup, repeats = names[:runtime.DRY_RUN_STEPS], 0, 1
    rows = []
    for name in names:
        model = build(name, device)
        p = profile(model, meta(name).input_size, batch_sizes, warmup=warmup, repeats=repeats,
                    max_seconds=max_seconds, device=device)
        rows += [{"name": name, "batch": r.batch_size, "ms": 1e3 * r.median_s, "ms_per_image": r.ms_per_image,
                  "images_per_s": r.images_per_s, "repeats": r.repeats} for r in p]
        del model
        gc.collect()
        if torch.device(device).type == "cuda":
            torch.cuda.empty_cache()
    return pd.DataFrame(rows)


def pareto_front(cost: Sequence[float], value: Sequence[float]) -> list[bool]:
    """For each point, whether it is on the Pareto front of low ``cost`` and high ``value``: no
    other point costs at most as much and scores at least as well, one of them strictly.
    Points with a missing (NaN) coordinate are never on it."""
    cost, value = [float(c) for c in cost], [float(v) for v in value]
    if len(cost) != len(value):
        raise DcnnValueError(f"pareto_front: cost and value must have the same length, got {len(cost)} "
                             f"and {len(value)}")
    ok = [not (math.isnan(c) or math.isnan(v)) for c, v in zip(cost, value)]
    front = []
    for i, (c, v) in enumerate(zip(cost, value)):
        dominated = any(ok[j] and cost[j] <= c and value[j] >= v and (cost[j] < c or value[j] > v)
                        for j in range(len(cost)) if j != i)
        front.append(ok[i] and not dominated)
    return front


def _ranks(x: Sequence[float]) -> list[float]:
    """Ranks 1..n, ties sharing their mean rank."""
    order = sorted(range(len(x)), key=lambda i: x[i])
    ranks = [0.0] * len(x)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and x[order[j + 1]] == x[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def _pearson(x: Sequence[float], y: Sequence[float]) -> float:
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx, syy = sum((a - mx) ** 2 for a in x), sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else math.nan


def correlation(x: Sequence[float], y: Sequence[float]) -> dict[str, float]:
    """``{"pearson", "pearson_log", "spearman", "n"}`` of the pairs where both are finite:
    linear correlation, the same of the logarithms (for positive data spanning decades) and
    Spearman's rank correlation."""
    pairs = [(float(a), float(b)) for a, b in zip(x, y) if math.isfinite(float(a)) and math.isfinite(float(b))]
    if len(pairs) < 3:
        raise DcnnValueError(f"correlation: needs at least 3 pairs of finite values, got {len(pairs)}")
    xs, ys = [a for a, _ in pairs], [b for _, b in pairs]
    logs = [(math.log(a), math.log(b)) for a, b in pairs if a > 0 and b > 0]
    return {"pearson": _pearson(xs, ys),
            "pearson_log": _pearson([a for a, _ in logs], [b for _, b in logs]) if len(logs) >= 3 else math.nan,
            "spearman": _pearson(_ranks(xs), _ranks(ys)), "n": len(pairs)}


__all__ = ["IMAGENET_CLASSES", "MIN_SIDE", "imagenet_classifiers", "build", "efficiency_table", "latency_table",
           "pareto_front", "correlation"]
