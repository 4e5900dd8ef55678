#!/usr/bin/env python
"""DCNN Book benchmarks: speed, memory and accuracy are measured here, never asserted in tests.

    python benchmarks/run.py                 # everything
    python benchmarks/run.py --only recipes  # chapter training runs at book scale
    python benchmarks/run.py --only twins    # train-step throughput vs torchvision twins
    python benchmarks/run.py --only twins --models alexnet resnet50   # some of them
    python benchmarks/run.py --only rf       # receptive-field tables of real networks
    python benchmarks/run.py --only cost --recipes irrcnn_small capsnet_small_r3   # s / batch

Prints tables and writes ``benchmarks/results/<timestamp>.json`` (ignored by git).

- **recipes**: each chapter recipe trained at ``--scale`` (default ``book``) on this machine,
  with its training time, final test accuracy and, where one is set, the target.
- **twins**: for every registered model with a torchvision twin, images per second of a full
  training step (forward, backward, SGD step) of ours and of torchvision's, in the same
  process, on the same input, and their ratio.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import dcnn_lib as dl  # noqa: E402

# Targets of the issues, checked (printed) here, not in tests. Seconds are training time on
# the benchmark machine (2 CPU cores for `book`).
TARGETS = {
    "lenet5_relu": {"min_test_acc": 0.89, "max_seconds": 120},
    "vgg_small_bn": {"min_test_acc": 0.922, "max_seconds": 240},   # VGG chapter: beat d2l's VGG-11
    "nin_small": {"min_test_acc": 0.90, "max_seconds": 240},      # NiN chapter: d2l's NiN is 0.785
    "alexnet_small": {"min_test_acc": 0.882, "max_seconds": 150},  # AlexNet chapter: beat d2l's AlexNet
    "resnet8w_fmnist": {"min_test_acc": 0.918, "max_seconds": 300},  # ResNet chapter: beat d2l's ResNet-18
    "googlenet_small": {"min_test_acc": 0.883, "max_seconds": 300},  # Inception chapter: beat d2l's GoogLeNet
    "irrcnn_small": {"min_test_acc": 0.915, "max_seconds": 360},     # issue 18
    "capsnet_small": {"min_test_acc": 0.90, "max_seconds": 360},  # issue 18
}
# Published comparison points (shared/reference/published-figures.md): d2l, 10 epochs, V100.
D2L = {"lenet5": 0.789, "lenet5_relu": 0.789, "lenet5_relu_bn_aug": 0.838}
D2L.update({"vgg_small_bn": 0.922, "nin_small": 0.785})  # VGG-11 (channels ÷ 4) and NiN, 224×224
D2L.update({"alexnet_small": 0.882})  # AlexNet at 224×224 (ours: 64×64, widths ÷ 4)
D2L.update({"resnet8w_fmnist": 0.918})  # ResNet-18 at 96×96 (ours: ResNet-8, 32/64/128 channels, 28×28)
D2L.update({"googlenet_small": 0.883, "googlenet_small_no_aux": 0.883})  # GoogLeNet at 96×96 (ours: 28×28, ¼ width)


def bench_recipes(scale: str, names: list[str] | None = None) -> list[dict]:
    rows = []
    for name in names or list(dl.recipes.RECIPES):
        recipe = dl.recipes.get(name, scale)
        loaders = recipe.loaders(seed=0)
        t0 = time.perf_counter()
        _, history = recipe.train(loaders=loaders, seed=0, progress=False)
        seconds = time.perf_counter() - t0
        row = {"recipe": name, "scale": scale, "epochs": len(history), "seconds": round(seconds, 1),
               "test_acc": round(history.last["val_acc"], 4), "d2l": D2L.get(name)}
        target = TARGETS.get(name)
        if target:
            row["target"] = f">= {target['min_test_acc']} in <= {target['max_seconds']} s"
            row["met"] = history.last["val_acc"] >= target["min_test_acc"] and seconds <= target["max_seconds"]
        rows.append(row)
        print(f"  {name:22s} {row['epochs']:3d} epochs {seconds:7.1f} s  test acc {row['test_acc']:.4f}"
              + (f"  (d2l {row['d2l']:.3f})" if row["d2l"] else "")
              + (f"  target {row['target']}: {'met' if row['met'] else 'NOT met'}" if target else ""),
              flush=True)
    return rows


class _FirstBatches:
    """The first ``n`` batches of a loader, with ``len`` and ``set_epoch`` (what ``fit`` needs)."""

    def __init__(self, loader, n: int) -> None:
        self.loader, self.n = loader, min(n, len(loader))

    def __len__(self) -> int:
        return self.n

    def set_epoch(self, epoch: int) -> None:
        if hasattr(self.loader, "set_epoch"):
            self.loader.set_epoch(epoch)

    def __iter__(self):
        for i, batch in enumerate(self.loader):
            if i >= self.n:
                break
            yield batch


def bench_batch_cost(scale: str, names: list[str] | None, batches: int = 20,
                     yardstick: str = "resnet8w_fmnist") -> list[dict]:
    """Seconds per training batch of each recipe (its own model, data, loss and optimiser, through
    ``fit``; the first of ``batches + 1`` batches is a warm-up) and the predicted seconds per
    epoch at ``scale``; ``vs_yardstick`` divides by ``yardstick``'s cost, so that a time measured
    for the yardstick elsewhere predicts the others' there."""
    rows, costs = [], {}
    for name in [yardstick] + [n for n in names or list(dl.recipes.RECIPES) if n != yardstick]:
        recipe = dl.recipes.get(name, scale)
        train, _ = recipe.loaders(seed=0)
        cpu0, t0 = time.process_time(), time.perf_counter()
        recipe.train(loaders=(_FirstBatches(train, 1), None), seed=0, progress=False)
        cpu1, t1 = time.process_time(), time.perf_counter()
        recipe.train(loaders=(_FirstBatches(train, batches + 1), None), seed=0, progress=False)
        cpu = (time.process_time() - cpu1 - (cpu1 - cpu0)) / batches
        wall = (time.perf_counter() - t1 - (t1 - t0)) / batches
        costs[name] = cpu
        row = {"recipe": name, "batch_size": recipe.batch_size, "cpu_s_per_batch": round(cpu, 4),
               "wall_s_per_batch": round(wall, 4), "batches_per_epoch": len(train),
               "epochs": recipe.n_epochs, "predicted_train_s": round(wall * len(train) * recipe.n_epochs, 1),
               "vs_yardstick": round(cpu / costs[yardstick], 3)}
        rows.append(row)
        print(f"  {name:22s} {cpu * 1000:7.0f} ms CPU / batch ({row['vs_yardstick']:.2f} × {yardstick}), "
              f"{wall * 1000:7.0f} ms wall; {recipe.n_epochs} × {len(train)} batches ≈ "
              f"{row['predicted_train_s']:.0f} s", flush=True)
    return rows


def train_step_throughput(model: torch.nn.Module, input_size: tuple[int, ...], batch: int = 8,
                          steps: int = 5, warmup: int = 2, device: torch.device | None = None,
                          amp: torch.dtype | None = None, channels_last: bool = False,
                          compile: bool = False) -> float:
    """Images per second of forward + cross-entropy backward + SGD step; optionally under
    autocast to ``amp`` (e.g. ``torch.bfloat16``), in channels-last memory format, and compiled
    with ``torch.compile`` (its compilation happens in the warm-up steps, outside the timing)."""
    device = device or dl.runtime.device()
    model = model.to(device).train()
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    x = torch.randn(batch, *input_size, device=device).contiguous(memory_format=fmt)
    y = torch.zeros(batch, dtype=torch.long, device=device)
    forward = torch.compile(model) if compile else model

    def step():
        with torch.autocast(device.type, dtype=amp, enabled=amp is not None):
            out, _ = dl.train.split_outputs(forward(x))   # logits of aux-head tuples and {"out": ...} dicts
        out = out.float()
        target = y if out.ndim == 2 else torch.zeros(out.shape[0], *out.shape[2:], dtype=torch.long, device=device)
        torch.nn.functional.cross_entropy(out, target).backward()     # dense targets for segmentation
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(warmup):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return batch * steps / (time.perf_counter() - t0)


def bench_twins(batch: int, steps: int, names: list[str] | None = None, **options) -> list[dict]:
    """``options``: ``amp``, ``channels_last``, ``compile`` of :func:`train_step_throughput`."""
    import torchvision

    rows = []
    # detection twins train on (images, targets), not logits: not measured here
    twins = [n for n in dl.models.list_models() if dl.models.meta(n).test.torchvision
             and dl.models.meta(n).task != "detection"]
    if names:
        unknown = sorted(set(names) - set(twins))
        if unknown:
            raise SystemExit(f"--models: no torchvision twin to compare for {unknown}; twins: {twins}")
        twins = [n for n in twins if n in names]
    if not twins:
        print("  no registered model has a torchvision twin yet")
    for name in twins:
        info = dl.models.meta(name)
        ours = dl.models.get(name)
        theirs = torchvision.models.get_model(info.test.torchvision, weights=None, **info.test.torchvision_kwargs)
        size = info.test.bench_input_size or info.input_size  # 520² segmenters: smaller
        ours_ips = train_step_throughput(ours, size, batch, steps, **options)
        theirs_ips = train_step_throughput(theirs, size, batch, steps, **options)
        row = {"model": name, "torchvision": info.test.torchvision, "batch": batch,
               **{k: str(v) for k, v in options.items()},
               "ours_img_s": round(ours_ips, 1), "torchvision_img_s": round(theirs_ips, 1),
               "ratio": round(ours_ips / theirs_ips, 3)}
        rows.append(row)
        print(f"  {name:22s} ours {ours_ips:8.1f} img/s  torchvision {theirs_ips:8.1f} img/s  "
              f"ratio {row['ratio']:.3f}", flush=True)
    return rows


# Receptive fields: the whole table of a ~150-layer network in well under a second on a CPU.
RF_TARGET_SECONDS = 1.0
RF_NETWORKS = {"resnet152": 224, "resnet50": 224, "inception_v3": 299, "googlenet": 224, "vgg16": 224,
               "alexnet": 224}


def bench_receptive_field(repeats: int = 5) -> list[dict]:
    """Seconds for ``dl.analysis.receptive_field`` on torchvision networks: the first call and
    the median of ``repeats`` more (the model is built once, outside the timing)."""
    import statistics
    import warnings

    import torchvision

    rows = []
    for name, size in RF_NETWORKS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torchvision's init-weights FutureWarning
            model = torchvision.models.get_model(name, weights=None)
        convs = sum(isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)) for m in model.modules())
        times = []
        for _ in range(repeats + 1):
            t0 = time.perf_counter()
            table = dl.analysis.receptive_field(model, (3, size, size))
            times.append(time.perf_counter() - t0)
        row = {"model": name, "input": size, "weight_layers": convs, "rows": len(table),
               "first_s": round(times[0], 3), "median_s": round(statistics.median(times[1:]), 3),
               "target": f"<= {RF_TARGET_SECONDS} s", "met": max(times) <= RF_TARGET_SECONDS,
               "last_rf": table[-1].size[0]}
        rows.append(row)
        print(f"  {name:14s} {convs:4d} weight layers {len(table):4d} rows  first {times[0]:.3f} s  "
              f"median {row['median_s']:.3f} s  target <= {RF_TARGET_SECONDS} s: {'met' if row['met'] else 'NOT met'}",
              flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="DCNN Book benchmarks")
    ap.add_argument("--only", choices=["recipes", "cost", "twins", "rf"], default=None)
    ap.add_argument("--scale", default="book", choices=["smoke", "book", "full"])
    ap.add_argument("--recipes", nargs="*", default=None, help="recipe names (default: all)")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    ap.add_argument("--models", nargs="*", default=None, help="twins to compare (default: all)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--amp", choices=["bf16", "fp16"], default=None, help="twins: autocast dtype")
    ap.add_argument("--channels-last", action="store_true", help="twins: channels-last memory format")
    ap.add_argument("--compile", action="store_true", help="twins: torch.compile both models")
    ap.add_argument("--out", default=None, help="results file (default benchmarks/results/<time>.json)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    dev = dl.runtime.device()
    print(dl.runtime.provenance(args.scale, seed=0, dev=dev))
    results = {"when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "machine": platform.machine(), "device": dl.runtime.describe_device(dev),
               "versions": dl.runtime.versions()}
    if args.only in (None, "recipes"):
        print(f"recipes at {args.scale} scale:")
        results["recipes"] = bench_recipes(args.scale, args.recipes)
    if args.only == "cost":
        print(f"seconds per training batch at {args.scale} scale (the first + 1 and 1 + 20 batches of each recipe):")
        results["batch_cost"] = bench_batch_cost(args.scale, args.recipes)
    if args.only in (None, "rf"):
        print("receptive-field tables (dl.analysis.receptive_field, CPU):")
        results["receptive_field"] = bench_receptive_field()
    if args.only in (None, "twins"):
        print(f"train-step throughput against torchvision (batch {args.batch}):")
        options = {"amp": {"bf16": torch.bfloat16, "fp16": torch.float16}.get(args.amp),
                   "channels_last": args.channels_last, "compile": args.compile}
        results["twins"] = bench_twins(args.batch, args.steps, args.models, **options)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = Path(args.out) if args.out else out / f"{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
