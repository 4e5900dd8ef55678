"""Recipes of the chapter "Dense, fractal and multi-scale networks".

**Main runs** (one per family). At ``smoke`` and ``book`` each family's ``_small`` model trains
on Fashion-MNIST at its own 28×28 size. ``book`` is sized so that the whole chapter runs in
about ten minutes on two CPU cores: two epochs over a 15,000-image subset (about 1.5 minutes a
network; the whole 10,000-image test set), with the optimiser that served the ResNet chapter's
8-layer ResNet:
SGD with Nesterov momentum 0.9, learning rate 0.1 on a one-cycle schedule, weight decay 5e-4,
label smoothing 0.1, batch 128, no augmentation (the runs are too short to overfit).
Concatenations, joins and splits run about 1.3–1.9 times faster on a CPU in channels-last
memory, so these recipes ask ``fit`` for it. At ``full`` (one GPU) the chapter trains the
papers' own networks instead, as d2l trains its DenseNet (:data:`FULL`): DenseNet-121 and
Res2Net-50 on images upsampled to 96×96, the 20-layer CIFAR FractalNet at 32×32 (padded), for
10–20 epochs; PolyNet stays small (Very Deep PolyNet's 95 M parameters and 2.9 G multiply-adds
an image at 96×96, the smallest size it takes comfortably, do not fit ten GPU minutes).

**Side experiments**, three seeds each (``dl.recipes.repeat``): PolyInception kinds at equal
parameters and Res2Net scales at equal parameters. At ``book`` one epoch over a 3,000-image
subset, tested on 2,000 images (the differences are about how fast each variant learns, and
at this size they are mostly noise); at ``full`` five epochs over all of it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import Recipe, register


@dataclass(frozen=True)
class ChannelsLastRecipe(Recipe):
    """A :class:`~dcnn_lib.recipes.Recipe` that trains in channels-last memory format."""

    channels_last: bool = True

    def fit_kwargs(self) -> dict[str, Any]:
        return {**super().fit_kwargs(), "channels_last": self.channels_last}


SGD = dict(optimizer="sgd", lr=0.1, weight_decay=5e-4, label_smoothing=0.1, batch_size=128)
FULL_DATA = dict(train_subset={"smoke": 1_024, "book": 15_000, "full": None},
                 test_subset={"smoke": 256, "book": None, "full": None})
SIDE = dict(train_subset={"smoke": 512, "book": 3_000, "full": None},
            test_subset={"smoke": 256, "book": 2_000, "full": None},
            epochs={"smoke": 1, "book": 1, "full": 5})
GREY = {"in_channels": 1, "num_classes": 10}

register(ChannelsLastRecipe("densenet_small", "densenet_small", epochs={"smoke": 1, "book": 2, "full": 30},
                            **FULL_DATA, **SGD,
                            note="DenseNet (k = 24, blocks 2-4-6, θ = 0.5), SGD + one-cycle"))
register(ChannelsLastRecipe("fractalnet_small", "fractalnet_small", epochs={"smoke": 1, "book": 2, "full": 40},
                            **FULL_DATA, **SGD,
                            note="FractalNet (B = 4, C = 3, local + global drop-path), SGD + one-cycle"))
register(ChannelsLastRecipe("polynet_small", "polynet_small", epochs={"smoke": 1, "book": 2, "full": 30},
                            **FULL_DATA, **SGD,
                            note="PolyNet (2 × 2-way A, 2 × poly-2 B), SGD + one-cycle"))
register(ChannelsLastRecipe("res2net_small", "res2net_small", epochs={"smoke": 1, "book": 2, "full": 30},
                            **FULL_DATA, **SGD,
                            note="Res2Net (one 26w×4s bottleneck per stage), SGD + one-cycle"))

# The papers' networks on Fashion-MNIST (the chapter's `full` scale; smoke runs the code path).
FULL_SUBSETS = dict(train_subset={"smoke": 256, "book": 10_000, "full": None},
                    test_subset={"smoke": 128, "book": None, "full": None})
register(ChannelsLastRecipe("densenet121_fmnist", "densenet121", GREY, size=96, resize=True,
                            epochs={"smoke": 1, "book": 1, "full": 10}, **FULL_SUBSETS, **SGD,
                            note="DenseNet-121 at 96×96 (as d2l trains its DenseNet), SGD + one-cycle"))
register(ChannelsLastRecipe("fractalnet20_fmnist", "fractalnet20_cifar", GREY, size=32,
                            epochs={"smoke": 1, "book": 1, "full": 20}, **FULL_SUBSETS, **SGD,
                            note="the 20-layer CIFAR FractalNet (dropout, drop-path) at 32×32, SGD + one-cycle"))
register(ChannelsLastRecipe("res2net50_fmnist", "res2net50_26w_4s", GREY, size=96, resize=True,
                            epochs={"smoke": 1, "book": 1, "full": 10}, **FULL_SUBSETS, **SGD,
                            note="Res2Net-50 26w×4s at 96×96, SGD + one-cycle"))
# family -> the recipe the chapter trains at each scale
MAIN = {"densenet": {"smoke": "densenet_small", "book": "densenet_small", "full": "densenet121_fmnist"},
        "fractalnet": {"smoke": "fractalnet_small", "book": "fractalnet_small", "full": "fractalnet20_fmnist"},
        "polynet": {"smoke": "polynet_small", "book": "polynet_small", "full": "polynet_small"},
        "res2net": {"smoke": "res2net_small", "book": "res2net_small", "full": "res2net50_fmnist"}}

# PolyInception kinds at equal parameters: 4 + 4 single-block modules or 2 + 2 two-block ones.
POLY_ARMS = {"residual": (4, 4), "poly-2": (4, 4), "2-way": (2, 2)}
for _kind, _depths in POLY_ARMS.items():
    register(ChannelsLastRecipe(f"polynet_small_{_kind.replace('-', '')}", "polynet_small",
                                {"kinds": (_kind, _kind), "depths": _depths}, **SIDE, **SGD,
                                note=f"{_kind} modules, {_depths[0]} + {_depths[1]}: equal parameters"))

# Res2Net scales at (nearly) equal parameters: w chosen per s (res2net.equal_budget_width).
RES2NET_SCALES = {1: 62, 2: 48, 4: 26, 8: 15}
for _s, _w in RES2NET_SCALES.items():
    register(ChannelsLastRecipe(f"res2net_small_s{_s}", "res2net_small", {"scale": _s, "base_width": _w},
                                **SIDE, **SGD, note=f"Res2Net, s = {_s} splits of w = {_w} (at planes 64)"))
