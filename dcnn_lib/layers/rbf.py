"""LeNet-5's output layer: Euclidean radial basis function units with fixed centres.

"Each output RBF unit computes the Euclidean distance between its input vector and its
parameter vector" (LeCun et al. 1998, eq. 7): ``y_i = sum_j (x_j - w_ij)^2``. The parameter
vectors were "chosen by hand and kept fixed": ±1 pixels of 7×12 stylised drawings of the
characters. The paper's drawings are only printed as a small figure; :data:`DIGIT_BITMAPS`
are stylised 7×12 digits drawn for dcnn_lib in the same spirit (they are not the paper's exact
bitmaps). Class ``i`` uses the drawing of digit ``i``; with more than 10 classes the extra
centres are seeded random ±1 codes.
"""
from __future__ import annotations

import torch
import torch.nn as nn

DIGIT_BITMAPS = {
    0: [".#####.", "##...##", "##...##", "##..###", "##.#.##", "###..##",
        "##...##", "##...##", "##...##", ".#####.", ".......", "......."],
    1: ["...##..", "..###..", ".####..", "...##..", "...##..", "...##..",
        "...##..", "...##..", "...##..", ".######", ".......", "......."],
    2: [".#####.", "##...##", ".....##", ".....##", "....##.", "...##..",
        "..##...", ".##....", "##.....", "#######", ".......", "......."],
    3: [".#####.", "##...##", ".....##", ".....##", "..####.", ".....##",
        ".....##", ".....##", "##...##", ".#####.", ".......", "......."],
    4: ["....##.", "...###.", "..####.", ".##.##.", "##..##.", "#######",
        "....##.", "....##.", "....##.", "....##.", ".......", "......."],
    5: ["#######", "##.....", "##.....", "######.", ".....##", ".....##",
        ".....##", ".....##", "##...##", ".#####.", ".......", "......."],
    6: ["..####.", ".##....", "##.....", "##.....", "######.", "##...##",
        "##...##", "##...##", "##...##", ".#####.", ".......", "......."],
    7: ["#######", ".....##", "....##.", "....##.", "...##..", "...##..",
        "..##...", "..##...", "..##...", "..##...", ".......", "......."],
    8: [".#####.", "##...##", "##...##", "##...##", ".#####.", "##...##",
        "##...##", "##...##", "##...##", ".#####.", ".......", "......."],
    9: [".#####.", "##...##", "##...##", "##...##", ".######", ".....##",
        ".....##", ".....##", "....##.", ".####..", ".......", "......."],
}


def rbf_centres(num_classes: int, features: int = 84, seed: int = 0) -> torch.Tensor:
    """``(num_classes, features)`` ±1 centres: the digit drawings first (when ``features == 84``),
    then seeded random codes."""
    rows = []
    if features == 84:
        for i in range(min(num_classes, 10)):
            rows.append([1.0 if ch == "#" else -1.0 for line in DIGIT_BITMAPS[i] for ch in line])
    centres = torch.tensor(rows).reshape(len(rows), features) if rows else torch.empty(0, features)
    extra = num_classes - len(rows)
    if extra > 0:
        g = torch.Generator().manual_seed(seed)
        codes = torch.randint(0, 2, (extra, features), generator=g).float() * 2 - 1
        centres = torch.cat([centres, codes])
    return centres


class EuclideanRBF(nn.Module):
    """Squared Euclidean distance to fixed centres (a buffer: not trained, not counted as params).

    Shapes: ``(N, in_features) -> (N, num_classes)``. The paper's output is the distance
    ``y_i`` (small = this class); with ``as_logits=True`` (the default) the module returns
    ``-y_i``, so the largest value is the prediction and ``cross_entropy`` applies.
    """

    def __init__(self, in_features: int, num_classes: int, as_logits: bool = True) -> None:
        super().__init__()
        self.in_features, self.num_classes, self.as_logits = in_features, num_classes, as_logits
        self.register_buffer("centres", rbf_centres(num_classes, in_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"EuclideanRBF expects (N, {self.in_features}), got {tuple(x.shape)}")
        d = (x[:, None, :] - self.centres.to(x.dtype)).pow(2).sum(-1)  # N x num_classes
        return -d if self.as_logits else d

    def macs(self, output: torch.Tensor) -> int:
        """One subtract-square-accumulate per (input, unit) pair, per image: the layer's
        ``in_features × num_classes`` connections (elementwise ops are invisible to the flop
        counter, so :func:`dcnn_lib.analysis.summary` asks the layer)."""
        return self.in_features * self.num_classes

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.num_classes}, as_logits={self.as_logits}"
