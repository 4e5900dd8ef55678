"""The unit Inception networks are built from: convolution → batch norm → ReLU.

Every convolution in GoogLeNet, Inception v2/v3/v4 and Inception-ResNet is followed by a
ReLU; from Inception v2 on (Ioffe & Szegedy, 2015) a batch normalisation sits between the two
and the convolution loses its bias (the norm's shift replaces it). :class:`ConvBNAct` is that
unit with its parts switchable:

- ``norm=True`` (default): ``conv (no bias) → BatchNorm2d(eps) → ReLU``; the state-dict keys
  are ``conv.weight`` and ``bn.*``, those of torchvision's and timm's ``BasicConv2d`` (eps
  ``1e-3``, TensorFlow's, as in their Inception ports);
- ``norm=False``: ``conv (with bias) → ReLU``, GoogLeNet as published in 2014;
- ``act=False``: no ReLU (a "linear" convolution).

``padding="same"`` pads ``k // 2`` on each side of each kernel dimension (a 1×7 kernel gets
``(0, 3)``): the output keeps the input size at stride 1. ``"valid"`` (the "V" of the
Inception-v4 figures) pads nothing. Integers and pairs are passed to ``nn.Conv2d`` as they are.
"""
from __future__ import annotations

import torch
import torch.nn as nn


def _pair(v: int | tuple[int, int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def resolve_padding(kernel_size: int | tuple[int, int],
                    padding: int | tuple[int, int] | str) -> int | tuple[int, int]:
    """``"same"`` → ``(kh // 2, kw // 2)``, ``"valid"`` → ``0``; numbers unchanged."""
    if padding == "same":
        kh, kw = _pair(kernel_size)
        return (kh // 2, kw // 2)
    if padding == "valid":
        return 0
    if isinstance(padding, str):
        raise ValueError(f"padding must be 'same', 'valid', an int or a pair, got {padding!r}")
    return padding


class ConvBNAct(nn.Module):
    """``Conv2d → [BatchNorm2d] → [ReLU]``.

    Args:
        in_channels, out_channels, kernel_size, stride: as ``nn.Conv2d``.
        padding: an int, a pair, ``"same"`` (``k // 2``) or ``"valid"`` (0).
        norm: batch norm after the convolution (then the convolution has no bias).
        eps: the batch norm's epsilon (``1e-3``: TensorFlow's, torchvision's ``BasicConv2d``).
        act: ReLU at the end.

    Shapes: ``(N, in_channels, H, W) -> (N, out_channels, H', W')``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] | str = 0, *,
                 norm: bool = True, eps: float = 1e-3, act: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride,
                              resolve_padding(kernel_size, padding), bias=not norm)
        self.bn = nn.BatchNorm2d(out_channels, eps=eps) if norm else None
        self.act = nn.ReLU(inplace=True) if act else None
        self.in_channels, self.out_channels = in_channels, out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        if self.act is not None:
            x = self.act(x)
        return x
