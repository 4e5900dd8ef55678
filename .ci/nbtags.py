#!/usr/bin/env python
"""Move nbval's comment markers (`# NBVAL_CHECK_OUTPUT`, ...) out of the code readers see and
into cell tags, which nbval (0.10+, `find_metadata_tags`) honours the same way:

    # NBVAL_CHECK_OUTPUT       ->  tag  nbval-check-output
    # NBVAL_IGNORE_OUTPUT      ->  tag  nbval-ignore-output
    # NBVAL_SKIP               ->  tag  nbval-skip
    # NBVAL_RAISES_EXCEPTION   ->  tag  nbval-raises-exception

Usage:  .ci/nbtags.py [NOTEBOOK ...]          rewrite (default: chapters/*.ipynb)
        .ci/nbtags.py --check [NOTEBOOK ...]  list cells that still carry a marker; exit 1 if any

Only the marker line changes (and the cell's tags); outputs, ids and the JSON layout of the
file stay as they are, so re-running it is a no-op and the diff is the markers alone.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKERS = ("NBVAL_CHECK_OUTPUT", "NBVAL_IGNORE_OUTPUT", "NBVAL_SKIP", "NBVAL_RAISES_EXCEPTION")
LINE = re.compile(r"^[ \t]*#[ \t]*(" + "|".join(MARKERS) + r")[ \t]*$")


def tag_for(marker: str) -> str:
    return marker.lower().replace("_", "-")


def source_lines(cell: dict) -> list[str]:
    src = cell.get("source", "")
    return src.splitlines(keepends=True) if isinstance(src, str) else list(src)


def markers_in(cell: dict) -> list[str]:
    return [m.group(1) for line in source_lines(cell) if (m := LINE.match(line.rstrip("\n")))]


def move_markers(cell: dict) -> list[str]:
    """Remove marker lines from a code cell and add the matching tags; returns the markers."""
    lines = source_lines(cell)
    found, kept = [], []
    for line in lines:
        m = LINE.match(line.rstrip("\n"))
        if m:
            found.append(m.group(1))
        else:
            kept.append(line)
    if not found:
        return []
    if kept:                                   # the last line of a cell has no newline
        kept[-1] = kept[-1].rstrip("\n")
    cell["source"] = kept if isinstance(cell.get("source"), list) else "".join(kept)
    tags = cell.setdefault("metadata", {}).setdefault("tags", [])
    for marker in found:
        if tag_for(marker) not in tags:
            tags.append(tag_for(marker))
    return found


def rewrite(path: Path) -> int:
    raw = path.read_text(encoding="utf-8")
    nb = json.loads(raw)
    moved = sum(len(move_markers(c)) for c in nb["cells"] if c["cell_type"] == "code")
    if moved:
        out = json.dumps(nb, indent=1, ensure_ascii=False)
        path.write_text(out + ("\n" if raw.endswith("\n") else ""), encoding="utf-8")
    return moved


def check(path: Path) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    return [f"{path.name}: code cell {i} carries # {markers_in(c)[0]} (run .ci/nbtags.py)"
            for i, c in enumerate(code) if markers_in(c)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", type=Path)
    ap.add_argument("--check", action="store_true", help="only list cells that still carry a marker")
    args = ap.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "chapters").glob("*.ipynb"))
    if args.check:
        problems = [p for path in paths for p in check(path)]
        for p in problems:
            print(p)
        return 1 if problems else 0
    for path in paths:
        n = rewrite(path)
        print(f"{path}: {n} marker(s) moved into cell tags" if n else f"{path}: no markers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
