"""UD-Net: the R2U-Net-based regression network for nucleus detection of Alom, Aspiras, Taha,
Bowen & Asari, "Microscopic nuclei classification, segmentation, and detection with improved
deep convolutional neural networks (DCNN)", Diagnostic Pathology 17:38, 2022 (the "University
of Dayton Net"; arXiv:1811.03447, 2018).

Detection as regression: an R2U-Net (Alom et al., 2018: U-Net whose convolution pairs are
recurrent residual convolutional units) maps the image to a map of the same size whose peaks
are the objects' centres, trained with a mean-squared-error loss; detections are the local
maxima of the predicted map. The parts:

- ``transform`` — torchvision's ``GeneralizedRCNNTransform`` (normalise, resize to a fixed
  side divisible by 2^(levels - 1), batch; detections mapped back);
- ``net`` — dcnn_lib's registered ``r2unet`` (the segmentation chapter's R2U-Net, reused, not
  copied) with one output channel for the centre map (+ one per class, + two for the box size);
- :mod:`dcnn_lib.detection.centre_maps` — targets (a Gaussian peak at each object's centre,
  its spread following the object's box) and decoding (local maxima above a threshold).

Loss: ``loss_centre`` = mean squared error between predicted and target centre maps
(multiplied by ``heat_weight`` so that it is not dwarfed by the other terms); with classes,
``loss_class`` = cross-entropy of the class maps at the pixels near each centre; with box
sizes, ``loss_size`` = L1 error of the relative box width and height at those pixels.

Departures from the paper, all deliberate:

- **Classes and boxes.** The paper's UD-Net finds nucleus centres (one class) and is scored
  by matching points. To run under the common detection contract on several classes, the
  centre map stays class-agnostic (the paper's output), one more map per class scores the
  class of the pixels near each centre, and two maps regress the box's width and height
  there (as CenterNet does, Zhou et al. 2019), so that UD-Net returns labelled boxes.
  ``num_classes=1, box_size=False`` is the paper's single-class point detector (boxes of a
  fixed size around the points).
- **Map shape.** The Gaussian's width follows each object's box (σ = side / 6), because the
  scenes' objects vary in size; nucleus detectors often use one fixed σ.
- **Depth and width** (``widths``) are chosen for the input: the paper's network was trained
  on small patches of whole-slide images.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.detection.transform import GeneralizedRCNNTransform

from ...detection.centre_maps import centre_targets, decode_centre_maps
from ...detection.contract import DetectorContract
from ...layers import guard_inputs
from ...errors import DcnnValueError
from ...registry import Figure, Published, TestSettings, check_input_size, get, register_model

PAPER = ("Alom, Aspiras, Taha, Bowen & Asari, Microscopic nuclei classification, segmentation, and detection "
         "with improved deep convolutional neural networks (DCNN), Diagnostic Pathology 17:38, 2022")
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class UDNet(DetectorContract, nn.Module):
    """UD-Net under the detection contract (see the module docstring).

    Args:
        num_classes: object classes; 1 (nuclei): the network outputs the centre map only;
            more: also one score map per class (a class per pixel near each centre).
        input_size: ``(3, H, H)``, the fixed square size images are resized to.
        widths: R2U-Net channels per level (its depth is ``len(widths)``).
        t: recurrent steps of the R2U-Net units (2).
        box_size: regress the box width and height (two extra maps).
        sigma_divisor: target Gaussian σ = box side / this.
        heat_weight: factor of the centre-map MSE.
        score_thresh, detections_per_img, default_box, peak_window: decoding (``default_box``:
            the side, relative to the image, of boxes when ``box_size=False``;
            ``peak_window``: a peak is the largest value of its window).
    """

    detector_name = "UDNet"

    def __init__(self, num_classes: int = 1, input_size: tuple[int, int, int] = (3, 256, 256),
                 widths: Sequence[int] = (16, 32, 64, 128, 256), t: int = 2, box_size: bool = True, sigma_divisor: float = 6.0, heat_weight: float = 100.0,
                 score_thresh: float = 0.1, detections_per_img: int = 100, default_box: float = 0.05,
                 peak_window: int = 3, image_mean: Sequence[float] = IMAGENET_MEAN,
                 image_std: Sequence[float] = IMAGENET_STD) -> None:
        super().__init__()
        levels = len(widths)
        channels, side, width = check_input_size(input_size, "UDNet")
        if channels != 3 or side != width or side % 2 ** (levels - 1):
            raise DcnnValueError(f"UDNet: input_size must be (3, H, H) with H divisible by 2^{levels - 1} "
                                 f"({len(widths)} levels), got {tuple(input_size)}")
        self.num_classes, self.input_size, self.side, self.box_size = num_classes, (3, side, side), side, box_size
        self.sigma_divisor, self.heat_weight = sigma_divisor, heat_weight
        self.score_thresh, self.detections_per_img = score_thresh, detections_per_img
        self.default_box, self.peak_window = default_box, peak_window
        self.transform = GeneralizedRCNNTransform(side, side, list(image_mean), list(image_std),
                                                  size_divisible=1, fixed_size=(side, side))
        self.n_class_maps = num_classes if num_classes > 1 else 0
        outputs = 1 + self.n_class_maps + (2 if box_size else 0)
        self.net = get("r2unet", num_classes=outputs, in_channels=3,
                       widths=tuple(widths), t=t)             # N x 3 x H x W -> N x outputs x H x W
        guard_inputs(self, "UDNet", expected=self.input_size)

    def maps(self, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """Centre maps ``(N, H, W)``, class scores ``(N, C, H, W)`` and size maps ``(N, 2, H, W)``
        (``None`` when the model has none)."""
        out = self.net(batch)["out"]
        k = 1 + self.n_class_maps
        classes = out[:, 1:k] if self.n_class_maps else None
        return out[:, 0], classes, (out[:, k:k + 2] if self.box_size else None)

    def targets(self, targets: list[dict], size: tuple[int, int]) -> tuple[torch.Tensor, ...]:
        """Target centre maps, pixel labels and size maps of a batch (see ``centre_targets``)."""
        maps = [centre_targets(t["boxes"], t["labels"], size, self.sigma_divisor) for t in targets]
        return tuple(torch.stack(m) for m in zip(*maps))

    def forward(self, images, targets=None):
        images = self.check_inputs(images, targets)
        original_sizes = [tuple(img.shape[-2:]) for img in images]
        batch, targets = self.transform(images, targets)
        heat, classes, wh = self.maps(batch.tensors)
        size = (self.side, self.side)
        if self.training:
            t_heat, t_label, t_wh = self.targets(targets, size)
            losses = {"loss_centre": self.heat_weight * F.mse_loss(heat, t_heat)}
            near = t_label > 0                                              # pixels near a centre
            if classes is not None:
                losses["loss_class"] = (F.cross_entropy(classes.permute(0, 2, 3, 1)[near], t_label[near] - 1)
                                        if near.any() else classes.sum() * 0.0)
            if wh is not None:
                m = near[:, None].expand_as(wh)
                losses["loss_size"] = F.l1_loss(wh[m], t_wh[m]) if m.any() else wh.sum() * 0.0
            return losses
        detections = [decode_centre_maps(heat[k], classes[k] if classes is not None else None,
                                         wh[k] if wh is not None else None, self.score_thresh,
                                         self.detections_per_img, self.default_box, self.peak_window)
                      for k in range(len(heat))]
        return self.transform.postprocess(detections, batch.image_sizes, original_sizes)


@register_model(task="detection", paper=PAPER, year=2022, input_size=(3, 256, 256),
                test=TestSettings(input_size=(3, 64, 64), kwargs=dict(
                    num_classes=3, input_size=(3, 64, 64), widths=(4, 8, 16), box_size=True)))
def udnet(num_classes: int = 1, input_size: tuple[int, int, int] = (3, 256, 256),
          widths: Sequence[int] = (16, 32, 64, 128, 256), t: int = 2, box_size: bool = False, **kwargs) -> UDNet:
    """UD-Net: R2U-Net regression of a centre map (one class: nuclei), peaks as detections."""
    return UDNet(num_classes, input_size, widths, t, box_size, **kwargs)
