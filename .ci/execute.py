#!/usr/bin/env python
"""Re-execute chapter notebooks in place with papermill (what `make execute` runs).

Each notebook runs into a temporary copy with DCNN_SCALE set in the kernel's environment
(the notebook's parameters cell keeps SCALE = "auto", so nbval and Colab runs are steered the
same way). Only a run that finishes replaces the committed notebook; a failed run leaves it
byte-identical and keeps the partial copy under .execute-tmp/ for inspection.
"""
from __future__ import annotations

import argparse
import glob
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def execute(notebook: Path, scale: str, timeout: int | None) -> bool:
    import papermill

    tmp_dir = ROOT / ".execute-tmp"
    tmp_dir.mkdir(exist_ok=True)
    tmp = tmp_dir / notebook.name
    os.environ["DCNN_SCALE"] = scale
    t0 = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(notebook), str(tmp), cwd=str(notebook.parent), kernel_name="python3",
            progress_bar=False, execution_timeout=timeout,
        )
    except Exception as exc:  # papermill raises PapermillExecutionError with the cell's traceback
        print(f"FAILED {notebook} at scale {scale} after {time.perf_counter() - t0:.0f}s: "
              f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}")
        print(f"  the committed notebook is unchanged; the partial run is in {tmp}")
        return False
    os.replace(tmp, notebook)
    print(f"ok {notebook} at scale {scale} in {time.perf_counter() - t0:.0f}s")
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", default=["chapters/*.ipynb"])
    ap.add_argument("--scale", default="book", choices=["smoke", "book", "full"])
    ap.add_argument("--timeout", type=int, default=None, help="seconds per cell")
    args = ap.parse_args(argv)
    paths = sorted({Path(p).resolve() for pattern in args.notebooks for p in glob.glob(pattern)})
    if not paths:
        print(f"no notebooks match {args.notebooks}")
        return 2
    results = [execute(p, args.scale, args.timeout) for p in paths]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
