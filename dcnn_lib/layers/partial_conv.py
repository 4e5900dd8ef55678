"""A convolution in which each output map sees only some input maps (LeNet-5's C3 table).

LeCun et al. (1998) connected each of C3's 16 maps to a subset of S2's 6 maps (Table I) "to
keep the number of connections within reasonable bounds" and to "break the symmetry" so maps
learn different features. Masking a full weight tensor would compute and store the unused
weights; here only the connected weights exist. Output maps with the same number of inputs
are scattered into a dense kernel for the computation, and the layer reports the table's
multiply-adds.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F


class PartialConv2d(nn.Module):
    """``out = conv(x)`` where output map ``j`` is connected to input maps ``table[j]`` only.

    Args:
        in_channels: number of input maps.
        table: for every output map, the indices of the input maps it sees.
        kernel_size, stride, padding, bias: as in ``nn.Conv2d``.

    Shapes: ``(N, in_channels, H, W) -> (N, len(table), H', W')``.
    Parameters: ``sum(len(t) for t in table) * k * k`` weights (``weight`` holds exactly the
    connected kernels, in table order) plus one bias per output map.

    Implementation: the forward pass scatters ``weight`` into a dense, zero-filled
    ``(out, in, k, k)`` kernel and runs one ``conv2d``. On a CPU that is ~10× faster than one
    grouped convolution per fan-in; the zeros receive no gradient (they are not parameters).
    :meth:`macs` reports the multiply-adds the table needs, which
    :func:`dcnn_lib.analysis.summary` uses instead of the dense kernel's.
    """

    summary_leaf = True
    guard_as_conv = True  # dcnn_lib.layers.guard_inputs checks channels and size like a conv
    dilation = 1

    def __init__(self, in_channels: int, table: Sequence[Sequence[int]], kernel_size: int,
                 stride: int = 1, padding: int = 0, bias: bool = True) -> None:
        super().__init__()
        for j, inputs in enumerate(table):
            if not inputs or any(not 0 <= i < in_channels for i in inputs) or len(set(inputs)) != len(inputs):
                raise ValueError(
                    f"PartialConv2d: table[{j}] = {tuple(inputs)} must list distinct input maps "
                    f"in 0..{in_channels - 1}")
        self.in_channels, self.out_channels = in_channels, len(table)
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.table = tuple(tuple(t) for t in table)
        k = kernel_size
        flat = [j * in_channels + i for j, t in enumerate(self.table) for i in t]
        self.register_buffer("index", torch.tensor(flat), persistent=False)
        # fan-in of the output map each weight row belongs to
        self.register_buffer("row_fan_in", torch.tensor(
            [len(t) * k * k for t in self.table for _ in t]), persistent=False)
        self.weight = nn.Parameter(torch.empty(len(flat), k, k))
        self.bias = nn.Parameter(torch.empty(self.out_channels)) if bias else None
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self, bound: Callable[[torch.Tensor], torch.Tensor] | None = None) -> None:
        """Uniform in ``± bound(fan_in)`` of each output map; default ``1 / sqrt(fan_in)``
        (``nn.Conv2d``'s scale). LeNet-5 passes ``lambda f: 2.4 / f``."""
        bound = bound or (lambda fan_in: fan_in.rsqrt())
        row = bound(self.row_fan_in.float())
        self.weight.copy_((torch.rand_like(self.weight) * 2 - 1) * row[:, None, None])
        if self.bias is not None:
            fan = torch.tensor([len(t) * self.kernel_size ** 2 for t in self.table]).float()
            self.bias.copy_((torch.rand_like(self.bias) * 2 - 1) * bound(fan))

    def dense_weight(self) -> torch.Tensor:
        """The ``(out, in, k, k)`` kernel with zeros where the table has no connection."""
        k = self.kernel_size
        dense = self.weight.new_zeros(self.out_channels * self.in_channels, k, k)
        return dense.index_copy(0, self.index, self.weight).view(self.out_channels, self.in_channels, k, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.dense_weight(), self.bias, self.stride, self.padding)

    def macs(self, output: torch.Tensor) -> int:
        """Multiply-adds per image that the connections need: connections × k² × output pixels."""
        return len(self.index) * self.kernel_size ** 2 * output.shape[-2] * output.shape[-1]

    def connection_mask(self) -> torch.Tensor:
        """``(out_channels, in_channels)`` bool: which input maps each output map sees."""
        mask = torch.zeros(self.out_channels * self.in_channels, dtype=torch.bool)
        mask[self.index] = True
        return mask.view(self.out_channels, self.in_channels)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, connections={len(self.index)}")
