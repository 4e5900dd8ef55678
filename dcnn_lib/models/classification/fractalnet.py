"""FractalNet: Larsson, Maire & Shakhnarovich, "FractalNet: Ultra-Deep Neural Networks without
Residuals", ICLR 2017 (arXiv May 2016).

B fractal blocks (:class:`~dcnn_lib.layers.FractalBlock`, C columns each) with a 2×2 max
pooling after each, then a fully connected layer. The deepest path has B·2^(C−1)
convolutions: the "20-layer" CIFAR network is B = 5, C = 3 (§4)::

    block1   C=3, 64 maps, dropout 0.0         N x 64 x 16 x 16
    block2   C=3, 128 maps, dropout 0.1        N x 128 x 8 x 8
    block3   C=3, 256 maps, dropout 0.2        N x 256 x 4 x 4
    block4   C=3, 512 maps, dropout 0.3        N x 512 x 2 x 2
    block5   C=3, 512 maps, dropout 0.4        N x 512 x 1 x 1
    flatten, fc                                N x 10

Training regularisers (§3.1, §4): local drop-path 15 % at every join; on half of the
mini-batches *global* drop-path instead: one column, drawn at random, carries the whole
network. At test time every column takes part, or, with :meth:`FractalNet.only_column`, one
column alone: the paper's Table 1 reports the deepest column of the drop-path-trained
20-layer network nearly as good as the whole (C10 7.27 % vs 7.33 % error).

**Parameters: 33.7 M, not the paper's 38.6 M.** The layout above, with 3×3 convolutions
without bias, batch norm and the fc, has 33,724,618 parameters at 10 classes (the same count
as ``osmr/imgclsmob``'s ``fractalnet_cifar10``, which asserts it). The authors' own Caffe
generator (``gustavla/fractalnet``: ``fractalnet.py`` and ``globals.crox``) builds the same
convolutions — with biases, and batch norms without a learned scale and shift (Caffe's
``BatchNorm`` layer with no ``Scale``) — 33,714,314 learned parameters. Both are 33.7 M. The
38.6 M of Table 1 cannot come from this layout: in a block, C = 3 convolutions read the
block's input (c_in → c_out) and 2^C − 1 − C = 4 read c_out maps; counting all seven as
c_out → c_out gives 38.47 M (:func:`fractal_params` with ``all_square=True``), and inserting
a 1×1 "channel-doubling" convolution at each block entrance (``khanrc/pt.fractalnet``'s
``--doubling``) gives 38.9 M; neither is exactly 38.6 M. Our reading: the paper's figure was
counted with every convolution at the block's width; the network the authors trained (their
released generator) is the 33.7 M one built here.

Deviations:

- global average pooling before the fc (the paper flattens a 1×1 map after the fifth pooling:
  the same at 32×32; other input sizes still work);
- drop-path masks are drawn per mini-batch (as in the authors' Caffe layer), with torch's
  random generator;
- weights: Caffe's "xavier" filler (uniform ±√(3/fan_in)), as the authors' generator.
"""
from __future__ import annotations

import contextlib
from collections import OrderedDict
from typing import Any, Iterator, Sequence

import torch
import torch.nn as nn

from ...errors import DcnnValueError
from ...layers import FractalBlock, guard_inputs
from ...registry import Figure, Published, TestSettings, register_model
from ..backbones import Stage

PAPER = "Larsson, Maire & Shakhnarovich, FractalNet: ultra-deep neural networks without residuals, ICLR 2017"

CIFAR_WIDTHS = (64, 128, 256, 512, 512)
CIFAR_DROPOUT = (0.0, 0.1, 0.2, 0.3, 0.4)
PAPER_PARAMS_M = 38.6      # Table 1, "FractalNet (20 layers, 38.6M params)"
# Table 1, test error % (20 layers): C10, C10+, C10++, C100, C100+, C100++.
TABLE1 = {
    "plain": (10.18, 5.22, 5.11, 35.34, 23.30, 22.85),
    "drop-path + dropout": (7.33, 4.60, 4.59, 28.20, 23.73, 23.36),
    "deepest column alone": (7.27, 4.68, 4.63, 29.05, 24.32, 23.60),
}


def fractal_params(widths: Sequence[int] = CIFAR_WIDTHS, num_columns: int = 3, in_channels: int = 3,
                   num_classes: int = 10, *, all_square: bool = False, bias: bool = False, bn_affine: bool = True) -> int:
    """Parameters of a FractalNet in closed form: per block, C convolutions c_in → c_out and
    2^C − 1 − C convolutions c_out → c_out (``all_square``: all 2^C − 1 at c_out → c_out, the
    count that comes closest to the paper's 38.6 M), each 3×3 with optional ``bias``, a batch
    norm each (2 parameters a channel when ``bn_affine``), and the fc."""
    total, c_in, n = 0, in_channels, 2 ** num_columns - 1
    for w in widths:
        reading_input = 0 if all_square else num_columns
        total += 9 * (reading_input * c_in * w + (n - reading_input) * w * w)
        total += n * w * (int(bias) + 2 * int(bn_affine))
        c_in = w
    return total + widths[-1] * num_classes + num_classes


class FractalNet(nn.Sequential):
    """B fractal blocks of C columns, each followed by 2×2 max pooling, then an fc.

    Args:
        widths: maps of each block (B = ``len(widths)``).
        num_columns: C.
        dropout: dropout rate of each block's convolutions (one per block, or one for all).
        drop_path: local drop-path probability at every join (training only).
        global_drop: fraction of training mini-batches that use global drop-path (one
            random column for the whole network) instead of local drop-path.
        num_classes, in_channels: output classes and input channels.

    Attributes: ``column`` (``None``: all columns; c: column c alone, in training and in
    evaluation; see :meth:`only_column`), ``last_column`` (the column the last training
    forward pass used, ``None`` for local drop-path), ``num_layers`` (B·2^(C−1)).

    Shapes: ``(N, in_channels, H, W) -> (N, num_classes)``; H and W ≥ 2^B.
    """

    def __init__(self, widths: Sequence[int] = CIFAR_WIDTHS, num_columns: int = 3,
                 dropout: float | Sequence[float] = CIFAR_DROPOUT, drop_path: float = 0.15,
                 global_drop: float = 0.5, *, num_classes: int = 10, in_channels: int = 3) -> None:
        dropout = [dropout] * len(widths) if isinstance(dropout, (int, float)) else list(dropout)
        if len(dropout) != len(widths):
            raise DcnnValueError(f"FractalNet: {len(widths)} block widths but {len(dropout)} dropout rates")
        if not 0 <= global_drop <= 1:
            raise DcnnValueError(f"FractalNet: global_drop must lie in [0, 1], got {global_drop}")
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        c, feature_info = in_channels, []
        for i, (w, p) in enumerate(zip(widths, dropout)):
            layers[f"block{i + 1}"] = FractalBlock(c, w, num_columns, p, drop_path)   # N x w x H/2^(i+1) x W/2^(i+1)
            feature_info.append(Stage(f"block{i + 1}", w, 2 ** (i + 1)))
            c = w
        layers["avgpool"] = nn.AdaptiveAvgPool2d(1)             # N x w x 1 x 1
        layers["flatten"] = nn.Flatten()                        # N x w
        layers["fc"] = nn.Linear(c, num_classes)                # N x num_classes
        super().__init__(layers)
        self.num_columns, self.global_drop = num_columns, float(global_drop)
        self.column: int | None = None
        self.last_column: int | None = None
        self.num_layers = len(widths) * 2 ** (num_columns - 1)
        self.feature_info, self.classifier_name = tuple(feature_info), "fc"   # the backbone contract
        self.config = {"widths": tuple(widths), "num_columns": num_columns, "dropout": tuple(dropout),
                       "drop_path": drop_path, "global_drop": global_drop}
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_uniform_(m.weight, a=1.0)       # Caffe's "xavier": U(±sqrt(3 / fan_in))
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        guard_inputs(self, "FractalNet", expected=(in_channels, 32, 32))

    def blocks(self) -> list[FractalBlock]:
        return [m for m in self.children() if isinstance(m, FractalBlock)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        column = self.column
        if column is None and self.training and self.global_drop > 0:
            if float(torch.rand(())) < self.global_drop:        # global drop-path for this mini-batch
                column = int(torch.randint(1, self.num_columns + 1, ()))
        if self.training:
            self.last_column = column
        for name, module in self.named_children():
            x = module(x, column) if isinstance(module, FractalBlock) else module(x)
        return x

    @contextlib.contextmanager
    def only_column(self, column: int | None) -> Iterator["FractalNet"]:
        """Run column ``column`` (1 = shallowest, C = deepest) alone inside the ``with`` block."""
        if column is not None and not 1 <= column <= self.num_columns:
            raise DcnnValueError(f"FractalNet: column must lie in 1..{self.num_columns}, got {column}")
        before, self.column = self.column, column
        try:
            yield self
        finally:
            self.column = before


# ---- the registry ----------------------------------------------------------------------------------
_T1 = "paper, Table 1 (drop-path + dropout)"
_TABLE1_KEYS = ("cifar10_error", "cifar10_aug_error", "cifar10_aug_plus_error", "cifar100_error",
                "cifar100_aug_error", "cifar100_aug_plus_error")
_PUBLISHED = Published(
    params=Figure(fractal_params(), "counted from the architecture (osmr/imgclsmob asserts the same count)",
                  "the paper prints 38.6M: see the module docstring"),
    gmacs=Figure(0.845, "counted from the architecture (dl.analysis.summary)", "at 32×32"),
    other={"params_m": Figure(PAPER_PARAMS_M, "paper, Table 1"),
           "params_caffe": Figure(fractal_params(bias=True, bn_affine=False),
                                  "counted from the authors' Caffe generator (gustavla/fractalnet)"),
           **{k: Figure(v, _T1, "test error %") for k, v in zip(_TABLE1_KEYS, TABLE1["drop-path + dropout"])},
           **{f"{k}_deepest_column": Figure(v, _T1, "test error % of the deepest column alone")
              for k, v in zip(_TABLE1_KEYS, TABLE1["deepest column alone"])}})


# The generic forward/backward test wants a gradient for every parameter: without drop-path every
# column takes part (tests/test_fractalnet.py checks drop-path itself).
@register_model(task="classification", paper=PAPER, year=2016, input_size=(3, 32, 32), published=_PUBLISHED,
                test=TestSettings(kwargs={"drop_path": 0.0, "global_drop": 0.0}))
def fractalnet20_cifar(num_classes: int = 10, in_channels: int = 3, num_columns: int = 3,
                       **overrides: Any) -> FractalNet:
    """FractalNet, 20 layers (B = 5, C = 3, widths 64-128-256-512-512), with dropout and drop-path."""
    return FractalNet(num_columns=num_columns, num_classes=num_classes, in_channels=in_channels, **overrides)


# ---- scaled down for Fashion-MNIST (28×28 grey) ------------------------------------------------------
@register_model(task="classification", paper=PAPER + " (scaled for 28×28 images)", year=2016,
                input_size=(1, 28, 28), published=Published(params=Figure(fractal_params(
                    (16, 32, 64, 128), 3, in_channels=1), "counted from the architecture")),
                test=TestSettings(kwargs={"drop_path": 0.0, "global_drop": 0.0}))
def fractalnet_small(num_classes: int = 10, in_channels: int = 1, widths: Sequence[int] = (16, 32, 64, 128),
                     num_columns: int = 3, dropout: float | Sequence[float] = 0.0, drop_path: float = 0.15,
                     global_drop: float = 0.5) -> FractalNet:
    """FractalNet for 28×28 images: B = 4 blocks of C = 3 columns (16 layers deep), 16–128 maps.

    The CIFAR network one block shorter (28 → 14 → 7 → 3 → 1 after the four poolings) and a
    quarter as wide; drop-path as in the paper (local 15 %, global on half the mini-batches),
    no dropout (the short runs of the book do not overfit).
    """
    return FractalNet(widths, num_columns, dropout, drop_path, global_drop, num_classes=num_classes,
                      in_channels=in_channels)
