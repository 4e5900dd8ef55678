"""DenseNet: Huang, Liu, van der Maaten & Weinberger, "Densely Connected Convolutional Networks",
CVPR 2017 (arXiv August 2016; CVPR 2017 best paper award).

Every network here is one :class:`DenseNet`: a stem, dense blocks separated by transition
layers (:mod:`dcnn_lib.layers.dense_block`, :mod:`dcnn_lib.layers.transition`), a final
BN-ReLU, global average pooling and one fully connected layer. The families differ only in data.

ImageNet, Table 1 (:data:`IMAGENET`; all are DenseNet-BC: bottleneck 4k, compression θ = 0.5)::

    conv0     7×7, 2k, stride 2                     N x 64 x 112 x 112   (DenseNet-121)
    pool0     3×3 max, stride 2                     N x 64 x 56 x 56
    denseblock1  6 × [1×1 4k, 3×3 k]                N x 256 x 56 x 56
    transition1  1×1, 2×2 avg pool                  N x 128 x 28 x 28
    denseblock2  12 × [1×1 4k, 3×3 k]               N x 512 x 28 x 28
    transition2                                     N x 256 x 14 x 14
    denseblock3  24 × [1×1 4k, 3×3 k]               N x 1024 x 14 x 14
    transition3                                     N x 512 x 7 x 7
    denseblock4  16 × [1×1 4k, 3×3 k]               N x 1024 x 7 x 7
    norm5, ReLU, global avg pool, fc 1000           N x 1000

    121: k=32 (6, 12, 24, 16)   169: k=32 (6, 12, 32, 32)   201: k=32 (6, 12, 48, 32)
    264: k=32 (6, 12, 64, 48)   161: k=48 (6, 12, 36, 24), 96 initial maps

The names count weighted layers: two convolutions per dense layer, the stem, three
transitions and the fc (2·58 + 5 = 121). Table 1's DenseNet-264 layout has 2·130 + 5 = 265.

CIFAR, Table 2 (:func:`densenet_cifar`, :data:`TABLE2`): three dense blocks on 32×32, 16×16
and 8×8 maps, as in the authors' Torch code (``liuzhuang13/DenseNet``, ``densenet.lua``):

- DenseNet (L, k): a 3×3 convolution with 16 filters, (L − 4)/3 layers BN-ReLU-3×3 conv per
  block, transitions without compression;
- DenseNet-BC (L, k): a 3×3 convolution with 2k filters, (L − 4)/6 bottleneck layers
  (BN-ReLU-1×1 conv 4k, BN-ReLU-3×3 conv k) per block, transitions with θ = 0.5.

L counts the weighted layers: the first convolution, the dense layers' convolutions, the two
transitions and the classifier (3·(L − 4)/3 + 4 = L).

Registered models and their deviations from the papers:

- ``densenet121``, ``densenet161``, ``densenet169``, ``densenet201``: torchvision's networks
  layer for layer and name for name; its state dicts load. The paper's 7×7 stem convolution
  has 2k filters: 64 for k = 32, 96 for DenseNet-161 (k = 48).
- ``densenet40_cifar`` (L = 40, k = 12, 1,019,722 parameters) and ``densenet_bc100_cifar``
  (DenseNet-BC, L = 100, k = 12, 769,162): Table 2's smallest networks. Every other row
  (and any other L, k) is ``densenet_cifar(depth, growth_rate, bc)`` or
  ``get("densenet40_cifar", depth=100, growth_rate=24)``.
- Dropout (``drop_rate``, 0 by default): the paper's CIFAR runs without augmentation use 0.2
  after every convolution but the first; so does this code. torchvision applies it after the
  dense layers' last convolution only (the two agree at 0, the default everywhere).
- Initialisation: He et al. normal (fan-in) for convolutions, BN weights 1 and biases 0,
  classifier bias 0 (torchvision's; the Torch code draws the convolutions with fan-out).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Sequence

import torch.nn as nn

from ...errors import DcnnValueError
from ...layers import DenseBlock, Transition, compressed, guard_inputs
from ...registry import Figure, Published, TestSettings, register_model
from ..backbones import Stage

PAPER = "Huang, Liu, van der Maaten & Weinberger, Densely connected convolutional networks, CVPR 2017"

# Table 1: growth rate k, layers per dense block, maps of the stem (2k).
IMAGENET: dict[int, tuple[int, tuple[int, ...], int]] = {
    121: (32, (6, 12, 24, 16), 64),
    161: (48, (6, 12, 36, 24), 96),
    169: (32, (6, 12, 32, 32), 64),
    201: (32, (6, 12, 48, 32), 64),
    264: (32, (6, 12, 64, 48), 64),
}
# torchvision 0.29 metadata: parameters, GMACs at 224x224, ImageNet acc@1, acc@5.
TORCHVISION = {121: (7_978_856, 2.834, 74.434, 91.972), 161: (28_681_000, 7.728, 77.138, 93.560),
               169: (14_149_480, 3.360, 75.600, 92.806), 201: (20_013_928, 4.291, 76.896, 93.370)}
# Table 3: ImageNet validation error (top-1, top-5) %, single-crop / 10-crop.
TABLE3 = {121: ((25.02, 7.71), (23.61, 6.66)), 169: ((23.80, 6.85), (22.08, 5.92)),
          201: ((22.58, 6.34), (21.46, 5.54)), 264: ((22.15, 6.12), (20.80, 5.29))}


def _row(params_m: float, *errors: float | None) -> dict[str, Any]:
    return {"params_m": params_m, **dict(zip(("c10", "c10+", "c100", "c100+"), errors))}


# Table 2: (depth L, growth rate k, BC) -> parameters (millions) and error rates % on CIFAR-10
# and CIFAR-100 without / with ("+") standard augmentation; None: not reported.
TABLE2: dict[tuple[int, int, bool], dict[str, Any]] = {
    (40, 12, False): _row(1.0, 7.00, 5.24, 27.55, 24.42),
    (100, 12, False): _row(7.0, 5.77, 4.10, 23.79, 20.20),
    (100, 24, False): _row(27.2, 5.83, 3.74, 23.42, 19.25),
    (100, 12, True): _row(0.8, 5.92, 4.51, 24.15, 22.27),
    (250, 24, True): _row(15.3, 5.19, 3.62, 19.64, 17.60),
    (190, 40, True): _row(25.6, None, 3.46, None, 17.18),
}


class DenseNet(nn.Sequential):
    """Stem, dense blocks with transitions between them, BN-ReLU, global average pooling, fc.

    Args:
        block_config: layers per dense block, e.g. ``(6, 12, 24, 16)``.
        growth_rate: k.
        num_init_features: maps of the stem convolution (2k in DenseNet-BC, 16 in DenseNet).
        bn_size: bottleneck width in multiples of k (4); ``None``: no bottleneck.
        compression: θ of the transitions (0.5 in DenseNet-BC, 1 in DenseNet).
        drop_rate: dropout after each convolution but the first.
        stem: ``"imagenet"`` (7×7/2 conv, BN, ReLU, 3×3/2 max pool) or ``"cifar"`` (one 3×3 conv).
        num_classes, in_channels: output classes and input channels.
        memory_efficient: checkpointed dense layers (same outputs, less activation memory).

    Children: ``features`` (torchvision's names: ``conv0``, ``norm0``, ``relu0``, ``pool0``,
    ``denseblock1``, ``transition1``, …, ``norm{B+1}``), ``relu``, ``avgpool``, ``flatten``,
    ``classifier``. ``feature_info`` lists each dense block's ``Stage`` (path, channels, stride).

    Shapes: ``(N, in_channels, H, W) -> (N, num_classes)``.
    """

    def __init__(self, block_config: Sequence[int], growth_rate: int = 32, num_init_features: int = 64,
                 bn_size: int | None = 4, compression: float = 0.5, drop_rate: float = 0.0, *,
                 stem: str = "imagenet", num_classes: int = 1000, in_channels: int = 3,
                 memory_efficient: bool = False) -> None:
        if stem not in ("imagenet", "cifar"):
            raise DcnnValueError(f"DenseNet: stem must be 'imagenet' or 'cifar', got {stem!r}")
        if not block_config or min(block_config) < 1:
            raise DcnnValueError(f"DenseNet: block_config needs one or more blocks of >= 1 layer, got {block_config!r}")
        compressed(num_init_features, compression)  # checks 0 < θ <= 1
        f: OrderedDict[str, nn.Module] = OrderedDict()
        if stem == "imagenet":
            f["conv0"] = nn.Conv2d(in_channels, num_init_features, 7, stride=2, padding=3, bias=False)  # N x 2k x 112 x 112
            f["norm0"] = nn.BatchNorm2d(num_init_features)
            f["relu0"] = nn.ReLU(inplace=True)
            f["pool0"] = nn.MaxPool2d(3, stride=2, padding=1)                                    # N x 2k x 56 x 56
            reduction = 4
        else:
            f["conv0"] = nn.Conv2d(in_channels, num_init_features, 3, padding=1, bias=False)    # N x 16 x 32 x 32
            reduction = 1
        channels, feature_info = num_init_features, []
        for i, n in enumerate(block_config):
            block = DenseBlock(n, channels, growth_rate, bn_size, drop_rate, memory_efficient)
            f[f"denseblock{i + 1}"] = block                     # N x (c + n·k) x H/reduction x W/reduction
            channels = block.out_channels
            feature_info.append(Stage(f"features.denseblock{i + 1}", channels, reduction))
            if i < len(block_config) - 1:
                f[f"transition{i + 1}"] = Transition(channels, compressed(channels, compression), drop_rate)
                channels = f[f"transition{i + 1}"].out_channels  # N x ⌊θc⌋ x H/2 x W/2
                reduction *= 2
        f[f"norm{len(block_config) + 1}"] = nn.BatchNorm2d(channels)
        super().__init__(OrderedDict([
            ("features", nn.Sequential(f)),
            ("relu", nn.ReLU(inplace=True)),
            ("avgpool", nn.AdaptiveAvgPool2d(1)),               # N x C x 1 x 1
            ("flatten", nn.Flatten()),                          # N x C
            ("classifier", nn.Linear(channels, num_classes)),   # N x num_classes
        ]))
        # the backbone contract (dcnn_lib.models.backbones): the last stage ends at the final batch norm
        feature_info[-1] = Stage(f"features.norm{len(block_config) + 1}", channels, reduction)
        self.feature_info, self.classifier_name = tuple(feature_info), "classifier"
        self.num_features, self.num_classes = channels, num_classes
        self.config = {"block_config": tuple(block_config), "growth_rate": growth_rate,
                       "num_init_features": num_init_features, "bn_size": bn_size,
                       "compression": compression, "drop_rate": drop_rate, "stem": stem}
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)
        size = 224 if stem == "imagenet" else 32
        guard_inputs(self, "DenseNet", expected=(in_channels, size, size))

    def dense_blocks(self) -> list[tuple[str, DenseBlock]]:
        """``(name, block)`` of every dense block, in order."""
        return [(n, m) for n, m in self.features.named_children() if isinstance(m, DenseBlock)]

    def set_memory_efficient(self, on: bool = True) -> "DenseNet":
        """Switch every dense layer between kept and recomputed concatenations (in place)."""
        for _, block in self.dense_blocks():
            block.set_memory_efficient(on)
        return self


def imagenet_densenet(depth: int, **overrides: Any) -> DenseNet:
    """DenseNet-``depth`` of Table 1 (121, 161, 169, 201, 264); ``overrides`` go to :class:`DenseNet`."""
    if depth not in IMAGENET:
        raise DcnnValueError(f"imagenet_densenet: depth must be one of {tuple(IMAGENET)}, got {depth}")
    k, blocks, init = IMAGENET[depth]
    return DenseNet(**{"block_config": blocks, "growth_rate": k, "num_init_features": init, **overrides})


def cifar_layers(depth: int, bc: bool) -> int:
    """Dense layers per block of a CIFAR DenseNet of ``depth`` weighted layers:
    (L − 4)/3 plain layers, or (L − 4)/6 bottleneck layers (two convolutions each)."""
    per = 6 if bc else 3
    if depth < 4 + per or (depth - 4) % per:
        raise DcnnValueError(f"cifar_layers: a CIFAR DenseNet{'-BC' if bc else ''} has {per}n + 4 layers "
                         f"(n >= 1), got depth {depth}")
    return (depth - 4) // per


def densenet_cifar(depth: int = 40, growth_rate: int = 12, bc: bool = False, *, num_classes: int = 10,
                   in_channels: int = 3, **overrides: Any) -> DenseNet:
    """One row of Table 2: DenseNet (L, k) or, with ``bc=True``, DenseNet-BC (L, k)."""
    n = cifar_layers(depth, bc)
    config = {"block_config": (n, n, n), "growth_rate": growth_rate,
              "num_init_features": 2 * growth_rate if bc else 16,
              "bn_size": 4 if bc else None, "compression": 0.5 if bc else 1.0, "stem": "cifar"}
    return DenseNet(**{**config, **overrides}, num_classes=num_classes, in_channels=in_channels)


# ---- the registry --------------------------------------------------------------------------------
_TV = "torchvision weights metadata (IMAGENET1K_V1)"
_COUNTED = "counted from the architecture (the authors' Torch layout; tests/test_dense.py in closed form)"


def _imagenet_published(depth: int) -> Published:
    params, gmacs, top1, top5 = TORCHVISION[depth]
    other = {}
    if depth in TABLE3:
        (e1, e5), (e1_10, e5_10) = TABLE3[depth]
        other = {"top1_error": Figure(e1, "paper, Table 3", "single-crop, validation"),
                 "top5_error": Figure(e5, "paper, Table 3", "single-crop, validation"),
                 "top1_error_10crop": Figure(e1_10, "paper, Table 3", "10-crop, validation"),
                 "top5_error_10crop": Figure(e5_10, "paper, Table 3", "10-crop, validation")}
    return Published(params=Figure(params, _TV), gmacs=Figure(gmacs, _TV), top1=Figure(top1, _TV),
                     top5=Figure(top5, _TV), other=other)


def _torchvision_densenet(builder):
    """Register ``densenet<depth>`` with torchvision's figures and the paper's Table 3."""
    depth = int(builder.__name__[len("densenet"):])
    return register_model(task="classification", paper=PAPER, year=2017, input_size=(3, 224, 224),
                          published=_imagenet_published(depth),
                          test=TestSettings(input_size=(3, 32, 32), torchvision=builder.__name__))(builder)


@_torchvision_densenet
def densenet121(num_classes: int = 1000, in_channels: int = 3, **overrides: Any) -> DenseNet:
    """DenseNet-121 (k = 32, blocks 6-12-24-16), as torchvision builds it."""
    return imagenet_densenet(121, num_classes=num_classes, in_channels=in_channels, **overrides)


@_torchvision_densenet
def densenet161(num_classes: int = 1000, in_channels: int = 3, **overrides: Any) -> DenseNet:
    """DenseNet-161 (k = 48, blocks 6-12-36-24, 96 stem maps), as torchvision builds it."""
    return imagenet_densenet(161, num_classes=num_classes, in_channels=in_channels, **overrides)


@_torchvision_densenet
def densenet169(num_classes: int = 1000, in_channels: int = 3, **overrides: Any) -> DenseNet:
    """DenseNet-169 (k = 32, blocks 6-12-32-32), as torchvision builds it."""
    return imagenet_densenet(169, num_classes=num_classes, in_channels=in_channels, **overrides)


@_torchvision_densenet
def densenet201(num_classes: int = 1000, in_channels: int = 3, **overrides: Any) -> DenseNet:
    """DenseNet-201 (k = 32, blocks 6-12-48-32), as torchvision builds it."""
    return imagenet_densenet(201, num_classes=num_classes, in_channels=in_channels, **overrides)


# Exact counts of Table 2's two smallest rows at 10 classes (tests/test_dense.py recomputes
# them in closed form for every row).
CIFAR_PARAMS = {(40, 12, False): 1_019_722, (100, 12, True): 769_162}
_TABLE2_KEYS = {"c10": "cifar10_error", "c10+": "cifar10_aug_error", "c100": "cifar100_error",
                "c100+": "cifar100_aug_error"}


def _cifar_published(row: tuple[int, int, bool]) -> Published:
    t2 = TABLE2[row]
    other = {"params_m": Figure(t2["params_m"], "paper, Table 2")}
    other.update({key: Figure(t2[col], "paper, Table 2", "test error %" + (", standard augmentation" if "+" in col else ""))
                  for col, key in _TABLE2_KEYS.items() if t2[col] is not None})
    return Published(params=Figure(CIFAR_PARAMS[row], _COUNTED), other=other)


def _cifar_densenet(row: tuple[int, int, bool]):
    return register_model(task="classification", paper=PAPER, year=2017, input_size=(3, 32, 32),
                          published=_cifar_published(row))


@_cifar_densenet((40, 12, False))
def densenet40_cifar(num_classes: int = 10, in_channels: int = 3, depth: int = 40, growth_rate: int = 12,
                     **overrides: Any) -> DenseNet:
    """DenseNet (L = 40, k = 12) of Table 2: 3 blocks of 12 BN-ReLU-3×3 layers, no compression."""
    return densenet_cifar(depth, growth_rate, False, num_classes=num_classes, in_channels=in_channels, **overrides)


@_cifar_densenet((100, 12, True))
def densenet_bc100_cifar(num_classes: int = 10, in_channels: int = 3, depth: int = 100, growth_rate: int = 12,
                         **overrides: Any) -> DenseNet:
    """DenseNet-BC (L = 100, k = 12) of Table 2: 3 blocks of 16 bottleneck layers, θ = 0.5."""
    return densenet_cifar(depth, growth_rate, True, num_classes=num_classes, in_channels=in_channels, **overrides)


# ---- scaled down for Fashion-MNIST (28×28 grey) on two CPU cores ----------------------------------
@register_model(task="classification", paper=PAPER + " (scaled for 28×28 images)", year=2017,
                input_size=(1, 28, 28), published=Published(params=Figure(257_746, "counted from the architecture")))
def densenet_small(num_classes: int = 10, in_channels: int = 1, block_config: Sequence[int] = (2, 4, 6),
                   growth_rate: int = 24, num_init_features: int = 24, bn_size: int | None = None,
                   compression: float = 0.5, **overrides: Any) -> DenseNet:
    """A DenseNet for 28×28 images: 3×3 stem, dense blocks of 2, 4, 6 layers (k = 24) at 28, 14, 7.

    The CIFAR layout (one 3×3 stem convolution, no pooling before the first block) with
    transitions that halve the channels (θ = 0.5) and without bottlenecks: on a CPU the extra
    batch norm and 1×1 convolution of a bottleneck layer cost more time than they save in
    multiply-adds at 28×28. Blocks grow deeper where the maps are smaller.
    """
    return DenseNet(block_config, growth_rate, num_init_features, bn_size, compression, stem="cifar",
                    num_classes=num_classes, in_channels=in_channels, **overrides)
