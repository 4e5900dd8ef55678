"""Training recipes: the data, optimiser, schedule and length of every run a chapter makes.

A recipe is plain data, shared by the chapter that trains it and by ``benchmarks/`` that
times it, so the number printed in the book and the number measured are the same run.
Lengths depend on the scale (``smoke`` / ``book`` / ``full``, see :mod:`dcnn_lib.runtime`)::

    r = dl.recipes.get("lenet5_relu", "book")
    model, history = r.train()
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

import torch.nn as nn

from . import models
from .data import BatchAugment, fashion_mnist_loaders
from .runtime import SCALES

# Smoke runs every code path on a sliver of data; book and full use the whole data set.
SUBSETS = {"smoke": (2_000, 500), "book": (None, None), "full": (None, None)}


@dataclass(frozen=True)
class Recipe:
    """How to train one model on Fashion-MNIST. ``epochs`` maps scale → epochs."""

    name: str
    model: str
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    size: int = 28
    batch_size: int = 128
    epochs: dict[str, int] = field(default_factory=lambda: {"smoke": 1, "book": 10, "full": 30})
    optimizer: str = "adamw"
    lr: float = 1e-3
    weight_decay: float = 5e-4
    schedule: str | None = "onecycle"
    label_smoothing: float = 0.0
    augment: bool = False  # random 2-pixel shifts and horizontal flips
    scale: str = "book"
    note: str = ""

    def for_scale(self, scale: str) -> "Recipe":
        if scale not in SCALES:
            raise ValueError(f"Recipe {self.name!r}: scale must be one of {SCALES}, got {scale!r}")
        return replace(self, scale=scale)

    @property
    def n_epochs(self) -> int:
        return self.epochs[self.scale]

    def build_model(self) -> nn.Module:
        return models.get(self.model, **self.model_kwargs)

    def loaders(self, seed: int = 0):
        """``(train, test)`` loaders of Fashion-MNIST at this recipe's size and scale."""
        train_n, test_n = SUBSETS[self.scale]
        return fashion_mnist_loaders(
            batch_size=self.batch_size, size=self.size, train_subset=train_n, test_subset=test_n,
            augment=BatchAugment(pad=2, flip=True) if self.augment else None, seed=seed)

    def fit_kwargs(self) -> dict[str, Any]:
        return dict(optimizer=self.optimizer, lr=self.lr, weight_decay=self.weight_decay,
                    schedule=self.schedule, label_smoothing=self.label_smoothing)

    def train(self, model: nn.Module | None = None, loaders=None, seed: int = 0, **fit_overrides: Any):
        """Build (or take) the model and train it; returns ``(model, history)``."""
        from .runtime import seed_everything
        from .train import fit

        seed_everything(seed)
        model = model if model is not None else self.build_model()
        train, test = loaders if loaders is not None else self.loaders(seed)
        kwargs = {**self.fit_kwargs(), "name": self.name, "seed": seed, **fit_overrides}
        history = fit(model, train, self.n_epochs, val_loader=test, **kwargs)
        return model, history

    def describe(self) -> dict[str, Any]:
        d = asdict(self)
        d["epochs"] = self.n_epochs
        d["data"] = f"Fashion-MNIST {self.size}×{self.size}" + (
            f", {SUBSETS[self.scale][0]:,} train / {SUBSETS[self.scale][1]:,} test" if self.scale == "smoke" else "")
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


# ---- LeNet-5 chapter ------------------------------------------------------------------------
# 32×32 inputs as in the paper (the 28×28 image centred on a 32×32 field).
register(Recipe("lenet5", "lenet5", size=32, lr=3e-3,
                note="the 1998 architecture (scaled tanh, subsampling, Table I, RBF output), AdamW + one-cycle"))
register(Recipe("lenet5_relu", "lenet5_relu", size=32, lr=1e-2,
                note="ReLU + max pooling, AdamW + one-cycle"))
register(Recipe("lenet5_relu_bn_aug", "lenet5_relu", {"batch_norm": True}, size=32, lr=1e-2,
                augment=True, epochs={"smoke": 1, "book": 15, "full": 40},
                note="+ batch norm, random shifts and flips, 15 epochs"))
