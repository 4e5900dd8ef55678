"""The layer of a densely connected recurrent convolutional network (DCRN): a dense layer that is
an RCL.

Alom's thesis (Improved Deep Convolutional Neural Networks (DCNN) Approaches for Computer
Vision and Bio-Medical Imaging, University of Dayton, 2018) "evaluated the impact of recurrent
convolutional layers on DenseNet", calling the result a Densely Connected Recurrent Network.
The text available to us says no more, so this is our reading: a DenseNet whose layer H_ℓ is
an RCL (:class:`~dcnn_lib.layers.RecurrentConv`) reading the concatenation of all earlier
maps and adding its state after ``t`` steps as the layer's ``k`` new maps::

    x_ℓ = RCL_t([x₀, x₁, …, x_{ℓ−1}])          w_f: (k₀ + (ℓ−1)k) → k,  w_r: k → k, 3×3

The feed-forward kernel is DenseNet's 3×3 convolution; the recurrent kernel adds ``9k²``
weights per layer and lets every layer see ``(2t + 3) × (2t + 3)`` pixels of its input.
Batch norm and ReLU follow each step, as in every RCL here (DenseNet pre-activates instead:
BN-ReLU-conv; the maps a DCRN layer appends are already normalised and rectified).
"""
from __future__ import annotations

from typing import Sequence

import torch

from .recurrent_conv import RecurrentConv


class RecurrentDenseLayer(RecurrentConv):
    """An RCL that takes a dense block's list of maps, concatenated: ``(N, k₀ + (ℓ−1)k, H, W)``
    (or the list of its parts) ``-> (N, k, H, W)``."""

    def __init__(self, in_channels: int, growth_rate: int, t: int = 2) -> None:
        super().__init__(in_channels, growth_rate, 3, t=t)

    def forward(self, inputs: torch.Tensor | Sequence[torch.Tensor]) -> torch.Tensor:
        x = inputs if isinstance(inputs, torch.Tensor) else torch.cat(list(inputs), 1)
        if x.shape[1] != self.in_channels:
            raise ValueError(f"RecurrentDenseLayer: expects inputs with {self.in_channels} channels in all, "
                             f"got {x.shape[1]}")
        return super().forward(x)
