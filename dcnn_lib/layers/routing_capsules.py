"""A fully connected capsule layer with routing by agreement: CapsNet's DigitCaps.

Sabour, Frosst & Hinton (NIPS 2017, §4): "The final layer (DigitCaps) has one 16D capsule per
digit class and each of these capsules receives input from all the capsules in the layer
below ... there is one W_ij (8 × 16) between each u_i, i ∈ (1, 32 × 6 × 6), and v_j,
j ∈ (1, 10)". So 1152 · 10 · 8 · 16 = 1,474,560 weights, no bias (the logits b_ij are state
of the routing, not parameters), and a prediction ``û_j|i = W_ij u_i`` for every pair,
routed by :func:`~dcnn_lib.layers.routing.dynamic_routing`.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from .routing import Routing, dynamic_routing


class RoutingCapsules(nn.Module):
    """``(N, in_capsules, in_dim) -> (N, out_capsules, out_dim)``.

    Args:
        in_capsules, in_dim: the children (CapsNet: 1152 capsules of 8 components).
        out_capsules, out_dim: the parents (CapsNet: 10 capsules of 16 components).
        iterations: routing iterations (CapsNet: 3).
    """

    def __init__(self, in_capsules: int = 1152, in_dim: int = 8, out_capsules: int = 10, out_dim: int = 16,
                 iterations: int = 3) -> None:
        super().__init__()
        if not isinstance(iterations, int) or iterations < 1:
            raise ValueError(f"RoutingCapsules: iterations must be an int >= 1, got {iterations!r}")
        self.in_capsules, self.in_dim, self.out_capsules, self.out_dim = in_capsules, in_dim, out_capsules, out_dim
        self.iterations = iterations
        # W_ij maps u_i (in_dim) to û_j|i (out_dim); std 1/sqrt(in_dim) keeps û near u's scale
        self.weight = nn.Parameter(torch.randn(in_capsules, out_capsules, out_dim, in_dim) * in_dim ** -0.5)

    def predictions(self, u: torch.Tensor) -> torch.Tensor:
        """``û_j|i = W_ij u_i``: ``(N, I, in_dim) -> (N, I, J, out_dim)``."""
        if u.ndim != 3 or u.shape[1:] != (self.in_capsules, self.in_dim):
            raise ValueError(f"RoutingCapsules: expects capsules (N, {self.in_capsules}, {self.in_dim}), "
                             f"got shape {tuple(u.shape)}")
        n, i, j, d = u.shape[0], self.in_capsules, self.out_capsules, self.out_dim
        # one (N x in_dim) @ (in_dim x J·D) product per child capsule i
        u_hat = torch.bmm(u.transpose(0, 1), self.weight.view(i, j * d, self.in_dim).transpose(1, 2))  # I x N x J·D
        # stored parent-major (N x J x I x D, what routing multiplies), returned as N x I x J x D
        return u_hat.view(i, n, j, d).permute(1, 2, 0, 3).contiguous().transpose(1, 2)

    def route(self, u: torch.Tensor, iterations: int | None = None, record: bool = False) -> Routing:
        """Outputs and coupling coefficients (every iteration's with ``record=True``)."""
        return dynamic_routing(self.predictions(u), iterations or self.iterations, record)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return self.route(u).outputs

    def extra_repr(self) -> str:
        return (f"{self.in_capsules}×{self.in_dim}D -> {self.out_capsules}×{self.out_dim}D, "
                f"iterations={self.iterations}")
