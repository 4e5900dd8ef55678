#!/usr/bin/env python
"""What do the input checks (``dcnn_lib.layers.guard_inputs``) cost per forward?

    python benchmarks/guard_overhead.py              # lenet5, resnet18 at batch 1, on the CPU
    python benchmarks/guard_overhead.py --device cuda

For each model: microseconds per forward (eval, ``torch.no_grad``, batch 1) of the model as
built, with its guard hooks, and of a copy with every hook removed, measured in interleaved
blocks (so that a busy machine slows both alike), as CPU time of the measuring thread on the
CPU (run with ``OMP_NUM_THREADS=1``); the overhead is the difference of the medians. Run it on two checkouts (``PYTHONPATH=...``) to compare versions of the guards.
"""
from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.append(str(Path(__file__).resolve().parent.parent))   # after PYTHONPATH: another checkout can be measured

import dcnn_lib as dl  # noqa: E402

CASES = {"lenet5": (1, 32, 32), "resnet18": (3, 224, 224), "resnet18@32": (3, 32, 32)}


def bare(model: torch.nn.Module) -> torch.nn.Module:
    """A copy without any forward hook (no input checks at all)."""
    twin = copy.deepcopy(model)
    for m in twin.modules():
        m._forward_pre_hooks.clear()
        m._forward_hooks.clear()
    return twin


def per_forward_us(model, x, n: int, sync, clock) -> float:
    t0 = clock()
    for _ in range(n):
        model(x)
    sync()
    return (clock() - t0) / n * 1e6


def measure(name: str, size: tuple[int, ...], device: str, rounds: int, n: int) -> dict:
    model = dl.models.get(name.split("@")[0]).eval().to(device)
    plain = bare(model)
    x = torch.rand(1, *size, device=device)
    cuda = device.startswith("cuda")
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    # On the CPU (one thread: OMP_NUM_THREADS=1) this thread's CPU time, which other processes
    # on a busy machine do not inflate; on a GPU the wall clock after a synchronisation.
    clock = time.perf_counter if cuda else time.thread_time
    times = {"guarded": [], "bare": []}
    with torch.no_grad():
        for m in (model, plain):
            per_forward_us(m, x, max(n // 5, 3), sync, clock)        # warm-up (and the guards' first check)
        for _ in range(rounds):
            times["guarded"].append(per_forward_us(model, x, n, sync, clock))
            times["bare"].append(per_forward_us(plain, x, n, sync, clock))
    g, b = statistics.median(times["guarded"]), statistics.median(times["bare"])
    return {"model": name, "input": size, "guarded_us": g, "bare_us": b, "overhead_us": g - b,
            "overhead_pct": 100 * (g - b) / b}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--n", type=int, default=50, help="forwards per block")
    ap.add_argument("models", nargs="*", default=list(CASES))
    args = ap.parse_args(argv)
    print(f"dcnn_lib from {Path(dl.__file__).parent}; torch {torch.__version__}; {args.device}, "
          f"{torch.get_num_threads()} threads")
    for name in args.models:
        r = measure(name, CASES[name], args.device, args.rounds, args.n)
        print(f"{r['model']:12s} batch 1 x {r['input']}: guarded {r['guarded_us']:9.1f} us  bare {r['bare_us']:9.1f} us"
              f"  overhead {r['overhead_us']:+8.1f} us ({r['overhead_pct']:+.1f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
