"""The entry point of the analytic receptive field: :func:`receptive_field`.

By default the forward runs on the ``meta`` device (shapes only, no arithmetic; parameters
are viewed as meta tensors operation by operation, the model is not touched), so ResNet-152's
whole table takes a fraction of a second. A model whose forward needs real values (an
``.item()``, data-dependent control flow) is re-run on real random data automatically.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn

from ...errors import DcnnValueError
from ..forward import check_model, eval_mode, make_input, param_device, param_dtype
from .table import ReceptiveFields
from .tracer import trace


def receptive_field(model: nn.Module, input_size: Sequence[int] | torch.Tensor, *, depth: int | None = None,
                    spatial_dims: int = 2) -> ReceptiveFields:
    """The receptive field of every layer of ``model`` (any ``nn.Module`` taking one tensor).

    Args:
        model: the network; it is run once in eval mode and left as it was.
        input_size: ``(C, H, W)``, ``(N, C, H, W)`` or an input tensor.
        depth: stop ``depth`` levels below the model (as :func:`~dcnn_lib.analysis.summary`);
            default: a row per leaf module and per operation in a container's ``forward`` that
            changes the fields (pooling, ``+`` of two paths, ``cat``, ``flatten``...).
        spatial_dims: how many trailing axes of the input are spatial (2 for images).

    Returns:
        :class:`~dcnn_lib.analysis.ReceptiveFields`.

    Example::

        rf = receptive_field(torchvision.models.resnet50(), (3, 224, 224))
        rf["layer4"].size, rf["layer4"].stride     # (427, 427), (32, 32)
        rf["layer4"].input_box(3, 3)               # the field of the centre unit
    """
    check_model(model, "receptive_field")
    x = make_input(input_size, "receptive_field", param_dtype(model), "meta", unbatched=(2, 3))
    if x.ndim < spatial_dims + 1:
        raise DcnnValueError(f"receptive_field: input of shape {tuple(x.shape)} has fewer than {spatial_dims} "
                             "spatial axes (give (C, H, W) or set spatial_dims)")
    with eval_mode(model):
        try:
            tracer = trace(model, x.to("meta"), spatial_dims, depth, meta=True)
            where = "meta"
        except Exception:  # the forward needs real values: run it on random data instead
            real = x if x.device.type != "meta" else make_input(tuple(x.shape), "receptive_field", x.dtype,
                                                                 param_device(model), unbatched=())
            tracer = trace(model, real.detach().clone(), spatial_dims, depth, meta=False)
            where = str(real.device)
    return ReceptiveFields(model_name=type(model).__name__, input_size=tuple(int(s) for s in x.shape[-spatial_dims:]),
                           rows=tracer.rows, aliases=tracer.aliases, traced_on=where, merges=tracer.merges)


__all__ = ["receptive_field"]
