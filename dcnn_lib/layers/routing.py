"""Routing by agreement (Sabour, Frosst & Hinton, NIPS 2017, Procedure 1).

Every capsule ``i`` of a layer predicts the output of every capsule ``j`` of the layer above,
``û_j|i = W_ij u_i``. Routing decides how much of each prediction reaches each parent: the
coupling coefficients ``c_ij`` of capsule ``i`` are a softmax of logits ``b_ij`` over the
parents ``j`` (they sum to 1), and a logit grows when its prediction agrees with the parent's
output::

    b_ij ← 0
    repeat r times:
        c_i  = softmax_j(b_i)                      coupling coefficients, Σ_j c_ij = 1
        s_j  = Σ_i c_ij û_j|i                       total input of parent j
        v_j  = squash(s_j)                          output of parent j
        b_ij ← b_ij + û_j|i · v_j                   agreement (skipped after the last v)

With ``r = 1`` every child sends its prediction to every parent with weight ``1/J``; the
paper trains with ``r = 3``. The gradient flows through every iteration (the paper says
nothing about stopping it; some implementations do).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .squash import squash


@dataclass
class Routing:
    """What one call of :func:`dynamic_routing` computed.

    ``outputs``: ``v``, ``(N, J, D)``; ``coupling``: the last ``c``, ``(N, I, J)``;
    ``history``: ``c`` of every iteration (``record=True``), each ``(N, I, J)``;
    ``output_history``: ``v`` of every iteration (``record=True``), each ``(N, J, D)``.
    """

    outputs: torch.Tensor
    coupling: torch.Tensor
    history: list[torch.Tensor] = field(default_factory=list)
    output_history: list[torch.Tensor] = field(default_factory=list)


def dynamic_routing(u_hat: torch.Tensor, iterations: int = 3, record: bool = False) -> Routing:
    """Route predictions ``u_hat`` ``(N, I, J, D)`` (child ``i``'s prediction of parent ``j``)
    to the ``J`` parents; returns their outputs ``(N, J, D)`` and the coupling coefficients."""
    if u_hat.ndim != 4:
        raise ValueError(f"dynamic_routing: u_hat must be (N, children, parents, dim), got shape {tuple(u_hat.shape)}")
    if not isinstance(iterations, int) or iterations < 1:
        raise ValueError(f"dynamic_routing: iterations must be an int >= 1, got {iterations!r}")
    u = u_hat.transpose(1, 2)                                       # N x J x I x D: one matrix per parent
    if not u.is_contiguous():
        u = u.contiguous()
    b = u.new_zeros(u.shape[:3])                                    # N x J x I logits
    history, output_history = [], []
    for r in range(iterations):
        c = torch.softmax(b, dim=1)                                 # over the parents
        if record:
            history.append(c.detach().transpose(1, 2))
        s = torch.matmul(c.unsqueeze(2), u).squeeze(2)              # N x J x D: Σ_i c_ij û_j|i
        v = squash(s)
        if record:
            output_history.append(v.detach())
        if r < iterations - 1:
            b = b + torch.matmul(u, v.unsqueeze(-1)).squeeze(-1)    # agreement û_j|i · v_j
    return Routing(v, c.transpose(1, 2), history, output_history)
