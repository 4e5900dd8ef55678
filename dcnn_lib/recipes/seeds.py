"""One recipe over several seeds: is a difference a finding or noise?

A single run of a small network on Fashion-MNIST moves by a few tenths of a point from one
seed to the next (initialisation, data order, augmentation). A comparison whose difference is
that small says nothing until it is repeated::

    a = dl.recipes.repeat(dl.recipes.get("alexnet_small", SCALE), seeds=(0, 1, 2))
    b = dl.recipes.repeat(dl.recipes.get("alexnet_small_no_lrn", SCALE), seeds=(0, 1, 2))
    a.mean, a.std                      # test accuracy over the seeds
    d = dl.recipes.compare(b, a)       # b - a, paired by seed
    d.verdict                          # "b is better", "within noise", ...

:func:`repeat` trains the recipe once per seed (the seed drives initialisation, data order and
augmentation); :class:`Repeats` keeps every run's final test accuracy and history;
:func:`compare` reports the mean difference, its spread over the seed pairs and a verdict.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from ..errors import DcnnTypeError, DcnnValueError


@dataclass
class Repeats:
    """Runs of one recipe with several seeds: ``values`` are the final test accuracies
    (``metric`` of the last epoch), in the order of ``seeds``."""

    name: str
    seeds: tuple[int, ...]
    values: tuple[float, ...]
    metric: str = "val_acc"
    histories: list[Any] = field(default_factory=list, repr=False)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values)

    @property
    def std(self) -> float:
        """Sample standard deviation over the seeds (0 for a single run)."""
        return statistics.stdev(self.values) if len(self.values) > 1 else 0.0

    @property
    def seconds(self) -> float:
        """Mean training time of one run."""
        return statistics.fmean(h.total_seconds for h in self.histories) if self.histories else math.nan

    def __str__(self) -> str:
        return f"{self.name}: {self.mean:.4f} ± {self.std:.4f} ({len(self.values)} seeds)"

    def as_row(self) -> dict[str, Any]:
        return {"name": self.name, "seeds": len(self.values), "mean": round(self.mean, 4),
                "std": round(self.std, 4), "min": round(min(self.values), 4), "max": round(max(self.values), 4)}


@dataclass(frozen=True)
class Difference:
    """``a - b`` over paired seeds: mean, sample standard deviation of the paired differences,
    and the verdict: "within noise" unless the mean difference is larger than ``k`` times its
    standard error (default k = 2) *and* every paired difference has the same sign."""

    a: str
    b: str
    mean: float
    std: float
    n: int
    all_same_sign: bool
    k: float = 2.0

    @property
    def stderr(self) -> float:
        return self.std / math.sqrt(self.n) if self.n > 1 else math.inf

    @property
    def significant(self) -> bool:
        return self.n > 1 and self.all_same_sign and abs(self.mean) > self.k * self.stderr

    @property
    def verdict(self) -> str:
        if not self.significant:
            return "within noise"
        return f"{self.a} is better" if self.mean > 0 else f"{self.b} is better"

    def __str__(self) -> str:
        return (f"{self.a} - {self.b}: {self.mean:+.4f} ± {self.std:.4f} over {self.n} seeds "
                f"-> {self.verdict}")

    def as_row(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "difference": round(self.mean, 4), "std": round(self.std, 4),
                "seeds": self.n, "verdict": self.verdict}


def repeat(recipe: Any, seeds: Sequence[int] = (0, 1, 2), *, metric: str = "val_acc",
           train: Callable[..., Any] | None = None, name: str | None = None, **train_kwargs: Any) -> Repeats:
    """Train ``recipe`` once per seed and collect the last epoch's ``metric``.

    ``recipe``: anything with ``train(seed=..., **kw) -> (model, history)`` (a
    :class:`~dcnn_lib.recipes.Recipe`). ``train``: a replacement for ``recipe.train`` (e.g. a
    ``functools.partial`` that passes loaders). A ``checkpoint`` keyword may contain
    ``{seed}``, so that each run resumes from its own file.
    """
    seeds = tuple(seeds)
    if not seeds or len(set(seeds)) != len(seeds) or not all(isinstance(s, int) for s in seeds):
        raise DcnnValueError(f"repeat: seeds must be distinct integers, got {seeds!r}")
    run = train or getattr(recipe, "train", None)
    if run is None:
        raise DcnnTypeError(f"repeat: {type(recipe).__name__} has no train(); pass train=...")
    values, histories = [], []
    for seed in seeds:
        kw = dict(train_kwargs)
        if isinstance(kw.get("checkpoint"), str):
            kw["checkpoint"] = kw["checkpoint"].format(seed=seed)
        _, history = run(seed=seed, **kw)
        value = history.last.get(metric, math.nan)
        if value is None or math.isnan(value):
            raise DcnnValueError(f"repeat: the run with seed {seed} recorded no {metric!r} (no validation data?)")
        values.append(float(value))
        histories.append(history)
    return Repeats(name or getattr(recipe, "name", "run"), seeds, tuple(values), metric, histories)


def compare(a: Repeats, b: Repeats, k: float = 2.0) -> Difference:
    """``a - b`` paired by seed (both must have run the same seeds)."""
    if a.seeds != b.seeds:
        raise DcnnValueError(f"compare: {a.name} ran seeds {a.seeds}, {b.name} ran {b.seeds}; "
                             "pair runs of the same seeds")
    diffs = [x - y for x, y in zip(a.values, b.values)]
    std = statistics.stdev(diffs) if len(diffs) > 1 else 0.0
    same = all(d > 0 for d in diffs) or all(d < 0 for d in diffs)
    return Difference(a.name, b.name, statistics.fmean(diffs), std, len(diffs), same, k)


__all__ = ["Repeats", "Difference", "repeat", "compare"]
