"""What attention layers look at: their probability maps, the mean attention distance of each
head (Dosovitskiy et al., ICLR 2021, §4.5 and Fig. 7) and attention rollout (Abnar & Zuidema,
ACL 2020). Works on any model whose attention layers are either

- modules with a ``store_attention`` flag that keep their last probabilities in
  ``.attention`` (dcnn_lib's :class:`~dcnn_lib.layers.Attention`), or
- ``torch.nn.MultiheadAttention`` (torchvision's ViT): the call is made with
  ``need_weights=True, average_attn_weights=False`` and the weights are read off its output.

Imports no model.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn


def _is_stored(m: nn.Module) -> bool:
    return hasattr(m, "store_attention") and hasattr(m, "attention")


@torch.no_grad()
def attention_maps(model: nn.Module, *inputs: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
    """Run ``model(*inputs)`` once (as it is: call ``.eval()`` first for deterministic maps)
    and return each attention layer's probabilities ``(N, heads, Lq, Lk)`` by module name,
    in execution order. Raises ``ValueError`` if the model has no attention layer."""
    maps: dict[str, torch.Tensor] = {}
    handles, flags = [], []
    for name, m in model.named_modules():
        if _is_stored(m):
            flags.append((m, m.store_attention))
            m.store_attention = True

            def grab(mod, args, out, name=name):
                maps[name] = mod.attention
            handles.append(m.register_forward_hook(grab))
        elif isinstance(m, nn.MultiheadAttention):
            def ask(mod, args, kw):
                return args, {**kw, "need_weights": True, "average_attn_weights": False}

            def read(mod, args, kw, out, name=name):
                maps[name] = out[1]
            handles.append(m.register_forward_pre_hook(ask, with_kwargs=True))
            handles.append(m.register_forward_hook(read, with_kwargs=True))
    if not handles:
        raise ValueError(f"attention_maps: {type(model).__name__} has no attention layer "
                         "(nn.MultiheadAttention or a module with store_attention)")
    try:
        model(*inputs, **kwargs)
    finally:
        for h in handles:
            h.remove()
        for m, flag in flags:
            m.store_attention, m.attention = flag, None
    return maps


def _patch_part(attn: torch.Tensor, grid: tuple[int, int], prefix_tokens: int) -> torch.Tensor:
    n_patches = grid[0] * grid[1]
    if attn.ndim != 4 or attn.shape[-1] != attn.shape[-2] or attn.shape[-1] != prefix_tokens + n_patches:
        raise ValueError(f"attention map of shape {tuple(attn.shape)} does not match a {grid[0]}×{grid[1]} "
                         f"grid with {prefix_tokens} prefix token(s): expected (N, heads, {prefix_tokens + n_patches}, "
                         f"{prefix_tokens + n_patches})")
    return attn[..., prefix_tokens:, prefix_tokens:]


def patch_distances(grid: tuple[int, int], patch_size: float = 1.0) -> torch.Tensor:
    """Euclidean distance between the centres of every pair of patches, in pixels: ``(L, L)``."""
    rows, cols = torch.meshgrid(torch.arange(grid[0]), torch.arange(grid[1]), indexing="ij")
    centres = torch.stack([rows.flatten(), cols.flatten()], dim=1).double() * patch_size
    return torch.cdist(centres, centres).float()


def mean_attention_distance(attn: torch.Tensor, grid: tuple[int, int], patch_size: float = 1.0,
                            prefix_tokens: int = 1) -> torch.Tensor:
    """Per head: the distance (pixels) between a patch and the patches it attends to, weighted
    by the attention and averaged over patches and images — ViT's "attention distance", the
    analogue of a receptive-field size. ``attn``: ``(N, heads, L, L)``; prefix (class) tokens
    are left out and each patch's weights over the other patches renormalised. Returns
    ``(heads,)``."""
    a = _patch_part(attn, grid, prefix_tokens).float()
    a = a / a.sum(-1, keepdim=True).clamp_min(1e-12)
    d = patch_distances(grid, patch_size).to(a.device)
    return (a * d).sum(-1).mean(dim=(0, 2))


def attention_rollout(maps: list[torch.Tensor] | dict[str, torch.Tensor], residual: float = 0.5) -> torch.Tensor:
    """Attention rollout: ``Π_l (residual · I + (1 − residual) · mean_heads(A_l))``, rows
    renormalised — how much each output token draws on each input token through all layers,
    the skip connections included. ``(N, L, L)``."""
    layers = list(maps.values()) if isinstance(maps, dict) else list(maps)
    if not layers:
        raise ValueError("attention_rollout: no attention maps")
    out = None
    for a in layers:
        a = a.float().mean(1)                                             # N x L x L
        a = residual * torch.eye(a.shape[-1], device=a.device) + (1 - residual) * a
        a = a / a.sum(-1, keepdim=True)
        out = a if out is None else a @ out
    return out


def class_token_map(attn: torch.Tensor, grid: tuple[int, int], prefix_tokens: int = 1) -> torch.Tensor:
    """How much the class token (token 0) attends to each patch, averaged over heads, as an
    image ``(N, h, w)``. ``attn``: ``(N, heads, L, L)`` or a rollout ``(N, L, L)``."""
    a = attn.float().mean(1) if attn.ndim == 4 else attn.float()
    n_patches = grid[0] * grid[1]
    if a.shape[-1] != prefix_tokens + n_patches:
        raise ValueError(f"class_token_map: {a.shape[-1]} tokens, expected {prefix_tokens} + {grid[0]}×{grid[1]}")
    return a[:, 0, prefix_tokens:].reshape(-1, *grid)


def token_receptive_field(model: nn.Module, inputs: torch.Tensor, layer: str, token: int | None = None,
                          prefix_tokens: int = 0) -> torch.Tensor:
    """Which input pixels one token of ``layer``'s output depends on, measured by autograd.

    The output of module ``layer`` (tokens ``(N, L, D)`` or a channels-last grid ``(N, h, w,
    D)``) is captured by a hook; the gradient of token ``token`` (its features projected on a
    fixed random direction; default: the patch nearest the centre, after ``prefix_tokens`` class tokens) with respect
    to the input is taken, and ``|gradient|`` summed over input channels and averaged over the
    batch is returned as ``(H, W)``. Its non-zero support is the token's receptive field — the
    patch itself after a patch embedding, the whole image after one attention layer. (The
    tracing tool :func:`~dcnn_lib.analysis.receptive_field` follows spatial axes of
    ``(N, C, H, W)`` maps, not tokens.)
    """
    modules = dict(model.named_modules())
    if layer not in modules:
        raise ValueError(f"token_receptive_field: no module {layer!r} in {type(model).__name__}")
    captured: list[torch.Tensor] = []
    handle = modules[layer].register_forward_hook(lambda m, a, out: captured.append(out))
    x = inputs.detach().clone().requires_grad_(True)
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            model(x)
            out = captured[0]
            if out.ndim == 4:                                     # N x h x w x D grid
                grid = out.shape[1:3]
                out = out.flatten(1, 2)
            elif out.ndim == 3:
                n = out.shape[1] - prefix_tokens
                side = int(round(n ** 0.5))
                grid = (side, side)
            else:
                raise ValueError(f"token_receptive_field: {layer!r} gives {tuple(out.shape)}, not tokens")
            if token is None:
                token = prefix_tokens + (grid[0] // 2) * grid[1] + grid[1] // 2
            # a fixed random direction in feature space: a plain sum has zero gradient right
            # after a layer norm (the normalised features always sum to the same value)
            direction = torch.randn(out.shape[-1], generator=torch.Generator().manual_seed(0)).to(out)
            (out[:, token] * direction).sum().backward()
    finally:
        handle.remove()
        model.train(was_training)
    return x.grad.abs().sum(1).mean(0)
