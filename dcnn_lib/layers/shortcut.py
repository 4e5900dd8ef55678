"""The shortcut ("skip") branch of a residual block: h(x) in y = h(x) + F(x).

He et al., "Deep Residual Learning for Image Recognition", CVPR 2016, §3.3 and §4.1, compare
three ways to make the shortcut match F(x) when a block changes the number of channels
(and halves the resolution):

- **(A)** identity with zero padding: subsample with stride 2, append zero channels. No
  parameters: "the shortcut still performs identity mapping, with extra zero entries padded
  for increasing dimensions". Used by the CIFAR networks of §4.2 (:class:`ZeroPadShortcut`).
- **(B)** projection where the shape changes, identity elsewhere: a strided 1×1 convolution
  (+ batch norm in the ImageNet models): :func:`projection_shortcut`. torchvision's choice.
- **(C)** projections everywhere (slightly better, but not worth its cost).

:func:`make_shortcut` returns the module for a block, or ``None`` where the identity will do.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

SHORTCUTS = ("A", "B", "C", "none")


class ZeroPadShortcut(nn.Module):
    """Option A: ``x[:, :, ::s, ::s]`` followed by ``out - in`` zero channels. No parameters.

    Shapes: ``(N, in_channels, H, W) -> (N, out_channels, ceil(H/s), ceil(W/s))``.
    The new channels are appended after the existing ones (the paper does not say where the
    zeros go; any fixed position is the same network).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 2) -> None:
        super().__init__()
        if out_channels < in_channels:
            raise ValueError(f"ZeroPadShortcut: out_channels ({out_channels}) < in_channels "
                             f"({in_channels}); option A can only add channels")
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride > 1:
            x = x[:, :, ::self.stride, ::self.stride]
        extra = self.out_channels - self.in_channels
        return F.pad(x, (0, 0, 0, 0, 0, extra)) if extra else x

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, stride={self.stride}"


def projection_shortcut(in_channels: int, out_channels: int, stride: int = 1,
                        norm: bool = True) -> nn.Sequential:
    """Option B/C: 1×1 convolution with ``stride`` (no bias), then batch norm if ``norm``.

    As ``nn.Sequential`` with children ``0`` (conv) and ``1`` (BN): torchvision's
    ``downsample`` layout, so its state dicts load.
    """
    layers: list[nn.Module] = [nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)]
    if norm:
        layers.append(nn.BatchNorm2d(out_channels))
    return nn.Sequential(*layers)


def make_shortcut(kind: str, in_channels: int, out_channels: int, stride: int = 1,
                  norm: bool = True) -> nn.Module | None:
    """The shortcut module of a block whose input is ``in_channels`` and output
    ``out_channels`` at ``stride``; ``None`` means identity (or, for ``"none"``, no shortcut:
    the caller decides which, see ``BasicBlock``).

    ``kind``: ``"A"`` zero padding, ``"B"`` projection where the shape changes, ``"C"``
    projection in every block, ``"none"`` (plain network).
    """
    if kind not in SHORTCUTS:
        raise ValueError(f"shortcut must be one of {SHORTCUTS}, got {kind!r}")
    same = in_channels == out_channels and stride == 1
    if kind == "none" or (same and kind in ("A", "B")):
        return None
    if kind == "A":
        return ZeroPadShortcut(in_channels, out_channels, stride)
    return projection_shortcut(in_channels, out_channels, stride, norm)
