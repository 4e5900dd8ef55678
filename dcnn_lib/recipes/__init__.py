"""Training recipes: the data, optimiser, schedule and length of every run a chapter makes.

A recipe is plain data, shared by the chapter that trains it and by ``benchmarks/`` that
times it, so the number printed in the book and the number measured are the same run. Each
chapter's recipes live in a module of this package (``lenet.py``...), imported at the end.
Lengths depend on the scale (``smoke`` / ``book`` / ``full``, see :mod:`dcnn_lib.runtime`)::

    r = dl.recipes.get("lenet5_relu", "book")
    model, history = r.train()
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

import torch.nn as nn

from .. import models
from ..data import BatchAugment, fashion_mnist_loaders
from ..runtime import SCALES

# Smoke runs every code path on a sliver of data; by default book and full use all of it.
SMOKE_SUBSET = {"smoke": 2_000, "book": None, "full": None}
SMOKE_TEST_SUBSET = {"smoke": 500, "book": None, "full": None}


class ScaledRun:
    """What every recipe shares: lengths per scale. A subclass is a frozen dataclass with the
    fields ``name``, ``epochs`` (scale -> number) and ``scale``."""

    def for_scale(self, scale: str):
        """This recipe at ``scale`` (``smoke``, ``book`` or ``full``)."""
        if scale not in SCALES:
            raise ValueError(f"{type(self).__name__} {self.name!r}: scale must be one of {SCALES}, got {scale!r}")
        return replace(self, scale=scale)

    @property
    def n_epochs(self) -> int:
        return self.epochs[self.scale]


@dataclass(frozen=True)
class Recipe(ScaledRun):
    """How to train one model on Fashion-MNIST.

    ``epochs``, ``train_subset`` and ``test_subset`` map a scale to a number (``None``: the
    whole split). ``size`` is the input side: 28 is native; larger sizes pad the image with
    background (``resize=False``, LeNet's 32×32) or upsample it a batch at a time
    (``resize=True``, for networks designed for large inputs).
    """

    name: str
    model: str
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    size: int = 28
    resize: bool = False
    batch_size: int = 128
    epochs: dict[str, int] = field(default_factory=lambda: {"smoke": 1, "book": 10, "full": 30})
    train_subset: dict[str, int | None] = field(default_factory=lambda: dict(SMOKE_SUBSET))
    test_subset: dict[str, int | None] = field(default_factory=lambda: dict(SMOKE_TEST_SUBSET))
    optimizer: str = "adamw"
    lr: float = 1e-3
    weight_decay: float = 5e-4
    schedule: str | None = "onecycle"
    label_smoothing: float = 0.0
    augment: bool = False  # random 2-pixel shifts and horizontal flips
    scale: str = "book"
    note: str = ""

    def build_model(self) -> nn.Module:
        return models.get(self.model, **self.model_kwargs)

    def loaders(self, seed: int = 0):
        """``(train, test)`` loaders of Fashion-MNIST at this recipe's size and scale."""
        return fashion_mnist_loaders(
            batch_size=self.batch_size, size=self.size, resize=self.resize,
            train_subset=self.train_subset[self.scale], test_subset=self.test_subset[self.scale],
            augment=BatchAugment(pad=2, flip=True) if self.augment else None, seed=seed)

    def fit_kwargs(self) -> dict[str, Any]:
        return dict(optimizer=self.optimizer, lr=self.lr, weight_decay=self.weight_decay,
                    schedule=self.schedule, label_smoothing=self.label_smoothing)

    def train(self, model: nn.Module | None = None, loaders=None, seed: int = 0, **fit_overrides: Any):
        """Build (or take) the model and train it; returns ``(model, history)``."""
        from ..runtime import seed_everything
        from ..train import fit

        seed_everything(seed)
        model = model if model is not None else self.build_model()
        train, test = loaders if loaders is not None else self.loaders(seed)
        kwargs = {**self.fit_kwargs(), "name": self.name, "seed": seed, **fit_overrides}
        history = fit(model, train, self.n_epochs, val_loader=test, **kwargs)
        return model, history

    def describe(self) -> dict[str, Any]:
        d = asdict(self)
        d["epochs"] = self.n_epochs
        n_train, n_test = self.train_subset[self.scale], self.test_subset[self.scale]
        d["data"] = (f"Fashion-MNIST {self.size}×{self.size}" + (" (upsampled)" if self.resize else "")
                     + f", {n_train or 60_000:,} train / {n_test or 10_000:,} test")
        return {k: d[k] for k in ("name", "model", "model_kwargs", "data", "batch_size", "epochs",
                                  "optimizer", "lr", "weight_decay", "schedule", "label_smoothing",
                                  "augment", "scale")}


RECIPES: dict[str, Recipe] = {}


def register(recipe: Recipe) -> Recipe:
    if recipe.name in RECIPES:
        raise ValueError(f"recipe {recipe.name!r} is already registered")
    models.meta(recipe.model)  # fails early on an unknown model name
    RECIPES[recipe.name] = recipe
    return recipe


def get(name: str, scale: str = "book") -> Recipe:
    if name not in RECIPES:
        raise KeyError(f"unknown recipe {name!r}; recipes: {', '.join(sorted(RECIPES))}")
    return RECIPES[name].for_scale(scale)


# Each chapter's recipes (imported last: they call register()).
from . import lenet  # noqa: E402,F401
from . import receptive_fields  # noqa: E402,F401
from . import alexnet  # noqa: E402,F401
from . import vgg, nin  # noqa: E402,F401
from . import inception  # noqa: E402,F401
from . import segmentation  # noqa: E402,F401
from . import detection  # noqa: E402,F401
from . import resnet  # noqa: E402,F401
from . import lecture  # noqa: E402,F401  (full scale: the lecture's architectures at d2l's sizes)

# Several seeds of one recipe, and differences between two (issue: findings vs noise).
from .seeds import Difference, Repeats, compare, repeat  # noqa: E402,F401
from . import convnext_vit_jepa  # noqa: E402,F401
