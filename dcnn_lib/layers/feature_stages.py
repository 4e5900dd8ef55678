"""A backbone's intermediate maps by name: the "feature stages" a segmentation head needs.

:class:`FeatureStages` keeps a model's children in order up to the last one asked for and
returns a dict of the maps it was asked for (torchvision's ``IntermediateLayerGetter`` does the
same, and the parameter names are the same, so torchvision's segmentation weights load)::

    stages = FeatureStages(resnet, {"layer3": "aux", "layer4": "out"})
    stages(x)  # {"aux": N x 1024 x H/16 x W/16, "out": N x 2048 x H/32 x W/32}
"""
from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn as nn


class FeatureStages(nn.ModuleDict):
    """Run ``model``'s children in order; return the outputs of ``return_layers`` (child name → key).

    Children after the last requested one (a classifier's pooling and ``fc``) are dropped.
    """

    def __init__(self, model: nn.Module, return_layers: dict[str, str]) -> None:
        names = [n for n, _ in model.named_children()]
        missing = [n for n in return_layers if n not in names]
        if missing:
            raise ValueError(f"FeatureStages: {type(model).__name__} has no child {missing}; children: {names}")
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        wanted = set(return_layers)
        for name, module in model.named_children():
            layers[name] = module
            wanted.discard(name)
            if not wanted:
                break
        super().__init__(layers)
        self.return_layers = dict(return_layers)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        out: OrderedDict[str, torch.Tensor] = OrderedDict()
        for name, module in self.items():
            x = module(x)
            if name in self.return_layers:
                out[self.return_layers[name]] = x
        return out
