#!/usr/bin/env python
"""Does every registered model compile with ``torch.compile`` without graph breaks of ours?

    python benchmarks/compile_check.py                         # every classifier and segmenter
    python benchmarks/compile_check.py --task classification   # one task
    python benchmarks/compile_check.py resnet18 unet            # some models
    python benchmarks/compile_check.py --representative         # one model per family (the test's set)

For each model, ``torch._dynamo.explain`` traces one forward (eval mode, batch 1, the
registry's test input size and small test configuration, ``--paper``: the paper's) on the CPU — tracing only, no code
generation, so it runs anywhere — and reports the graphs, the graph breaks, and which breaks
happen in dcnn_lib's own code (the innermost frame of the break is a file of ``dcnn_lib``).
Exits 1 when any model has a break of ours. Detectors are left out by default: their
outputs have data-dependent sizes (proposals, NMS), which break graphs in torchvision's code
as much as in ours; ``--task detection`` lists them anyway.

``tests/test_reliability_compile.py`` runs the representative set on every ``make test``.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import dcnn_lib as dl  # noqa: E402

LIBRARY = str(Path(dl.__file__).resolve().parent)
TASKS = ("classification", "segmentation")


def input_size(name: str) -> tuple[int, ...]:
    return tuple(dl.models.meta(name).test_input_size)


def family(name: str) -> str:
    """The module that defines the builder of ``name`` (one family a file)."""
    return dl.models.meta(name).builder.__module__


def representatives(tasks=TASKS) -> list[str]:
    """One model per family: the one with the fewest published parameters (ties, or no
    figure: the smaller test input, then the name), so every family's code runs at a low cost."""
    families = defaultdict(list)
    for task in tasks:
        for name in dl.models.list_models(task=task):
            params = dl.models.meta(name).published.params
            families[family(name)].append((params.value if params else math.inf, math.prod(input_size(name)), name))
    return sorted(min(members)[2] for members in families.values())


def ours(frame) -> bool:
    return str(Path(frame.filename).resolve()).startswith(LIBRARY)


def explain(name: str, size: tuple[int, ...] | None = None, paper: bool = False, **overrides) -> dict:
    """Graphs, breaks and the breaks in dcnn_lib's code for one forward of ``name`` on a batch
    of one input of ``size`` (default: :func:`input_size`), built with ``overrides`` (default:
    the registry's small test configuration; ``paper=True``: the paper's)."""
    torch.manual_seed(0)
    kwargs = overrides or ({} if paper else dict(dl.models.meta(name).test.kwargs))
    model = dl.models.get(name, **kwargs).eval()
    x = torch.rand(1, *(size or input_size(name)))
    torch._dynamo.reset()
    t0 = time.perf_counter()
    with torch.no_grad():
        out = torch._dynamo.explain(model)(x)
    breaks = [{"reason": r.reason.splitlines()[0][:300],
               "where": (f"{r.user_stack[-1].filename}:{r.user_stack[-1].lineno}" if r.user_stack else "?"),
               "ours": bool(r.user_stack) and ours(r.user_stack[-1])} for r in out.break_reasons]
    return {"name": name, "graphs": out.graph_count, "breaks": out.graph_break_count,
            "ours": [b for b in breaks if b["ours"]], "all": breaks, "seconds": time.perf_counter() - t0}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*")
    ap.add_argument("--task", choices=("classification", "segmentation", "detection"))
    ap.add_argument("--representative", action="store_true", help="one model per family")
    ap.add_argument("--paper", action="store_true", help="the papers' configurations (default: the small test ones)")
    args = ap.parse_args(argv)
    tasks = (args.task,) if args.task else TASKS
    names = args.models or (representatives(tasks) if args.representative
                            else [n for t in tasks for n in dl.models.list_models(task=t)])
    failed = 0
    print(f"torch {torch.__version__}; {len(names)} models")
    for name in names:
        try:
            r = explain(name, paper=args.paper)
        except Exception as exc:  # a model that cannot be traced at all is a finding, not a crash
            print(f"{name:32s} ERROR {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
            failed += 1
            continue
        failed += bool(r["ours"])
        print(f"{name:32s} graphs {r['graphs']:3d}  breaks {r['breaks']:3d}  ours {len(r['ours']):3d}  "
              f"{r['seconds']:6.1f} s")
        for b in r["all"]:
            print(f"    {'OURS ' if b['ours'] else ''}{b['where']}: {b['reason']}")
    print(f"{failed} of {len(names)} models with graph breaks in dcnn_lib's code (or not traceable)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
