"""One process of the two-process training in ``test_distributed.py`` (started by torchrun).

Trains a tiny classifier three times on its shard of the data: once straight through, once
interrupted after the first epoch, once resuming that run; then saves what the test compares
(weights, history, the sample indices it read, how often it saved and drew a progress bar) to
``<out>/rank<r>.pt``.
"""
import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn as nn

import dcnn_lib.train.loop as loop
from dcnn_lib.data import TensorLoader
from dcnn_lib.train import fit

out, rank = Path(sys.argv[1]), int(os.environ["RANK"])
calls = {"saves": 0, "bars": 0}
real_save, real_progress = loop.save_atomic, loop._progress


def counted(key, fn):
    def wrapper(*args):
        calls[key] += 1
        return fn(*args)
    return wrapper


loop.save_atomic, loop._progress = counted("saves", real_save), counted("bars", real_progress)


def loader():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(64) % 2
    x = torch.randn(64, 1, 4, 4, generator=g) + (y.float() * 2 - 1)[:, None, None, None]
    return TensorLoader(x, y, batch_size=8, shuffle=True, seed=3)


def net():
    torch.manual_seed(123)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Dropout(0.2), nn.Flatten(), nn.Linear(64, 2))


class Interrupted(Exception):
    pass


def interrupt(epoch, history):
    if epoch == 1:
        raise Interrupted


whole, data = net(), loader()
history = fit(whole, data, 3, lr=1e-2, checkpoint=out / "whole.pt", seed=7)
indices = []
for epoch in range(3):
    data.set_epoch(epoch)
    indices.append(data.indices()[0])
try:
    fit(net(), loader(), 3, lr=1e-2, checkpoint=out / "resumed.pt", seed=7, progress=False, callbacks=[interrupt])
except Interrupted:
    pass
resumed = net()
resumed_history = fit(resumed, loader(), 3, lr=1e-2, checkpoint=out / "resumed.pt", seed=7, progress=False)
torch.save({"whole": whole.state_dict(), "resumed": resumed.state_dict(), "history": history.records,
            "resumed_at": resumed_history.resumed_at, "resumed_history": resumed_history.records,
            "indices": indices, "batches": len(data), "world": dist.get_world_size(), **calls},
           out / f"rank{rank}.pt")
dist.destroy_process_group()
