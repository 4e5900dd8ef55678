"""LeNet-5: LeCun, Bottou, Bengio, Haffner, "Gradient-based learning applied to document
recognition", Proc. IEEE 86(11), 1998, §II-B and Appendix A.

Reads top to bottom like §II-B. Input: a 32×32 image (the 28×28 digit centred, so that strokes
can reach the centre of C3's receptive fields). Layers, with the paper's trainable parameters:

    C1  conv 6 @ 5×5                   N x 6 x 28 x 28      156
    S2  subsampling 2×2 (coef + bias)  N x 6 x 14 x 14       12
    C3  conv 16 @ 5×5, Table I         N x 16 x 10 x 10   1,516
    S4  subsampling 2×2                N x 16 x 5 x 5        32
    C5  conv 120 @ 5×5                 N x 120 x 1 x 1   48,120
    F6  linear 84                      N x 84            10,164
    output: 10 Euclidean RBF units     N x 10           (fixed)
                                                      = 60,000

Every layer up to F6 is followed by the squashing function ``1.7159 tanh(2a/3)``.

Departures from the paper, all deliberate:

- **Output and loss.** The RBF units keep fixed ±1 centres (7×12 stylised digit drawings;
  see :mod:`dcnn_lib.layers.rbf`), and the model returns ``-y_i`` as logits. Training with
  cross-entropy on ``-y`` is the paper's discriminative criterion (eq. 9) with its constant
  "rubbish class" term ``e^{-j}`` dropped (``j → ∞``).
- **Optimiser.** The paper used a diagonal Levenberg-Marquardt (stochastic diagonal
  Hessian) method for 20 passes; chapters use Adam/SGD with a schedule (see the chapter).
- **Input scaling.** The paper maps background to -0.1 and ink to 1.175 (mean ≈ 0, variance
  ≈ 1); dcnn_lib's loaders standardise with the data set's mean and standard deviation,
  which serves the same purpose for Fashion-MNIST's grey-level images.

The initialisation is the paper's: weights and biases uniform in ±2.4 / fan-in.

``lenet5_relu`` is the modern variant people usually mean by "LeNet": same geometry, ReLU,
2×2 max pooling, C3 fully connected (6 × 16 × 25 + 16 = 2,416 parameters), a plain linear
output layer, optional batch norm.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn as nn

from ...layers import EuclideanRBF, PartialConv2d, ScaledTanh, Subsampling, guard_inputs
from ...errors import DcnnValueError
from ...registry import Figure, Published, register_model

PAPER = "LeCun, Bottou, Bengio & Haffner, Gradient-based learning applied to document recognition, Proc. IEEE 1998"

# Table I: the S2 maps (0..5) each C3 map (0..15) is connected to.
C3_TABLE = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),          # 3 contiguous maps
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),  # 4 contiguous
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),                                   # 4 discontinuous
    (0, 1, 2, 3, 4, 5),                                                        # all six
)

# The paper's §II-B figures, layer by layer. The stated total of 340,908 connections is these six
# layers (340,068) plus the output layer's 84 x 10 = 840, which the text never lists separately.
PAPER_PARAMS = {"c1": 156, "s2": 12, "c3": 1_516, "s4": 32, "c5": 48_120, "f6": 10_164}
PAPER_CONNECTIONS = {"c1": 122_304, "s2": 5_880, "c3": 151_600, "s4": 2_000, "c5": 48_120, "f6": 10_164}


class LeNet5(nn.Sequential):
    """LeNet-5 and its modern variant, as one ``nn.Sequential`` with the paper's layer names.

    Args:
        num_classes: output units (10).
        in_channels: input channels (1, grey).
        activation: ``"scaled_tanh"`` (paper) or ``"relu"``.
        pooling: ``"subsampling"`` (paper: trainable 2×2 sum, coefficient and bias) or ``"max"``.
        c3: ``"table"`` (paper's Table I partial connections) or ``"full"``.
        output: ``"rbf"`` (paper: fixed Euclidean RBF centres; logits are ``-distance``) or
            ``"linear"``.
        batch_norm: batch norm after C1, C3, C5 and F6 (modern recipe; not in the paper).
        init: ``"lecun98"`` (uniform ±2.4/fan-in) or ``"default"`` (PyTorch's).

    Shapes: ``(N, in_channels, 32, 32) -> (N, num_classes)`` logits.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, activation: str = "scaled_tanh",
                 pooling: str = "subsampling", c3: str = "table", output: str = "rbf",
                 batch_norm: bool = False, init: str = "lecun98") -> None:
        choices = {"activation": ("scaled_tanh", "relu"), "pooling": ("subsampling", "max"),
                   "c3": ("table", "full"), "output": ("rbf", "linear"), "init": ("lecun98", "default")}
        for arg, value in dict(activation=activation, pooling=pooling, c3=c3, output=output, init=init).items():
            if value not in choices[arg]:
                raise ValueError(f"LeNet5: {arg} must be one of {choices[arg]}, got {value!r}")

        def act() -> nn.Module:
            return ScaledTanh() if activation == "scaled_tanh" else nn.ReLU(inplace=True)

        def pool(channels: int) -> nn.Module:
            return Subsampling(channels) if pooling == "subsampling" else nn.MaxPool2d(2)

        def bn(channels: int, dims: int = 2) -> list[tuple[str, nn.Module]]:
            if not batch_norm:
                return []
            return [("bn", nn.BatchNorm2d(channels) if dims == 2 else nn.BatchNorm1d(channels))]

        def stage(name: str, layer: nn.Module, channels: int | None = None, dims: int = 2):
            norm = [(f"{name}_{n}", m) for n, m in bn(channels, dims)] if channels else []
            return [(name, layer), *norm, (f"{name}_act", act())]

        layers = [
            *stage("c1", nn.Conv2d(in_channels, 6, 5, bias=not batch_norm), 6),      # N x 6 x 28 x 28
            *stage("s2", pool(6)),                                                    # N x 6 x 14 x 14
            *stage("c3", PartialConv2d(6, C3_TABLE, 5, bias=not batch_norm) if c3 == "table"
                   else nn.Conv2d(6, 16, 5, bias=not batch_norm), 16),               # N x 16 x 10 x 10
            *stage("s4", pool(16)),                                                   # N x 16 x 5 x 5
            *stage("c5", nn.Conv2d(16, 120, 5, bias=not batch_norm), 120),            # N x 120 x 1 x 1
            ("flatten", nn.Flatten()),                                                # N x 120
            *stage("f6", nn.Linear(120, 84, bias=not batch_norm), 84, dims=1),       # N x 84
            ("output", EuclideanRBF(84, num_classes) if output == "rbf"
             else nn.Linear(84, num_classes)),                                        # N x num_classes
        ]
        # With max pooling there is nothing to squash after S2/S4 that ReLU has not already seen.
        if pooling == "max":
            layers = [(n, m) for n, m in layers if n not in ("s2_act", "s4_act")]
        super().__init__(OrderedDict(layers))
        self.num_classes = num_classes
        if init not in ("lecun98", "default"):
            raise DcnnValueError(f"LeNet5: init must be 'lecun98' or 'default', got {init!r}")
        if init == "lecun98":
            self.reset_parameters("lecun98")
        guard_inputs(self, "LeNet5", expected=(in_channels, 32, 32))

    @torch.no_grad()
    def reset_parameters(self, init: str = "lecun98") -> None:
        """``"lecun98"``: weights and biases uniform in ``±2.4 / F`` with ``F`` the unit's fan-in
        (Appendix A); ``"default"``: PyTorch's initialisation of every layer."""
        if init == "default":
            for module in self.modules():
                if module is not self and hasattr(module, "reset_parameters"):
                    module.reset_parameters()
            return
        if init != "lecun98":
            raise DcnnValueError(f"LeNet5.reset_parameters: init must be 'lecun98' or 'default', got {init!r}")
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                fan_in = module.weight[0].numel()  # in_channels/groups x k x k, or in_features
                bound = 2.4 / fan_in
                nn.init.uniform_(module.weight, -bound, bound)
                if module.bias is not None:
                    nn.init.uniform_(module.bias, -bound, bound)
            elif isinstance(module, PartialConv2d):  # fan-in differs between C3's maps
                module.reset_parameters(lambda fan_in: 2.4 / fan_in)
            elif isinstance(module, Subsampling):
                nn.init.uniform_(module.weight, -2.4 / 4, 2.4 / 4)
                nn.init.uniform_(module.bias, -2.4 / 4, 2.4 / 4)


@register_model(task="classification", paper=PAPER, year=1998, input_size=(1, 32, 32),
                published=Published(params=Figure(60_000, "paper, §II-B"), other={
                    "connections": Figure(340_908, "paper, §II-B"),
                    "mnist_error": Figure(0.95, "paper, §III", "test error %, no distortions"),
                    "mnist_error_distortions": Figure(0.8, "paper, §III", "test error %, distorted training data")}))
def lenet5(num_classes: int = 10, in_channels: int = 1) -> LeNet5:
    """LeNet-5 as published: scaled tanh, trainable subsampling, C3's Table I, RBF output."""
    return LeNet5(num_classes, in_channels)


@register_model(task="classification", paper=PAPER + " (modern variant)", year=1998,
                input_size=(1, 32, 32),
                published=Published(params=Figure(61_706, "counted from the layer sizes")))
def lenet5_relu(num_classes: int = 10, in_channels: int = 1, batch_norm: bool = False) -> LeNet5:
    """Modern LeNet-5: ReLU, 2×2 max pooling, full C3, linear output (optionally batch norm)."""
    return LeNet5(num_classes, in_channels, activation="relu", pooling="max", c3="full",
                  output="linear", batch_norm=batch_norm, init="default")
