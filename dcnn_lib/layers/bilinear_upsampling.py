"""Upsampling by a transposed convolution initialised to bilinear interpolation (Long et al., FCN).

A transposed convolution with stride ``f`` and kernel ``2f`` inserts ``f - 1`` zeros between
input values and convolves: with the bilinear kernel below it *is* bilinear interpolation
(each output is a weighted average of its two nearest inputs per axis). FCN initialises its
learned 2× upsamplings this way and keeps the final one fixed ("the final layer deconvolutional
filters are fixed to bilinear interpolation, while intermediate upsampling layers are
initialized to bilinear upsampling, and then learned", Long et al. 2015, §4.2/4.3).

Output size of a transposed convolution (no padding): ``(H - 1) * stride + kernel``.
"""
from __future__ import annotations

import torch
import torch.nn as nn


def bilinear_kernel(kernel_size: int) -> torch.Tensor:
    """The ``(k, k)`` bilinear interpolation kernel of FCN's ``upsample_filt``.

    >>> bilinear_kernel(4)[0]
    tensor([0.0625, 0.1875, 0.1875, 0.0625])
    """
    factor = (kernel_size + 1) // 2
    centre = factor - 1 if kernel_size % 2 == 1 else factor - 0.5
    og = torch.arange(kernel_size, dtype=torch.float64)
    filt = 1 - (og - centre).abs() / factor
    return (filt[:, None] * filt[None, :]).float()


class BilinearUpsampling(nn.ConvTranspose2d):
    """``channels -> channels`` transposed convolution, stride ``factor``, kernel ``2 * factor``,
    no bias, each channel upsampled on its own with the bilinear kernel.

    ``learnable=True`` (FCN's intermediate 2× layers): a full ``channels × channels`` weight
    initialised to the per-channel bilinear kernel, then trained (``channels² (2f)²``
    parameters). ``learnable=False`` (FCN's final upsampling): the kernel is a fixed buffer,
    not a parameter.

    Shapes: ``(N, C, H, W) -> (N, C, (H - 1) f + 2f, (W - 1) f + 2f)``; FCN crops the result.
    """

    def __init__(self, channels: int, factor: int, learnable: bool = True) -> None:
        if factor < 1:
            raise ValueError(f"BilinearUpsampling: factor must be >= 1, got {factor}")
        super().__init__(channels, channels, 2 * factor, stride=factor, bias=False)
        weight = torch.zeros(channels, channels, 2 * factor, 2 * factor)
        weight[range(channels), range(channels)] = bilinear_kernel(2 * factor)
        if learnable:
            with torch.no_grad():
                self.weight.copy_(weight)
        else:
            del self.weight
            self.register_buffer("weight", weight)
        self.factor, self.learnable = factor, learnable

    def reset_parameters(self) -> None:  # called by nn.ConvTranspose2d.__init__: keep bilinear
        pass

    def extra_repr(self) -> str:
        return f"{self.in_channels}, factor={self.factor}, learnable={self.learnable}"
