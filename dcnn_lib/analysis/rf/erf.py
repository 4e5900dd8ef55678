"""The effective receptive field (Luo, Li, Urtasun & Zemel, NeurIPS 2016).

:func:`effective_receptive_field` measures how much each pixel in the field actually matters:
the input gradient of a layer's centre unit, averaged over inputs. :func:`erf_mass` reports
the radius that holds 68% / 95% of it ("Understanding the Effective Receptive Field in Deep
Convolutional Neural Networks").
"""
from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
import torch.nn as nn

from ...errors import DcnnValueError
from ..forward import check_model, eval_mode, make_input, param_device
from .analytic import receptive_field
from .table import ReceptiveFields, RFRow
from .tracer import trace


def _pick_row(table: ReceptiveFields, layer: str | int | None) -> RFRow:
    """The row ``layer`` names, or a named error listing the layers there are."""
    if layer is None:
        spatial = [r for r in table if r.spatial]
        if not spatial:
            raise DcnnValueError("effective_receptive_field: the model has no layer with a spatial output")
        return spatial[-1]
    if isinstance(layer, str) and layer in table:
        return table[layer]
    if isinstance(layer, int) and not isinstance(layer, bool) and -len(table) <= layer < len(table):
        return table[layer]
    names = table.names()
    shown = names if len(names) <= 12 else [*names[:6], "...", *names[-6:]]
    close = difflib.get_close_matches(str(layer), table.all_names(), n=3)
    raise DcnnValueError(
        f"effective_receptive_field: layer={layer!r} is not a layer of {table.model_name}: give a row index "
        f"from {-len(names)} to {len(names) - 1} or a row or container name"
        + (f" (did you mean {close}?)" if close else "") + f"; its {len(names)} rows: {', '.join(shown)}")


def effective_receptive_field(model: nn.Module, input_size: Sequence[int] | None = None, layer: str | int | None = None,
                              *, inputs: torch.Tensor | None = None, n_samples: int = 16, batch_size: int = 8,
                              unit: Sequence[int] | None = None, channels: Sequence[int] | None = None,
                              absolute: bool = True, seed: int = 0,
                              device: torch.device | str | None = None) -> np.ndarray:
    """The effective receptive field: how much each input pixel moves one unit, on average.

    Following Luo et al. (NeurIPS 2016), the gradient of the centre unit of ``layer``'s output
    (summed over its channels, or over ``channels``) is back-propagated to the input and its
    magnitude, summed over input channels, is averaged over inputs: ``n_samples`` standard
    normal images of ``input_size``, or the given ``inputs`` (e.g. photos). The model runs in
    eval mode and is left as it was.

    Args:
        model: any ``nn.Module``.
        input_size: ``(C, H, W)`` of the random inputs (ignored when ``inputs`` is given).
        layer: a row or container name of :func:`receptive_field`'s table, or a row index;
            default: the last layer with a spatial output.
        inputs: ``(N, C, H, W)`` images to average over instead of random ones.
        unit: the output unit ``(y, x)``; default: the centre.
        absolute: average ``|gradient|`` (default) or the signed gradient.

    Returns:
        a ``(H, W)`` float64 array at input resolution.
    """
    check_model(model, "effective_receptive_field")
    for arg, v in (("n_samples", n_samples), ("batch_size", batch_size)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise DcnnValueError(f"effective_receptive_field: {arg} must be a positive int (the map is an average "
                                 f"over inputs), got {v!r}")
    if inputs is None:
        if input_size is None:
            raise DcnnValueError("effective_receptive_field: give input_size (C, H, W) or inputs (N, C, H, W)")
        size = tuple(make_input(input_size, "effective_receptive_field", torch.float32).shape[-3:])
        gen = torch.Generator().manual_seed(seed)
        inputs = torch.randn((n_samples, *size), generator=gen)
    if not isinstance(inputs, torch.Tensor) or inputs.ndim != 4 or len(inputs) == 0:
        got = tuple(inputs.shape) if isinstance(inputs, torch.Tensor) else type(inputs).__name__
        raise DcnnValueError(f"effective_receptive_field: inputs must be a tensor (N, C, H, W) with N >= 1, got {got}")
    table = receptive_field(model, inputs[:1])
    row = _pick_row(table, layer)
    key = row.key
    if not row.spatial and unit is not None:
        raise DcnnValueError(f"effective_receptive_field: layer {key!r} has no spatial output to pick a unit in")
    unit = tuple(unit) if unit is not None else row.centre_unit
    row.checked_unit(unit)
    device = device if device is not None else param_device(model)
    total = torch.zeros(inputs.shape[-2:], dtype=torch.float64)
    with eval_mode(model, grad=True):
        for start in range(0, len(inputs), batch_size):
            x = inputs[start:start + batch_size].to(device).detach().clone().requires_grad_(True)
            tracer = trace(model, x, 2, None, meta=False, capture=key)
            out = tracer.captured
            if out is None:
                raise DcnnValueError(f"effective_receptive_field: layer {key!r} did not run on real inputs")
            sel = out if channels is None else out[:, list(channels)]
            value = sel[(slice(None), slice(None), *unit)] if row.spatial and sel.ndim >= 4 else sel
            (grad,) = torch.autograd.grad(value.sum(), x)
            g = grad.detach().double()
            total += (g.abs() if absolute else g).sum(1).sum(0).cpu()
    return (total / len(inputs)).numpy()


@dataclass(frozen=True)
class ERFMass:
    """How concentrated an effective receptive field is (see :func:`erf_mass`)."""

    centre: tuple[float, float]
    radii: dict[float, float]
    rf_size: tuple[float, float] | None = None

    def rf_fraction(self, fraction: float) -> float | None:
        """Radius holding ``fraction`` of the mass, over the theoretical field's half-size."""
        if self.rf_size is None:
            return None
        return self.radii[fraction] / ((min(self.rf_size) - 1) / 2 or 1)

    def area_fraction(self, fraction: float) -> float | None:
        """Area of the disc holding ``fraction`` of the mass, over the theoretical field's area."""
        if self.rf_size is None:
            return None
        return min(1.0, math.pi * self.radii[fraction] ** 2 / (self.rf_size[0] * self.rf_size[1]))

    def __str__(self) -> str:
        parts = []
        for f, r in self.radii.items():
            s = f"{f:.0%} of the gradient within {r:.1f} px"
            if self.rf_size is not None:
                s += f" ({self.rf_fraction(f):.0%} of the theoretical half-size, {self.area_fraction(f):.0%} of its area)"
            parts.append(s)
        return "; ".join(parts)


def erf_mass(erf: np.ndarray, fractions: Sequence[float] = (0.68, 0.95), *, centre: Sequence[float] | None = None,
             rf: RFRow | Sequence[float] | None = None) -> ERFMass:
    """The radius of the smallest disc around ``centre`` holding each fraction of ``erf``'s mass.

    ``rf``: the layer's :class:`RFRow` (its centre unit's field centre and size are used) or a
    theoretical size ``(h, w)``, to say how much of the theoretical field holds the mass. For a
    2-D Gaussian of standard deviation σ, 68% lies within 1.51σ and 95% within 2.45σ.
    """
    m = np.abs(np.asarray(erf, dtype=np.float64))
    if m.ndim != 2 or m.sum() <= 0:
        raise DcnnValueError("erf_mass: erf must be a 2-D array with some nonzero mass")
    size = None
    if isinstance(rf, RFRow):
        if centre is None:
            centre = rf.input_centre(*rf.centre_unit)
        size = tuple(float(s) for s in rf.size)
    elif rf is not None:
        size = tuple(float(s) for s in rf)
    if centre is None:
        centre = ((m.shape[0] - 1) / 2, (m.shape[1] - 1) / 2)
    yy, xx = np.indices(m.shape)
    dist = np.hypot(yy - centre[0], xx - centre[1]).ravel()
    order = np.argsort(dist, kind="stable")
    cum = np.cumsum(m.ravel()[order]) / m.sum()
    radii = {float(f): float(dist[order][min(np.searchsorted(cum, f), len(cum) - 1)]) for f in fractions}
    return ERFMass(centre=(float(centre[0]), float(centre[1])), radii=radii, rf_size=size)  # type: ignore[arg-type]


__all__ = ["effective_receptive_field", "erf_mass", "ERFMass"]
