"""Recipes of the chapter "ConvNeXt, Vision Transformers and JEPA".

Fashion-MNIST at its own 28×28 size, grey. ``book`` is sized for two CPU cores:

- ``convnext_fashion_small`` and ``vit_small``: the chapter's two classifiers, AdamW with a
  one-cycle schedule, weight decay 0.05 and label smoothing 0.1 (ConvNeXt's and DeiT's recipes
  keep both), random 2-pixel shifts and flips; the whole training set.
- ``vit_small_<p>pct`` / ``convnext_eqvit_<p>pct``: ``vit_small`` and a ConvNeXt of equal
  parameters on p = 10 %, 30 % (and 100 %) of the training images (the same number of epochs,
  so fewer steps) — the data-hunger comparison of ViT and ConvNet.
- ``roadmap_<step>``: every step of ConvNeXt's Table 10 on the miniature roadmap
  (``convnext_roadmap_small``), each trained the same short way on a subset. The first row is
  "ResNet-50 (PyTorch)", trained with the original recipe (SGD + momentum, no label smoothing,
  no augmentation); every later row with the "enhanced" one (AdamW, label smoothing, shifts and
  flips: what of §2.1's recipe — Mixup, CutMix, RandAugment, Random Erasing, stochastic depth,
  300 epochs — fits two CPU cores).
- ``ijepa_small``: I-JEPA pre-training of ``ijepa_small`` without labels
  (:class:`JEPARecipe`), then a linear probe on the frozen target encoder.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn as nn

from .. import models
from ..analysis.linear_probe import ProbeResult, linear_probe
from ..data import BatchAugment, fashion_mnist_loaders
from ..data.multiblock import multiblock_masks
from ..models.classification.convnext_roadmap import ROADMAP
from ..models.classification.ijepa import JEPAClassifier, ema_momentum, ijepa_pretraining
from . import Recipe, ScaledRun, register

# book: one epoch of each run, so that the whole chapter runs in about 10 minutes on 2 CPU cores
# (benchmarks/convnext_vit_jepa.py --epochs 5 measures the 6-minute targets).
EPOCHS = {"smoke": 1, "book": 1, "full": 20}
CLASSIFIER = dict(optimizer="adamw", weight_decay=0.05, label_smoothing=0.1, augment=True, epochs=EPOCHS)

register(Recipe("convnext_fashion_small", "convnext_fashion_small", lr=2e-3, **CLASSIFIER,
                note="ConvNeXt, 2×2 stem, B = (1, 1, 3, 1), C = (24, 48, 96, 192); AdamW + one-cycle"))
register(Recipe("vit_small", "vit_small", lr=1e-3, **CLASSIFIER,
                note="ViT, 4×4 patches, 6 layers of width 64; AdamW + one-cycle"))

# Data hunger: a ViT and a ConvNet of equal parameters on 10 %, 30 % and 100 % of the training
# images. The ConvNet is convnext_fashion_small narrowed to vit_small's parameter count
# (C = 13, 26, 52, 104: 205,631 against 205,962); vit_small's 100 % run is the recipe above.
EQUAL_TO_VIT = {"dims": (13, 26, 52, 104)}
HUNGER_TEST = {"smoke": 500, "book": 2_000, "full": None}


def _part(pct: int) -> int | None:
    return None if pct == 100 else 600 * pct


for _pct in (10, 30, 100):
    register(Recipe(f"convnext_eqvit_{_pct}pct", "convnext_fashion_small", EQUAL_TO_VIT, lr=2e-3, **CLASSIFIER,
                    train_subset={"smoke": 20 * _pct, "book": _part(_pct), "full": _part(_pct)},
                    test_subset=HUNGER_TEST if _pct < 100 else {"smoke": 500, "book": None, "full": None},
                    note=f"ConvNeXt with vit_small's parameter count on {_pct} % of the training images"))
for _pct in (10, 30):
    register(Recipe(f"vit_small_{_pct}pct", "vit_small", lr=1e-3, **CLASSIFIER,
                    train_subset={"smoke": 20 * _pct, "book": 600 * _pct, "full": 600 * _pct}, test_subset=HUNGER_TEST,
                    note=f"vit_small on {_pct} % of the training images"))

# The roadmap on Fashion-MNIST: every row of Table 10, trained alike on a subset.
ROADMAP_RUN = dict(epochs={"smoke": 1, "book": 1, "full": 5},
                   train_subset={"smoke": 256, "book": 2_000, "full": 20_000},
                   test_subset={"smoke": 256, "book": 2_000, "full": None})
for _step in ROADMAP:
    _original = _step.key == "resnet50"
    register(Recipe(f"roadmap_{_step.key}", "convnext_roadmap_small", {"step": _step.key}, **ROADMAP_RUN,
                    **(dict(optimizer="sgd", lr=0.1, weight_decay=1e-4) if _original else
                       dict(optimizer="adamw", lr=2e-3, weight_decay=0.05, label_smoothing=0.1, augment=True)),
                    note=f"Table 10: {_step.label}" + (" (original recipe: SGD)" if _original else "")))


# ---- I-JEPA: pre-training without labels, then a linear probe ---------------------------------------
@dataclass(frozen=True)
class JEPARecipe(ScaledRun):
    """I-JEPA pre-training of a registered I-JEPA model on Fashion-MNIST images (labels unused),
    then a linear probe (:func:`dcnn_lib.analysis.linear_probe`) of its target encoder.

    The official recipe, scaled down: AdamW (no weight decay on biases and norms) with warm-up
    and cosine annealing (one-cycle), EMA momentum 0.996 → 1.0 linearly over the run, masks of
    the paper (4 targets of 15-20 %, a context of 85-100 % without them; ``min_keep`` for a 7×7
    grid), random 2-pixel shifts (the official code uses random resized crops, no flips). The
    official weight decay grows from 0.04 to 0.4; here it is constant.

    ``train()`` returns the probed classifier (target encoder + the probe's linear head) and a
    History whose last row's ``val_acc`` is the probe's test accuracy.
    """

    name: str
    model: str
    epochs: dict[str, int] = field(default_factory=lambda: {"smoke": 1, "book": 1, "full": 20})
    train_subset: dict[str, int | None] = field(default_factory=lambda: {"smoke": 2_000, "book": 40_000, "full": None})
    probe_subset: dict[str, int | None] = field(default_factory=lambda: {"smoke": 500, "book": 10_000, "full": None})
    test_subset: dict[str, int | None] = field(default_factory=lambda: {"smoke": 500, "book": 5_000, "full": None})
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.05
    ema: tuple[float, float] = (0.996, 1.0)
    masks: dict[str, Any] = field(default_factory=lambda: {"n_targets": 4, "target_scale": (0.15, 0.2),
                                                           "target_aspect": (0.75, 1.5),
                                                           "context_scale": (0.85, 1.0), "min_keep": 4})
    probe_weight_decay: float = 1e-4
    scale: str = "book"
    note: str = ""

    def loaders(self, seed: int = 0):
        """``(pre-training loader, probe-train loader, test loader)``."""
        pre, test = fashion_mnist_loaders(batch_size=self.batch_size, train_subset=self.train_subset[self.scale],
                                          test_subset=self.test_subset[self.scale],
                                          augment=BatchAugment(pad=2, flip=False), seed=seed)
        probe, _ = fashion_mnist_loaders(batch_size=1000, train_subset=self.probe_subset[self.scale], seed=seed + 1)
        return pre, probe, test

    def build_model(self) -> JEPAClassifier:
        return models.get(self.model)

    def probe(self, model: nn.Module, loaders=None, seed: int = 0, features=None) -> ProbeResult:
        """Linear probe of ``model``'s features (``model.features`` or ``features``)."""
        from ..train.evaluation import dry_run_batches

        _, probe, test = loaders if loaders is not None else self.loaders(seed)
        probe, test = dry_run_batches(probe, steps=2), dry_run_batches(test, steps=1)   # all of them unless a dry run
        return linear_probe(features or model.features, probe, test, num_classes=10,
                            weight_decay=self.probe_weight_decay, device=_device_of(model))

    def train(self, model: JEPAClassifier | None = None, loaders=None, seed: int = 0, progress: bool = True,
              device: torch.device | str | None = None):
        """Pre-train, probe; returns ``(classifier, history)``."""
        from ..runtime import device as default_device, seed_everything
        from ..train import History

        seed_everything(seed)
        dev = torch.device(device) if device is not None else default_device()
        model = model if model is not None else self.build_model()
        pre, probe, test = loaders if loaders is not None else self.loaders(seed)
        system = ijepa_pretraining(self.model, model).to(dev)
        history = History(name=self.name)
        pretrain(system, pre, self.n_epochs, lr=self.lr, weight_decay=self.weight_decay, ema=self.ema,
                 masks=self.masks, seed=seed, history=history, progress=progress, device=dev)
        classifier = system.classifier(10)
        t0 = time.perf_counter()
        result = self.probe(classifier, (pre, probe, test))
        _load_probe(classifier, result)
        history.records[-1].update(val_acc=result.test_acc, probe_train_acc=result.train_acc,
                                   probe_seconds=time.perf_counter() - t0)
        return classifier, history

    def describe(self) -> dict[str, Any]:
        d = asdict(self)
        d["epochs"] = self.n_epochs
        n = self.train_subset[self.scale]
        d["data"] = f"Fashion-MNIST 28×28, {n or 60_000:,} images without labels"
        return {k: d[k] for k in ("name", "model", "data", "batch_size", "epochs", "lr", "weight_decay", "ema",
                                  "masks", "scale")}


def _device_of(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


@torch.no_grad()
def _load_probe(classifier: JEPAClassifier, result: ProbeResult) -> None:
    """Fold the probe's standardisation into its linear layer and make it the classifier's head."""
    w, b = result.classifier.weight / result.std, result.classifier.bias
    classifier.head.weight.copy_(w)
    classifier.head.bias.copy_(b - w @ result.mean)


def pretrain(system, loader, epochs: int, *, lr: float, weight_decay: float, ema=(0.996, 1.0),
             masks: dict[str, Any] | None = None, seed: int = 0, history=None, progress: bool = True,
             device: torch.device | str = "cpu"):
    """I-JEPA pre-training of ``system`` (:class:`~dcnn_lib.models.classification.ijepa.IJEPA`)
    on the images of ``loader`` (labels ignored); appends one row per epoch to ``history``
    (``train_loss``: mean smooth-L1 loss, ``lr``, ``momentum``, ``seconds``)."""
    from ..runtime import dry_run
    from ..train import History
    from ..train.evaluation import dry_run_batches

    history = history if history is not None else History(name="ijepa")
    epochs = min(epochs, 2) if dry_run() else epochs   # a dry run: two epochs of one batch, like fit
    decay = [p for p in system.parameters() if p.requires_grad and p.ndim >= 2]
    no_decay = [p for p in system.parameters() if p.requires_grad and p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=lr)
    total = epochs * (1 if dry_run() else len(loader))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total, pct_start=min(0.5, max(0.1, 2 / total)),
                                                div_factor=5, final_div_factor=1e3) if total >= 4 else None
    gen = torch.Generator().manual_seed(seed)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=total, desc=history.name or "ijepa", unit="batch", dynamic_ncols=True)
    step = 0
    try:
        for epoch in range(epochs):
            if hasattr(loader, "set_epoch"):
                loader.set_epoch(epoch)
            system.train()
            t0, total_loss, seen = time.perf_counter(), 0.0, 0
            for x, _ in dry_run_batches(loader, steps=1):
                x = x.to(device)
                m = multiblock_masks(len(x), system.grid, generator=gen, **(masks or {}))
                m = type(m)(m.context.to(device), m.targets.to(device), m.grid)
                loss = system.loss(*system(x, m))
                if not math.isfinite(loss.item()):
                    raise FloatingPointError(f"I-JEPA: loss became {loss.item()} in epoch {epoch + 1}")
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                if sched is not None:
                    sched.step()
                step += 1
                momentum = ema_momentum(step, total, *ema)
                system.update_target(momentum)
                total_loss, seen = total_loss + loss.item() * len(x), seen + len(x)
                if bar is not None:
                    bar.update(1)
            history.append(epoch=epoch + 1, train_loss=total_loss / seen, lr=opt.param_groups[0]["lr"],
                           momentum=momentum, seconds=time.perf_counter() - t0)
            if bar is not None:
                bar.set_postfix_str(f"epoch {epoch + 1}/{epochs} loss {total_loss / seen:.4f}")
    finally:
        if bar is not None:
            bar.close()
    return history


register(JEPARecipe("ijepa_small", "ijepa_small",
                    note="I-JEPA pre-training of the small ViT encoder (7×7 patches grid, 3 × 32 predictor), "
                         "then a linear probe"))
