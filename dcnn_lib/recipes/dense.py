"""Recipes of the chapter "Dense, fractal and multi-scale networks".

Each family's ``_small`` model trains on all 60,000 Fashion-MNIST images at their own 28×28 size
(``book``: within about five minutes on two CPU cores), with the optimiser that served the
ResNet chapter's 8-layer ResNet: SGD with Nesterov momentum 0.9, learning rate 0.1 on a
one-cycle schedule, weight decay 5e-4, label smoothing 0.1, batch 128, no augmentation (the
runs are too short to overfit). Concatenations, joins and splits run about 1.3–1.9 times faster
on a CPU in channels-last memory, so these recipes ask ``fit`` for it.

The side experiments are shorter: PolyInception kinds at equal parameters and Res2Net scales
at equal parameters train on a 10,000-image subset for two epochs at ``book`` scale (the whole
training set for 15 epochs at ``full``).
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
FULL_DATA = dict(train_subset={"smoke": 1_024, "book": None, "full": None},
                 test_subset={"smoke": 256, "book": None, "full": None})
SIDE = dict(train_subset={"smoke": 512, "book": 10_000, "full": None},
            test_subset={"smoke": 256, "book": None, "full": None},
            epochs={"smoke": 1, "book": 2, "full": 15})

register(ChannelsLastRecipe("densenet_small", "densenet_small", epochs={"smoke": 1, "book": 3, "full": 30},
                            **FULL_DATA, **SGD,
                            note="DenseNet (k = 24, blocks 2-4-6, θ = 0.5), SGD + one-cycle"))
register(ChannelsLastRecipe("fractalnet_small", "fractalnet_small", epochs={"smoke": 1, "book": 5, "full": 40},
                            **FULL_DATA, **SGD,
                            note="FractalNet (B = 4, C = 3, local + global drop-path), SGD + one-cycle"))
register(ChannelsLastRecipe("polynet_small", "polynet_small", epochs={"smoke": 1, "book": 3, "full": 30},
                            **FULL_DATA, **SGD,
                            note="PolyNet (2 × 2-way A, 2 × poly-2 B), SGD + one-cycle"))
register(ChannelsLastRecipe("res2net_small", "res2net_small", epochs={"smoke": 1, "book": 3, "full": 30},
                            **FULL_DATA, **SGD,
                            note="Res2Net (one 26w×4s bottleneck per stage), SGD + one-cycle"))

# PolyInception kinds at equal parameters: 4 + 4 single-block modules or 2 + 2 two-block ones.
POLY_ARMS = {"residual": (4, 4), "poly-2": (4, 4), "2-way": (2, 2), "mpoly-2": (2, 2)}
for _kind, _depths in POLY_ARMS.items():
    register(ChannelsLastRecipe(f"polynet_small_{_kind.replace('-', '')}", "polynet_small",
                                {"kinds": (_kind, _kind), "depths": _depths}, **SIDE, **SGD,
                                note=f"{_kind} modules, {_depths[0]} + {_depths[1]}: equal parameters"))

# Res2Net scales at (nearly) equal parameters: w chosen per s (res2net.equal_budget_width).
RES2NET_SCALES = {1: 62, 2: 48, 4: 26, 8: 15}
for _s, _w in RES2NET_SCALES.items():
    register(ChannelsLastRecipe(f"res2net_small_s{_s}", "res2net_small", {"scale": _s, "base_width": _w},
                                **SIDE, **SGD, note=f"Res2Net, s = {_s} splits of w = {_w} (at planes 64)"))
