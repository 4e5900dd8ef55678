"""Several processes, one model: what :func:`~dcnn_lib.train.fit` does under ``torchrun``.

``torchrun --nproc_per_node=N script.py`` (and ``--nnodes``) starts N processes with ``RANK``,
``LOCAL_RANK`` and ``WORLD_SIZE`` set. :func:`setup` joins them into a process group (NCCL on
CUDA, gloo on the CPU) unless the script did; the model is wrapped in PyTorch's
``DistributedDataParallel`` (gradients averaged across processes at every step, so every rank
holds the same weights); each rank reads its own shard of the training data
(:meth:`~dcnn_lib.data.TensorLoader.shard`, or a ``DataLoader`` with a ``DistributedSampler``);
the epoch's sums (loss, hits, samples) are added over ranks, so every rank records the same
History; only rank 0 writes checkpoints and shows a progress bar.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
import torch.nn as nn

from ..errors import DcnnValueError


@dataclass(frozen=True)
class World:
    """This process's place: ``rank`` among ``size`` processes (``size == 1``: not distributed)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    @property
    def main(self) -> bool:
        """Rank 0: the process that writes checkpoints and shows progress."""
        return self.rank == 0


def setup() -> World:
    """The current :class:`World`: an initialised process group, or one started from
    ``torchrun``'s environment (``WORLD_SIZE > 1``); a single process otherwise."""
    if dist.is_available() and dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)))
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1 or not dist.is_available():
        return World()
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        torch.cuda.set_device(local)
    dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return World(dist.get_rank(), dist.get_world_size(), local)


def device(world: World) -> torch.device:
    """A rank's default device: its own GPU (``cuda:LOCAL_RANK``), else the CPU."""
    return torch.device("cuda", world.local_rank) if torch.cuda.is_available() else torch.device("cpu")


def shard(loader: Any, world: World) -> None:
    """Give this rank its shard of ``loader``: :class:`~dcnn_lib.data.TensorLoader` (and
    wrappers that forward ``shard``) and a ``DataLoader`` whose sampler has ``shard`` (the
    detection loader's) are sharded here; another ``DataLoader`` must already carry a
    ``DistributedSampler``. Anything else would train every rank on the whole data."""
    sampler = getattr(loader, "sampler", None)
    for shardable in (loader, sampler):
        if hasattr(shardable, "shard"):
            shardable.shard(world.rank, world.size)
            return
    if isinstance(sampler, torch.utils.data.distributed.DistributedSampler):
        return
    raise DcnnValueError(
        f"fit: under torch.distributed ({world.size} processes) train_loader must be a TensorLoader (fit "
        f"shards it) or a DataLoader with a DistributedSampler; got {type(loader).__name__}")


def wrap(model: nn.Module, world: World, dev: torch.device) -> nn.Module:
    """``model`` in ``DistributedDataParallel`` when distributed (the weights of rank 0 are
    broadcast to every rank), ``model`` itself otherwise."""
    if not world.distributed:
        return model
    ids = [dev.index] if dev.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def all_sum(values: torch.Tensor, world: World) -> torch.Tensor:
    """``values`` added over every rank (in place; itself when not distributed)."""
    if world.distributed:
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def broadcast(obj: Any, world: World) -> Any:
    """Rank 0's ``obj`` on every rank (a picklable object, e.g. a checkpoint read on rank 0)."""
    if not world.distributed:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier(world: World) -> None:
    if world.distributed:
        dist.barrier()


__all__ = ["World", "all_sum", "barrier", "broadcast", "device", "setup", "shard", "wrap"]
