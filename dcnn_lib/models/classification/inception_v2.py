"""Inception v2 = BN-Inception: Ioffe & Szegedy, "Batch Normalization: Accelerating Deep Network
Training by Reducing Internal Covariate Shift", ICML 2015, §4.2 and Appendix (Figure 5).

**Which "v2".** Two networks carry the name. (1) The network of the batch-normalisation paper:
GoogLeNet with batch norm after every convolution, each 5×5 convolution replaced by two
stacked 3×3, average pooling in some pooling branches, stride-2 modules (3c, 4e) instead of
separate pooling layers, and no dropout; TensorFlow-Slim ships it as ``inception_v2`` and the
receptive-field figures the book compares against (Araujo et al., 2019) are for it. (2) The
intermediate network of "Rethinking the Inception Architecture" (CVPR 2016, its Table 1),
which becomes v3 by adding label smoothing, RMSProp, batch-normalised auxiliary heads and
factorised 7×7 convolutions. The lecture's "Inception v2, v3" slides list exactly (1)'s
changes — batch norm, two 3×3 instead of 5×5, average pooling in the module — while (2) is
v3 minus training details and is covered by ``inception_v3``. So ``inception_v2`` is (1).

It is :class:`~dcnn_lib.models.classification.googlenet.GoogLeNet` with another table (the
paper's Figure 5)::

    conv1 7×7/2 64, max pool 3×3/2, conv 1×1 64, conv 3×3 192, max pool 3×3/2   N x 192 x 28 x 28
    3a, 3b, 3c (stride 2)                                                   N x 576 x 14 x 14
    4a, 4b, 4c, 4d, 4e (stride 2)                                           N x 1056 x 7 x 7
    5a, 5b                                                                  N x 1024 x 7 x 7
    avg pool 7×7, linear                                                    N x 1000

Departures and choices: the figure prints an output of 576 maps for 4c and 4d although its
own filter counts add up to 608 (160 + 160 + 160 + 128 and 96 + 192 + 192 + 128); the
filter counts are followed, as in the released Caffe model (Xiong's ``bn_inception``, used
by Cadene's port); TensorFlow-Slim instead gives 4c and 4d a 96-map pool projection to keep
576. The 3c and 4e rows print their input size (28×28, 14×14) as output size. The first
convolution is a plain 7×7 (TF-Slim uses a depthwise-separable one). Convolutions have no
bias (batch norm follows), batch-norm epsilon is 1e-5 (Caffe's), and there are no auxiliary
classifiers and no dropout, as in the released model.
"""
from __future__ import annotations

from ...registry import Figure, Published, register_model
from .googlenet import GoogLeNet, Row

PAPER = "Ioffe & Szegedy, Batch Normalization, ICML 2015 (BN-Inception)"

# Figure 5: #1×1, #3×3 reduce, #3×3, double #3×3 reduce, double #3×3, pool, pool proj, stride.
BN_INCEPTION: tuple[tuple[str, Row], ...] = (
    ("inception3a", Row(64, 64, 64, 64, 96, 32, "avg")),          # N x 256 x 28 x 28
    ("inception3b", Row(64, 64, 96, 64, 96, 64, "avg")),          # N x 320 x 28 x 28
    ("inception3c", Row(0, 128, 160, 64, 96, 0, "max", 2)),       # N x 576 x 14 x 14
    ("inception4a", Row(224, 64, 96, 96, 128, 128, "avg")),       # N x 576 x 14 x 14
    ("inception4b", Row(192, 96, 128, 96, 128, 128, "avg")),      # N x 576 x 14 x 14
    ("inception4c", Row(160, 128, 160, 128, 160, 128, "avg")),    # N x 608 x 14 x 14
    ("inception4d", Row(96, 128, 192, 160, 192, 128, "avg")),     # N x 608 x 14 x 14
    ("inception4e", Row(0, 128, 192, 192, 256, 0, "max", 2)),     # N x 1056 x 7 x 7
    ("inception5a", Row(352, 192, 320, 160, 224, 128, "avg")),    # N x 1024 x 7 x 7
    ("inception5b", Row(352, 192, 320, 192, 224, 128, "max")),    # N x 1024 x 7 x 7
)

# Figure 5's "output size" column as printed (3c and 4e print their input size; 4c, 4d print 576
# where their filters add up to 608, and 4e's 1024 follows from that 576).
FIGURE5_PRINTED_OUTPUT = {
    "inception3a": "28×28×256", "inception3b": "28×28×320", "inception3c": "28×28×576",
    "inception4a": "14×14×576", "inception4b": "14×14×576", "inception4c": "14×14×576",
    "inception4d": "14×14×576", "inception4e": "14×14×1024", "inception5a": "7×7×1024",
    "inception5b": "7×7×1024",
}


@register_model(task="classification", paper=PAPER, year=2015, input_size=(3, 224, 224),
                published=Published(other={"receptive_field": Figure(699, "TF-Slim receptive field table")}))
def inception_v2(num_classes: int = 1000, in_channels: int = 3) -> GoogLeNet:
    """BN-Inception: GoogLeNet with batch norm, double 3×3 branches, avg pooling, no aux heads."""
    return GoogLeNet(num_classes, in_channels, table=BN_INCEPTION, norm="batch", branch5="double3x3",
                     aux_logits=False, dropout=0.0, bn_eps=1e-5)
