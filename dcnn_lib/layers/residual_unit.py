"""The five residual units of He, Zhang, Ren & Sun, "Identity Mappings in Deep Residual
Networks", ECCV 2016, Fig. 4 — the lecture's "Batch Norm after add" / "No ReLU" slide.

Every unit computes y = h(x) + F(x), x' = f(y); they differ only in where batch norm (BN) and
ReLU sit around the convolutions of F and after the addition:

====  =========================  ==========================================  ===========
      unit                       F (basic body: two 3×3 convolutions)         f (after +)
====  =========================  ==========================================  ===========
(a)   original                   conv-BN-ReLU-conv-BN                        ReLU
(b)   BN after addition          conv-BN-ReLU-conv                           BN-ReLU
(c)   ReLU before addition       conv-BN-ReLU-conv-BN-ReLU                   —
(d)   ReLU-only pre-activation   ReLU-conv-BN-ReLU-conv-BN                   —
(e)   full pre-activation        BN-ReLU-conv-BN-ReLU-conv                   —
====  =========================  ==========================================  ===========

(b) puts BN on the shortcut path and hurts the most; (c) makes F ≥ 0 so the signal can only
grow; (d) and (e) make f the identity, so x_L = x_l + Σ F: information and gradients pass
from any unit to any other unchanged. (e) is the pre-activation ResNet. ResNet-110 on CIFAR-10
(Table 2 of the paper): 6.61, 8.17, 7.84, 6.71, 6.37 % test error.

:data:`VARIANTS` holds the table as data; :class:`ResidualUnit` builds any of them around a
basic (3×3, 3×3) or bottleneck (1×1, 3×3, 1×1) body. Its F is an ``nn.Sequential`` whose
printout reads like the figure (``print(unit.branch)``).

Pre-activation units (d, e) start F with an activation. Where the paper's networks let the
shortcut see that activation too — the first unit after the stem ("we adopt the first
activation right after conv1 and before splitting into two paths", §4.1) and, in the
authors' code, units with a projection shortcut — ``preact="none"`` (the input is already
activated) or ``preact="shared"`` (activate once, feed both paths) says so.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import NamedTuple

import torch
import torch.nn as nn

from .residual import ResidualBlock
from .shortcut import make_shortcut


class Variant(NamedTuple):
    """The ops around each convolution of F except the last, around the last, and after +."""

    label: str
    each: tuple[str, ...]
    last: tuple[str, ...]
    after_add: tuple[str, ...]

    @property
    def pre_activation(self) -> tuple[str, ...]:
        """The ops F starts with before its first convolution (empty for a, b, c)."""
        return self.each[: self.each.index("conv")]


VARIANTS: dict[str, Variant] = {
    "original": Variant("(a) original", ("conv", "bn", "relu"), ("conv", "bn"), ("relu",)),
    "bn_after_add": Variant("(b) BN after addition", ("conv", "bn", "relu"), ("conv",), ("bn", "relu")),
    "relu_before_add": Variant("(c) ReLU before addition", ("conv", "bn", "relu"), ("conv", "bn", "relu"), ()),
    "relu_only_preact": Variant("(d) ReLU-only pre-activation", ("relu", "conv", "bn"), ("relu", "conv", "bn"), ()),
    "full_preact": Variant("(e) full pre-activation", ("bn", "relu", "conv"), ("bn", "relu", "conv"), ()),
}
PREACT_MODES = ("own", "shared", "none")


def _ops(tokens: tuple[str, ...], channels: int, suffix: str) -> list[tuple[str, nn.Module]]:
    """BN / ReLU modules for ``tokens`` (no convolutions) on ``channels`` maps."""
    make = {"bn": lambda: nn.BatchNorm2d(channels), "relu": lambda: nn.ReLU()}
    return [(f"{t}{suffix}", make[t]()) for t in tokens]


class ResidualUnit(ResidualBlock):
    """A residual unit of any of the five :data:`VARIANTS`.

    Args:
        in_channels, out_channels: channels of x and of the unit's output.
        stride: 2 where a stage halves the resolution.
        variant: a key of :data:`VARIANTS`.
        body: ``"basic"`` (3×3, 3×3) or ``"bottleneck"`` (1×1 to ``out_channels /
            expansion``, 3×3, 1×1 back to ``out_channels``).
        expansion: bottleneck ratio (4).
        stride_in_1x1: bottleneck only: the stride on the first 1×1 (2015 paper, the
            authors' pre-activation code) instead of the 3×3 (fb.resnet.torch).
        shortcut: ``"A"`` zero padding, ``"B"`` projection where the shape changes, ``"C"``
            always, ``"none"`` (plain). Projections are a bare 1×1 convolution in the
            pre-activation variants (their input is already normalised), 1×1 + BN otherwise.
        preact: pre-activation units only: ``"own"`` (F activates its input, the shortcut
            sees the raw x), ``"shared"`` (activated once, both paths see it) or ``"none"``
            (the input is already activated, e.g. right after the stem).

    Shapes: ``(N, in_channels, H, W) -> (N, out_channels, H/stride, W/stride)``.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, variant: str = "original",
                 body: str = "basic", expansion: int = 4, stride_in_1x1: bool = False,
                 shortcut: str = "A", preact: str = "own") -> None:
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"ResidualUnit: variant must be one of {tuple(VARIANTS)}, got {variant!r}")
        if body not in ("basic", "bottleneck"):
            raise ValueError(f"ResidualUnit: body must be 'basic' or 'bottleneck', got {body!r}")
        if preact not in PREACT_MODES:
            raise ValueError(f"ResidualUnit: preact must be one of {PREACT_MODES}, got {preact!r}")
        v = VARIANTS[variant]
        self.variant, self.body = variant, body
        if body == "basic":
            convs = [(in_channels, out_channels, 3, stride), (out_channels, out_channels, 3, 1)]
        else:
            width = out_channels // expansion
            s1, s3 = (stride, 1) if stride_in_1x1 else (1, stride)
            convs = [(in_channels, width, 1, s1), (width, width, 3, s3), (width, out_channels, 1, 1)]

        # F as one Sequential: conv1, bn1, relu1, conv2, ... in the variant's order.
        layers: list[tuple[str, nn.Module]] = []
        for i, (cin, cout, k, s) in enumerate(convs, start=1):
            tokens = v.last if i == len(convs) else v.each
            at = tokens.index("conv")
            layers += _ops(tokens[:at], cin, str(i))
            layers.append((f"conv{i}", nn.Conv2d(cin, cout, k, stride=s, padding=k // 2, bias=False)))
            layers += _ops(tokens[at + 1:], cout, str(i))
        n_pre = len(v.pre_activation)
        shared = layers[:n_pre] if preact == "shared" else []
        if preact != "own":
            layers = layers[n_pre:]
        self.preact = nn.Sequential(OrderedDict(shared)) if shared else None
        self.branch = nn.Sequential(OrderedDict(layers))
        self.post = nn.Sequential(OrderedDict(_ops(v.after_add, out_channels, ""))) if v.after_add else None
        self.downsample = make_shortcut(shortcut, in_channels, out_channels, stride,
                                        norm=not v.pre_activation)
        self.plain = shortcut == "none"

    def _activated(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.preact is None else self.preact(x)

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        """F(x) (after the shared pre-activation, if any)."""
        return self.branch(self._activated(x))

    def shortcut(self, x: torch.Tensor) -> torch.Tensor | None:
        return super().shortcut(self._activated(x))

    def merge(self, h: torch.Tensor | None, f: torch.Tensor) -> torch.Tensor:
        """f(h + F): identity, ReLU (a) or BN-ReLU (b)."""
        y = f if h is None else f + h
        return y if self.post is None else self.post(y)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._activated(x)  # once: in training mode BN must see each batch once
        return self.merge(super().shortcut(x), self.branch(x))
