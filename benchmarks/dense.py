#!/usr/bin/env python
"""Benchmarks of the chapter "Dense, fractal and multi-scale networks": each family's small model
trained at a scale (default ``book``, 2 CPU cores) exactly as the chapter trains it, with its
training time per epoch and in all, test accuracy against the targets of issue 16, and the
FractalNet's columns evaluated one by one. Measured here, never asserted in tests.

    python benchmarks/dense.py                                  # the four main runs, book scale
    python benchmarks/dense.py --recipes densenet_small --scale smoke
    python benchmarks/dense.py --side                           # also the equal-parameter comparisons

Writes ``benchmarks/results/dense-<timestamp>.json`` (ignored by git).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

import dcnn_lib as dl  # noqa: E402

# Issue 16 at book scale (2 CPU cores): test accuracy and training seconds.
TARGETS = {
    "densenet_small": {"min_test_acc": 0.92, "max_seconds": 300},
    "fractalnet_small": {"min_test_acc": 0.915, "max_seconds": 300},
    "polynet_small": {"min_test_acc": 0.915, "max_seconds": 300},
    "res2net_small": {"min_test_acc": 0.915, "max_seconds": 300},
}
D2L_DENSENET = 0.885      # d2l-zh DenseNet, 10 epochs at 96×96 on a GPU (reference/modern-figures.md §10)
SIDE = [*(f"polynet_small_{k.replace('-', '')}" for k in dl.recipes.dense.POLY_ARMS),
        *(f"res2net_small_s{s}" for s in dl.recipes.dense.RES2NET_SCALES)]


def run(name: str, scale: str) -> dict:
    recipe = dl.recipes.get(name, scale)
    model = recipe.build_model()
    s = dl.analysis.summary(model, (1, 28, 28))
    t0 = time.perf_counter()
    model, history = recipe.train(model, seed=0, progress=False)
    seconds = time.perf_counter() - t0
    row = {"recipe": name, "scale": scale, "params": s.total_params, "mmacs": round(s.total_macs / 1e6, 1),
           "epochs": len(history), "seconds": round(seconds, 1),
           "seconds_per_epoch": [round(x, 1) for x in history["seconds"]],
           "test_acc": round(history.last["val_acc"], 4)}
    target = TARGETS.get(name)
    if target:
        row["target"] = f">= {target['min_test_acc']} in <= {target['max_seconds']} s"
        row["met"] = row["test_acc"] >= target["min_test_acc"] and seconds <= target["max_seconds"]
    if name.startswith("fractalnet"):
        test = recipe.loaders(seed=0)[1]
        row["columns"] = {}
        for c in range(1, model.num_columns + 1):
            with model.only_column(c):
                row["columns"][c] = round(dl.train.evaluate(model, test)["acc"], 4)
    print(f"  {name:24s} {row['params']:>9,} params {row['mmacs']:6.1f} MMACs  {row['epochs']} epochs "
          f"{seconds:7.1f} s  test acc {row['test_acc']:.4f}"
          + (f"  columns {row['columns']}" if "columns" in row else "")
          + (f"  target {row['target']}: {'met' if row['met'] else 'NOT met'}" if target else ""), flush=True)
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", default="book", choices=["smoke", "book", "full"])
    ap.add_argument("--recipes", nargs="*", default=list(TARGETS))
    ap.add_argument("--side", action="store_true", help="also the equal-parameter comparisons")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(dl.runtime.provenance(args.scale, seed=0, dev=dl.runtime.device()))
    rows = [run(name, args.scale) for name in args.recipes + (SIDE if args.side else [])]
    print(f"  d2l DenseNet (10 epochs, 96×96, GPU): {D2L_DENSENET}")
    out = ROOT / "benchmarks" / "results" / f"dense-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"threads": torch.get_num_threads(), "rows": rows}, indent=1))
    print(f"wrote {out.relative_to(ROOT)}")
    return 0 if all(r.get("met", True) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
