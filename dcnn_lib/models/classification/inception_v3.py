"""Inception v3: Szegedy, Vanhoucke, Ioffe, Shlens, Wojna, "Rethinking the Inception Architecture
for Computer Vision", CVPR 2016 (Table 1, Figures 5–8 and 10), as released by Google and
ported by torchvision (its twin: the state dict loads strictly and the outputs are equal).

Input 299×299×3::

    Conv2d_1a_3x3  3×3/2, 32                    N x 32 x 149 x 149
    Conv2d_2a_3x3  3×3, 32                      N x 32 x 147 x 147
    Conv2d_2b_3x3  3×3 padded, 64               N x 64 x 147 x 147
    maxpool1       3×3/2                        N x 64 x 73 x 73
    Conv2d_3b_1x1  1×1, 80                      N x 80 x 73 x 73
    Conv2d_4a_3x3  3×3, 192                     N x 192 x 71 x 71
    maxpool2       3×3/2                        N x 192 x 35 x 35
    Mixed_5b,c,d   3 × module A (Figure 5)      N x 288 x 35 x 35
    Mixed_6a       grid reduction (Figure 10)   N x 768 x 17 x 17
    Mixed_6b..e    4 × module C (Figure 6)      N x 768 x 17 x 17    → auxiliary head
    Mixed_7a       grid reduction               N x 1280 x 8 x 8
    Mixed_7b,c     2 × module E (Figure 7)      N x 2048 x 8 x 8
    avgpool, dropout 50%, fc                    N x 1000

Departures of the release from the paper's Table 1, kept here because they are the network
everybody uses: the stem ends with a 1×1 (80) and a 3×3 (192) convolution and a pooling where
the table lists three 3×3 convolutions; the 35×35 modules keep one 5×5 branch beside the
double-3×3 one; the table's "4 × Figure 6" modules are 4 (6b–6e) after a reduction (6a),
and "2 × Figure 7" are 7b and 7c. Auxiliary head: one, on 17×17 (Mixed_6e), with batch norm
(:class:`~dcnn_lib.layers.InceptionV3Aux`), returned only in training mode. Label smoothing
(0.1) and RMSProp are training recipe, not architecture. Initialisation: PyTorch's defaults
(torchvision uses truncated normals with std 0.1).
"""
from __future__ import annotations

import torch
import torch.nn as nn

from ...layers import (ConvBNAct, InceptionInputTransform, InceptionV3Aux, guard_inputs, inception_v3_a,
                       inception_v3_b, inception_v3_c, inception_v3_d, inception_v3_e)
from ...registry import Figure, Published, TestSettings, register_model

PAPER = "Szegedy et al., Rethinking the Inception Architecture for Computer Vision, CVPR 2016"


class InceptionV3(nn.Module):
    """Inception v3 (torchvision's layer names).

    Args:
        num_classes, in_channels: outputs and input channels.
        aux_logits: the auxiliary classifier on Mixed_6e (training mode only).
        transform_input: see :class:`~dcnn_lib.layers.InceptionInputTransform`.
        dropout: before the last layer (0.5).

    Returns logits ``(N, num_classes)``; ``(logits, aux)`` in training mode with ``aux_logits``.
    """

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, aux_logits: bool = True,
                 transform_input: bool = False, dropout: float = 0.5) -> None:
        super().__init__()
        if transform_input and in_channels != 3:
            raise ValueError("InceptionV3: transform_input needs RGB input (in_channels=3)")
        self.input_transform = InceptionInputTransform() if transform_input else nn.Identity()
        self.Conv2d_1a_3x3 = ConvBNAct(in_channels, 32, 3, 2)       # N x 32 x 149 x 149
        self.Conv2d_2a_3x3 = ConvBNAct(32, 32, 3)                    # N x 32 x 147 x 147
        self.Conv2d_2b_3x3 = ConvBNAct(32, 64, 3, padding=1)         # N x 64 x 147 x 147
        self.maxpool1 = nn.MaxPool2d(3, 2)                           # N x 64 x 73 x 73
        self.Conv2d_3b_1x1 = ConvBNAct(64, 80, 1)                    # N x 80 x 73 x 73
        self.Conv2d_4a_3x3 = ConvBNAct(80, 192, 3)                   # N x 192 x 71 x 71
        self.maxpool2 = nn.MaxPool2d(3, 2)                           # N x 192 x 35 x 35
        self.Mixed_5b = inception_v3_a(192, pool_features=32)        # N x 256 x 35 x 35
        self.Mixed_5c = inception_v3_a(256, pool_features=64)        # N x 288 x 35 x 35
        self.Mixed_5d = inception_v3_a(288, pool_features=64)        # N x 288 x 35 x 35
        self.Mixed_6a = inception_v3_b(288)                          # N x 768 x 17 x 17
        self.Mixed_6b = inception_v3_c(768, channels_7x7=128)        # N x 768 x 17 x 17
        self.Mixed_6c = inception_v3_c(768, channels_7x7=160)
        self.Mixed_6d = inception_v3_c(768, channels_7x7=160)
        self.Mixed_6e = inception_v3_c(768, channels_7x7=192)        # N x 768 x 17 x 17
        self.AuxLogits = InceptionV3Aux(768, num_classes) if aux_logits else None
        self.Mixed_7a = inception_v3_d(768)                          # N x 1280 x 8 x 8
        self.Mixed_7b = inception_v3_e(1280)                         # N x 2048 x 8 x 8
        self.Mixed_7c = inception_v3_e(2048)                         # N x 2048 x 8 x 8
        self.avgpool = nn.AdaptiveAvgPool2d(1)                       # N x 2048 x 1 x 1
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(2048, num_classes)                       # N x num_classes
        self.aux_logits, self.num_classes, self.num_features = aux_logits, num_classes, 2048
        guard_inputs(self, "InceptionV3", expected=(in_channels, 299, 299))

    _BODY = ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
             "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
             "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c")

    def features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The 8×8 maps before pooling, and the auxiliary logits (training mode only)."""
        x = self.input_transform(x)
        aux = None
        for name in self._BODY:
            x = self._modules[name](x)
            if name == "Mixed_6e" and self.training and self.AuxLogits is not None:
                aux = self.AuxLogits(x)
        return x, aux

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        x, aux = self.features(x)
        x = self.fc(torch.flatten(self.dropout(self.avgpool(x)), 1))
        return (x, aux) if aux is not None else x


_TV = "torchvision weights metadata (IMAGENET1K_V1)"


@register_model(task="classification", paper=PAPER, year=2016, input_size=(3, 299, 299),
                published=Published(params=Figure(27_161_264, _TV), gmacs=Figure(5.713, _TV),
                                    top1=Figure(77.294, _TV), top5=Figure(93.450, _TV),
                                    other={"receptive_field": Figure(1311, "TF-Slim receptive field table")}),
                test=TestSettings(torchvision="inception_v3"))
def inception_v3(num_classes: int = 1000, in_channels: int = 3, aux_logits: bool = True,
                 transform_input: bool = False) -> InceptionV3:
    """Inception v3 as released (torchvision's twin): factorised convolutions, BN auxiliary head."""
    return InceptionV3(num_classes, in_channels, aux_logits, transform_input)
