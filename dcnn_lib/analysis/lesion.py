"""Lesion studies: take parts out of a trained network, or reorder them, and measure again.

Veit, Wilber & Belongie, "Residual Networks Behave Like Ensembles of Relatively Shallow
Networks", NeurIPS 2016, §4: deleting one block of a trained ResNet at test time barely
changes its error, deleting one layer of a plain (VGG) network destroys it; reordering blocks
degrades a ResNet smoothly.

- :func:`swapped`: a context manager that replaces submodules by path and restores them,
  for any ``nn.Module`` (``{"layer2.3": other_block}`` reorders, ``{"layer2.3": nn.Identity()}``
  deletes);
- :class:`SkipOnly`: a residual block with its residual branch deleted (x → f(h(x) + 0)); a
  plain block (no shortcut) becomes the identity;
- :func:`lesioned`: :func:`swapped` with every named block replaced by :class:`SkipOnly`.

Blocks are recognised by the ``shortcut`` / ``residual`` / ``merge`` protocol of
``dcnn_lib.layers.ResidualBlock``; no model file is imported.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterable, Iterator, Mapping

import torch
import torch.nn as nn


def _owner(model: nn.Module, path: str) -> tuple[nn.Module, str]:
    parent, _, child = path.rpartition(".")
    try:
        owner = model.get_submodule(parent) if parent else model
    except AttributeError:
        owner = None
    if owner is None or child not in owner._modules:
        raise KeyError(f"swapped: {type(model).__name__} has no submodule {path!r}")
    return owner, child


@contextmanager
def swapped(model: nn.Module, replacements: Mapping[str, nn.Module]) -> Iterator[nn.Module]:
    """Within the ``with`` block, submodule ``path`` of ``model`` is ``replacements[path]``.

    The originals are put back on exit, also after an exception. Paths are dotted module
    names (``"layer1.2"``); replacements may be other submodules of the same model (to reorder).
    """
    originals: list[tuple[nn.Module, str, nn.Module]] = []
    try:
        for path, new in replacements.items():
            owner, child = _owner(model, path)
            originals.append((owner, child, owner._modules[child]))
        for (owner, child, _), new in zip(originals, replacements.values()):
            owner._modules[child] = new
        yield model
    finally:
        for owner, child, old in originals:
            owner._modules[child] = old


class SkipOnly(nn.Module):
    """``block`` with its residual branch deleted: ``merge(shortcut(x), 0)``.

    For the original ResNet unit that is ReLU(h(x)) = h(x) (x is already non-negative); for a
    plain block, which has no shortcut, it is the identity.
    """

    def __init__(self, block: nn.Module) -> None:
        super().__init__()
        self.block = block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.block.shortcut(x)
        if h is None:
            return x
        return self.block.merge(h, torch.zeros_like(h))


@contextmanager
def lesioned(model: nn.Module, paths: Iterable[str]) -> Iterator[nn.Module]:
    """``model`` with the residual branch of each block in ``paths`` deleted (see :class:`SkipOnly`)."""
    paths = list(paths)
    with swapped(model, {p: SkipOnly(model.get_submodule(p)) for p in paths}):
        yield model
