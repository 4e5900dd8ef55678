"""Recipes of the chapter "LeNet-5 and the toolkit"."""
from . import Recipe, register

# 32×32 inputs as in the paper (the 28×28 image centred on a 32×32 field).
register(Recipe("lenet5", "lenet5", size=32, lr=3e-3,
                note="the 1998 architecture (scaled tanh, subsampling, Table I, RBF output), AdamW + one-cycle"))
register(Recipe("lenet5_relu", "lenet5_relu", size=32, lr=1e-2,
                note="ReLU + max pooling, AdamW + one-cycle"))
register(Recipe("lenet5_relu_bn_aug", "lenet5_relu", {"batch_norm": True}, size=32, lr=1e-2,
                augment=True, epochs={"smoke": 1, "book": 15, "full": 40},
                note="+ batch norm, random shifts and flips, 15 epochs"))
