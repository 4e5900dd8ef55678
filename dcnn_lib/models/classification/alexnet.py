"""AlexNet (Krizhevsky, Sutskever & Hinton, NIPS 2012), its single-GPU form (Krizhevsky 2014,
torchvision's ``alexnet``) and ZFNet (Zeiler & Fergus, ECCV 2014): one family, one table each.

AlexNet as §3 of the paper describes it (Figure 2), for a 224×224×3 input::

    conv1  96 @ 11×11×3, stride 4      ReLU, LRN, max pool 3/2   N x 96 x 55 x 55  -> 27 x 27
    conv2  256 @ 5×5×48  (2 towers)    ReLU, LRN, max pool 3/2   N x 256 x 27 x 27 -> 13 x 13
    conv3  384 @ 3×3×256 (all maps)    ReLU                      N x 384 x 13 x 13
    conv4  384 @ 3×3×192 (2 towers)    ReLU                      N x 384 x 13 x 13
    conv5  256 @ 3×3×192 (2 towers)    ReLU, max pool 3/2        N x 256 x 13 x 13 -> 6 x 6
    fc6    4096 (from 6·6·256 = 9216)  ReLU, dropout 0.5         N x 4096
    fc7    4096                        ReLU, dropout 0.5         N x 4096
    fc8    1000                        (softmax in the loss)     N x 1000
                                                                 = 60,965,224 parameters

**Two towers.** The network was split over two GTX 580 GPUs of 3 GB; each held half of every
layer's kernels, and "the GPUs communicate only in certain layers": conv3 and the fully
connected layers see both halves, conv2, conv4 and conv5 only their own GPU's half (hence the
kernel depths 48 and 192 above). A convolution over separate halves is a grouped convolution
(``groups=2``); that is how the towers are built here, in one module, with exactly the
paper's connections and parameters.

**224 or 227?** With a 224-pixel input, an 11-pixel kernel and stride 4, the paper's 55×55
first-layer output does not follow from ``(224 - 11) / 4 + 1 = 54.25``. Caffe's reference
model feeds 227×227 crops, for which the division is exact; torchvision pads 2 pixels on
every side. The paper's own numbers are consistent with the size rule of Krizhevsky's
cuda-convnet, ``1 + ceil((size + 2·pad - kernel) / stride)`` (cuda-convnet2's ``layer.py``):
``1 + ceil(213 / 4) = 55``, the last of the 55 windows (starting at pixel 216) running 3
pixels past the image, where the kernel reads zeros. ``alexnet_paper`` takes 224×224 inputs
and reproduces exactly that: a zero pad of 3 pixels on the right and bottom only
(``features.pad1``), then a valid convolution. The rest of the network is the same for all
three readings (27, 13, 6). The paper also lists the first layer as 253,440 neurons, which
is not 55·55·96 = 290,400; the other layers' counts match (see ``PAPER_NEURONS``).

Departures from the 2012 paper, all deliberate:

- **Training recipe** (SGD with momentum 0.9, weight decay 5e-4, batch 128, learning rate
  divided by 10 on plateaus, 90 epochs, random 224 crops of 256 images, flips, PCA colour
  jitter) is not part of the model; chapters train with ``dcnn_lib.train.fit``.
- **Test-time averaging** over ten patches is not built in.
- **Initialisation** ``init="paper"`` is the paper's: weights N(0, 0.01²), biases 1 in conv2,
  conv4, conv5 and the hidden fully connected layers, 0 elsewhere.

``alexnet`` is torchvision's model: the single-GPU network of "One weird trick for
parallelizing convolutional neural networks" (Krizhevsky, arXiv:1404.5997, 2014) as
implemented by cuda-convnet2's ``layers-imagenet-1gpu.cfg``: 64, 192, 384, 256, 256 kernels
(the 2014 paper's footnote says 384 for conv4; torchvision kept the config's 256), no LRN,
padding 2 in conv1, an adaptive average pool to 6×6 (so any input of at least 63 pixels
works) and dropout *before* fc6 and fc7 rather than after. Its state_dict is torchvision's,
key for key, so pretrained weights load with ``strict=True``.

``zfnet`` is Figure 3 of Zeiler & Fergus: conv1 7×7 stride 2 (110×110), conv2 5×5 stride 2,
pooling *before* the contrast normalisation ("contrast normalized across feature maps"; the
paper refers to Jarrett et al. 2009 and Krizhevsky et al. 2012 for it and gives no constants:
AlexNet's LRN is used), dense
connections everywhere (one GPU), 9216 → 4096 → 4096. Its pooling rounds up
(``ceil_mode=True``), which is what makes 110 → 55 and 26 → 13 as in the figure. The paper
also renormalises every conv filter whose RMS exceeds 0.1 back to 0.1 during training:
:meth:`AlexNet.renormalize_filters_` does it; ``fit`` does not call it.

``alexnet_small`` and ``zfnet_small`` are the book's Fashion-MNIST versions: the same tables
with every conv width divided by 4 and fully connected layers of 512, for 1×64×64 inputs
(28×28 images upsampled). Every kernel, stride, tower, LRN and pooling of the paper stays;
the maps shrink with the input (AlexNet's conv1: 15×15 instead of 55×55; ZFNet's: 30×30).
"""
from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, replace

import torch
import torch.nn as nn

from ...layers import LocalResponseNorm, guard_inputs
from ...errors import DcnnValueError
from ...registry import Figure, Published, TestSettings, check_input_size, register_model
from ..backbones import deepest_stages

PAPER = "Krizhevsky, Sutskever & Hinton, ImageNet classification with deep convolutional neural networks, NIPS 2012"
PAPER_OWT = "Krizhevsky, One weird trick for parallelizing convolutional neural networks, arXiv:1404.5997, 2014"
PAPER_ZF = "Zeiler & Fergus, Visualizing and understanding convolutional networks, ECCV 2014"
TORCHVISION = "torchvision weights metadata (AlexNet_Weights.IMAGENET1K_V1)"

# §3.3: k = 2, n = 5, α = 1e-4, β = 0.75 (paper parameterisation, see dcnn_lib.layers.lrn).
PAPER_LRN = {"size": 5, "alpha": 1e-4, "beta": 0.75, "k": 2.0}
# §1 and §3: "the number of neurons in the network's remaining layers is given by ...".
PAPER_NEURONS = (253_440, 186_624, 64_896, 64_896, 43_264, 4096, 4096, 1000)


@dataclass(frozen=True)
class ConvRow:
    """One convolutional layer of a table, and what follows its nonlinearity, in order.

    ``padding`` is an int (every side) or ``(left, right, top, bottom)``; ``then`` lists
    ``"norm"`` (LRN) and ``"pool"`` (overlapping max pooling).
    """

    out: int
    kernel: int
    stride: int = 1
    padding: int | tuple[int, int, int, int] = 0
    groups: int = 1
    then: tuple[str, ...] = ()


@dataclass(frozen=True)
class Arch:
    """A whole network as data: conv rows, hidden fully connected widths and conventions."""

    convs: tuple[ConvRow, ...]
    fc: tuple[int, ...] = (4096, 4096)
    pool: tuple[int, int] = (3, 2)          # z = 3, s = 2: "overlapping pooling" (§3.4)
    pool_ceil: bool = False                 # round pooled sizes up (ZFNet's figure)
    dropout_after_fc: bool = True           # paper: fc, ReLU, dropout; torchvision: dropout, fc, ReLU
    adaptive_pool: int | None = None        # torchvision: AdaptiveAvgPool2d(6) before the classifier
    named: bool = True                      # layer names (conv1, norm1...) or torchvision's indices
    bias_one: tuple[str, ...] = ()          # init="paper": layers whose biases start at 1

    def widths(self, conv_divisor: int, fc: int) -> "Arch":
        """The same table with every conv width divided by ``conv_divisor`` and hidden FC ``fc``."""
        rows = tuple(replace(r, out=r.out // conv_divisor) for r in self.convs)
        return replace(self, convs=rows, fc=tuple(fc for _ in self.fc))


ALEXNET_2012 = Arch(
    convs=(
        ConvRow(96, 11, 4, (0, 3, 0, 3), then=("norm", "pool")),   # 224 -> 55 -> 27
        ConvRow(256, 5, 1, 2, groups=2, then=("norm", "pool")),    # 27 -> 13
        ConvRow(384, 3, 1, 1),                                      # 13, sees both towers
        ConvRow(384, 3, 1, 1, groups=2),                            # 13
        ConvRow(256, 3, 1, 1, groups=2, then=("pool",)),            # 13 -> 6
    ),
    bias_one=("conv2", "conv4", "conv5", "fc6", "fc7"),
)

ALEXNET_OWT = Arch(
    convs=(
        ConvRow(64, 11, 4, 2, then=("pool",)),                      # 224 -> 55 -> 27
        ConvRow(192, 5, 1, 2, then=("pool",)),                      # 27 -> 13
        ConvRow(384, 3, 1, 1),
        ConvRow(256, 3, 1, 1),
        ConvRow(256, 3, 1, 1, then=("pool",)),                      # 13 -> 6
    ),
    dropout_after_fc=False, adaptive_pool=6, named=False,
)

ZFNET_2014 = Arch(
    convs=(
        ConvRow(96, 7, 2, 1, then=("pool", "norm")),                # 224 -> 110 -> 55
        ConvRow(256, 5, 2, 0, then=("pool", "norm")),               # 55 -> 26 -> 13
        ConvRow(384, 3, 1, 1),
        ConvRow(384, 3, 1, 1),
        ConvRow(256, 3, 1, 1, then=("pool",)),                      # 13 -> 6
    ),
    pool_ceil=True,
)

ALEXNET_SMALL = ALEXNET_2012.widths(4, 512)
ZFNET_SMALL = ZFNET_2014.widths(4, 512)


def _conv_out(size: int, row: ConvRow) -> int:
    lo, hi = (row.padding, row.padding) if isinstance(row.padding, int) else row.padding[2:]
    return (size + lo + hi - row.kernel) // row.stride + 1


def _pool_out(size: int, kernel: int, stride: int, ceil: bool) -> int:
    out = (math.ceil if ceil else math.floor)((size - kernel) / stride) + 1
    if ceil and (out - 1) * stride >= size:  # PyTorch: the last window must start inside
        out -= 1
    return out


class AlexNet(nn.Module):
    """The AlexNet family built from a table (:class:`Arch`): ``features``, then
    ``avgpool`` (torchvision layout only), flatten, ``classifier``.

    Args:
        arch: the table (``ALEXNET_2012``, ``ALEXNET_OWT``, ``ZFNET_2014``, ...).
        num_classes: output units (1000).
        input_size: ``(C, H, W)`` of the input the table is laid out for (``(3, 224, 224)``).
        activation: ``"relu"`` (all of them) or ``"tanh"`` (the paper's Figure 1 comparison).
        lrn: keep the table's local response normalisation layers.
        dropout: dropout probability in the hidden fully connected layers (0.5).
        init: ``"paper"`` (N(0, 0.01²), biases 1 in ``arch.bias_one``, else 0), ``"zf"``
            (N(0, 0.01²), biases 0) or ``"default"`` (PyTorch's).
        name: used in error messages.

    Shapes: ``(N, C, H, W) -> (N, num_classes)`` logits.
    """

    def __init__(self, arch: Arch, num_classes: int = 1000, input_size: tuple[int, int, int] = (3, 224, 224),
                 activation: str = "relu", lrn: bool = True, dropout: float = 0.5,
                 init: str = "default", name: str = "AlexNet") -> None:
        super().__init__()
        in_channels, in_h, in_w = check_input_size(input_size, name)
        if activation not in ("relu", "tanh"):
            raise ValueError(f"{name}: activation must be 'relu' or 'tanh', got {activation!r}")
        if init not in ("paper", "zf", "default"):
            raise ValueError(f"{name}: init must be 'paper', 'zf' or 'default', got {init!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"{name}: dropout must be in [0, 1), got {dropout}")

        def act() -> nn.Module:
            return nn.ReLU(inplace=True) if activation == "relu" else nn.Tanh()

        layers: list[tuple[str, nn.Module]] = []
        channels, h, w = in_channels, in_h, in_w
        for i, row in enumerate(arch.convs, 1):
            padding = row.padding
            if not isinstance(padding, int):        # asymmetric: an explicit zero pad first
                layers.append((f"pad{i}", nn.ZeroPad2d(padding)))
                padding = 0
            layers += [(f"conv{i}", nn.Conv2d(channels, row.out, row.kernel, row.stride, padding,
                                              groups=row.groups)),
                       (f"{activation}{i}", act())]
            channels, h, w = row.out, _conv_out(h, row), _conv_out(w, row)
            for op in row.then:
                if op == "norm" and lrn:
                    layers.append((f"norm{i}", LocalResponseNorm(**PAPER_LRN)))
                elif op == "pool":
                    layers.append((f"pool{i}", nn.MaxPool2d(*arch.pool, ceil_mode=arch.pool_ceil)))
                    h, w = (_pool_out(v, *arch.pool, arch.pool_ceil) for v in (h, w))
        if min(h, w) < 1:
            raise DcnnValueError(f"{name}: an input of {in_h}×{in_w} leaves no feature map after the last "
                                 f"pooling (input_size {tuple(input_size)}; the table is laid out for 224×224)")
        self.features = self._sequential(layers, arch.named)
        if arch.adaptive_pool:
            self.avgpool = nn.AdaptiveAvgPool2d(arch.adaptive_pool)
            h = w = arch.adaptive_pool
        self.feature_size = (channels, h, w)  # what the classifier flattens

        head: list[tuple[str, nn.Module]] = []
        width = channels * h * w                                    # 6·6·256 = 9216 for AlexNet
        for j, hidden in enumerate(arch.fc, 6):
            fc = [(f"fc{j}", nn.Linear(width, hidden)), (f"{activation}{j}", act())]
            drop = [(f"drop{j}", nn.Dropout(dropout))]
            head += fc + drop if arch.dropout_after_fc else drop + fc
            width = hidden
        head.append((f"fc{6 + len(arch.fc)}", nn.Linear(width, num_classes)))
        self.classifier = self._sequential(head, arch.named)

        self.arch, self.num_classes, self.activation = arch, num_classes, activation
        if init != "default":
            self.reset_parameters(init)
        self.feature_info = deepest_stages(self.features, "features", in_channels)   # backbone contract
        self.classifier_name = "classifier"
        guard_inputs(self, name, expected=(in_channels, in_h, in_w))

    @staticmethod
    def _sequential(layers: list[tuple[str, nn.Module]], named: bool) -> nn.Sequential:
        return nn.Sequential(OrderedDict(layers)) if named else nn.Sequential(*(m for _, m in layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)                                        # N x 256 x 6 x 6 (AlexNet)
        if hasattr(self, "avgpool"):
            x = self.avgpool(x)
        return self.classifier(torch.flatten(x, 1))                 # N x num_classes

    def convs(self) -> list[nn.Conv2d]:
        """The convolutional layers, in order (conv1 first)."""
        return [m for m in self.features if isinstance(m, nn.Conv2d)]

    def linears(self) -> list[nn.Linear]:
        """The fully connected layers, in order (fc6 first)."""
        return [m for m in self.classifier if isinstance(m, nn.Linear)]

    @torch.no_grad()
    def reset_parameters(self, init: str = "paper", std: float = 0.01) -> None:
        """``"paper"``: weights N(0, std²), biases 1 in the table's ``bias_one`` layers (conv2,
        conv4, conv5, fc6, fc7), else 0; ``"zf"``: weights N(0, std²), biases 0; ``"default"``:
        PyTorch's initialisation of every layer.

        AlexNet §5: biases of 1 "accelerate the early stages of learning by providing the
        ReLUs with positive inputs"; ZFNet sets all biases to 0.
        """
        if init not in ("paper", "zf", "default"):
            raise DcnnValueError(f"AlexNet.reset_parameters: init must be 'paper', 'zf' or 'default', got {init!r}")
        layers = [*self.convs(), *self.linears()]
        if init == "default":
            for layer in layers:
                layer.reset_parameters()
            return
        bias_one = self.arch.bias_one if init == "paper" else ()
        names = [f"conv{i}" for i in range(1, len(self.convs()) + 1)] + \
                [f"fc{j}" for j in range(6, 6 + len(self.linears()))]
        for name, layer in zip(names, layers):
            nn.init.normal_(layer.weight, 0.0, std)
            nn.init.constant_(layer.bias, 1.0 if name in bias_one else 0.0)

    @torch.no_grad()
    def renormalize_filters_(self, max_rms: float = 0.1) -> int:
        """ZFNet §3: rescale every conv filter whose RMS exceeds ``max_rms`` to ``max_rms``.

        Returns how many filters were rescaled.
        """
        count = 0
        for conv in self.convs():
            rms = conv.weight.pow(2).mean(dim=(1, 2, 3), keepdim=True).sqrt()
            over = rms > max_rms * (1 + 1e-5)   # a filter rescaled before sits at max_rms ± rounding
            conv.weight.mul_(torch.where(over, max_rms / rms, torch.ones_like(rms)))
            count += int(over.sum())
        return count


# ---------------------------------------------------------------------------------------------
@register_model(task="classification", paper=PAPER_OWT, year=2014, input_size=(3, 224, 224),
                published=Published(params=Figure(61_100_840, TORCHVISION), gmacs=Figure(0.714, TORCHVISION),
                                    top1=Figure(56.522, TORCHVISION), top5=Figure(79.066, TORCHVISION)),
                test=TestSettings(torchvision="alexnet"))
def alexnet(num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> AlexNet:
    """torchvision's AlexNet: the single-GPU "one weird trick" network (64-192-384-256-256, no LRN)."""
    return AlexNet(ALEXNET_OWT, num_classes, (in_channels, 224, 224), dropout=dropout, name="alexnet")


@register_model(task="classification", paper=PAPER, year=2012, input_size=(3, 224, 224),
                published=Published(params=Figure(60_965_224, "computed from the paper's §3 layer sizes"), other={
                    "top1_error": Figure(40.7, "paper, Table 2", "1 CNN, validation"),
                    "top5_error": Figure(18.2, "paper, Table 2", "1 CNN, validation"),
                    "top5_error_5nets": Figure(16.4, "paper, Table 2", "5 CNNs, test"),
                    "top5_error_7nets_22k": Figure(15.3, "paper, Table 2", "7 CNNs with ImageNet-22k pre-training, test")}))
def alexnet_paper(num_classes: int = 1000, in_channels: int = 3, lrn: bool = True, dropout: float = 0.5,
                  activation: str = "relu", init: str = "paper") -> AlexNet:
    """AlexNet as published in 2012: two towers (grouped conv2/4/5), LRN, overlapping pooling, dropout."""
    return AlexNet(ALEXNET_2012, num_classes, (in_channels, 224, 224), activation, lrn, dropout, init,
                   name="alexnet_paper")


@register_model(task="classification", paper=PAPER_ZF, year=2014, input_size=(3, 224, 224),
                published=Published(params=Figure(62_357_608, "computed from the paper's Figure 3 layer sizes"), other={
                    "top5_error_6nets": Figure(14.8, "paper, Table 2", "6 convnets, test")}))
def zfnet(num_classes: int = 1000, in_channels: int = 3, lrn: bool = True, dropout: float = 0.5,
          activation: str = "relu", init: str = "zf") -> AlexNet:
    """ZFNet (Figure 3): 7×7/2 conv1, 5×5/2 conv2, dense connections, normalisation after pooling."""
    return AlexNet(ZFNET_2014, num_classes, (in_channels, 224, 224), activation, lrn, dropout, init, name="zfnet")


BOOK_SCALE = " (book scale: conv widths ÷ 4, FC 512, 64×64 grey)"


@register_model(task="classification", paper=PAPER + BOOK_SCALE, year=2012, input_size=(1, 64, 64))
def alexnet_small(num_classes: int = 10, input_size: tuple[int, int, int] = (1, 64, 64), lrn: bool = True,
                  dropout: float = 0.5, activation: str = "relu") -> AlexNet:
    """alexnet_paper's table at Fashion-MNIST scale: conv widths ÷ 4, FC 512, 64×64 inputs."""
    return AlexNet(ALEXNET_SMALL, num_classes, input_size, activation, lrn, dropout, name="alexnet_small")


@register_model(task="classification", paper=PAPER_ZF + BOOK_SCALE, year=2014, input_size=(1, 64, 64))
def zfnet_small(num_classes: int = 10, input_size: tuple[int, int, int] = (1, 64, 64), lrn: bool = True,
                dropout: float = 0.5, activation: str = "relu") -> AlexNet:
    """zfnet's table at Fashion-MNIST scale: conv widths ÷ 4, FC 512, 64×64 inputs."""
    return AlexNet(ZFNET_SMALL, num_classes, input_size, activation, lrn, dropout, name="zfnet_small")
