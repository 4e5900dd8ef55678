"""Recipes of the chapter "GoogLeNet and the Inception family".

The real networks want 224×224 or 299×299 colour images and 1.5–13 G multiply-adds an image:
hours per epoch on two CPU cores. The chapter trains the same blocks at Fashion-MNIST's own
size instead, 28×28 grey, with a stem that keeps the resolution (3×3 convolutions at stride 1,
one pooling) so that the modules still see 14×14, 7×7 and 4×4 maps:

- ``googlenet_small`` / ``googlenet_small_no_aux``: GoogLeNet's Table 1 at a quarter of its
  widths (batch norm), with and without the two auxiliary classifiers (loss weight 0.3).
  The with-aux run is compared with d2l's GoogLeNet (0.883 test accuracy after 10 epochs at
  96×96 on a V100).
- ``inception_resnet_small_*``: Inception-ResNet-v2's blocks A and B at a quarter width,
  residual scale 1 (no scaling) against 0.2 (the paper's range is 0.1–0.3), trained with SGD
  and momentum at a high constant learning rate on 20,000 images: the setting in which the
  paper saw unscaled networks become unstable.

Many-branch networks run about 1.7 times faster on a CPU in channels-last memory, so these
recipes ask ``fit`` for it (it is the default on CUDA anyway).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import Recipe, register


@dataclass(frozen=True)
class InceptionRecipe(Recipe):
    """A :class:`~dcnn_lib.recipes.Recipe` that also sets the auxiliary-loss weight and the
    memory format ``fit`` uses."""

    aux_weight: float = 0.3       # GoogLeNet §5: each auxiliary loss counts 0.3
    channels_last: bool = True

    def fit_kwargs(self) -> dict[str, Any]:
        return {**super().fit_kwargs(), "aux_weight": self.aux_weight, "channels_last": self.channels_last}


SMALL = dict(size=28, batch_size=128, lr=3e-3, weight_decay=5e-4, epochs={"smoke": 1, "book": 2, "full": 30},
             train_subset={"smoke": 1_024, "book": None, "full": None},
             test_subset={"smoke": 256, "book": None, "full": None})
register(InceptionRecipe("googlenet_small", "googlenet_small", {"width": 0.25}, **SMALL,
                         note="GoogLeNet (Table 1 at ¼ width, batch norm) with its two auxiliary heads, "
                              "AdamW + one-cycle"))
register(InceptionRecipe("googlenet_small_no_aux", "googlenet_small", {"width": 0.25, "aux_logits": False},
                         **SMALL, note="as googlenet_small without the auxiliary heads"))

# Residual scaling: same network, same data, a learning rate high enough to stress training.
SCALING = dict(size=28, batch_size=128, optimizer="sgd", lr=0.2, weight_decay=0.0,
               schedule=None, epochs={"smoke": 1, "book": 1, "full": 5},
               train_subset={"smoke": 512, "book": 20_000, "full": None},
               test_subset={"smoke": 256, "book": None, "full": None})
for scale in (1.0, 0.2):
    register(InceptionRecipe(f"inception_resnet_small_scale{scale:g}", "inception_resnet_small",
                             {"scale": scale, "depths": (5, 5)}, **SCALING,
                             note=f"Inception-ResNet-v2 blocks at ¼ width, residuals × {scale:g}, "
                                  "SGD at a constant high rate"))
