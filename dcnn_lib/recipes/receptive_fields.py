"""Recipes of the chapter "Receptive fields".

``plain_cnn``: the small fully convolutional network whose effective receptive field the
chapter measures before and after training, on native 28×28 Fashion-MNIST. A few epochs are
enough: the point is the change of the gradient map, not the last tenth of a percent.
"""
from . import Recipe, register

register(Recipe("plain_cnn", "plain_cnn", size=28, lr=3e-3, epochs={"smoke": 1, "book": 3, "full": 15},
                note="3 stages of 3×3 conv-BN-ReLU pairs, global average pooling; AdamW + one-cycle"))
