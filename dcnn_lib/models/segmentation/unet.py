"""U-Net (Ronneberger, Fischer & Brox, MICCAI 2015) and R2U-Net (Alom, Hasan, Yakopcic, Taha &
Asari, "Recurrent Residual Convolutional Neural Network based on U-Net (R2U-Net) for Medical
Image Segmentation", arXiv:1802.06955, 2018).

U-Net, Fig. 1 of the paper, for a 572×572 tile (valid convolutions)::

    contracting path                                  expansive path
    enc1  2×conv3 64     N x 64 x 568 x 568  ──copy & crop──►  dec1  2×conv3 64    N x 64 x 388 x 388
    pool, enc2  128      N x 128 x 280 x 280 ──────────────►  dec2  128            N x 128 x 200 x 200
    pool, enc3  256      N x 256 x 136 x 136 ──────────────►  dec3  256            N x 256 x 104 x 104
    pool, enc4  512      N x 512 x 64 x 64   ──────────────►  dec4  512            N x 512 x 56 x 56
    pool, enc5 1024      N x 1024 x 28 x 28  ── up-conv 2×2 ──┘         head conv1×1 → N x classes x 388 x 388

Each step up is a 2×2 up-convolution that halves the channels, a concatenation with the
cropped map of the same level, and two 3×3 convolutions (:class:`~dcnn_lib.layers.UpConcat`,
:class:`~dcnn_lib.layers.DoubleConv`). 23 convolutional layers; with 3 input channels and 2
classes, 31,031,810 parameters (with the paper's grey-level input 31,030,658 ≈ 31.03 M).

**Valid vs same padding.** The paper's convolutions are unpadded, so the output (388²) is
smaller than the input tile (572²) and every skip map is centre-cropped. To segment a whole
image the paper uses the *overlap-tile* strategy: the missing context at the border is
extrapolated by mirroring the image. ``padding="valid"`` (the default) does exactly that inside
``forward``: the input is mirror-padded by 92 pixels on each side (plus what is needed to reach
the next valid tile size), and the output is cropped back, so ``(N, 3, H, W) -> (N, classes,
H, W)`` for any H, W ≥ 1 (a side of one pixel is repeated: it is its own mirror image) — at
the cost of running on a tile 184 pixels larger than the image.
``padding="same"`` pads every 3×3 convolution by one pixel instead (what most later
implementations do): no mirroring, no cropping, much cheaper on small images; maps of odd size
are zero-padded after up-convolution to match the skip.

Other departures: 3 input channels (the paper's images were grey); ``batch_norm=True`` (not in
the paper) for training from scratch; the paper's pixel-wise loss weights (to separate touching
cells) belong to the loss, not the model.

**R2U-Net** keeps U-Net's shape and replaces each pair of convolutions by a recurrent residual
convolutional unit (:class:`~dcnn_lib.layers.RecurrentResidualBlock`: a 1×1 convolution, two
recurrent convolutional layers with t = 2, and a residual connection), with same padding and
batch norm. The widths default to U-Net's 64 → 1024 of the paper's architecture figure; the
paper's experiments train narrower networks, which ``widths`` selects.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from ...errors import DcnnValueError
from ...layers import guard_inputs
from ...layers.double_conv import DoubleConv
from ...layers.recurrent_conv import RecurrentResidualBlock
from ...layers.up_conv import UpConcat
from ...registry import Figure, Published, TestSettings, register_model
from .common import COUNTED, UNET_SMALL

PAPER = "Ronneberger, Fischer & Brox, U-Net: Convolutional Networks for Biomedical Image Segmentation, MICCAI 2015"
PAPER_R2U = ("Alom, Hasan, Yakopcic, Taha & Asari, Recurrent Residual Convolutional Neural Network based on "
             "U-Net (R2U-Net) for Medical Image Segmentation, arXiv:1802.06955, 2018")
WIDTHS = (64, 128, 256, 512, 1024)


def valid_tile(size: int, levels: int = 5) -> tuple[int, int]:
    """``(input tile, output)`` of a valid-padding U-Net: the smallest tile whose output covers
    ``size`` pixels. ``valid_tile(388) == (572, 388)``."""
    n = levels - 1
    b = 1
    while True:
        out = b
        for _ in range(n):
            out = 2 * out - 4                  # up-conv doubles, two 3×3 convs remove 4
        if out >= size:
            break
        b += 1
    tile = b
    for _ in range(n):
        tile = 2 * (tile + 4)                  # two 3×3 convs add 4, pooling halves
    return tile + 4, out


def mirror_pad(x: torch.Tensor, left: int, right: int, top: int, bottom: int) -> torch.Tensor:
    """Reflect-pad by any amount (repeated reflections where the pad exceeds the image).

    A side of one pixel is its own mirror image: it is repeated (``F.pad``'s reflection needs
    two pixels and would never advance). An empty side cannot be mirrored: ``ValueError``.
    """
    if min(x.shape[-2:]) == 0 and (left or right or top or bottom):
        raise DcnnValueError(f"mirror_pad: cannot mirror an empty image of shape {tuple(x.shape)}; "
                             "give an image at least 1 pixel high and wide")
    if x.shape[-1] == 1 and (left or right):
        x, left, right = F.pad(x, [left, right, 0, 0], mode="replicate"), 0, 0
    if x.shape[-2] == 1 and (top or bottom):
        x, top, bottom = F.pad(x, [0, 0, top, bottom], mode="replicate"), 0, 0
    while left or right or top or bottom:
        h, w = x.shape[-2:]
        step = [min(left, w - 1), min(right, w - 1), min(top, h - 1), min(bottom, h - 1)]
        x = F.pad(x, step, mode="reflect")
        left, right, top, bottom = left - step[0], right - step[1], top - step[2], bottom - step[3]
    return x


class UNet(nn.Module):
    """A U-shaped encoder-decoder with copy-and-crop skips.

    Args:
        num_classes: output channels (2 in the paper: cell / background).
        in_channels: input channels (3).
        widths: channels of each level, top to bottom (64, 128, 256, 512, 1024).
        padding: ``"valid"`` (paper; overlap-tile mirroring inside ``forward``) or ``"same"``.
        batch_norm: batch norm after each convolution (not in the paper).
        block: ``"double_conv"`` (U-Net) or ``"recurrent_residual"`` (R2U-Net's RRCU).
        t: recurrent steps of the RRCU.

    Shapes: ``(N, in_channels, H, W) -> {"out": (N, num_classes, H, W)}``.
    """

    def __init__(self, num_classes: int = 2, in_channels: int = 3, widths: Sequence[int] = WIDTHS,
                 padding: str = "valid", batch_norm: bool = False, block: str = "double_conv",
                 t: int = 2) -> None:
        super().__init__()
        if block not in ("double_conv", "recurrent_residual"):
            raise ValueError(f"UNet: block must be 'double_conv' or 'recurrent_residual', got {block!r}")
        if padding not in ("valid", "same"):
            raise ValueError(f"UNet: padding must be 'valid' or 'same', got {padding!r}")
        if block == "recurrent_residual" and padding == "valid":
            raise ValueError("UNet: recurrent residual units keep the size; use padding='same'")

        def unit(cin: int, cout: int) -> nn.Module:
            if block == "double_conv":
                return DoubleConv(cin, cout, padding, batch_norm)
            return RecurrentResidualBlock(cin, cout, t)

        w = tuple(widths)
        self.encoder = nn.ModuleList(unit(cin, cout) for cin, cout in zip((in_channels,) + w[:-1], w))
        self.pool = nn.MaxPool2d(2)
        mode = "crop" if padding == "valid" else "pad"
        self.up = nn.ModuleList(UpConcat(w[i], w[i - 1], mode) for i in range(len(w) - 1, 0, -1))
        self.decoder = nn.ModuleList(unit(2 * w[i - 1], w[i - 1]) for i in range(len(w) - 1, 0, -1))
        self.head = nn.Conv2d(w[0], num_classes, 1)
        self.padding, self.widths, self.block = padding, w, block
        guard_inputs(self, "UNet" if block == "double_conv" else "R2UNet",
                     expected=(in_channels, 572, 572) if padding == "valid" else (in_channels, 256, 256))

    def forward_tile(self, x: torch.Tensor) -> torch.Tensor:
        """The network of Fig. 1 on one tile: ``(N, C, 572, 572) -> (N, classes, 388, 388)``
        with valid padding (same padding: the output has the input's size)."""
        skips = []
        for i, unit in enumerate(self.encoder):
            x = unit(x if i == 0 else self.pool(x))                   # N x w_i x ...
            skips.append(x)
        x = skips.pop()                                               # the bottom: N x 1024 x 28 x 28
        for up, unit in zip(self.up, self.decoder):
            x = unit(up(x, skips.pop()))                              # one level up
        return self.head(x)                                           # N x classes x 388 x 388

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        h, w = x.shape[-2:]
        if self.padding == "same":
            return {"out": self.forward_tile(x)}
        (th, oh), (tw, ow) = valid_tile(h, len(self.widths)), valid_tile(w, len(self.widths))
        mh, mw = (th - oh) // 2, (tw - ow) // 2                       # overlap-tile: 92 for five levels
        x = mirror_pad(x, mw, mw + ow - w, mh, mh + oh - h)           # N x C x th x tw, mirrored border
        return {"out": self.forward_tile(x)[..., :h, :w]}


@register_model(task="segmentation", paper=PAPER, year=2015, input_size=(3, 572, 572),
                published=Published(params=Figure(31_031_810, COUNTED, "RGB input; 31,030,658 for the paper's grey input"),
                                    other={"params_m": Figure(31.03, "paper", "grey input")}),
                test=TestSettings(input_size=(3, 64, 64), kwargs={"widths": UNET_SMALL}))
def unet(num_classes: int = 2, in_channels: int = 3, widths: Sequence[int] = WIDTHS,
         padding: str = "valid", batch_norm: bool = False) -> UNet:
    """U-Net as in Fig. 1 (valid convolutions, overlap-tile mirroring), for RGB input."""
    return UNet(num_classes, in_channels, widths, padding, batch_norm)


@register_model(task="segmentation", paper=PAPER_R2U, year=2018, input_size=(3, 256, 256),
                published=Published(params=Figure(67_033_730, COUNTED)),
                test=TestSettings(input_size=(3, 64, 64), kwargs={"widths": UNET_SMALL}))
def r2unet(num_classes: int = 2, in_channels: int = 3, widths: Sequence[int] = WIDTHS, t: int = 2) -> UNet:
    """R2U-Net: U-Net with recurrent residual convolutional units (t = 2), same padding, batch norm."""
    return UNet(num_classes, in_channels, widths, padding="same", batch_norm=True,
                block="recurrent_residual", t=t)
