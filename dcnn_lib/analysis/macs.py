"""Multiply-accumulates (MACs) of one ATen operation, for :func:`~dcnn_lib.analysis.summary`.

What counts is what torchvision's "GFLOPS" metadata counts (``weights.meta["_ops"]``, which
are multiply-adds despite the name): convolutions, matrix products and the two products of
attention (``Q Kᵀ`` and ``softmax(·) V``), one per multiply-add. Pooling, activations,
normalisation, softmax and additions count 0.

Most operations are priced by PyTorch's own formulas (``torch.utils.flop_counter.flop_registry``:
convolution, ``mm``, ``addmm``, ``bmm``, ``baddbmm``, the CUDA attention kernels; they count a
multiply-add as two FLOPs, halved here). PyTorch's ``FlopCounterMode`` misses the fused
inference paths, which reach the dispatcher as single operations; :data:`FUSED` prices them:

- ``_native_multi_head_attention``: ``nn.MultiheadAttention`` in eval mode without gradients
  (torchvision's ViT), the input and output projections included;
- ``_transformer_encoder_layer_fwd``: the same fast path of ``nn.TransformerEncoderLayer``,
  with its feed-forward layers;
- ``_scaled_dot_product_flash_attention_for_cpu`` and
  ``_scaled_dot_product_fused_attention_overrideable``: ``F.scaled_dot_product_attention``;
- ``linear``, ``matmul`` and ``_addmm_activation``, where a backend does not decompose them.

On the ``meta`` device the same modules take their unfused paths (``mm``, ``bmm``), which
give the same count.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import torch
from torch.utils.flop_counter import flop_registry

aten = torch.ops.aten


def _attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> int:
    """``softmax(Q Kᵀ) V`` for ``q`` of shape ``(..., Lq, E)``, ``k`` ``(..., Lk, E)``, ``v``
    ``(..., Lk, Ev)``: ``Lq Lk E + Lq Lk Ev`` per leading index (batch × heads; grouped
    key/value heads are broadcast to the query's)."""
    lq, e = q.shape[-2:]
    lk, ev = k.shape[-2], v.shape[-1]
    return math.prod(q.shape[:-2]) * lq * lk * (e + ev)


def _sdpa(out, query, key, value, *args, **kwargs) -> int:
    return _attention(query, key, value)


def _mha(out, query, key, value, embed_dim, *args, **kwargs) -> int:
    """Attention on ``(N, L, E)`` (or ``(L, E)``) inputs, any number of heads: the Q, K, V
    projections (``E × E`` each), the products of every head (together ``2 Lq Lk E``) and
    the output projection."""
    e, lq, lk = int(embed_dim), query.shape[-2], key.shape[-2]
    n = query.numel() // (lq * e)
    return n * (2 * lq * e * e + 2 * lk * e * e + 2 * lq * lk * e)


def _encoder_layer(out, src, embed_dim, num_heads, qkv_weight, qkv_bias, proj_weight, proj_bias, use_gelu,
                   norm_first, eps, norm_weight_1, norm_bias_1, norm_weight_2, norm_bias_2, ffn_weight_1,
                   *args, **kwargs) -> int:
    """Self-attention plus the feed-forward block ``E -> F -> E`` of every token."""
    tokens = src.numel() // int(embed_dim)
    return _mha(out, src, src, src, embed_dim) + 2 * tokens * ffn_weight_1.numel()


def _linear(out, input, weight, *args, **kwargs) -> int:
    return input.numel() // weight.shape[-1] * weight.numel()


def _matmul(out, a, b, *args, **kwargs) -> int:
    return out.numel() * a.shape[-1]


def _addmm(out, bias, a, b, *args, **kwargs) -> int:
    return a.shape[0] * a.shape[1] * b.shape[1]


_RULES: dict[str, Callable[..., int]] = {
    "_native_multi_head_attention": _mha,
    "_transformer_encoder_layer_fwd": _encoder_layer,
    "_scaled_dot_product_flash_attention_for_cpu": _sdpa,
    "_scaled_dot_product_fused_attention_overrideable": _sdpa,
    "linear": _linear,
    "matmul": _matmul,
    "_addmm_activation": _addmm,
}
# the operations this torch version has (a few are newer than the oldest torch supported)
FUSED: dict[Any, Callable[..., int]] = {getattr(aten, n): rule for n, rule in _RULES.items() if hasattr(aten, n)}


def op_macs(func: Any, args: tuple, kwargs: dict, out: Any) -> int:
    """Multiply-adds of one call of the ATen operation ``func`` (0 for operations that do
    none: everything but convolutions, matrix products and attention)."""
    packet = func._overloadpacket
    rule = FUSED.get(packet)
    if rule is not None:
        first = out[0] if isinstance(out, (tuple, list)) else out
        return int(rule(first, *args, **kwargs))
    formula = flop_registry.get(packet)
    if formula is None:
        return 0
    return int(formula(*args, **kwargs, out_val=out)) // 2


__all__ = ["FUSED", "op_macs"]
