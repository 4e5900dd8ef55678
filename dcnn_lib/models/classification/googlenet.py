"""GoogLeNet (Inception v1): Szegedy, Liu, Jia, Sermanet, Reed, Anguelov, Erhan, Vanhoucke,
Rabinovich, "Going deeper with convolutions", CVPR 2015.

Reads top to bottom like the paper's Table 1 (input 224×224×3)::

    conv1      7×7/2, 64                      N x 64 x 112 x 112
    maxpool1   3×3/2                          N x 64 x 56 x 56      (then LRN in the paper)
    conv2      1×1, 64   ("3×3 reduce")       N x 64 x 56 x 56
    conv3      3×3, 192                       N x 192 x 56 x 56     (then LRN in the paper)
    maxpool2   3×3/2                          N x 192 x 28 x 28
    inception 3a, 3b                          N x 480 x 28 x 28
    maxpool3   3×3/2                          N x 480 x 14 x 14
    inception 4a .. 4e                        N x 832 x 14 x 14     (aux heads on 4a and 4d)
    maxpool4   3×3/2                          N x 832 x 7 x 7
    inception 5a, 5b                          N x 1024 x 7 x 7
    avgpool    7×7/1, dropout 40%, linear     N x 1000

Each inception row of Table 1 is data (:data:`TABLE1`, a :class:`Row` of filter counts) turned
into a module by :func:`dcnn_lib.layers.googlenet_module`. The pooling layers use Caffe's
"ceil" rounding, as the reference implementation did (112 → 56 → 28 → 14 → 7).

Two registered versions of the same network:

- ``googlenet_paper``: as published. 5×5 convolutions, convolutions with biases and no batch
  norm, local response normalisation after the first pooling and after conv3 (Caffe's
  reference values, ``size 5, α 1e-4/5, β 0.75, k 1``, in the paper's parameterisation of
  :class:`~dcnn_lib.layers.LocalResponseNorm`), auxiliary classifiers on 4a and 4d (avg
  pool 5×5/3, 1×1 conv 128, FC 1024, dropout 70%, loss weight 0.3 — see
  :data:`AUX_LOSS_WEIGHT`), dropout 40% before the last layer, max pool 3×3/2 before 5a.
- ``googlenet``: torchvision's twin, for its ported weights. Batch norm after every
  convolution (eps 1e-3, no bias), no LRN, **3×3 convolutions where the paper has 5×5** (the
  "5×5" branches of torchvision's port are 3×3: "a known bug", pytorch/vision#906, kept for
  compatibility with the weights), max pool 2×2/2 before 5a, dropout 20%, auxiliary heads
  with adaptive 4×4 pooling, and ``aux_logits=False`` by default: torchvision's ImageNet
  model has no auxiliary heads (6,624,904 parameters; with them 13,004,888).
  ``transform_input=True`` converts ImageNet-normalised input to the [-1, 1] scaling the
  weights expect (torchvision switches it on with the weights).

Departures from the paper shared by both: the global average pooling is adaptive (equal to
the paper's 7×7/1 average on a 224×224 input; other sizes still run); initialisation is He
(Kaiming) normal for convolutions — the paper (trained with DistBelief) does not state one,
and Caffe's reference model used Xavier weights with a 0.2 bias. The photometric and
scale augmentation, Polyak averaging and the 144-crop test of §6 are training and testing
protocol, not architecture.

``googlenet_small`` is the same builder for 28×28 grey images (Fashion-MNIST): a 3×3 stem at
stride 1 in place of the 7×7/2 convolution and the first pooling, every filter count of
Table 1 times ``width`` (¼ by default), batch norm, auxiliary heads with adaptive pooling.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn as nn

from ...layers import (ConvBNAct, Inception, InceptionAux, InceptionInputTransform, LocalResponseNorm,
                       googlenet_module, guard_inputs)
from ...registry import Figure, Published, TestSettings, register_model

PAPER = "Szegedy et al., Going deeper with convolutions, CVPR 2015"


class Row(NamedTuple):
    """One inception row of Table 1: the filter counts of the module's branches."""

    c1x1: int
    c3x3_reduce: int
    c3x3: int
    c5x5_reduce: int
    c5x5: int
    pool_proj: int
    pool: str = "max"     # the pooling branch: "max" or "avg" (BN-Inception)
    stride: int = 1       # 2: a grid-reduction module (BN-Inception 3c, 4e)


POOL = None  # a body entry that is a 3×3/2 max pooling between stages

# Table 1, the body after the stem: #1×1, #3×3 reduce, #3×3, #5×5 reduce, #5×5, pool proj.
TABLE1: tuple[tuple[str, Row | None], ...] = (
    ("inception3a", Row(64, 96, 128, 16, 32, 32)),        # N x 256 x 28 x 28
    ("inception3b", Row(128, 128, 192, 32, 96, 64)),      # N x 480 x 28 x 28
    ("maxpool3", POOL),                                   # N x 480 x 14 x 14
    ("inception4a", Row(192, 96, 208, 16, 48, 64)),       # N x 512 x 14 x 14
    ("inception4b", Row(160, 112, 224, 24, 64, 64)),      # N x 512 x 14 x 14
    ("inception4c", Row(128, 128, 256, 24, 64, 64)),      # N x 512 x 14 x 14
    ("inception4d", Row(112, 144, 288, 32, 64, 64)),      # N x 528 x 14 x 14
    ("inception4e", Row(256, 160, 320, 32, 128, 128)),    # N x 832 x 14 x 14
    ("maxpool4", POOL),                                   # N x 832 x 7 x 7
    ("inception5a", Row(256, 160, 320, 32, 128, 128)),    # N x 832 x 7 x 7
    ("inception5b", Row(384, 192, 384, 48, 128, 128)),    # N x 1024 x 7 x 7
)

# Table 1 as printed: output size, depth, params and ops of every row that has them
# ("K" and "M" as in the paper; the chapter recomputes them and explains the differences).
TABLE1_PRINTED: dict[str, dict[str, str | int]] = {
    "conv1":       {"output": "112×112×64", "depth": 1, "params": "2.7K", "ops": "34M"},
    "maxpool1":    {"output": "56×56×64", "depth": 0},
    "conv2+conv3": {"output": "56×56×192", "depth": 2, "params": "112K", "ops": "360M"},
    "maxpool2":    {"output": "28×28×192", "depth": 0},
    "inception3a": {"output": "28×28×256", "depth": 2, "params": "159K", "ops": "128M"},
    "inception3b": {"output": "28×28×480", "depth": 2, "params": "380K", "ops": "304M"},
    "maxpool3":    {"output": "14×14×480", "depth": 0},
    "inception4a": {"output": "14×14×512", "depth": 2, "params": "364K", "ops": "73M"},
    "inception4b": {"output": "14×14×512", "depth": 2, "params": "437K", "ops": "88M"},
    "inception4c": {"output": "14×14×512", "depth": 2, "params": "463K", "ops": "100M"},
    "inception4d": {"output": "14×14×528", "depth": 2, "params": "580K", "ops": "119M"},
    "inception4e": {"output": "14×14×832", "depth": 2, "params": "840K", "ops": "170M"},
    "maxpool4":    {"output": "7×7×832", "depth": 0},
    "inception5a": {"output": "7×7×832", "depth": 2, "params": "1072K", "ops": "54M"},
    "inception5b": {"output": "7×7×1024", "depth": 2, "params": "1388K", "ops": "71M"},
    "avgpool":     {"output": "1×1×1024", "depth": 0},
    "dropout":     {"output": "1×1×1024", "depth": 0},
    "fc":          {"output": "1×1×1000", "depth": 1, "params": "1000K", "ops": "1M"},
}

AUX_LOSS_WEIGHT = 0.3   # §5: "their loss is added to the total loss of the network with a discount weight"
AUX_AFTER = ("inception4a", "inception4d")

# Caffe's bvlc_googlenet LRN (local_size 5, alpha 1e-4, beta 0.75, k 1) in the paper parameterisation.
LRN_CAFFE = dict(size=5, alpha=1e-4 / 5, beta=0.75, k=1.0)

NORMS = ("batch", "lrn", "none")
STEMS = ("imagenet", "small")


class GoogLeNet(nn.Module):
    """The GoogLeNet family: a stem, a table of inception rows and pools, average pool, FC.

    Args:
        num_classes, in_channels: outputs and input channels.
        table: ``((name, Row | None), ...)``; ``None`` is a 3×3/2 max pooling.
        norm: ``"batch"`` (batch norm in every convolution unit), ``"lrn"`` (the paper: LRN in
            the stem, biases, no batch norm) or ``"none"``.
        branch5: ``"5x5"`` (paper), ``"3x3"`` (torchvision) or ``"double3x3"`` (BN-Inception).
        stem: ``"imagenet"`` (7×7/2 conv, pool, 1×1, 3×3, pool) or ``"small"`` (3×3/1 conv,
            1×1, 3×3, pool: for 28×28 inputs).
        aux_logits: auxiliary classifiers after the modules named in ``aux_after``.
        aux_pool: ``"paper"`` (avg 5×5/3) or ``"adaptive"`` (4×4, torchvision).
        dropout, aux_dropout: drop probabilities before the last FC layers.
        last_pool: kernel of the pooling before 5a (3: paper, 2: torchvision).
        width: multiplies every filter count (and the auxiliary heads' widths).
        transform_input: see :class:`~dcnn_lib.layers.InceptionInputTransform`.
        bn_eps: batch-norm epsilon.
        input_size: ``(C, H, W)`` quoted by the input checks.

    Returns logits ``(N, num_classes)``; in training mode with auxiliary heads, the tuple
    ``(logits, aux1, aux2, ...)`` (``dcnn_lib.train.fit`` adds the auxiliary losses).
    """

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, *,
                 table: tuple[tuple[str, Row | None], ...] = TABLE1, norm: str = "lrn",
                 branch5: str = "5x5", stem: str = "imagenet", aux_logits: bool = True,
                 aux_after: tuple[str, ...] = AUX_AFTER, aux_pool: str = "paper",
                 dropout: float = 0.4, aux_dropout: float = 0.7, last_pool: int = 3,
                 width: float = 1.0, transform_input: bool = False, bn_eps: float = 1e-3,
                 input_size: tuple[int, int, int] | None = None) -> None:
        super().__init__()
        if norm not in NORMS:
            raise ValueError(f"GoogLeNet: norm must be one of {NORMS}, got {norm!r}")
        if stem not in STEMS:
            raise ValueError(f"GoogLeNet: stem must be one of {STEMS}, got {stem!r}")
        if transform_input and in_channels != 3:
            raise ValueError("GoogLeNet: transform_input needs RGB input (in_channels=3)")
        bn = norm == "batch"

        def ch(n: int) -> int:
            return max(1, round(n * width)) if n else 0

        def unit(c_in: int, c_out: int, k: int, s: int = 1) -> ConvBNAct:
            return ConvBNAct(c_in, c_out, k, s, "same", norm=bn, eps=bn_eps)

        def lrn() -> nn.Module:
            return LocalResponseNorm(**LRN_CAFFE) if norm == "lrn" else nn.Identity()

        self.input_transform = InceptionInputTransform() if transform_input else nn.Identity()
        # ---- stem ---------------------------------------------------------------------------
        stem_layers: list[tuple[str, nn.Module]] = []
        if stem == "imagenet":
            stem_layers += [("conv1", unit(in_channels, ch(64), 7, 2)),               # N x 64 x 112 x 112
                            ("maxpool1", nn.MaxPool2d(3, 2, ceil_mode=True)),          # N x 64 x 56 x 56
                            ("norm1", lrn())]
        else:
            stem_layers += [("conv1", unit(in_channels, ch(64), 3))]                  # N x 16 x 28 x 28
        stem_layers += [("conv2", unit(ch(64), ch(64), 1)),                           # N x 64 x 56 x 56
                        ("conv3", unit(ch(64), ch(192), 3)),                          # N x 192 x 56 x 56
                        ("norm2", lrn()),
                        ("maxpool2", nn.MaxPool2d(3, 2, ceil_mode=True))]             # N x 192 x 28 x 28
        self._order: list[str] = []
        for name, module in stem_layers:
            if norm == "lrn" or not name.startswith("norm"):
                self.add_module(name, module)
                self._order.append(name)
        # ---- inception rows and pools ---------------------------------------------------------
        channels = ch(192)
        self.module_channels: dict[str, int] = {}
        pools = [n for n, r in table if r is None]
        for name, row in table:
            if row is None:
                k = last_pool if name == pools[-1] else 3
                module = nn.MaxPool2d(k, 2, ceil_mode=True)
            else:
                module = Inception(channels, googlenet_module(
                    ch(row.c1x1), ch(row.c3x3_reduce), ch(row.c3x3), ch(row.c5x5_reduce), ch(row.c5x5),
                    ch(row.pool_proj), branch5=branch5, pool=row.pool, stride=row.stride), norm=bn, eps=bn_eps)
                channels = module.out_channels
                self.module_channels[name] = channels
            self.add_module(name, module)
            self._order.append(name)
        # ---- auxiliary classifiers, head --------------------------------------------------------
        self.aux_logits = aux_logits
        self._aux: dict[str, str] = {}
        if aux_logits:
            for i, where in enumerate(aux_after, 1):
                if where not in self.module_channels:
                    raise ValueError(f"GoogLeNet: aux_after names {where!r}, not an inception row of the table")
                self.add_module(f"aux{i}", InceptionAux(
                    self.module_channels[where], num_classes, pool=aux_pool, norm=bn, dropout=aux_dropout,
                    width=ch(128), hidden=ch(1024)))
                self._aux[where] = f"aux{i}"
        self.avgpool = nn.AdaptiveAvgPool2d(1)                                         # N x 1024 x 1 x 1
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, num_classes)                                     # N x num_classes
        self.num_classes, self.num_features = num_classes, channels
        self._init_weights()
        default = (in_channels, 224, 224) if stem == "imagenet" else (in_channels, 28, 28)
        guard_inputs(self, "GoogLeNet", expected=input_size or default)

    @torch.no_grad()
    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def features(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The maps before the average pooling, and the auxiliary logits (training mode only)."""
        x = self.input_transform(x)
        aux: list[torch.Tensor] = []
        for name in self._order:
            x = self._modules[name](x)
            if self.training and name in self._aux:
                aux.append(self._modules[self._aux[name]](x))
        return x, aux

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        x, aux = self.features(x)
        x = self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))
        return (x, *aux) if aux else x


_TV = "torchvision weights metadata (IMAGENET1K_V1)"


@register_model(task="classification", paper=PAPER, year=2014, input_size=(3, 224, 224),
                published=Published(other={
                    "top5_error": Figure(10.07, "paper, §7", "1 model, 1 crop, validation"),
                    "top5_error_7nets": Figure(6.67, "paper, §7", "7 models, 144 crops, ILSVRC 2014 test")}))
def googlenet_paper(num_classes: int = 1000, in_channels: int = 3, aux_logits: bool = True) -> GoogLeNet:
    """GoogLeNet as published: 5×5 branches, LRN, no batch norm, auxiliary heads on 4a and 4d."""
    return GoogLeNet(num_classes, in_channels, norm="lrn", branch5="5x5", aux_logits=aux_logits,
                     aux_pool="paper", dropout=0.4, aux_dropout=0.7, last_pool=3)


@register_model(task="classification", paper=PAPER + " (torchvision's port)", year=2014,
                input_size=(3, 224, 224),
                published=Published(params=Figure(6_624_904, _TV), gmacs=Figure(1.498, _TV),
                                    top1=Figure(69.778, _TV), top5=Figure(89.530, _TV),
                                    other={"params_with_aux": Figure(13_004_888, "counted (torchvision's aux heads)")}),
                test=TestSettings(torchvision="googlenet", torchvision_kwargs={"aux_logits": False}))
def googlenet(num_classes: int = 1000, in_channels: int = 3, aux_logits: bool = False,
              transform_input: bool = False) -> GoogLeNet:
    """torchvision's GoogLeNet: batch norm, 3×3 where the paper has 5×5, no auxiliary heads by default."""
    return GoogLeNet(num_classes, in_channels, norm="batch", branch5="3x3", aux_logits=aux_logits,
                     aux_pool="adaptive", dropout=0.2, aux_dropout=0.7, last_pool=2,
                     transform_input=transform_input)


@register_model(task="classification", paper=PAPER + " (scaled for 28×28 images)", year=2014,
                input_size=(1, 28, 28))
def googlenet_small(num_classes: int = 10, in_channels: int = 1, width: float = 0.25,
                    aux_logits: bool = True, norm: str = "batch", branch5: str = "5x5",
                    dropout: float = 0.4) -> GoogLeNet:
    """GoogLeNet for Fashion-MNIST: 3×3 stem at stride 1, Table 1 at ¼ width, batch norm, aux heads."""
    return GoogLeNet(num_classes, in_channels, norm=norm, branch5=branch5, stem="small",
                     aux_logits=aux_logits, aux_pool="adaptive", dropout=dropout, aux_dropout=0.7,
                     last_pool=3, width=width)
