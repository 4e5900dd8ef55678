"""PolyInception: a residual unit written as a polynomial of its residual block.

Zhang, Li, Loy & Lin, "PolyNet: A Pursuit of Structural Diversity in Very Deep Networks",
CVPR 2017, §3. A residual unit computes (I + F)·x, where I is the identity and F an
Inception-residual block. Read as a polynomial of the operator F, it is of first order; the
paper tries higher-order and multi-block "polynomials" of blocks F, G, H:

=========  ====================  ===============================================
module     operator              how
=========  ====================  ===============================================
poly-2     I + F + F²            F applied twice, in series, **the same weights**
mpoly-2    I + F + GF            two different blocks in series
2-way      I + F + G             two different blocks side by side
poly-3     I + F + F² + F³       F three times, same weights
mpoly-3    I + F + GF + HGF      three different blocks in series
3-way      I + F + G + H         three blocks side by side
=========  ====================  ===============================================

Every term is added to the identity path (scaled, as in Inception-ResNet): poly-2 computes
x + s·F(x) + s·F(σ(F(x))), so a second-order term reuses the first-order one — the cost of
F² is one more pass of F, and poly-2 has the *parameters* of one residual unit and the
*compute* of two. σ is the ReLU that ends every Inception-ResNet unit; as in the released
model, the next block in series reads σ of the previous block's output, and the sum ends
with a ReLU.

Weight sharing in the released Very Deep PolyNet (``CUHK-MMLAB/polynet``, ported by Cadene
and ``osmr/imgclsmob``): in its poly-3 modules the **convolutions of the Inception
branches** are shared by the three applications, while each application keeps its own batch
norms and its own 1×1 projection (``share="branches"`` here). ``share="all"`` is the paper's
algebra: one module F applied k times.

:class:`PolyInception` takes a factory of blocks (any module ``(N, C, H, W) -> (N, C, H, W)``,
the residual branch *without* the addition); :class:`InceptionResidual` is PolyNet's block:
Inception branches, concatenation, 1×1 projection with batch norm and no activation.
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

import torch
import torch.nn as nn

from ..errors import DcnnValueError
from .conv_bn_act import ConvBNAct
from .inception import Inception, Spec

# kind -> (order, in series?, one block applied several times?)
POLY_KINDS: dict[str, tuple[int, bool, bool]] = {
    "residual": (1, False, False),    # I + F: an ordinary residual unit
    "poly-2": (2, True, True),
    "mpoly-2": (2, True, False),
    "2-way": (2, False, False),
    "poly-3": (3, True, True),
    "mpoly-3": (3, True, False),
    "3-way": (3, False, False),
}
FORMULAS = {"residual": "I + F", "poly-2": "I + F + F²", "mpoly-2": "I + F + GF", "2-way": "I + F + G",
            "poly-3": "I + F + F² + F³", "mpoly-3": "I + F + GF + HGF", "3-way": "I + F + G + H"}
SHARES = ("all", "branches")


class InceptionResidual(nn.Module):
    """PolyNet's F: Inception ``branches`` → concatenation → ``project`` (1×1 conv + BN, linear).

    Args:
        channels: input = output channels.
        branches: the Inception branches (see :class:`~dcnn_lib.layers.Inception`).
        eps: batch-norm epsilon.

    Shapes: ``(N, channels, H, W) -> (N, channels, H, W)``; no addition, no final activation.
    """

    def __init__(self, channels: int, branches: Mapping[str, Sequence[Spec]], eps: float = 1e-3) -> None:
        super().__init__()
        self.branches = Inception(channels, branches, eps=eps)
        self.project = ConvBNAct(self.branches.out_channels, channels, 1, eps=eps, act=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(self.branches(x))


def tie_branch_convolutions(blocks: Sequence[nn.Module]) -> None:
    """Make every convolution in ``blocks[i].branches`` (i ≥ 1) use ``blocks[0]``'s weight
    tensor (the released PolyNet's sharing); batch norms and projections stay separate."""
    first = dict(blocks[0].branches.named_modules())
    for block in blocks[1:]:
        for name, m in block.branches.named_modules():
            if isinstance(m, nn.Conv2d):
                m.weight = first[name].weight
                if m.bias is not None:
                    m.bias = first[name].bias


class PolyInception(nn.Module):
    """``ReLU(x + scale · Σ terms)``, the terms of one row of the PolyInception table.

    Args:
        make_block: returns a new block F (a module that keeps the shape).
        kind: one of :data:`POLY_KINDS` (``"poly-2"``, ``"mpoly-2"``, ``"2-way"``, ``"poly-3"``,
            ``"mpoly-3"``, ``"3-way"``, or ``"residual"``: I + F).
        scale: residual scale s of every term.
        share: for poly-k: ``"all"`` (one block applied k times) or ``"branches"`` (k blocks
            whose Inception branch convolutions are one tensor: the released PolyNet; the
            blocks need a ``branches`` child).

    Children: ``blocks`` (one for poly-k with ``share="all"``, otherwise one per term).
    Shapes: ``(N, C, H, W) -> (N, C, H, W)``.
    """

    def __init__(self, make_block: Callable[[], nn.Module], kind: str = "poly-2", scale: float = 1.0,
                 share: str = "all") -> None:
        super().__init__()
        if kind not in POLY_KINDS:
            raise DcnnValueError(f"PolyInception: kind must be one of {tuple(POLY_KINDS)}, got {kind!r}")
        if share not in SHARES:
            raise DcnnValueError(f"PolyInception: share must be one of {SHARES}, got {share!r}")
        self.kind, self.scale, self.share = kind, float(scale), share
        self.order, self.in_series, shared = POLY_KINDS[kind]
        n = 1 if shared and share == "all" else self.order
        self.blocks = nn.ModuleList(make_block() for _ in range(n))
        if shared and share == "branches" and n > 1:
            tie_branch_convolutions(self.blocks)
        self.relu = nn.ReLU()

    def block(self, i: int) -> nn.Module:
        """The block that computes the i-th term (0-based)."""
        return self.blocks[i if len(self.blocks) > 1 else 0]

    def terms(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The unscaled terms: [F(x), F(σF(x)), ...] in series, [F(x), G(x), ...] side by side."""
        out, h = [], x
        for i in range(self.order):
            y = self.block(i)(h if self.in_series else x)
            out.append(y)
            h = torch.relu(y)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        for t in self.terms(x):
            y = y + self.scale * t
        return self.relu(y)

    def extra_repr(self) -> str:
        return f"{self.kind}: {FORMULAS[self.kind]}, scale={self.scale:g}" + (
            f", shared {self.share}" if POLY_KINDS[self.kind][2] and self.order > 1 else "")
