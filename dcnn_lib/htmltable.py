"""Any table as HTML for the book: :func:`html_table` turns rows (dicts, sequences, a dict of
columns, a pandas DataFrame or Styler, a ``dcnn_lib`` table with ``to_records()``) into an
:class:`HTMLTable`, which a notebook shows as an HTML table in the theme's style (the book's
CSS styles every table in an output, and a wide one scrolls inside the column instead of
being cut), and a console, a log or nbval as aligned plain text.

    dl.viz.html_table([{"model": "lenet5", "params": 61_706, "acc": 0.9123}],
                      caption="LeNet-5 after 10 epochs", formats={"acc": ".3f"})

Numbers are right-aligned, integers get thousands separators, missing values (``None``,
NaN, ``pd.NA``) show as an em dash, never as ``<NA>``.
"""
from __future__ import annotations

import html
import math
import numbers
from typing import Any, Callable, Mapping, Sequence

MISSING = "—"


def _missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return type(v).__name__ in ("NAType", "NaTType")


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Number) and not isinstance(v, bool)


def format_cell(v: Any, fmt: str | Callable[[Any], str] | None = None) -> str:
    """One cell as text: ``fmt`` (a format spec such as ``".3f"`` or a function) when given;
    otherwise integers with thousands separators, floats to 4 significant digits (large ones
    whole, with separators), missing values as an em dash."""
    if _missing(v):
        return MISSING
    if fmt is not None:
        return fmt(v) if callable(fmt) else format(v, fmt)
    if _is_number(v):
        if isinstance(v, numbers.Integral):
            return f"{int(v):,}"
        x = float(v)
        return f"{x:,.0f}" if abs(x) >= 1e4 else f"{x:.4g}"
    return str(v)


class HTMLTable:
    """Column names and rows of cells, shown as an HTML table in a notebook (``_repr_html_``)
    and as aligned text elsewhere (``str``/``repr``). ``numeric`` marks right-aligned columns;
    ``raw_html`` (a pandas Styler's own HTML) is shown instead of the generated table."""

    def __init__(self, columns: Sequence[str], rows: Sequence[Sequence[str]], caption: str | None = None,
                 numeric: Sequence[bool] | None = None, raw_html: str | None = None) -> None:
        self.columns = [str(c) for c in columns]
        self.rows = [[str(c) for c in r] for r in rows]
        bad = [i for i, r in enumerate(self.rows) if len(r) != len(self.columns)]
        if bad:
            raise ValueError(f"html_table: row {bad[0]} has {len(self.rows[bad[0]])} cells, "
                             f"expected {len(self.columns)} (columns {self.columns})")
        self.caption = caption
        self.numeric = list(numeric) if numeric is not None else [False] * len(self.columns)
        self._raw_html = raw_html

    def to_html(self) -> str:
        if self._raw_html is not None:
            return f'<div class="dcnn-table">{self._raw_html}</div>'

        def cls(i: int) -> str:
            return "num" if self.numeric[i] else "text"

        head = "".join(f'<th class="{cls(i)}">{html.escape(c)}</th>' for i, c in enumerate(self.columns))
        body = "".join("<tr>" + "".join(f'<td class="{cls(i)}">{html.escape(c)}</td>' for i, c in enumerate(r))
                       + "</tr>" for r in self.rows)
        caption = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        return (f'<div class="dcnn-table"><table class="dataframe dcnn-table">{caption}'
                f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        widths = [max([len(c)] + [len(r[i]) for r in self.rows]) for i, c in enumerate(self.columns)]

        def line(cells: Sequence[str]) -> str:
            return "  ".join(c.rjust(w) if num else c.ljust(w)
                             for c, w, num in zip(cells, widths, self.numeric)).rstrip()

        out = ([self.caption] if self.caption else []) + [line(self.columns), "  ".join("-" * w for w in widths)]
        return "\n".join(out + [line(r) for r in self.rows])

    __repr__ = __str__

    def __len__(self) -> int:
        return len(self.rows)


def _records(data: Any, columns: Sequence[str] | None) -> tuple[list[str], list[list[Any]]]:
    """Column names and rows of raw values from any of the accepted inputs."""
    if hasattr(data, "to_records") and not hasattr(data, "iloc"):      # dcnn_lib RowTable
        data = data.to_records()
    if hasattr(data, "iloc"):                                          # pandas DataFrame
        df = data
        names = [str(c) for c in df.columns]
        rows = [list(r) for r in df.itertuples(index=False, name=None)]
        if not (type(df.index).__name__ == "RangeIndex" and df.index.start == 0 and df.index.step == 1):
            names = [str(df.index.name or "")] + names
            rows = [[i, *r] for i, r in zip(df.index, rows)]
        return names, rows
    if isinstance(data, Mapping):                                      # dict of columns
        names = [str(k) for k in data]
        cols = [list(v) for v in data.values()]
        n = {len(c) for c in cols}
        if len(n) > 1:
            raise ValueError(f"html_table: columns of different lengths {sorted(n)} ({names})")
        return names, [list(r) for r in zip(*cols)]
    rows = list(data)
    if rows and isinstance(rows[0], Mapping):                          # list of dicts
        names: list[str] = []
        for r in rows:
            names += [k for k in r if k not in names]
        return [str(k) for k in names], [[r.get(k) for k in names] for r in rows]
    if columns is None:
        raise TypeError("html_table: rows given as sequences need columns=[...]")
    return list(columns), [list(r) for r in rows]


def html_table(data: Any, columns: Sequence[str] | None = None, caption: str | None = None,
               formats: Mapping[str, str | Callable[[Any], str]] | None = None) -> HTMLTable:
    """``data`` as an :class:`HTMLTable` (see the module docstring for what ``data`` may be).

    ``columns``: the names for rows given as sequences, or the columns to keep (in order)
    for the other inputs. ``formats``: per column, a format spec (``".3f"``, ``".1%"``,
    ``",d"``) or a function of the value. ``caption``: a line above the table.
    """
    if type(data).__name__ == "Styler":                                # keep the Styler's own look
        df = data.data
        text = html_table(df, caption=caption)
        return HTMLTable(text.columns, text.rows, caption, text.numeric, raw_html=data.to_html())
    names, rows = _records(data, columns)
    bad = [i for i, r in enumerate(rows) if len(r) != len(names)]
    if bad:
        raise ValueError(f"html_table: row {bad[0]} has {len(rows[bad[0]])} cells, expected {len(names)} "
                         f"(columns {names})")
    if columns is not None and names != list(columns):
        missing = [c for c in columns if c not in names]
        if missing:
            raise KeyError(f"html_table: no column(s) {missing}; columns: {names}")
        keep = [names.index(c) for c in columns]
        names, rows = list(columns), [[r[i] for i in keep] for r in rows]
    formats = dict(formats or {})
    unknown = set(formats) - set(names)
    if unknown:
        raise KeyError(f"html_table: formats for unknown column(s) {sorted(unknown)}; columns: {names}")
    numeric = [all(_is_number(r[i]) or _missing(r[i]) for r in rows) and any(_is_number(r[i]) for r in rows)
               for i in range(len(names))]
    cells = [[format_cell(v, formats.get(names[i])) for i, v in enumerate(r)] for r in rows]
    return HTMLTable(names, cells, caption, numeric)


__all__ = ["HTMLTable", "html_table", "format_cell", "MISSING"]
