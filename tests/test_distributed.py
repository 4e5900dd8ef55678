"""dl.train.fit under torchrun: two processes on the CPU (gloo) train one model.

Each rank reads its own shard of a TensorLoader (reshuffled every epoch, the same permutation on
every rank, disjoint shards covering the data); gradients are averaged (DistributedDataParallel),
so both ranks end with the same weights; only rank 0 writes checkpoints and shows a progress
bar; an interrupted run resumes to the weights of an uninterrupted one.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import dcnn_lib
from dcnn_lib.data import TensorLoader
from dcnn_lib.data.loaders import shard_indices

HERE = Path(__file__).resolve().parent


def test_two_processes_train_one_model(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(Path(dcnn_lib.__file__).resolve().parent.parent),
                                          os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           str(HERE / "ddp_worker.py"), str(tmp_path)],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert r0["world"] == r1["world"] == 2 and r0["batches"] == r1["batches"] == 64 // 2 // 8
    for key in r0["whole"]:
        assert torch.equal(r0["whole"][key], r1["whole"][key]), key          # one model on both ranks
        assert torch.equal(r0["whole"][key], r0["resumed"][key]), key        # resume is exact
        assert torch.equal(r1["whole"][key], r1["resumed"][key]), key
    def columns(records):
        return [(r["train_loss"], r["train_acc"], r["lr"]) for r in records]

    assert columns(r0["history"]) == columns(r1["history"]) and len(r0["history"]) == 3  # added over ranks
    assert r0["resumed_at"] == r1["resumed_at"] == 1
    assert columns(r0["resumed_history"]) == columns(r0["history"])
    for epoch, (a, b) in enumerate(zip(r0["indices"], r1["indices"])):
        assert len(a) == len(b) == 32 and not set(a.tolist()) & set(b.tolist()), epoch
        assert sorted(a.tolist() + b.tolist()) == list(range(64)), epoch
    assert not torch.equal(r0["indices"][0], r0["indices"][1])               # reshuffled every epoch
    assert r0["saves"] > 0 and r1["saves"] == 0                             # checkpoints: rank 0 only
    assert r0["bars"] == 1 and r1["bars"] == 0                               # progress: rank 0 only


@pytest.mark.parametrize("n, replicas", [(10, 3), (12, 4), (5, 8), (7, 1)])
def test_shards_are_disjoint_cover_the_data_and_have_one_length(n, replicas):
    order = torch.randperm(n, generator=torch.Generator().manual_seed(n))
    shards = [shard_indices(order, r, replicas) for r in range(replicas)]
    assert len({len(s) for s in shards}) == 1 and len(shards[0]) == -(-n // replicas)
    assert set(torch.cat(shards).tolist()) == set(range(n))
    if n % replicas == 0:
        assert sorted(torch.cat(shards).tolist()) == list(range(n))          # disjoint
    with pytest.raises(ValueError, match="rank"):
        shard_indices(order, replicas, replicas)


def test_a_sharded_tensor_loader_reads_only_its_shard():
    x, y = torch.zeros(10, 1, 2, 2), torch.arange(10)
    parts = []
    for rank in range(2):
        loader = TensorLoader(x, y, batch_size=3, shuffle=True, seed=1)
        loader.shard(rank, 2)
        loader.set_epoch(4)
        parts.append(torch.cat([labels for _, labels in loader]))
        assert len(loader) == 2
    assert sorted(torch.cat(parts).tolist()) == list(range(10))


def test_fit_refuses_an_unsharded_loader_under_torch_distributed(monkeypatch):
    from dcnn_lib.train import distributed

    with pytest.raises(ValueError, match="TensorLoader .fit shards it. or a DataLoader with a DistributedSampler"):
        distributed.shard([(torch.zeros(1), torch.zeros(1))], distributed.World(rank=0, size=2))
