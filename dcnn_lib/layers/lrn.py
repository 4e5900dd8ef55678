"""Local response normalisation (LRN): AlexNet's "brightness normalisation" (Krizhevsky,
Sutskever & Hinton, NIPS 2012, §3.3), in its two forms.

A unit's activity is divided by a power of the summed squares of its neighbours, a form of
lateral inhibition: a strong response dampens the weaker ones around it. The neighbourhood
is either

- **across** maps (the paper's form, the lecture's "second approach"): the same position
  ``(x, y)`` in the ``n`` adjacent kernel maps;
- **within** a map (Caffe's ``WITHIN_CHANNEL``, the lecture's "first approach"): an ``n × n``
  spatial window of the same map.

Everything here uses the **paper's parameterisation**: ``alpha`` multiplies the plain sum of
squares. Frameworks divide it by the size of the neighbourhood instead, so the same numbers
mean different things in each:

==============================================  ==================================================
``LocalResponseNorm(n, α, β, k, "across")``     ``torch.nn.LocalResponseNorm(n, alpha=α·n, beta=β, k=k)``;
                                                Caffe ``LRN`` (``ACROSS_CHANNELS``) ``local_size=n,
                                                alpha=α·n, beta=β, k=k``
``LocalResponseNorm(n, α, β, 1, "within")``     Caffe ``LRN`` (``WITHIN_CHANNEL``) ``local_size=n,
                                                alpha=α·n², beta=β`` (Caffe fixes ``k = 1`` there)
==============================================  ==================================================

So AlexNet's ``k=2, n=5, α=1e-4, β=0.75`` is ``torch.nn.LocalResponseNorm(5, alpha=5e-4,
beta=0.75, k=2)``, and Caffe's reference AlexNet (``alpha: 0.0001``, ``k`` left at 1) normalises
five times more weakly than the paper's formula read literally.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

MODES = ("across", "within")


def _channel_window_sum(t: torch.Tensor, n: int) -> torch.Tensor:
    """``out[:, i] = t[:, i - n // 2] + ... + t[:, i + (n - 1) // 2]`` over the maps that exist.

    Centred for odd ``n``; for even ``n`` one more map before than after (PyTorch's
    convention). Shifted slices of a zero-padded copy: the spatial layout is untouched, so
    :func:`dcnn_lib.analysis.receptive_field` sees an elementwise operation.
    """
    c = t.shape[1]
    padded = F.pad(t, (0, 0, 0, 0, n // 2, (n - 1) // 2))
    out = padded[:, :c]
    for shift in range(1, n):
        out = out + padded[:, shift:shift + c]
    return out


def _spatial_window_sum(t: torch.Tensor, n: int) -> torch.Tensor:
    """Sum over the ``n × n`` window of the same map (same offsets as above), zero padded."""
    lo, hi = n // 2, (n - 1) // 2
    return F.avg_pool2d(F.pad(t, (lo, hi, lo, hi)), n, stride=1) * (n * n)


class LocalResponseNorm(nn.Module):
    """Local response normalisation, paper parameterisation (no division of α by ``n``).

    ``mode="across"`` (AlexNet, §3.3)::

        b[i, x, y] = a[i, x, y] / (k + α · Σ_j a[j, x, y]²)^β,   j = i - ⌊n/2⌋ … i + ⌈n/2⌉ - 1

    over the maps ``j`` that exist (``0 ≤ j < C``): for odd ``n`` the paper's
    ``max(0, i - n/2) … min(N - 1, i + n/2)``.

    ``mode="within"`` (Caffe ``WITHIN_CHANNEL``)::

        b[i, x, y] = a[i, x, y] / (k + α · Σ_{u, v} a[i, u, v]²)^β

    over the ``n × n`` window of map ``i`` centred on ``(x, y)`` (same offsets as above in
    each direction), zero padded at the borders.

    Args:
        size: ``n``, the number of adjacent maps (``across``) or the window side (``within``).
        alpha, beta, k: the paper's α, β, k (AlexNet: ``k=2, n=5, α=1e-4, β=0.75``).
        mode: ``"across"`` or ``"within"``.

    Shapes: ``(N, C, H, W) -> (N, C, H, W)``. No parameters.
    See the module docstring for the mapping to ``torch.nn.LocalResponseNorm`` and Caffe.
    """

    def __init__(self, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0,
                 mode: str = "across") -> None:
        super().__init__()
        if not isinstance(size, int) or size < 1:
            raise ValueError(f"LocalResponseNorm: size must be a positive int, got {size!r}")
        if mode not in MODES:
            raise ValueError(f"LocalResponseNorm: mode must be one of {MODES}, got {mode!r}")
        if alpha < 0 or k < 0 or beta < 0:
            raise ValueError(f"LocalResponseNorm: alpha, beta and k must be >= 0, got "
                             f"alpha={alpha}, beta={beta}, k={k}")
        if k == 0 and beta > 0:
            raise ValueError("LocalResponseNorm: k = 0 divides by zero wherever the window is all zeros")
        self.size, self.alpha, self.beta, self.k, self.mode = size, float(alpha), float(beta), float(k), mode

    def denominator(self, x: torch.Tensor) -> torch.Tensor:
        """``(k + α Σ a²)^β``, the divisor of every unit, same shape as ``x``."""
        if x.ndim != 4:
            raise ValueError(f"LocalResponseNorm: expects a batch of maps (N, C, H, W), got shape {tuple(x.shape)}")
        sq = x * x
        s = _channel_window_sum(sq, self.size) if self.mode == "across" else _spatial_window_sum(sq, self.size)
        return (self.k + self.alpha * s).pow(self.beta)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x / self.denominator(x)

    def to_torch(self) -> nn.LocalResponseNorm:
        """The equal ``torch.nn.LocalResponseNorm`` (``mode="across"`` only): α becomes α·n."""
        if self.mode != "across":
            raise ValueError("LocalResponseNorm.to_torch: torch.nn.LocalResponseNorm normalises across maps only")
        return nn.LocalResponseNorm(self.size, alpha=self.alpha * self.size, beta=self.beta, k=self.k)

    @classmethod
    def from_torch(cls, module: nn.LocalResponseNorm) -> "LocalResponseNorm":
        """The paper-parameterised equivalent of a ``torch.nn.LocalResponseNorm`` (α ÷ n)."""
        return cls(module.size, alpha=module.alpha / module.size, beta=module.beta, k=module.k, mode="across")

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha:g}, beta={self.beta:g}, k={self.k:g}, mode={self.mode!r}"
