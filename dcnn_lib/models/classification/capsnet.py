"""CapsNet: Sabour, Frosst & Hinton, "Dynamic Routing Between Capsules", NIPS 2017.

The MNIST network of §4 (Fig. 1 and 2), for 28×28 grey images::

    conv1        256 filters 9×9, stride 1, ReLU                    N x 256 x 20 x 20
    primary      PrimaryCaps: 32 types of 8-D capsules, 9×9 / 2      N x 1152 x 8     (32·6·6, squashed)
    digits       DigitCaps: W_ij 8×16 for each (i, j), routing ×3    N x 10 x 16
    lengths      ‖v_j‖: the probability that class j is present      N x 10
    decoder      mask all but one capsule, FC 512, FC 1024,          N x 784
                 FC 784 sigmoid (Fig. 2)

Parameters: conv1 20,992; PrimaryCaps 5,308,672; W_ij 1,474,560 → 6,804,224 ("6.8M without
the reconstruction subnetwork"); decoder 1,411,344 → 8,215,568 ("8.2M"). The routing logits
b_ij start at 0 for every image and are not parameters.

Training (§4, eq. 4): margin loss (m⁺ 0.9, m⁻ 0.1, λ 0.5) plus 0.0005 × the reconstruction's
sum of squared errors (:class:`~dcnn_lib.layers.CapsuleLoss`). During training the decoder
sees the capsule of the true class (pass ``labels``); at test time the longest capsule's.

``forward(x, labels=None)`` returns a dict: ``"out"`` the capsule lengths (the logits for
accuracy: the predicted class is the longest capsule), ``"poses"`` the class capsules
``(N, 10, 16)``, ``"reconstruction"`` ``(N, 784)`` in [0, 1] (when the decoder is on), and
``"input"`` the image (the reconstruction's target, so that the loss needs nothing else).

``routing_iterations`` and ``reconstruction`` are keywords (the paper's Table 1 varies both).
``capsnet_small`` keeps every kernel, stride and capsule dimension but narrows conv1 to 64
maps and PrimaryCaps to 16 types (576 primary capsules), for Fashion-MNIST on a CPU.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from ...errors import DcnnValueError
from ...layers import guard_inputs
from ...layers.primary_capsules import PrimaryCapsules
from ...layers.routing import Routing
from ...layers.routing_capsules import RoutingCapsules
from ...registry import Figure, Published, register_model

PAPER = "Sabour, Frosst & Hinton, Dynamic Routing Between Capsules, NIPS 2017"
# Table 1: MNIST test error % (mean of 3 trials), by (routing iterations, reconstruction loss).
TABLE1_ERROR = {(1, False): 0.34, (1, True): 0.29, (3, False): 0.35, (3, True): 0.25}
BASELINE_CNN_ERROR = 0.39
PARAMS = 8_215_568
PARAMS_NO_DECODER = 6_804_224
# Fig. 4: each dimension of the class capsule tweaked by [-0.25, 0.25] in steps of 0.05.
PERTURBATIONS = tuple(round(-0.25 + 0.05 * i, 2) for i in range(11))
CONFIGS = {
    "mnist": dict(conv_channels=256, primary_capsules=32),
    "small": dict(conv_channels=64, primary_capsules=16),
}


class CapsNet(nn.Module):
    """Conv1, PrimaryCaps, class capsules with routing by agreement, reconstruction decoder.

    Args:
        num_classes: class capsules (10).
        input_size: ``(C, H, W)`` of the images, square (``(1, 28, 28)``): the grid of primary
            capsules and the decoder's output depend on it.
        conv_channels: filters of conv1 (256).
        primary_capsules, primary_dim: PrimaryCaps types and dimension (32, 8).
        class_dim: dimension of the class capsules (16).
        routing_iterations: ``r`` of Procedure 1 (3).
        reconstruction: build the decoder (FC 512 → FC 1024 → FC pixels, sigmoid).
        kernel_size: of conv1 and PrimaryCaps (9; PrimaryCaps has stride 2).

    Shapes: ``(N, in_channels, input_size, input_size) -> dict`` (see the module docstring).
    """

    def __init__(self, num_classes: int = 10, input_size: tuple[int, int, int] = (1, 28, 28), *,
                 conv_channels: int = 256, primary_capsules: int = 32, primary_dim: int = 8, class_dim: int = 16,
                 routing_iterations: int = 3, reconstruction: bool = True, kernel_size: int = 9) -> None:
        super().__init__()
        in_channels, side, width = input_size
        if side != width:
            raise DcnnValueError(f"CapsNet: input_size must be square (C, H, H), got {tuple(input_size)}")
        grid = (side - kernel_size + 1 - kernel_size) // 2 + 1              # 28 -> 20 -> 6
        if grid < 1:
            raise DcnnValueError(f"CapsNet: input_size {tuple(input_size)} is too small for two "
                                 f"{kernel_size}×{kernel_size} convolutions (the second with stride 2)")
        self.num_classes, self.in_channels, self.input_size = num_classes, in_channels, tuple(input_size)
        self.conv1 = nn.Conv2d(in_channels, conv_channels, kernel_size)     # N x 256 x 20 x 20
        self.primary = PrimaryCapsules(conv_channels, primary_capsules, primary_dim, kernel_size, stride=2)
        self.digits = RoutingCapsules(primary_capsules * grid * grid, primary_dim, num_classes, class_dim,
                                      routing_iterations)                   # N x 10 x 16
        self.decoder = nn.Sequential(
            nn.Linear(num_classes * class_dim, 512), nn.ReLU(inplace=True),
            nn.Linear(512, 1024), nn.ReLU(inplace=True),
            nn.Linear(1024, in_channels * side * side), nn.Sigmoid(),
        ) if reconstruction else None
        guard_inputs(self, "CapsNet", expected=tuple(input_size))

    def primary_capsules(self, x: torch.Tensor) -> torch.Tensor:
        """The squashed primary capsules ``(N, 1152, 8)``."""
        return self.primary(F.relu(self.conv1(x)))

    def route(self, x: torch.Tensor, iterations: int | None = None) -> Routing:
        """Routing of ``x`` with every iteration's coupling coefficients recorded."""
        return self.digits.route(self.primary_capsules(x), iterations, record=True)

    def reconstruct(self, poses: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        """Decode the capsule of ``classes`` ``(N,)`` from ``poses`` ``(N, K, D)``, the others
        masked to zero: ``(N, pixels)`` in [0, 1]."""
        if self.decoder is None:
            raise ValueError("CapsNet.reconstruct: this network was built with reconstruction=False")
        mask = F.one_hot(classes, self.num_classes).to(poses.dtype)          # N x 10
        return self.decoder((poses * mask.unsqueeze(-1)).flatten(1))         # N x 784

    @torch.no_grad()
    def perturb(self, x: torch.Tensor, label: int | None = None,
                deltas: Sequence[float] = PERTURBATIONS) -> torch.Tensor:
        """The paper's Fig. 4 for one image ``x`` ``(C, H, W)``: its class capsule (``label``,
        default the predicted class) with one dimension at a time shifted by each of
        ``deltas``, decoded: ``(class_dim, len(deltas), C, H, W)``."""
        if self.decoder is None:
            raise ValueError("CapsNet.perturb: this network was built with reconstruction=False")
        was = self.training
        self.eval()
        out = self(x.unsqueeze(0))
        self.train(was)
        k = int(out["out"].argmax(1)) if label is None else int(label)
        base = out["poses"][0]                                               # 10 x 16
        d = torch.as_tensor(list(deltas), dtype=base.dtype, device=base.device)
        dims = base.shape[1]
        poses = base.expand(dims, len(d), *base.shape).clone()              # 16 x 11 x 10 x 16
        poses[torch.arange(dims)[:, None], torch.arange(len(d)), k, torch.arange(dims)[:, None]] += d
        classes = torch.full((dims * len(d),), k, dtype=torch.long, device=base.device)
        images = self.reconstruct(poses.flatten(0, 1), classes)               # 176 x 784
        return images.view(dims, len(d), *x.shape)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        poses = self.digits(self.primary_capsules(x))                        # N x 10 x 16
        lengths = poses.norm(dim=-1)                                         # N x 10
        out = {"out": lengths, "poses": poses, "input": x}
        if self.decoder is not None:
            classes = labels if labels is not None else lengths.argmax(1)
            out["reconstruction"] = self.reconstruct(poses, classes)
        return out


_PAPER_SRC = "paper, §5: 8.2M and 6.8M; counted from §4's layout"


@register_model(task="classification", paper=PAPER, year=2017, input_size=(1, 28, 28),
                published=Published(params=Figure(PARAMS, _PAPER_SRC), other={
                    "params_without_decoder": Figure(PARAMS_NO_DECODER, _PAPER_SRC),
                    "mnist_error": Figure(TABLE1_ERROR[(3, True)], "paper, Table 1",
                                          "3 routing iterations, reconstruction loss, mean of 3 trials"),
                    "mnist_error_routing1": Figure(TABLE1_ERROR[(1, True)], "paper, Table 1",
                                                   "1 routing iteration, reconstruction loss"),
                    "mnist_error_baseline_cnn": Figure(BASELINE_CNN_ERROR, "paper, Table 1")}))
def capsnet(num_classes: int = 10, input_size: tuple[int, int, int] = (1, 28, 28), routing_iterations: int = 3,
            reconstruction: bool = True, **overrides: Any) -> CapsNet:
    """CapsNet as in §4: conv1 256@9×9, 32×6×6 8-D primary capsules, 10 16-D class capsules, 3 routing
    iterations, reconstruction decoder 512-1024-784."""
    return CapsNet(num_classes, input_size, routing_iterations=routing_iterations, reconstruction=reconstruction,
                   **{**CONFIGS["mnist"], **overrides})


@register_model(task="classification", paper=PAPER, year=2017, input_size=(1, 28, 28),
                published=Published(params=Figure(2_817_552, "counted from the architecture")))
def capsnet_small(num_classes: int = 10, input_size: tuple[int, int, int] = (1, 28, 28), routing_iterations: int = 3,
                  reconstruction: bool = True, **overrides: Any) -> CapsNet:
    """CapsNet with conv1 64@9×9 and 16 types of primary capsules (576), 10 16-D class capsules, 3 routing
    iterations, decoder 512-1024-784: Fashion-MNIST on a CPU."""
    return CapsNet(num_classes, input_size, routing_iterations=routing_iterations, reconstruction=reconstruction,
                   **{**CONFIGS["small"], **overrides})
