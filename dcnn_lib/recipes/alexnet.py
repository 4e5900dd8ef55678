"""Recipes of the chapter "AlexNet, LRN and ZFNet".

All runs train the book-scale networks ``alexnet_small`` / ``zfnet_small`` (the papers' tables
with conv widths ÷ 4 and FC 512) on Fashion-MNIST upsampled to 64×64, so that every kernel and
stride of the papers (11×11/4, 7×7/2...) stays meaningful. The real 224×224 networks cost
0.7 G multiply-adds an image, 240 times more: hours per epoch on two CPU cores.

- ``alexnet_small`` / ``zfnet_small``: the main runs (whole training set), compared with d2l's
  AlexNet (0.882 test accuracy after 10 epochs at 224×224 on a V100).
- ``alexnet_small_5k*``: 5,000 training images, many epochs, no weight decay: small data makes
  over-fitting visible, so dropout's and LRN's effects can be measured.
- ``alexnet_small_relu_sgd`` / ``alexnet_small_tanh_sgd``: the paper's Figure 1 comparison,
  plain SGD with momentum at a constant rate, no regularisation;
  :func:`steps_to_error` counts the steps each needs to reach a training error.
"""
from __future__ import annotations

from typing import Any, Iterator, Sequence

from . import Recipe, register

AT_64 = dict(size=64, resize=True, batch_size=128)
SMOKE = dict(train_subset={"smoke": 1_000, "book": None, "full": None},
             test_subset={"smoke": 500, "book": None, "full": None})

register(Recipe("alexnet_small", "alexnet_small", lr=2e-3, epochs={"smoke": 1, "book": 5, "full": 30}, **AT_64, **SMOKE,
                note="AlexNet (2012 table, widths ÷ 4) on 64×64 Fashion-MNIST, AdamW + one-cycle"))
register(Recipe("zfnet_small", "zfnet_small", lr=2e-3, epochs={"smoke": 1, "book": 5, "full": 30}, **AT_64, **SMOKE,
                note="ZFNet (Figure 3 table, widths ÷ 4), same recipe as alexnet_small"))

SMALL_DATA = dict(train_subset={"smoke": 1_000, "book": 5_000, "full": 5_000},
                  test_subset={"smoke": 500, "book": 5_000, "full": None},
                  epochs={"smoke": 2, "book": 15, "full": 60}, lr=2e-3, weight_decay=0.0, **AT_64)
register(Recipe("alexnet_small_5k", "alexnet_small", **SMALL_DATA,
                note="5,000 training images, LRN + dropout 0.5, no weight decay"))
register(Recipe("alexnet_small_5k_no_lrn", "alexnet_small", {"lrn": False}, **SMALL_DATA,
                note="as alexnet_small_5k without LRN"))
register(Recipe("alexnet_small_5k_no_dropout", "alexnet_small", {"dropout": 0.0}, **SMALL_DATA,
                note="as alexnet_small_5k without dropout"))

# Figure 1: "no regularization of any kind", a constant learning rate per network. ``epochs``
# bounds the run; steps_to_error stops as soon as every threshold is reached.
CONVERGENCE = dict(optimizer="sgd", lr=0.02, weight_decay=0.0, schedule=None,
                   epochs={"smoke": 1, "book": 2, "full": 10},
                   train_subset={"smoke": 1_000, "book": None, "full": None}, **AT_64)
register(Recipe("alexnet_small_relu_sgd", "alexnet_small", {"lrn": False, "dropout": 0.0}, **CONVERGENCE,
                note="ReLU, SGD + momentum 0.9 at a constant rate, no LRN, no dropout"))
register(Recipe("alexnet_small_tanh_sgd", "alexnet_small", {"lrn": False, "dropout": 0.0, "activation": "tanh"},
                **CONVERGENCE, note="as alexnet_small_relu_sgd with tanh units"))


class StepWindows:
    """A loader whose "epochs" are windows of ``steps`` consecutive batches of ``loader``.

    ``fit`` records one History row per epoch; over windows, that is the training loss and
    accuracy every ``steps`` steps, so convergence is seen at a finer grain than an epoch.
    The batches are those of an endless run over ``loader`` (reshuffled every pass); resuming
    from a checkpoint is not supported.
    """

    def __init__(self, loader, steps: int) -> None:
        if steps < 1:
            raise ValueError(f"StepWindows: steps must be >= 1, got {steps}")
        self.loader, self.steps = loader, steps
        self._stream: Iterator | None = None

    def _endless(self) -> Iterator:
        epoch = 0
        while True:
            self.loader.set_epoch(epoch)
            yield from self.loader
            epoch += 1

    def set_epoch(self, epoch: int) -> None:
        if epoch == 0 or self._stream is None:
            self._stream = self._endless()

    def __len__(self) -> int:
        return self.steps

    def __iter__(self):
        if self._stream is None:
            self._stream = self._endless()
        for _ in range(self.steps):
            yield next(self._stream)


def steps_to_error(recipe: Recipe, thresholds: Sequence[float] = (0.25, 0.15, 0.10), window: int = 20,
                   seed: int = 0, loaders=None, lr: float | None = None, **fit_overrides: Any) -> dict[str, Any]:
    """Train ``recipe`` until its running training error is at most every threshold.

    The training error is measured on the batches of each window of ``window`` steps, as
    they are trained (as in the paper's Figure 1, which plots the training error over
    epochs). Training stops when the smallest threshold is reached, or after the recipe's
    epochs, or when the loss diverges. Returns ``{"steps": {threshold: steps or None},
    "history": History (None if it diverged in the first window), "lr": learning rate,
    "model": model, "diverged": bool}``; ``None`` means not reached.
    """
    from ..runtime import seed_everything
    from ..train import StopTraining, fit

    seed_everything(seed)
    model = recipe.build_model()
    train, _ = loaders if loaders is not None else recipe.loaders(seed)
    windows = StepWindows(train, window)
    max_windows = max(1, recipe.n_epochs * len(train) // window)
    reached: dict[float, int | None] = {t: None for t in thresholds}
    seen: dict[str, Any] = {}

    def check(n: int, history) -> None:
        seen["history"] = history
        error = 1.0 - history.last["train_acc"]
        for t in thresholds:
            if reached[t] is None and error <= t:
                reached[t] = n * window
        if all(v is not None for v in reached.values()):
            raise StopTraining(f"every training-error threshold reached after {n * window} steps")

    kwargs = {**recipe.fit_kwargs(), "name": f"{recipe.name} lr={lr or recipe.lr:g}", "seed": seed,
              **fit_overrides}
    if lr is not None:
        kwargs["lr"] = lr
    diverged = False
    try:
        fit(model, windows, max_windows, callbacks=[check], **kwargs)
    except FloatingPointError:  # the loss became inf/nan: this rate is too high, nothing more is reached
        diverged = True
    return {"steps": reached, "history": seen.get("history"), "lr": kwargs["lr"], "model": model,
            "diverged": diverged}


def fastest(recipe: Recipe, lrs: Sequence[float], thresholds: Sequence[float] = (0.25, 0.15, 0.10),
            **kwargs: Any) -> dict[str, Any]:
    """:func:`steps_to_error` for each learning rate; the run that reaches the smallest
    threshold first (else gets furthest) wins, as the paper chose each network's rate "to
    make training as fast as possible". The result has ``"tried": {lr: steps}`` added."""
    runs = [steps_to_error(recipe, thresholds, lr=lr, **kwargs) for lr in lrs]

    def key(run):  # fewer steps to each threshold, from the hardest one; None = never
        return tuple(run["steps"][t] if run["steps"][t] is not None else float("inf")
                     for t in sorted(thresholds))

    best = min(runs, key=key)
    return {**best, "tried": {run["lr"]: dict(run["steps"]) for run in runs}}

