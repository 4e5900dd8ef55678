"""The dense block of DenseNet: every layer reads the concatenation of all earlier outputs.

Huang, Liu, van der Maaten & Weinberger, "Densely Connected Convolutional Networks", CVPR 2017,
§3: "the ℓ-th layer receives the feature-maps of all preceding layers, x₀, …, x_{ℓ−1}, as
input: x_ℓ = H_ℓ([x₀, x₁, …, x_{ℓ−1}])", where [·] is concatenation along the channels. A
ResNet *adds* a block's output to its input (y = x + F(x): the channel count stays, the
information of x and F(x) is mixed); a dense block *appends* it (the channel count grows by k
per layer, and every earlier map stays readable, unchanged, by every later layer)::

    x₀ ─┬──────────────┬──────────────┬────────────► [x₀ x₁ x₂ x₃]   k₀ + 3k channels
        └► H₁ ─ x₁ ─┬──┴──────────────┤
                    └► H₂([x₀ x₁]) ─ x₂ ─┐
                                         └► H₃([x₀ x₁ x₂]) ─ x₃

- **growth rate k**: every H_ℓ outputs k maps (k = 12 on CIFAR, 32 on ImageNet), so layer ℓ
  reads k₀ + (ℓ − 1)·k maps; k can be small because each layer adds to a "collective
  knowledge" it can read in full.
- **H_ℓ**: BN → ReLU → 3×3 conv (pre-activation, as in He et al. 2016b).
- **bottleneck (the "B" of DenseNet-B/BC)**: BN → ReLU → 1×1 conv to 4k maps first, so the 3×3
  reads 4k maps instead of the growing k₀ + (ℓ − 1)·k.

:class:`DenseLayer` is H_ℓ; :class:`DenseBlock` holds the layers (``denselayer1`` …, the keys of
torchvision's ``_DenseBlock``, whose state dicts load).

**Memory.** A naive implementation concatenates before every layer: layer ℓ's concatenation
and its BN and ReLU outputs are new tensors of k₀ + (ℓ − 1)·k channels, and autograd keeps
them all for the backward pass, so a block's activation memory grows *quadratically* with its
depth. ``memory_efficient=True`` (Pleiss et al., "Memory-Efficient Implementation of DenseNets",
2017; torchvision's flag of the same name) recomputes concatenation, BN, ReLU and the first
convolution in the backward pass instead of keeping them (``torch.utils.checkpoint``): only
the layers' k-channel outputs are kept, linear in depth, for the price of one more forward
pass through the cheap part of each layer. The outputs, the gradients and the batch-norm
running statistics are the same (the recomputation does not update the statistics twice, as
torchvision's does).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

from ..errors import DcnnValueError


class DenseLayer(nn.Module):
    """H_ℓ: ``[BN-ReLU-1×1 conv (bn_size·k)] → BN-ReLU-3×3 conv (k)`` on the concatenated inputs.

    Args:
        in_channels: channels of the concatenated input (k₀ + (ℓ − 1)·k).
        growth_rate: k, the channels this layer adds.
        bn_size: the bottleneck's width in multiples of k (4 in the paper); ``None``: no
            bottleneck (plain DenseNet: BN-ReLU-3×3 conv only).
        drop_rate: dropout after each convolution (the paper's CIFAR runs without augmentation:
            0.2). torchvision applies it only after the last one; with 0 the two agree.
        memory_efficient: recompute the concatenation, BN, ReLU and first convolution in the
            backward pass instead of keeping them (see the module docstring).

    Attribute names are torchvision's ``_DenseLayer``'s (``norm1``, ``relu1``, ``conv1``,
    ``norm2``, ``relu2``, ``conv2``); without a bottleneck there is only ``norm1``, ``relu1``
    and ``conv1`` (the 3×3).

    Shapes: a tensor ``(N, in_channels, H, W)`` or a list of tensors whose channels add up to
    ``in_channels`` ``-> (N, growth_rate, H, W)``: the new maps only.
    """

    def __init__(self, in_channels: int, growth_rate: int, bn_size: int | None = 4, drop_rate: float = 0.0,
                 memory_efficient: bool = False) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(in_channels)
        self.relu1 = nn.ReLU(inplace=True)
        if bn_size is None:
            self.conv1 = nn.Conv2d(in_channels, growth_rate, 3, padding=1, bias=False)
        else:
            self.conv1 = nn.Conv2d(in_channels, bn_size * growth_rate, 1, bias=False)
            self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
            self.relu2 = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, 3, padding=1, bias=False)
        self.in_channels, self.growth_rate, self.bn_size = in_channels, growth_rate, bn_size
        self.drop_rate = float(drop_rate)
        self.memory_efficient = memory_efficient
        self._recomputing = False

    def _drop(self, x: torch.Tensor) -> torch.Tensor:
        return F.dropout(x, self.drop_rate, self.training) if self.drop_rate > 0 else x

    def first(self, *inputs: torch.Tensor) -> torch.Tensor:
        """``conv1(relu1(norm1([inputs])))``: the part that reads the whole concatenation."""
        return self.conv1(self.relu1(self.norm1(torch.cat(inputs, 1))))

    def _first_once(self, *inputs: torch.Tensor) -> torch.Tensor:
        """:meth:`first` for ``checkpoint``, which calls it twice: in the forward pass and again
        in the backward pass. The second call must not update ``norm1``'s running statistics a
        second time (torchvision's memory-efficient DenseNet does): momentum 0 keeps them."""
        if not self._recomputing:
            self._recomputing = True
            return self.first(*inputs)
        bn = self.norm1
        momentum, tracked = bn.momentum, bn.num_batches_tracked.clone()
        bn.momentum = 0.0
        try:
            return self.first(*inputs)
        finally:
            bn.momentum = momentum
            bn.num_batches_tracked.copy_(tracked)

    def forward(self, inputs: torch.Tensor | Sequence[torch.Tensor]) -> torch.Tensor:
        inputs = [inputs] if isinstance(inputs, torch.Tensor) else list(inputs)
        got = sum(t.shape[1] for t in inputs)
        if got != self.in_channels:
            raise DcnnValueError(f"DenseLayer: expects inputs with {self.in_channels} channels in all, "
                             f"got {got} ({' + '.join(str(t.shape[1]) for t in inputs)})")
        if self.memory_efficient and torch.is_grad_enabled() and any(t.requires_grad for t in inputs):
            self._recomputing = False
            out = checkpoint(self._first_once, *inputs, use_reentrant=False)
        else:
            out = self.first(*inputs)
        if self.bn_size is None:
            return self._drop(out)
        return self._drop(self.conv2(self.relu2(self.norm2(self._drop(out)))))

    def extra_repr(self) -> str:
        return (f"{self.in_channels} -> +{self.growth_rate}"
                + (", no bottleneck" if self.bn_size is None else f", bottleneck {self.bn_size}k")
                + (", memory efficient" if self.memory_efficient else ""))


class DenseBlock(nn.ModuleDict):
    """``num_layers`` dense layers; the output concatenates the input and every layer's maps.

    Args:
        num_layers: layers in the block.
        in_channels: k₀, channels of the block's input.
        growth_rate, bn_size, drop_rate, memory_efficient: as :class:`DenseLayer`.

    Attribute: ``out_channels`` = k₀ + num_layers · k.
    Shapes: ``(N, in_channels, H, W) -> (N, in_channels + num_layers * growth_rate, H, W)``.
    """

    def __init__(self, num_layers: int, in_channels: int, growth_rate: int, bn_size: int | None = 4,
                 drop_rate: float = 0.0, memory_efficient: bool = False) -> None:
        if num_layers < 1:
            raise DcnnValueError(f"DenseBlock: num_layers must be >= 1, got {num_layers}")
        layers = OrderedDict(
            (f"denselayer{i + 1}", DenseLayer(in_channels + i * growth_rate, growth_rate, bn_size, drop_rate,
                                              memory_efficient))
            for i in range(num_layers))
        super().__init__(layers)
        self.in_channels, self.growth_rate = in_channels, growth_rate
        self.out_channels = in_channels + num_layers * growth_rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for layer in self.values():
            features.append(layer(features))
        return torch.cat(features, 1)

    def set_memory_efficient(self, on: bool = True) -> "DenseBlock":
        for layer in self.values():
            layer.memory_efficient = on
        return self
