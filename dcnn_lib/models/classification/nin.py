"""Network in Network: Lin, Chen & Yan, "Network In Network", ICLR 2014.

The paper describes the idea — every convolution becomes a micro network (an "mlpconv"
layer: a k×k convolution followed by 1×1 convolutions, see :mod:`dcnn_lib.layers.mlpconv`),
and the fully connected classifier is replaced by **global average pooling** of one feature
map per class — and gives full layer sizes only for its CIFAR/SVHN/MNIST networks. The
ImageNet model it mentions was released by the first author in the Caffe Model Zoo ("NIN
ImageNet model", gist ``mavenlin/d802a5849de39225bcc6``: 4 mlpconv layers, ~29 MB, 59.36 %
top-1 on ILSVRC-2012 val). Its ``train_val.prototxt`` is the source of the sizes below
(layer names ``conv1``, ``cccp1`` ... ``cccp8-1024``, ``pool0`` ... ``pool4``)::

    input 224 × 224 crop                                   N x 3 x 224 x 224
    mlpconv 1: 96 @ 11×11/4, cccp 96, cccp 96            N x 96 x 54 x 54
    max pool 3×3/2                                        N x 96 x 27 x 27
    mlpconv 2: 256 @ 5×5 pad 2, cccp 256, cccp 256       N x 256 x 27 x 27
    max pool 3×3/2                                        N x 256 x 13 x 13
    mlpconv 3: 384 @ 3×3 pad 1, cccp 384, cccp 384      N x 384 x 13 x 13
    max pool 3×3/2, dropout 0.5                           N x 384 x 6 x 6
    mlpconv 4: 1024 @ 3×3 pad 1, cccp 1024, cccp 1000   N x 1000 x 6 x 6
    global average pooling (Caffe: 6×6 average pool)      N x 1000

ReLU follows every convolution, the last one included. 7,595,176 parameters (30.4 MB,
29.0 MiB in float32: the "7.5 M, 29 MB" of the lecture's table). No fully connected layer.

Departures, all deliberate:

- **Pooling sizes.** Caffe rounds pooling output sizes up; ``ceil_mode=True`` reproduces
  54 → 27 → 13 → 6 (PyTorch's default floor mode would give 26 → 12 → 5).
- **Global average pooling** is ``AdaptiveAvgPool2d(1)``: equal to Caffe's 6×6 average at
  224 × 224, and defined for any input size.
- **Initialisation**: ``init="caffe"`` (default) draws weights from N(0, σ²) with the
  prototxt's σ per layer (0.01 for conv1, conv3 and cccp8, 0.05 elsewhere), biases 0;
  ``init="kaiming"`` is PyTorch's Kaiming-normal (what ``nin_small`` uses).

``nin_small`` is a NiN for 28×28 grey images (Fashion-MNIST), shaped like the paper's
CIFAR-10 network (three mlpconv layers, a 5×5 one first, global average pooling over 10
class maps) with far fewer channels (24, 48, 96 instead of 192), dropout only before the
last block (as the ImageNet model), batch norm (optional), and linear class maps (no ReLU on
the last 1×1 convolution, so that a class score can be negative).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import torch
import torch.nn as nn

from ...layers import MlpConv, guard_inputs
from ...registry import Figure, Published, TestSettings, register_model

PAPER = "Lin, Chen & Yan, Network In Network, ICLR 2014"
SOURCE = "Caffe Model Zoo, NIN ImageNet model (gist mavenlin/d802a5849de39225bcc6), train_val.prototxt"

# The released ImageNet model: (channels of the k×k conv and its two cccp layers, k, stride, padding)
IMAGENET_BLOCKS = (
    ((96, 96, 96), 11, 4, 0),
    ((256, 256, 256), 5, 1, 2),
    ((384, 384, 384), 3, 1, 1),
    ((1024, 1024, 1000), 3, 1, 1),
)
# σ of the Gaussian initialisation in the released prototxt, per block: (conv, cccp, cccp)
CAFFE_INIT_STD = ((0.01, 0.05, 0.05), (0.05, 0.05, 0.05), (0.01, 0.05, 0.05), (0.05, 0.05, 0.01))

# nin_small: the CIFAR-10 network's shape (192/160/96 @5×5, 192/192/192 @5×5, 192/192/10 @3×3)
# at 28×28 with fewer channels.
SMALL_BLOCKS = (
    ((24, 24, 24), 5, 1, 2),       # 28 x 28
    ((48, 48, 48), 3, 1, 1),       # 14 x 14
    ((96, 96, None), 3, 1, 1),     # 7 x 7; None: the number of classes
)


class NiN(nn.Sequential):
    """Network in Network: mlpconv blocks, pooling between them, global average pooling.

    Args:
        blocks: per block ``(channels, kernel_size, stride, padding)``; the last block's last
            channel count is the number of classes (``None`` there means ``num_classes``).
        num_classes: classes (= channels of the last 1×1 convolution).
        in_channels: input channels.
        pool: ``(kernel, stride)`` of the max pooling after every block but the last.
        dropout: dropout after the pooling that precedes the last block (``dropout_all``:
            after every pooling, as the paper's CIFAR networks).
        batch_norm: batch norm after every convolution (not in the paper).
        class_map_relu: ReLU (and batch norm) on the class maps, as the released model;
            ``False`` leaves them linear, so a logit can be negative.
        input_size: ``(C, H, W)`` the network is designed for (quoted in errors).

    Children: ``block1``, ``pool1``, [``dropout1``], ..., ``blockK``, ``gap``, ``flatten``.
    Shapes: ``(N, in_channels, H, W) -> (N, num_classes)`` logits.
    """

    def __init__(self, blocks: Sequence = IMAGENET_BLOCKS, num_classes: int = 1000, in_channels: int = 3,
                 pool: tuple[int, int] = (3, 2), dropout: float = 0.5, dropout_all: bool = False,
                 batch_norm: bool = False, class_map_relu: bool = True,
                 input_size: tuple[int, int, int] | None = None) -> None:
        layers: list[tuple[str, nn.Module]] = []
        c_in = in_channels
        for i, (channels, k, stride, padding) in enumerate(blocks, start=1):
            last = i == len(blocks)
            if last:  # the last 1×1 convolution makes one map per class
                channels = (*channels[:-1], num_classes)
            layers.append((f"block{i}", MlpConv(c_in, channels, k, stride, padding, batch_norm=batch_norm,
                                                final_activation=class_map_relu or not last)))
            if not last:
                layers.append((f"pool{i}", nn.MaxPool2d(*pool, ceil_mode=True)))
                if dropout > 0 and (dropout_all or i == len(blocks) - 1):
                    layers.append((f"dropout{i}", nn.Dropout(dropout)))
            c_in = channels[-1]
        layers += [("gap", nn.AdaptiveAvgPool2d(1)),    # N x num_classes x 1 x 1
                   ("flatten", nn.Flatten())]           # N x num_classes
        super().__init__(OrderedDict(layers))
        self.num_classes = num_classes
        guard_inputs(self, "NiN", expected=input_size or (in_channels, 224, 224))

    @torch.no_grad()
    def reset_parameters(self, init: str = "kaiming", stds: Sequence[Sequence[float]] | None = None) -> None:
        """``"caffe"``: N(0, σ²) with ``stds[block][layer]``; ``"kaiming"``: Kaiming-normal
        (fan-in, ReLU). Biases 0."""
        if init not in ("caffe", "kaiming"):
            raise ValueError(f"NiN: init must be 'caffe' or 'kaiming', got {init!r}")
        blocks = [m for m in self.children() if isinstance(m, MlpConv)]
        for b, block in enumerate(blocks):
            convs = [m for m in block if isinstance(m, nn.Conv2d)]
            for j, conv in enumerate(convs):
                if init == "caffe":
                    nn.init.normal_(conv.weight, 0, stds[b][j])
                else:
                    nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
                if conv.bias is not None:
                    nn.init.zeros_(conv.bias)


@register_model(task="classification", paper=PAPER, year=2014, input_size=(3, 224, 224),
                published=Published(params=Figure(7_595_176, SOURCE, "counted from train_val.prototxt"),
                                    top1=Figure(59.36, SOURCE, "the released model, centre crop"),
                                    other={"model_size_mb": Figure(29, SOURCE)}),
                test=TestSettings(input_size=(3, 64, 64)))
def nin(num_classes: int = 1000, in_channels: int = 3, init: str = "caffe") -> NiN:
    """The 4-block ImageNet NiN released with the paper (global average pooling, no FC layer).

    Input (N, 3, 224, 224) -> (N, num_classes) logits.
    """
    model = NiN(IMAGENET_BLOCKS, num_classes, in_channels, input_size=(in_channels, 224, 224))
    model.reset_parameters(init, CAFFE_INIT_STD)
    return model


@register_model(task="classification", paper=PAPER + " (small variant for 28×28)", year=2014,
                input_size=(1, 28, 28),
                published=Published(params=Figure(69_202, "counted from the layer sizes")))
def nin_small(num_classes: int = 10, in_channels: int = 1, batch_norm: bool = True,
              dropout: float = 0.3) -> NiN:
    """NiN for 28×28 grey images: three mlpconv blocks (5×5, 3×3, 3×3), global average pooling.

    Dropout before the last block (as the ImageNet model). Input (N, 1, 28, 28) -> (N,
    num_classes) logits; 28 → 14 → 7 → GAP.
    """
    model = NiN(SMALL_BLOCKS, num_classes, in_channels, dropout=dropout,
                batch_norm=batch_norm, class_map_relu=False, input_size=(in_channels, 28, 28))
    model.reset_parameters("kaiming")
    return model
