"""FractalNet's join: the element-wise mean of the columns that meet, with local drop-path.

Larsson, Maire & Shakhnarovich, "FractalNet: Ultra-Deep Neural Networks without Residuals",
ICLR 2017, §2: where columns of a fractal block meet, "a join layer ... combines ... by the
element-wise mean" — not a sum (the scale stays that of one column, however many meet) and
not a concatenation (the width stays). §3.1, **drop-path**: "a join layer drops each input
with fixed probability, but we make sure at least one survives" (*local* drop-path); the
mean is then taken over the survivors only, so the output keeps its scale. The authors' Caffe
layer (``gustavla/fractalnet``, ``FractalJoin``) draws one mask per mini-batch and one per
join; so does :class:`FractalJoin`. At test time every input takes part.

*Global* drop-path (a single column for the whole network) is decided by the network, not by
a join: see :class:`~dcnn_lib.layers.FractalBlock` and ``FractalNet``.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn

from ..errors import DcnnValueError


class FractalJoin(nn.Module):
    """Mean of the surviving inputs; in training each input is dropped with ``drop_prob``.

    Args:
        drop_prob: local drop-path probability of each input (the paper: 0.15).

    ``forward(inputs, keep=None)``: ``inputs`` are tensors of one shape; ``keep`` (a sequence
    of booleans, one per input) fixes which survive (default: all at test time, a fresh
    :meth:`sample` in training). Shapes: ``n × (N, C, H, W) -> (N, C, H, W)``. No parameters.
    """

    def __init__(self, drop_prob: float = 0.15) -> None:
        super().__init__()
        if not 0 <= drop_prob < 1:
            raise DcnnValueError(f"FractalJoin: drop_prob must lie in [0, 1), got {drop_prob}")
        self.drop_prob = float(drop_prob)

    def sample(self, n: int) -> list[bool]:
        """One local drop-path draw for ``n`` inputs: each survives with 1 − ``drop_prob``; if
        none does, one chosen at random is kept."""
        keep = (torch.rand(n) >= self.drop_prob).tolist()
        if not any(keep):
            keep[int(torch.randint(n, ()))] = True
        return keep

    def forward(self, inputs: Sequence[torch.Tensor], keep: Sequence[bool] | None = None) -> torch.Tensor:
        if not inputs:
            raise DcnnValueError("FractalJoin: needs at least one input")
        shapes = {tuple(t.shape) for t in inputs}
        if len(shapes) > 1:
            raise DcnnValueError(f"FractalJoin: all inputs must have one shape, got {sorted(shapes)}")
        if keep is None:
            keep = self.sample(len(inputs)) if self.training and self.drop_prob > 0 else [True] * len(inputs)
        if len(keep) != len(inputs) or not any(keep):
            raise DcnnValueError(f"FractalJoin: keep must name {len(inputs)} flags with at least one True, got {list(keep)}")
        kept = [t for t, k in zip(inputs, keep) if k]
        return kept[0] if len(kept) == 1 else torch.stack(kept).mean(0)

    def extra_repr(self) -> str:
        return f"mean, local drop-path {self.drop_prob:g}"
