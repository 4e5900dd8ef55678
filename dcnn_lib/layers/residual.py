"""What every residual block is: y = f(h(x) + F(x)) (He et al., ECCV 2016, eq. 1-2).

- F, :meth:`ResidualBlock.residual`: the stacked layers, "the residual function";
- h, :meth:`ResidualBlock.shortcut`: identity, or a zero-padding / projection shortcut where
  the shape changes (``self.downsample``); ``None`` for a plain block (no shortcut at all);
- f, :meth:`ResidualBlock.merge`: what follows the addition (a ReLU in the 2015 ResNet,
  nothing in the pre-activation one).

``forward(x) = merge(shortcut(x), residual(x))``. Blocks subclass :class:`ResidualBlock`,
build their layers and define ``residual``; analysis code (``dcnn_lib.analysis.unraveled``)
relies only on the three methods, so it can send the gradient through h or through F alone.
"""
from __future__ import annotations

import torch
import torch.nn as nn


class ResidualBlock(nn.Module):
    """Base class: subclasses set ``self.downsample`` (module or ``None``), ``self.plain``
    (``True``: no shortcut) and ``self.relu`` (used by the default :meth:`merge`), and
    implement :meth:`residual`."""

    downsample: nn.Module | None
    plain: bool = False

    def residual(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def shortcut(self, x: torch.Tensor) -> torch.Tensor | None:
        """h(x): identity (``downsample is None``) or ``downsample(x)``; ``None`` when plain."""
        if self.plain:
            return None
        return x if self.downsample is None else self.downsample(x)

    def merge(self, h: torch.Tensor | None, f: torch.Tensor) -> torch.Tensor:
        """f(h + F): a ReLU after the addition (just ReLU(F) in a plain block)."""
        return self.relu(f if h is None else f + h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.merge(self.shortcut(x), self.residual(x))


def is_residual_block(module: nn.Module) -> bool:
    """True for a module with the ``shortcut`` / ``residual`` / ``merge`` protocol."""
    return all(callable(getattr(module, m, None)) for m in ("shortcut", "residual", "merge"))
