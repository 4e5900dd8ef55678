"""Recipes of the chapter "Recurrent convolutions and capsules".

All runs train on Fashion-MNIST at 28×28 with the ``*_small`` models (the papers' networks,
narrowed for two CPU cores; see their docstrings):

- ``irrcnn_small``: IRRCNN on all 60,000 images (SGD, one-cycle, label smoothing 0.1);
- ``<net>_compare``: the paper's equal-parameter comparison, IRRCNN against IRCNN, EIRN, EIN
  and Liang & Hu's RCNN, one recipe for all, on a subset (the chapter repeats it over seeds);
- ``dcrn_compare`` / ``dcrn_t0_compare``: DCRN and the same dense network without recurrence;
- ``capsnet_small`` (3 routing iterations) and ``capsnet_routing1`` / ``capsnet_routing3``
  (1 against 3, on a subset): margin loss plus 0.0005 × the reconstruction error, Adam, the
  paper's shifts of up to 2 pixels (zero padding).

CapsNet reconstructs pixels through a sigmoid, so its batches are the images in [0, 1] (the
library's loaders standardise them; :class:`CapsuleInputs` undoes it), and during training
the decoder reads the capsule of the true class, so the labels go into the model too.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import torch

from . import Recipe, register
from .resnet import ScaledRecipe
from ..data import BatchAugment
from ..data.fashion import MEAN, STD
from ..layers.margin_loss import CapsuleLoss
from ..models.classification.irrcnn import CONFIGS


class CapsuleInputs:
    """A loader of standardised ``(images, labels)`` turned into what CapsNet trains on.

    Yields ``({"x": images, "labels": labels}, labels)`` (``fit`` calls ``model(**inputs)``)
    with ``labels=True``, else ``(images, labels)``; images are back in [0, 1] and, with
    ``shift > 0``, moved by up to ``shift`` pixels with zero padding (Sabour et al. §5).
    ``len`` and ``set_epoch`` pass through, so seeded shuffling and resuming still work.
    """

    def __init__(self, loader: Any, shift: int = 0, labels: bool = False, seed: int = 0) -> None:
        self.loader, self.labels, self.seed = loader, labels, seed
        self.shift = BatchAugment(pad=shift, flip=False) if shift else None
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.loader)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        if hasattr(self.loader, "set_epoch"):
            self.loader.set_epoch(epoch)

    def __iter__(self) -> Iterator[tuple[Any, torch.Tensor]]:
        g = torch.Generator().manual_seed(self.seed * 100_019 + self.epoch)
        for x, y in self.loader:
            x = (x * STD + MEAN).clamp_(0, 1)                     # N x 1 x 28 x 28, pixels in [0, 1]
            if self.shift is not None:
                x = self.shift(x, g)
            yield ({"x": x, "labels": y} if self.labels else x), y


@dataclass(frozen=True)
class CapsuleRecipe(ScaledRecipe):
    """A :class:`~dcnn_lib.recipes.resnet.ScaledRecipe` for CapsNet: margin + reconstruction loss, [0, 1] images with the
    labels passed to the model, the paper's random shifts instead of ``augment``."""

    shift: int = 2
    reconstruction_weight: float = 0.0005

    def loaders(self, seed: int = 0):
        train, test = super().loaders(seed)
        return (CapsuleInputs(train, self.shift, labels=True, seed=seed), CapsuleInputs(test))

    def fit_kwargs(self) -> dict[str, Any]:
        return {**super().fit_kwargs(), "loss_fn": CapsuleLoss(reconstruction_weight=self.reconstruction_weight)}


# ---- IRRCNN ------------------------------------------------------------------------------------
# The headline run: all 60,000 images (target: >= 0.915 test accuracy in <= 6 min on 2 cores;
# book: 4 epochs, about 3.5 min on 2 cores, so that the whole chapter runs in about 11 min).
# `full` (a GPU) trains the CIFAR configuration itself (our reading of the paper) on the grey images.
register(ScaledRecipe("irrcnn_small", "irrcnn_small", {}, epochs={"smoke": 1, "book": 4, "full": 15},
                scaled_kwargs={"full": {k: v for k, v in CONFIGS["cifar"].items()}},
                train_subset={"smoke": 1_024, "book": None, "full": None},
                test_subset={"smoke": 256, "book": None, "full": None},
                optimizer="sgd", lr=0.1, weight_decay=5e-4, label_smoothing=0.1,
                note="IRRCNN (our reading, sized for 28×28 grey images; full: the CIFAR network), "
                     "SGD 0.1 + one-cycle"))

# The equal-parameter comparison of the paper, on a subset and repeated over seeds (the
# differences are a point or less): every network with the same recipe.
COMPARE = dict(epochs={"smoke": 1, "book": 2, "full": 5},
               train_subset={"smoke": 512, "book": 5_000, "full": None},
               test_subset={"smoke": 256, "book": 2_000, "full": None},
               optimizer="sgd", lr=0.1, weight_decay=5e-4, label_smoothing=0.1)
NETWORKS = {"irrcnn_small": "IRRCNN: RCL Inception branches + residual",
            "ircnn_small": "IRCNN: RCL Inception branches, no residual",
            "eirn_small": "EIRN: each RCL unrolled into two convolutions, + residual",
            "ein_small": "EIN: two convolutions per branch, no residual",
            "recurrent_cnn_small": "RCNN (Liang & Hu): four RCLs, K chosen for equal parameters"}
for _model, _note in NETWORKS.items():
    register(Recipe(f"{_model.removesuffix('_small')}_compare", _model, {}, **COMPARE,
                    note=f"{_note}; SGD 0.1 + one-cycle"))

# DCRN next to the same dense network without recurrence (t = 0: a small DenseNet of
# post-activated 3×3 layers), with the comparison's recipe.
register(Recipe("dcrn_compare", "dcrn_small", {}, **COMPARE, note="DCRN (our reading): dense blocks of RCLs, t = 2"))
register(Recipe("dcrn_t0_compare", "dcrn_small", {"t": 0}, **COMPARE,
                note="the same dense network with t = 0: a small DenseNet (no recurrence)"))

# ---- CapsNet ---------------------------------------------------------------------------------------
# The headline run (target: >= 0.90 in <= 6 min on 2 cores) and the routing comparison (1 vs 3
# iterations, a subset, repeated over seeds).
CAPSULES = dict(optimizer="adam", lr=2e-3, weight_decay=0.0)
# `full` (a GPU) trains the paper's network: conv1 256, 32 types of primary capsules.
register(CapsuleRecipe("capsnet_small", "capsnet_small", {}, epochs={"smoke": 1, "book": 2, "full": 15},
                       scaled_kwargs={"full": {"conv_channels": 256, "primary_capsules": 32}},
                       train_subset={"smoke": 512, "book": None, "full": None},
                       test_subset={"smoke": 256, "book": None, "full": None}, **CAPSULES,
                       note="CapsNet (conv1 64, 16 primary capsule types), 3 routing iterations, "
                            "margin + 0.0005 reconstruction, Adam + one-cycle"))
for _r in (1, 3):
    register(CapsuleRecipe(f"capsnet_routing{_r}", "capsnet_small", {"routing_iterations": _r},
                           epochs={"smoke": 1, "book": 2, "full": 5},
                           train_subset={"smoke": 256, "book": 4_096, "full": None},
                           test_subset={"smoke": 128, "book": 2_000, "full": None}, **CAPSULES,
                           note=f"capsnet_small with {_r} routing iteration{'s' if _r > 1 else ''}"))
