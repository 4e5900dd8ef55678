#!/usr/bin/env python
"""Numbers that cannot drift: find result numbers typed into a chapter's prose that no output
of the notebook backs.

A number in a markdown cell counts as a *result* when it looks like one: a percentage
(``91%``, ``16.4 %``), a fraction with two or more decimals (``0.970``), a decimal
(``10.5``), a count with thousands separators (``60,965,224``), a time (``92 s``, ``3 min``),
a size in millions/thousands (``62.4M``, ``7.5 million``, ``650K``) or pixels (``699 pixels``).
It is *backed* when

1. some output of the same notebook (text, HTML, glued values) holds a number that rounds to
   it at the precision written (``0.9123`` backs ``91%``, ``0.912`` and ``91.2%``), or
2. it is a **published** figure, written by the book's convention: in the same sentence (or
   table row) as a citation ``{cite}`key` ``, or in a table whose header cell names its
   source (``paper``, ``published``, ``reported``, or a ``{cite}``), or in a table right
   after a paragraph that cites.

Numbers inside inline code, math and MyST roles are not prose (``{glue:}`acc` `` is how a
chapter should write a result: myst-nb's glue, filled from the notebook's outputs).

    .ci/prose_numbers.py [NOTEBOOK ...]    list the unbacked numbers; exit 1 if any
"""
from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_NUM = r"\d+(?:\.\d+)?"
RESULT = re.compile(
    r"(?<![\w.,§/-])(?:"
    rf"(?P<pct>{_NUM})\s?%"                                       # 91%, 16.4 %
    r"|(?P<thou>\d{1,3}(?:,\d{3})+(?:\.\d+)?)(?![\d,])"           # 60,965,224
    rf"|(?P<scaled>{_NUM})\s?(?P<unit>M|K|k|B|G|million|billion|thousand)\b"
    rf"|(?P<time>{_NUM})\s?(?P<tunit>s|sec|seconds?|ms|min|minutes?|h|hours?)\b(?!-)"
    rf"|(?P<px>{_NUM})\s?(?:pixels?|px)\b"
    r"|(?P<dec>\d+\.\d+)(?![\d.])"                                 # 0.970, 10.5
    r")")
OUTPUT_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?")
SCALE = {"M": 1e6, "million": 1e6, "K": 1e3, "k": 1e3, "thousand": 1e3, "B": 1e9, "G": 1e9, "billion": 1e9}
SOURCE_WORDS = re.compile(r"\bpaper|\bpublished|\breported|\{cite", re.IGNORECASE)
CITE = re.compile(r"\{cite(?::\w+)?\}")


@dataclass
class Finding:
    notebook: str
    cell: int
    text: str
    context: str

    def __str__(self) -> str:
        return f"{self.notebook} cell {self.cell}: {self.text!r} in \u201c{self.context}\u201d"


def _strip_non_prose(md: str) -> str:
    """Blank out code spans, math, roles' content, link targets and HTML comments (kept as
    spaces, so the rest keeps its place)."""
    def blank(m: re.Match) -> str:
        return " " * len(m.group(0))

    md = re.sub(r"<!--.*?-->", blank, md, flags=re.S)
    md = re.sub(r"```.*?```", blank, md, flags=re.S)
    md = re.sub(r"\$\$.*?\$\$", blank, md, flags=re.S)
    md = re.sub(r"(?<!\\)\$[^$\n]+\$", blank, md)
    md = re.sub(r"(\{[\w:-]+\})?`[^`\n]*`", lambda m: ("{cite}" if m.group(1) and "cite" in m.group(1) else "")
                .ljust(len(m.group(0))), md)
    md = re.sub(r"\]\([^)\s]*\)", blank, md)
    return md


def _units(md: str) -> list[str]:
    """Sentences of paragraphs and list items, and table rows, in order (a table is kept
    whole in one unit prefixed by its header line, see :func:`_table_exempt`)."""
    units: list[str] = []
    for block in re.split(r"\n\s*\n", md):
        lines = block.split("\n")
        if lines and lines[0].lstrip().startswith("|"):
            units.append(block)
            continue
        text = " ".join(l.strip() for l in lines)
        units += [s for s in re.split(r"(?<=[.!?;:])\s+(?=[A-Z(*\-\d])|\s(?=- )", text) if s.strip()]
    return units


def _table_findings(block: str, previous: str) -> list[tuple[str, str]]:
    """(number, row) pairs of a markdown table that are not exempt by the convention."""
    rows = [r for r in block.split("\n") if r.strip().startswith("|")]
    if not rows:
        return []
    split = [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows]
    header = split[0]
    if CITE.search(previous) or CITE.search(block.split("\n")[0]):
        return []
    exempt = {i for i, h in enumerate(header) if SOURCE_WORDS.search(h)}
    out = []
    for row, cells in zip(rows[1:], split[1:]):
        if set("".join(cells)) <= set("-: "):
            continue                                           # the |---|---| rule
        if CITE.search(row):
            continue
        for i, cell in enumerate(cells):
            if i in exempt:
                continue
            out += [(m.group(0), row.strip()) for m in RESULT.finditer(cell)]
    return out


def prose_numbers(md: str) -> list[tuple[str, str]]:
    """(number as written, its sentence or table row) for every result-like number in
    ``md`` that the convention does not mark as published."""
    clean = _strip_non_prose(md)
    found: list[tuple[str, str]] = []
    previous = ""
    for unit in _units(clean):
        if unit.lstrip().startswith("|"):
            found += _table_findings(unit, previous)
        elif not CITE.search(unit):
            found += [(m.group(0), " ".join(unit.split())) for m in RESULT.finditer(unit)]
        previous = unit
    return found


def _value(written: str) -> tuple[float, int, str]:
    """(value, decimals, kind) of a number as written in prose."""
    m = RESULT.fullmatch(written) or RESULT.match(written)
    g = m.groupdict()
    for kind in ("pct", "thou", "scaled", "time", "px", "dec"):
        if g[kind]:
            raw = g[kind].replace(",", "")
            dec = len(raw.split(".")[1]) if "." in raw else 0
            value = float(raw)
            if kind == "scaled":
                return value * SCALE[g["unit"]], dec, kind + ":" + g["unit"]
            return value, dec, kind
    raise ValueError(written)


def output_numbers(nb: dict) -> list[float]:
    """Every number in the notebook's outputs (text, HTML without tags, glued values)."""
    values = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            texts = [out.get("text", "")]
            for mime, data in out.get("data", {}).items():
                if mime.startswith("text/") or mime in ("application/json",):
                    texts.append(data if isinstance(data, str) else "".join(data) if isinstance(data, list)
                                 else json.dumps(data))
            for t in texts:
                t = "".join(t) if isinstance(t, list) else t
                t = re.sub(r"<[^>]+>", " ", t)
                for m in OUTPUT_NUMBER.finditer(t):
                    try:
                        values.append(float(m.group(0).replace(",", "")))
                    except ValueError:
                        pass
    return values


def backed(written: str, outputs: list[float]) -> bool:
    value, dec, kind = _value(written)
    tol = 0.5 * 10 ** -dec + 1e-9
    if kind.startswith("scaled"):
        unit = SCALE[kind.split(":")[1]]
        return any(abs(v / unit - value / unit) <= tol for v in outputs)
    candidates = [value]
    if kind == "pct":
        candidates = [value, value / 100]                       # 91% backed by 91.2 or 0.912
        tols = [tol, tol / 100]
    elif kind == "dec" and value < 1:
        candidates = [value, value * 100]                       # 0.97 backed by 97.0 (%)
        tols = [tol, tol * 100]
    else:
        tols = [tol]
    return any(abs(v - c) <= t for v in outputs for c, t in zip(candidates, tols) if math.isfinite(v))


def find_unbacked(path: Path) -> list[Finding]:
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    outputs = output_numbers(nb)
    findings = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        md = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for written, context in prose_numbers(md):
            if not backed(written, outputs):
                short = context if len(context) <= 110 else context[:107] + "..."
                findings.append(Finding(Path(path).name, i, written, short))
    return findings


def main(argv: list[str]) -> int:
    paths = [Path(p) for p in argv] or sorted((ROOT / "chapters").glob("*.ipynb"))
    total = 0
    for path in paths:
        found = find_unbacked(path)
        total += len(found)
        for f in found:
            print(f)
    print(f"{total} unbacked number(s) in {len(paths)} notebook(s)")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
