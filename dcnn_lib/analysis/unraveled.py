"""The unraveled view of a residual network (Veit, Wilber & Belongie, NeurIPS 2016).

Each block either adds its residual branch or lets the signal pass on the shortcut, so a
network of n blocks is a sum over 2^n paths; C(n, k) of them go through exactly k residual
branches (:func:`path_counts`). Their §6 measures which paths carry the gradient: feed a batch
forward, and in the backward pass let the gradient through the residual branch of k randomly
chosen blocks and through the shortcut of all others; the norm of what arrives at the input
is the gradient of one path of length k (:func:`path_gradient_norms`). Long paths carry
vanishing gradients, and there are few very short ones, so nearly all the gradient comes from
paths much shorter than the network.

:func:`input_gradient_norms` is the plain measurement: the gradient norm arriving at the
input of each block (plain vs residual networks).

Blocks are found by the ``shortcut`` / ``residual`` / ``merge`` protocol of
``dcnn_lib.layers.ResidualBlock`` (duck typing; no model file is imported).
"""
from __future__ import annotations

import math
import types
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import DcnnValueError
from .forward import eval_mode


def path_counts(n_blocks: int) -> list[int]:
    """``[C(n, 0), ..., C(n, n)]``: paths through exactly k of ``n_blocks`` residual branches."""
    if n_blocks < 0:
        raise DcnnValueError(f"path_counts: n_blocks must be >= 0, got {n_blocks}")
    return [math.comb(n_blocks, k) for k in range(n_blocks + 1)]


def residual_blocks(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """``(name, module)`` of every residual block (``shortcut``/``residual``/``merge``) with a
    shortcut, outermost first, in registration order."""
    found = []
    for name, m in model.named_modules():
        if all(callable(getattr(m, a, None)) for a in ("shortcut", "residual", "merge")) \
                and not getattr(m, "plain", False):
            if not any(name.startswith(f + ".") for f, _ in found):
                found.append((name, m))
    return found


@contextmanager
def _routed(blocks: Sequence[nn.Module], through_branch: set[int]) -> Iterator[None]:
    """Forward unchanged; backward only through F of blocks in ``through_branch``, through h of
    the others."""
    def make(use_branch: bool):
        def forward(self, x):
            h, f = self.shortcut(x), self.residual(x)
            return self.merge(h.detach(), f) if use_branch else self.merge(h, f.detach())
        return forward

    try:
        for i, b in enumerate(blocks):
            b.forward = types.MethodType(make(i in through_branch), b)
        yield
    finally:
        for b in blocks:
            b.__dict__.pop("forward", None)


def _input_leaf(block: nn.Module, store: list) -> torch.utils.hooks.RemovableHandle:
    def hook(module, args):
        leaf = args[0].detach().requires_grad_(True)
        store.append(leaf)
        return (leaf, *args[1:])
    return block.register_forward_pre_hook(hook)


def path_gradient(model: nn.Module, x: torch.Tensor, y: torch.Tensor, through: Iterable[int],
                  loss_fn: Callable = F.cross_entropy) -> torch.Tensor:
    """∂loss/∂x₀ carried by the paths that go through the residual branch of the blocks with
    indices ``through`` (into :func:`residual_blocks`) and through the shortcut of all others.

    x₀ is the input of the first residual block. The forward pass is the model's own (eval
    mode); only the backward pass is routed. Summed over all 2^n subsets, these gradients
    are the full gradient (every merge is linear in h and F given the forward values).
    """
    blocks = [m for _, m in residual_blocks(model)]
    if not blocks:
        raise DcnnValueError(f"path_gradient: {type(model).__name__} has no residual blocks")
    chosen = set(through)
    if not chosen <= set(range(len(blocks))):
        raise DcnnValueError(f"path_gradient: block indices must lie in 0..{len(blocks) - 1}, got {sorted(chosen)}")
    leaves: list[torch.Tensor] = []
    handle = _input_leaf(blocks[0], leaves)
    try:
        with eval_mode(model, grad=True), _routed(blocks, chosen):
            loss = loss_fn(model(x), y)
    finally:
        handle.remove()
    (g,) = torch.autograd.grad(loss, leaves[0])
    return g


def path_gradient_norms(model: nn.Module, x: torch.Tensor, y: torch.Tensor, lengths: Sequence[int] | None = None,
                        samples: int = 8, seed: int = 0,
                        loss_fn: Callable = F.cross_entropy) -> dict[int, float]:
    """Veit et al. §6: for each path length k, the mean over ``samples`` random choices of k
    blocks of ‖:func:`path_gradient`‖ (norm per example, averaged over the batch).

    Returns ``{k: mean norm}`` for k in ``lengths`` (default: 0..n).
    """
    n = len(residual_blocks(model))
    if n == 0:
        raise DcnnValueError(f"path_gradient_norms: {type(model).__name__} has no residual blocks")
    lengths = list(range(n + 1)) if lengths is None else list(lengths)
    if any(k < 0 or k > n for k in lengths):
        raise DcnnValueError(f"path_gradient_norms: lengths must lie in 0..{n}, got {lengths}")
    from ..runtime import DRY_RUN_STEPS, dry_run

    if dry_run():                          # DCNN_DRY_RUN: a couple of paths, not lengths × samples
        lengths, samples = lengths[:DRY_RUN_STEPS], 1
    gen = torch.Generator().manual_seed(seed)
    out: dict[int, float] = {}
    for k in lengths:
        norms = [path_gradient(model, x, y, torch.randperm(n, generator=gen)[:k].tolist(), loss_fn)
                 .flatten(1).norm(dim=1).mean().item() for _ in range(samples)]
        out[k] = sum(norms) / len(norms)
    return out


def input_gradient_norms(model: nn.Module, x: torch.Tensor, y: torch.Tensor, names: Sequence[str],
                         loss_fn: Callable = F.cross_entropy, train_mode: bool = False) -> dict[str, float]:
    """‖∂loss/∂(input of module ``name``)‖ for each name (per example, averaged over the batch).

    One forward and backward pass of ``loss_fn(model(x), y)``; parameters' ``.grad`` and the
    model's buffers are left untouched. ``train_mode`` runs batch norm with batch statistics
    (as in training).
    """
    leaves: dict[str, torch.Tensor] = {}
    handles = []
    for name in names:
        def hook(module, args, name=name):
            a = args[0] if args[0].requires_grad else args[0].detach().requires_grad_(True)
            leaves[name] = a
            return (a, *args[1:])
        handles.append(model.get_submodule(name).register_forward_pre_hook(hook))
    was_training = model.training
    buffers = {k: v.clone() for k, v in model.named_buffers()}  # batch norm statistics
    model.train(train_mode)
    try:
        loss = loss_fn(model(x), y)
        grads = torch.autograd.grad(loss, [leaves[n] for n in names])
    finally:
        for h in handles:
            h.remove()
        with torch.no_grad():
            for k, v in model.named_buffers():
                v.copy_(buffers[k])
        model.train(was_training)
    return {n: g.flatten(1).norm(dim=1).mean().item() for n, g in zip(names, grads)}
