"""Recipes of the chapter "ResNet".

Fashion-MNIST is grey (``in_channels=1``) and 28×28; the CIFAR networks of §4.2 take it as is
(stages at 28, 14 and 7 pixels). On 2 CPU cores (``book``) the depth experiments — plain vs
residual at 20 and 56 layers, the five residual units — compare *optimisation*, so they train
on 16×16 downsampled images and a subset for a few epochs; ``full`` (a GPU) runs them at 28×28
on the whole training set, with the paper's depth for the unit variants (ResNet-110). The d2l
comparison trains a right-sized ResNet on all 60,000 images at 28×28 at every scale but smoke.

The optimiser is the paper's (§4.2): SGD with momentum 0.9 (Nesterov here), learning rate 0.1,
weight decay 1e-4, batch 128; a one-cycle schedule replaces the step schedule so that short
runs end annealed.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from . import Recipe, register


@dataclass(frozen=True)
class ScaledRecipe(Recipe):
    """A :class:`Recipe` whose input side and model arguments may depend on the scale.

    ``sizes[scale]`` replaces ``size`` (sides below 28 downsample each batch);
    ``scaled_kwargs[scale]`` is merged into ``model_kwargs``.
    """

    sizes: dict[str, int] = field(default_factory=dict)
    scaled_kwargs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def for_scale(self, scale: str) -> "ScaledRecipe":
        r = super().for_scale(scale)
        size = self.sizes.get(scale, self.size)
        return replace(r, size=size, resize=r.resize or size < 28,
                       model_kwargs={**self.model_kwargs, **self.scaled_kwargs.get(scale, {})})

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        if self.size < 28:
            d["data"] = d["data"].replace("(upsampled)", "(downsampled)")
        return d


GREY = {"in_channels": 1}
# The depth experiments: optimisation of plain vs residual nets, 16x16 subsets on a CPU.
DEPTH = dict(sizes={"smoke": 16, "book": 16, "full": 28},
             epochs={"smoke": 1, "book": 4, "full": 40},
             train_subset={"smoke": 512, "book": 8_000, "full": None},
             test_subset={"smoke": 256, "book": 2_000, "full": None},
             optimizer="sgd", lr=0.1, weight_decay=1e-4)

for _depth in (20, 56):
    register(ScaledRecipe(f"plain{_depth}_fmnist", f"plain{_depth}_cifar", GREY, **DEPTH,
                          note=f"plain-{_depth} (§4.2 without shortcuts), SGD 0.1 + one-cycle"))
    register(ScaledRecipe(f"resnet{_depth}_fmnist", f"resnet{_depth}_cifar", GREY, **DEPTH,
                          note=f"ResNet-{_depth} (§4.2, option A), SGD 0.1 + one-cycle"))

# The five units of ECCV 2016 Fig. 4, side by side: 20 layers on a CPU, the paper's 110 on a GPU.
UNITS = ("original", "bn_after_add", "relu_before_add", "relu_only_preact", "full_preact")
for _unit in UNITS:
    register(ScaledRecipe(f"unit_{_unit}", f"resnet110_cifar_{_unit}", GREY,
                          scaled_kwargs={"smoke": {"depths": (3, 3, 3)}, "book": {"depths": (3, 3, 3)}},
                          **{**DEPTH, "epochs": {"smoke": 1, "book": 3, "full": 40}},
                          note=f"unit {_unit}: ResNet-20 (book) / ResNet-110 (full), SGD 0.1 + one-cycle"))

# Against d2l's ResNet-18 (0.918 test accuracy after 10 epochs at 96x96 on a V100): a ResNet
# sized for 28x28 grey images and two CPU cores: one wide basic block per stage (32, 64, 128
# channels at 28, 14, 7 pixels; 8 weighted layers), all 60,000 images, label smoothing.
register(ScaledRecipe("resnet8w_fmnist", "resnet20_cifar",
                      {**GREY, "depths": (1, 1, 1), "widths": (32, 64, 128)},
                      epochs={"smoke": 1, "book": 4, "full": 30},
                      train_subset={"smoke": 1_000, "book": None, "full": None},
                      optimizer="sgd", lr=0.1, weight_decay=5e-4, label_smoothing=0.1,
                      note="ResNet-8 with 32/64/128 channels, full training set, SGD + one-cycle"))
