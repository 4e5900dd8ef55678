"""The capsule network's loss: margin loss on the capsule lengths plus a small reconstruction loss.

Sabour, Frosst & Hinton (NIPS 2017), eq. 4, for every class capsule ``k``::

    L_k = T_k · max(0, m⁺ − ‖v_k‖)² + λ (1 − T_k) · max(0, ‖v_k‖ − m⁻)²

with ``T_k = 1`` for the true class, m⁺ = 0.9, m⁻ = 0.1, λ = 0.5 (down-weighting absent
classes "stops the initial learning from shrinking the lengths of the activity vectors of all
the digit capsules"); the loss of an image is ``Σ_k L_k``. §4.1: the reconstruction's sum of
squared errors, scaled by 0.0005 "so that it does not dominate the margin loss", is added.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F


def margin_loss(lengths: torch.Tensor, targets: torch.Tensor, m_pos: float = 0.9, m_neg: float = 0.1,
                lam: float = 0.5) -> torch.Tensor:
    """``Σ_k L_k`` per sample, ``(N,)``, from capsule lengths ``(N, K)`` and class indices ``(N,)``."""
    if lengths.ndim != 2 or targets.shape != lengths.shape[:1]:
        raise ValueError(f"margin_loss: lengths must be (N, classes) and targets (N,), got {tuple(lengths.shape)} "
                         f"and {tuple(targets.shape)}")
    t = F.one_hot(targets, lengths.shape[1]).to(lengths.dtype)
    present = t * F.relu(m_pos - lengths) ** 2
    absent = lam * (1 - t) * F.relu(lengths - m_neg) ** 2
    return (present + absent).sum(1)


class CapsuleLoss(nn.Module):
    """Mean over the batch of ``margin_loss + weight · ‖reconstruction − image‖²``.

    Takes the capsule network's whole output (``takes_raw_output``, so ``dcnn_lib``'s ``fit``
    and ``evaluate`` pass it as is): a dict with ``"out"`` (lengths, ``(N, K)``) and, for the
    reconstruction term, ``"reconstruction"`` ``(N, P)`` and ``"input"`` (the image, any shape
    with ``P`` elements per sample). ``weight=0`` or no reconstruction: the margin loss alone.
    """

    takes_raw_output = True

    def __init__(self, m_pos: float = 0.9, m_neg: float = 0.1, lam: float = 0.5,
                 reconstruction_weight: float = 0.0005) -> None:
        super().__init__()
        self.m_pos, self.m_neg, self.lam, self.weight = m_pos, m_neg, lam, reconstruction_weight

    def forward(self, output: dict[str, Any], targets: torch.Tensor) -> torch.Tensor:
        loss = margin_loss(output["out"], targets, self.m_pos, self.m_neg, self.lam).mean()
        recon = output.get("reconstruction")
        if self.weight and recon is not None:
            image = output["input"].reshape(recon.shape)
            loss = loss + self.weight * ((recon - image) ** 2).sum(1).mean()
        return loss

    def extra_repr(self) -> str:
        return f"m_pos={self.m_pos}, m_neg={self.m_neg}, lam={self.lam}, reconstruction_weight={self.weight}"
