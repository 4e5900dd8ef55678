#!/usr/bin/env python
"""Re-execute chapter notebooks in place with papermill (what `make execute` runs).

Each notebook runs into a temporary copy with DCNN_SCALE set in the kernel's environment
(the notebook's parameters cell keeps SCALE = "auto", so nbval and Colab runs are steered the
same way). Only a run that finishes replaces the committed notebook; a failed run leaves it
byte-identical and keeps the partial copy under .execute-tmp/ for inspection (when papermill
got far enough to write one).

Every path or pattern given must match a notebook: a misspelt one stops the run before
anything executes (exit 2), even when other patterns match. Papermill records the input and
output paths in the notebook's metadata; they are written relative to the repository
(``chapters/x.ipynb``), not as the absolute temporary paths of the machine that ran it.
``--normalize-only`` applies that to committed notebooks without executing them.
"""
from __future__ import annotations

import argparse
import difflib
import glob
import json
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TMP_DIR = ROOT / ".execute-tmp"


def relative(path: Path) -> str:
    """``path`` relative to the repository, with forward slashes (the absolute path outside it)."""
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def normalize_papermill_paths(notebook: Path, name: str) -> bool:
    """Set ``metadata.papermill.input_path`` and ``output_path`` of ``notebook`` to ``name``.

    Only those two values change: the file is edited as text, every other byte stays.
    Returns whether anything changed."""
    text = notebook.read_text(encoding="utf-8")
    meta = json.loads(text).get("metadata", {}).get("papermill")
    if not meta:
        return False
    new = text
    for key in ("input_path", "output_path"):
        if key in meta and meta[key] != name:
            pattern = re.compile(rf'("{key}": ){re.escape(json.dumps(meta[key], ensure_ascii=False))}')
            new, n = pattern.subn(lambda m: m.group(1) + json.dumps(name, ensure_ascii=False), new, count=1)
            if n != 1:
                raise RuntimeError(f"{notebook}: could not find metadata.papermill.{key} to rewrite")
    if new == text:
        return False
    assert json.loads(new)["metadata"]["papermill"]["input_path"] == name
    notebook.write_text(new, encoding="utf-8")
    return True


def execute(notebook: Path, scale: str, timeout: int | None, tmp_dir: Path = TMP_DIR) -> bool:
    import papermill

    tmp_dir.mkdir(exist_ok=True)
    tmp = tmp_dir / notebook.name
    tmp.unlink(missing_ok=True)          # a partial copy left by an earlier run would mislead
    os.environ["DCNN_SCALE"] = scale
    t0 = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(notebook), str(tmp), cwd=str(notebook.parent), kernel_name="python3",
            progress_bar=False, execution_timeout=timeout,
        )
    except Exception as exc:  # papermill raises PapermillExecutionError with the cell's traceback
        last = str(exc).strip().splitlines()[-1] if str(exc).strip() else ""
        print(f"FAILED {notebook} at scale {scale} after {time.perf_counter() - t0:.0f}s: "
              f"{type(exc).__name__}: {last}")
        if tmp.is_file():
            print(f"  the committed notebook is unchanged; the partial run is in {tmp}")
        else:
            print("  the committed notebook is unchanged; papermill wrote no partial run "
                  "(it failed before executing a cell: is the notebook valid JSON?)")
        return False
    normalize_papermill_paths(tmp, relative(notebook))
    os.replace(tmp, notebook)
    print(f"ok {notebook} at scale {scale} in {time.perf_counter() - t0:.0f}s")
    return True


def resolve(patterns: list[str]) -> tuple[list[Path], list[str]]:
    """The notebooks the patterns match, and the patterns that match none (with a hint)."""
    paths, missing = set(), []
    for pattern in patterns:
        found = [Path(p).resolve() for p in glob.glob(pattern) if p.endswith(".ipynb")]
        if found:
            paths.update(found)
            continue
        near = difflib.get_close_matches(pattern, sorted(glob.glob(str(Path(pattern).parent / "*.ipynb"))), n=1)
        missing.append(f"{pattern!r}" + (f" (did you mean {near[0]}?)" if near else ""))
    return sorted(paths), missing


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", default=["chapters/*.ipynb"])
    ap.add_argument("--scale", default="book", choices=["smoke", "book", "full"])
    ap.add_argument("--timeout", type=int, default=None, help="seconds per cell")
    ap.add_argument("--normalize-only", action="store_true",
                    help="only rewrite metadata.papermill paths relative to the repository; execute nothing")
    args = ap.parse_args(argv)
    paths, missing = resolve(args.notebooks)
    if missing:
        print(f"no notebook matches {', '.join(missing)}; nothing was executed")
        return 2
    if args.normalize_only:
        for p in paths:
            print(f"{'normalized' if normalize_papermill_paths(p, relative(p)) else 'unchanged '} {relative(p)}")
        return 0
    results = [execute(p, args.scale, args.timeout) for p in paths]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
