"""Recipes of the chapter "VGG": the 7×7-versus-3×3 experiment, depth with and without batch
norm, and a VGG-11-style network on Fashion-MNIST (d2l's VGG-11 reaches 0.922 in 10 epochs
at 224×224 on a V100; here 32×32 inputs, a quarter of the channels, a few CPU minutes)."""
from . import Recipe, register

# 28×28 images centred on 32×32: five 2×2 poolings take them to 1×1, as 224 → 7 in the paper.
register(Recipe("vgg_small_bn", "vgg_small", {"dropout": 0.3}, size=32, lr=3e-3,
                epochs={"smoke": 1, "book": 8, "full": 30},
                note="VGG-11 (config A) at ¼ width with batch norm, AdamW + one-cycle"))

# One 7×7 layer against three 3×3 layers (C = 32 → 32 on 16×16 maps), same receptive field.
STACK_7X7 = ("conv3-32", "maxpool", "conv7-32", "maxpool", "conv3-64", "maxpool")
STACK_3X3 = ("conv3-32", "maxpool", "conv3-32", "conv3-32", "conv3-32", "maxpool", "conv3-64", "maxpool")
_STACK = dict(size=32, lr=3e-3, epochs={"smoke": 1, "book": 5, "full": 20},
              train_subset={"smoke": 1_000, "book": 20_000, "full": None})
register(Recipe("vgg_stack7x7", "vgg_small", {"config": STACK_7X7, "width": 1.0, "hidden": 128, "dropout": 0.0},
                note="one 7×7 convolution between poolings", **_STACK))
register(Recipe("vgg_stack3x3", "vgg_small", {"config": STACK_3X3, "width": 1.0, "hidden": 128, "dropout": 0.0},
                note="three 3×3 convolutions between poolings", **_STACK))

# Depth without batch norm: configuration D (13 convolutions) at ⅛ width, trained like the paper
# (SGD with momentum, weight decay 5e-4) from the paper's fixed-scale initialisation N(0, 0.01²).
_DEEP = dict(size=32, optimizer="sgd", lr=0.02, weight_decay=5e-4, epochs={"smoke": 1, "book": 3, "full": 20},
             train_subset={"smoke": 1_000, "book": 20_000, "full": None})
_D8 = {"config": "D", "width": 0.125, "dropout": 0.0}
register(Recipe("vgg16_small_paper_init", "vgg_small", {**_D8, "batch_norm": False, "init": "paper"},
                note="no batch norm, weights N(0, 0.01²)", **_DEEP))
register(Recipe("vgg16_small_paper_init_bn", "vgg_small", {**_D8, "batch_norm": True, "init": "paper"},
                note="batch norm, weights N(0, 0.01²)", **_DEEP))
register(Recipe("vgg16_small_kaiming", "vgg_small", {**_D8, "batch_norm": False, "init": "kaiming"},
                note="no batch norm, weights N(0, 2 / fan-in)", **_DEEP))
