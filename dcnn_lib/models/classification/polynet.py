"""PolyNet: Zhang, Li, Loy & Lin, "PolyNet: A Pursuit of Structural Diversity in Very Deep
Networks", CVPR 2017 (arXiv November 2016; ILSVRC 2016 classification, third place).

PolyNet is Inception-ResNet-v2 whose residual units are replaced by PolyInception modules
(:mod:`dcnn_lib.layers.poly_inception`): polynomials of Inception-residual blocks such as
I + F + F² (poly-2) or I + F + G (2-way). **Very Deep PolyNet**, the released network
(``CUHK-MMLAB/polynet``, Caffe; the PyTorch ports of Cadene and ``osmr/imgclsmob``), at
331×331::

    stem (Inception-v4's)                                N x 384 x 39 x 39
    stage_a: 10 × 2-way, Inception-ResNet-A blocks       N x 384 x 39 x 39
    reduction_a (k, l, m, n = 256, 256, 384, 384)        N x 1152 x 19 x 19
    stage_b: 10 × [poly-3, 2-way], Inception-ResNet-B    N x 1152 x 19 x 19
    reduction_b                                          N x 2048 x 9 x 9
    stage_c: 5 × [poly-3, 2-way], Inception-ResNet-C     N x 2048 x 9 x 9
    average pool, dropout 0.2, fc 1000                   N x 1000

- blocks A, B, C have the branches of Inception-ResNet-v2's released blocks (32/32-32/32-48-64;
  192/128-160-192; 192/192-224-256), each ending in a 1×1 projection *with* batch norm;
- in every poly-3 module the branch convolutions are one set of weights used three times,
  with batch norms and projections of their own (the release's sharing);
- residual scales fall linearly from 1.0 (first module) to 0.7 (last of the 40), the
  release's "initialisation by insertion"-era numbers (:func:`residual_scales`);
- 95,366,600 parameters and 34.7 G multiply-adds at 331×331, the release's count.

Deviations: batch-norm epsilon 1e-3 (the Inception layers' default; the ports use 1e-5 — it
matters only for loading their weights, which this model's names do not follow). The paper's
ablations use a trimmed Inception-ResNet-v2 ("IR 3-6-3") as the baseline; ``depths`` builds it.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch.nn as nn

from ...layers import (IR_BLOCKS, ConvBNAct, InceptionResidual, PolyInception, inception_v4_stem, ir_block_a,
                       ir_block_b, ir_block_c, ir_reduction_b, reduction_a, scale_branches)
from ...registry import Figure, Published, TestSettings, register_model
from .inception_v4 import InceptionV4Net

PAPER = "Zhang, Li, Loy & Lin, PolyNet: A pursuit of structural diversity in very deep networks, CVPR 2017"
RELEASE = "CUHK-MMLAB/polynet (Very Deep PolyNet)"

# The released network: modules per stage, as (kind, ...) patterns repeated.
STAGES = {"a": ("2-way",), "b": ("poly-3", "2-way"), "c": ("poly-3", "2-way")}
DEPTHS = (10, 10, 5)          # repetitions of each stage's pattern: 10 + 20 + 10 = 40 modules
WIDTHS = (384, 1152, 2048)    # maps at 35 (39 at 331), 17 (19) and 8 (9)
# ILSVRC 2012 validation error % of the release (README of the official repository).
ERRORS = {"single_crop_top1": 18.71, "single_crop_top5": 4.25, "multi_crop_top1": 17.36, "multi_crop_top5": 3.45}
IR_V2_ERRORS = {"single_crop_top1": 20.05, "single_crop_top5": 5.05}   # their Inception-ResNet-v2 run


def residual_scales(n: int = 40, first: float = 1.0, last: float = 0.7) -> list[float]:
    """The residual scale of each of ``n`` modules: linear from ``first`` to ``last``."""
    return [first + (last - first) * i / max(n - 1, 1) for i in range(n)]


def _stage(channels: int, block: dict, pattern: tuple[str, ...], repeats: int, scales: list[float]) -> nn.Sequential:
    mods = []
    for r in range(repeats):
        for kind in pattern:
            mods.append(PolyInception(lambda: InceptionResidual(channels, block), kind, scales.pop(0),
                                      share="branches"))
    return nn.Sequential(*mods)


class PolyNet(InceptionV4Net):
    """Very Deep PolyNet (see the module docstring). ``depths``: repetitions of each stage's
    pattern (10, 10, 5); ``(3, 3, 3)`` with ``patterns={"a": ("residual",), ...}`` builds
    the paper's "IR 3-6-3"-style baselines. Shapes: ``(N, 3, 331, 331) -> (N, num_classes)``."""

    def __init__(self, depths: tuple[int, int, int] = DEPTHS, patterns: dict[str, tuple[str, ...]] | None = None,
                 *, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.2) -> None:
        patterns = {**STAGES, **(patterns or {})}
        n = sum(d * len(patterns[s]) for d, s in zip(depths, "abc"))
        scales = residual_scales(n)
        c35, c17, c8 = WIDTHS
        blocks = IR_BLOCKS["v2"]
        f: OrderedDict[str, nn.Module] = OrderedDict()
        f["stem"] = inception_v4_stem(in_channels)                                           # N x 384 x 39 x 39
        f["stage_a"] = _stage(c35, ir_block_a(blocks["a"]), patterns["a"], depths[0], scales)
        f["reduction_a"] = reduction_a(c35, 256, 256, 384, 384)                              # N x 1152 x 19 x 19
        f["stage_b"] = _stage(c17, ir_block_b(blocks["b"]), patterns["b"], depths[1], scales)
        f["reduction_b"] = ir_reduction_b(c17, 384, 256, (256, 256))                         # N x 2048 x 9 x 9
        f["stage_c"] = _stage(c8, ir_block_c(blocks["c"]), patterns["c"], depths[2], scales)
        super().__init__(f, c8, num_classes, dropout, "PolyNet", in_channels, input_hw=331)
        self.config = {"depths": tuple(depths), "patterns": patterns}
        # No backbone contract (feature_info): like the Inception networks it is built from, its
        # unpadded convolutions leave maps that are not input / stride (1024 px -> 30 at stride 32).


_README = "official repository README (CUHK-MMLAB/polynet)"
_PUBLISHED = Published(
    params=Figure(95_366_600, "counted from the release (Cadene's and osmr/imgclsmob's ports assert it)"),
    gmacs=Figure(34.70, "counted from the release's architecture (dl.analysis.summary)", "at 331×331"),
    top1=Figure(round(100 - ERRORS["single_crop_top1"], 2), _README, "single crop, validation"),
    top5=Figure(round(100 - ERRORS["single_crop_top5"], 2), _README, "single crop, validation"),
    other={"top1_error": Figure(ERRORS["single_crop_top1"], _README, "single crop"),
           "top5_error": Figure(ERRORS["single_crop_top5"], _README, "single crop"),
           "top1_error_multicrop": Figure(ERRORS["multi_crop_top1"], _README, "multi-crop"),
           "top5_error_multicrop": Figure(ERRORS["multi_crop_top5"], _README, "multi-crop"),
           "top1_error_inception_resnet_v2": Figure(IR_V2_ERRORS["single_crop_top1"], _README,
                                                    "their Inception-ResNet-v2 run, single crop")})


@register_model(task="classification", paper=PAPER, year=2016, input_size=(3, 331, 331), published=_PUBLISHED,
                test=TestSettings(input_size=(3, 75, 75)))
def polynet(num_classes: int = 1000, in_channels: int = 3, **overrides: Any) -> PolyNet:
    """Very Deep PolyNet as released: 10 × 2-way-A, 10 × [poly-3, 2-way]-B, 5 × [poly-3, 2-way]-C."""
    return PolyNet(num_classes=num_classes, in_channels=in_channels, **overrides)


# ---- scaled down for Fashion-MNIST (28×28 grey) ------------------------------------------------------
class PolyNetSmall(InceptionV4Net):
    """PolyInception modules on 28×28 images: stem (3×3, 3×3/2) → stage A on 14×14 →
    Reduction-A → stage B on 6×6 → average pooling → fc.

    Args:
        kinds: the PolyInception kind of the modules of stage A and of stage B.
        depths: modules per stage.
        width: stage A's Inception-ResNet-A branches at this fraction of the release's (stage B
            at half of it); channels: the trunk's maps in stage A (stage B: + 96).
        scale: residual scale of every module.
        share: weight sharing of poly-k modules (``"all"``: the paper's algebra).
    """

    def __init__(self, kinds: tuple[str, str] = ("2-way", "poly-2"), depths: tuple[int, int] = (2, 2),
                 width: float = 0.5, channels: int = 64, scale: float = 0.3, share: str = "all", *,
                 num_classes: int = 10, in_channels: int = 1, dropout: float = 0.0) -> None:
        a = scale_branches(ir_block_a(IR_BLOCKS["v2"]["a"]), width)
        b = scale_branches(ir_block_b(IR_BLOCKS["v2"]["b"]), width / 2)
        c17 = channels + 96
        f: OrderedDict[str, nn.Module] = OrderedDict()
        f["stem"] = nn.Sequential(ConvBNAct(in_channels, 32, 3, padding=1),                    # N x 32 x 28 x 28
                                  ConvBNAct(32, channels, 3, 2, padding=1))                    # N x 64 x 14 x 14
        f["stage_a"] = nn.Sequential(*(PolyInception(lambda: InceptionResidual(channels, a), kinds[0], scale, share)
                                       for _ in range(depths[0])))
        f["reduction_a"] = reduction_a(channels, 32, 32, 48, 48)                               # N x 160 x 6 x 6
        f["stage_b"] = nn.Sequential(*(PolyInception(lambda: InceptionResidual(c17, b), kinds[1], scale, share)
                                       for _ in range(depths[1])))
        super().__init__(f, c17, num_classes, dropout, "PolyNetSmall", in_channels, input_hw=28)
        self.config = {"kinds": tuple(kinds), "depths": tuple(depths), "width": width, "channels": channels,
                       "scale": scale, "share": share}


@register_model(task="classification", paper=PAPER + " (scaled for 28×28 images)", year=2016,
                input_size=(1, 28, 28), published=Published(params=Figure(256_842, "counted from the architecture")))
def polynet_small(num_classes: int = 10, in_channels: int = 1, kinds: tuple[str, str] = ("2-way", "poly-2"),
                  depths: tuple[int, int] = (2, 2), width: float = 0.5, scale: float = 0.3,
                  share: str = "all") -> PolyNetSmall:
    """PolyNet for 28×28 images: 2 × 2-way Inception-ResNet-A modules, Reduction-A, 2 × poly-2 B modules.

    The release's pattern at a small scale: 2-way modules (I + F + G) at the larger maps,
    second-order ones (I + F + F²) at the smaller; branches at half (A) and a quarter (B) of
    the released widths. ``kinds`` and ``depths`` build the chapter's comparison at equal
    parameters (``("residual", "residual")`` with depths doubled, ``("2-way", "2-way")``...).
    """
    return PolyNetSmall(kinds, depths, width, scale=scale, share=share, num_classes=num_classes,
                        in_channels=in_channels)
