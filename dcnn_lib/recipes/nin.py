"""Recipes of the chapter "Network in Network and 1×1 convolutions" (d2l's NiN reaches 0.785 on
Fashion-MNIST in 10 epochs at 224×224 on a V100; here the native 28×28 and a few CPU minutes).
The VGG-style network it is compared with is the VGG chapter's ``vgg_small_bn``, trained here
for the same 6 epochs as ``nin_small``."""
from dataclasses import replace

from . import RECIPES, Recipe, register

_EPOCHS = {"smoke": 1, "book": 6, "full": 30}
register(Recipe("nin_small", "nin_small", size=28, lr=3e-3, epochs=_EPOCHS,
                note="three mlpconv blocks, global average pooling, batch norm, AdamW + one-cycle"))
register(replace(RECIPES["vgg_small_bn"], name="vgg_small_bn_6ep", epochs=_EPOCHS,
                 note="vgg_small_bn for nin_small's 6 epochs"))
