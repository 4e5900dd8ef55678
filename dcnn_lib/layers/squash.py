"""The squashing non-linearity of capsule networks (Sabour, Frosst & Hinton, NIPS 2017, eq. 1).

A capsule's output is a vector whose *length* is the probability that the entity it stands for
is present and whose *orientation* describes the entity's pose. ``squash`` keeps the
orientation of the capsule's total input ``s`` and maps its length into [0, 1)::

    v = ‖s‖² / (1 + ‖s‖²) · s / ‖s‖

so short vectors shrink to almost zero (‖v‖ ≈ ‖s‖² for small ‖s‖) and long ones approach,
but never reach, unit length.
"""
from __future__ import annotations

import torch


def squash(s: torch.Tensor, dim: int = -1, eps: float = 1e-12) -> torch.Tensor:
    """``v = ‖s‖²/(1 + ‖s‖²) · s/‖s‖ = s · ‖s‖ / (1 + ‖s‖²)`` along ``dim``; any shape.

    Computed in the second form, which never divides by ‖s‖; ``eps`` under the square root
    keeps the gradient at the zero vector finite (``squash(0) = 0``)."""
    sq = (s * s).sum(dim, keepdim=True)                       # ‖s‖²
    return s * torch.sqrt(sq + eps) / (1.0 + sq)
