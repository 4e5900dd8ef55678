"""The fractal block: FractalNet's expansion rule, laid out as columns.

Larsson, Maire & Shakhnarovich, ICLR 2017, §2. The base case is one convolution, and each
expansion puts two copies of the previous fractal in series *beside* one new convolution,
joined by an element-wise mean (:class:`~dcnn_lib.layers.FractalJoin`)::

    f₁(z) = conv(z)
    f_{C+1}(z) = join( (f_C ∘ f_C)(z),  conv(z) )

Unrolled, f_C is C **columns** side by side: column c has 2^(c−1) convolutions (column 1 the
shallowest, a single convolution; column C the deepest, 2^(C−1)), 2^C − 1 convolutions in all,
and C of them (the first of each column) read the block's input. Where several columns end a
copy of a smaller fractal at the same point, their joins merge into one join of all of them
(the last join of f₃ averages three inputs, not two): the paper's Figure 1 and the authors'
generator (``gustavla/fractalnet``, ``fractalnet.py``) do the same. For C = 3::

    column 1:  ──────────────────────── conv ─┐
    column 2:  ─── conv ────────┐─ conv ──────┤
    column 3:  ─── conv ─ conv ─┴─ conv ─ conv┴─ join ─► (pool)
                               join(2,3)      join(1,2,3)

There are no residual connections: every path from input to output goes through at least
one convolution and nonlinearity. Each "conv" is a 3×3 convolution → [dropout] → batch norm
→ ReLU, the order of the authors' Caffe code (the paper's dropout is per block: 0, 10, 20,
30, 40 % in blocks 1–5).

**Pooling.** The network puts a 2×2 max pooling after every block; the paper (§4, "for
convenience") and the authors' code pool each column *before* the block's last join, which
is what ``pool=True`` does here.

**Drop-path.** ``forward(x, column=None)`` runs every column and joins them (with local
drop-path in training); ``forward(x, column=c)`` runs column c alone — *global* drop-path,
and the way to evaluate one column of a trained network (the paper's "deepest column alone").
"""
from __future__ import annotations

import torch
import torch.nn as nn

from ..errors import DcnnValueError
from .fractal_join import FractalJoin


class FractalConv(nn.Sequential):
    """``3×3 conv (no bias) → [dropout] → BN → ReLU``: the fractal's base case f₁."""

    def __init__(self, in_channels: int, out_channels: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.add_module("conv", nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False))
        if dropout > 0:
            self.add_module("dropout", nn.Dropout(dropout))
        self.add_module("bn", nn.BatchNorm2d(out_channels))
        self.add_module("relu", nn.ReLU(inplace=True))


class FractalBlock(nn.Module):
    """f_C: C columns of 2^(c−1) convolutions, joined by element-wise means.

    Args:
        in_channels, out_channels: channels of the input and of every convolution's output.
        num_columns: C (the 20-layer CIFAR network: 3).
        dropout: dropout rate of the block's convolutions.
        drop_path: local drop-path probability of each join input (the paper: 0.15).
        pool: max-pool (2×2) each column before the last join.

    Children: ``columns`` (``columns[c - 1]`` is column c, an ``nn.Sequential`` of
    :class:`FractalConv`), ``join`` (one :class:`FractalJoin`, used at every join), ``pool``.

    Shapes: ``(N, in_channels, H, W) -> (N, out_channels, H', W')``, H' = H // 2 with ``pool``.
    """

    def __init__(self, in_channels: int, out_channels: int, num_columns: int = 3, dropout: float = 0.0,
                 drop_path: float = 0.15, pool: bool = True) -> None:
        super().__init__()
        if num_columns < 1:
            raise DcnnValueError(f"FractalBlock: num_columns must be >= 1, got {num_columns}")
        self.num_columns = num_columns
        self.columns = nn.ModuleList(
            nn.Sequential(*(FractalConv(in_channels if j == 0 else out_channels, out_channels, dropout)
                            for j in range(2 ** c)))
            for c in range(num_columns))
        self.join = FractalJoin(drop_path)
        self.pool = nn.MaxPool2d(2) if pool else nn.Identity()
        self.in_channels, self.out_channels = in_channels, out_channels

    @property
    def depth(self) -> int:
        """Convolutions on the deepest path: 2^(C−1)."""
        return 2 ** (self.num_columns - 1)

    def joins(self) -> list[list[int]]:
        """The columns (1-based) that meet after each step of the deepest column, in order:
        ``[[2, 3], [1, 2, 3]]`` for C = 3 (a step where only the deepest column advances has
        no join and is left out)."""
        out = []
        for step in range(1, self.depth + 1):
            meet = [c + 1 for c in range(self.num_columns) if step % 2 ** (self.num_columns - 1 - c) == 0]
            if len(meet) > 1:
                out.append(meet)
        return out

    def forward(self, x: torch.Tensor, column: int | None = None) -> torch.Tensor:
        if column is not None:                           # global drop-path: one column alone
            if not 1 <= column <= self.num_columns:
                raise DcnnValueError(f"FractalBlock: column must lie in 1..{self.num_columns}, got {column}")
            return self.pool(self.columns[column - 1](x))
        C = self.num_columns
        states = [x] * C                                 # the current map of each column
        for step in range(1, self.depth + 1):
            meet = [c for c in range(C) if step % 2 ** (C - 1 - c) == 0]   # columns that advance
            for c in meet:
                states[c] = self.columns[c][step // 2 ** (C - 1 - c) - 1](states[c])
            if step == self.depth:
                states = [self.pool(s) for s in states]
            if len(meet) > 1:
                joined = self.join([states[c] for c in meet])
                for c in meet:
                    states[c] = joined
        return states[-1]

    def extra_repr(self) -> str:
        return f"C={self.num_columns}, {2 ** self.num_columns - 1} convolutions, deepest path {self.depth}"
