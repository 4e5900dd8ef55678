"""LeCun's squashing function ``f(a) = A tanh(S a)`` with ``A = 1.7159``, ``S = 2/3``.

Chosen (LeCun et al. 1998, Appendix A) so that ``f(±1) = ±1``, the second derivative is
largest at ``a = ±1`` and the gain stays close to 1 over the normal operating range.
"""
from __future__ import annotations

import torch
import torch.nn as nn


class ScaledTanh(nn.Module):
    """``A * tanh(S * x)``, elementwise; any shape in, the same shape out."""

    def __init__(self, amplitude: float = 1.7159, slope: float = 2.0 / 3.0) -> None:
        super().__init__()
        self.amplitude, self.slope = amplitude, slope

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.amplitude * torch.tanh(self.slope * x)

    def extra_repr(self) -> str:
        return f"amplitude={self.amplitude}, slope={self.slope:.4f}"
