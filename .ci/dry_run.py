#!/usr/bin/env python
"""Execute every chapter at ``full`` scale in dry-run mode (what `make test-full-dry` runs).

``DCNN_SCALE=full`` gives each chapter the sizes, models and data of a GPU run;
``DCNN_DRY_RUN=1`` (:func:`dcnn_lib.runtime.dry_run`) makes every training, evaluation and long
loop of the library stop after a couple of steps, so the whole ``full`` code path runs on a CPU
in minutes. Notebooks run with papermill into a temporary folder (also their working
directory) that is deleted afterwards: the committed notebooks are never touched. Offline, like
the tests. Exit status 1 when a chapter fails; each failure is listed with its last error line.
"""
from __future__ import annotations

import argparse
import glob
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(notebook: Path, folder: Path, timeout: int | None) -> tuple[bool, float, str]:
    import papermill

    t0 = time.perf_counter()
    try:
        papermill.execute_notebook(str(notebook), str(folder / notebook.name), cwd=str(folder),
                                   kernel_name="python3", progress_bar=False, execution_timeout=timeout)
    except Exception as exc:  # papermill raises PapermillExecutionError with the cell's traceback
        lines = [line for line in str(exc).strip().splitlines() if line.strip()]
        return False, time.perf_counter() - t0, f"{type(exc).__name__}: {lines[-1] if lines else ''}"
    return True, time.perf_counter() - t0, ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", default=[str(ROOT / "chapters" / "*.ipynb")])
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    ap.add_argument("--keep", metavar="DIR", help="keep the executed notebooks in DIR (outside chapters/)")
    ap.add_argument("--no-dry-run", action="store_true",
                    help="a real full-scale run (benchmarks/gpu_check.sh on a GPU); with --keep, each "
                         "chapter's peak GPU memory is written next to it (<name>.memory.json)")
    args = ap.parse_args(argv)
    paths = sorted({Path(p).resolve() for pattern in args.notebooks for p in glob.glob(pattern)})
    missing = [pattern for pattern in args.notebooks if not glob.glob(pattern)]
    if not paths or missing:
        print(f"no notebooks match {missing or args.notebooks}")
        return 2
    os.environ.update(DCNN_SCALE="full", DCNN_OFFLINE="1")
    if args.no_dry_run:
        os.environ.pop("DCNN_DRY_RUN", None)
    else:
        os.environ["DCNN_DRY_RUN"] = "1"
    mode = "full" if args.no_dry_run else "full, dry run"
    t_all, failures = time.perf_counter(), []
    if args.keep and Path(args.keep).resolve().is_relative_to(ROOT / "chapters"):
        print("--keep must not be inside chapters/ (the committed notebooks)")
        return 2
    with tempfile.TemporaryDirectory(prefix="dcnn-full-dry-") as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for nb in paths:
            if args.keep:
                os.environ["DCNN_PEAK_MEMORY_FILE"] = str(folder / f"{nb.stem}.memory.json")
            ok, seconds, error = run(nb, folder, args.timeout)
            print(f"{'ok    ' if ok else 'FAILED'} {nb.relative_to(ROOT) if nb.is_relative_to(ROOT) else nb} "
                  f"({mode}) in {seconds:.0f}s" + (f": {error}" if error else ""), flush=True)
            if not ok:
                failures.append(nb.name)
    print(f"{len(paths) - len(failures)}/{len(paths)} chapters ran ({mode}) in "
          f"{time.perf_counter() - t_all:.0f}s" + (f"; failed: {', '.join(failures)}" if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
