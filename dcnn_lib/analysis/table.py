"""The one table format of the analysis tools.

Every result table (:class:`~dcnn_lib.analysis.Summary`,
:class:`~dcnn_lib.analysis.ReceptiveFields`, :class:`~dcnn_lib.analysis.Profile`) is a
:class:`RowTable`: a list of rows in order, indexable by position or by row key, iterable,
exportable (records, a pandas DataFrame), printed as aligned text and rendered as HTML in
notebooks from the same cells. The number formats live here too, so that a shape, a count or
a field size reads the same in every table.
"""
from __future__ import annotations

import difflib
import html
import math
from dataclasses import dataclass
from typing import Any, ClassVar, Iterator, Sequence

# ---- number formats ---------------------------------------------------------------------------


def fmt_int(n: int) -> str:
    """``1234567`` -> ``"1,234,567"``."""
    return f"{n:,}"


def num(v: float) -> float | int:
    """``v`` as an ``int`` when it is a whole number, else the ``float``."""
    v = float(v)
    return int(v) if math.isfinite(v) and v == int(v) else v


def fmt_num(v: float) -> str:
    """A whole number as such, any other with at most two decimals: ``3``, ``0.5``, ``2.33``."""
    v = num(v)
    return str(v) if isinstance(v, int) else f"{v:.2f}".rstrip("0").rstrip(".")


def fmt_pair(t: Sequence[float]) -> str:
    """One value per spatial axis: ``"7"`` when all are equal, else ``"9 × 7"``."""
    return fmt_num(t[0]) if len(set(t)) == 1 else " × ".join(fmt_num(v) for v in t)


def fmt_shape(shape: Any) -> str:
    """``(1, 64, 56, 56)`` -> ``"1 × 64 × 56 × 56"``; several shapes are joined with commas."""
    if shape and isinstance(shape[0], tuple):
        return ", ".join(fmt_shape(s) for s in shape)
    return " × ".join(map(str, shape))


def fmt_call(name: str, call: int) -> str:
    """A row's display name: ``name``, or ``"name (call 2)"`` for a module's later call."""
    return name if call == 1 else f"{name} (call {call})"


def text_table(table: list[list[str]], right: set[int], rules: set[int], footer: str) -> str:
    """Rows of cells as aligned text: columns in ``right`` right-justified, a rule of dashes
    after each row index in ``rules``, then ``footer``."""
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = []
    for j, row in enumerate(table):
        lines.append("  ".join(c.rjust(w) if i in right else c.ljust(w)
                               for i, (c, w) in enumerate(zip(row, widths))).rstrip())
        if j in rules:
            lines.append("  ".join("-" * w for w in widths))
    lines.append(footer)
    return "\n".join(lines)


def html_table(header: Sequence[str], rows: Sequence[Sequence[str]], right: set[int], css: str, footer: str,
               totals: Sequence[str] | None = None) -> str:
    """The same cells as an HTML table (escaped), with an optional bold totals row and a
    footer line below."""
    def tr(cells: Sequence[str], tag: str = "td") -> str:
        return "<tr>" + "".join(f"<{tag} style='text-align:{'right' if i in right else 'left'}'>"
                                f"{html.escape(c)}</{tag}>" for i, c in enumerate(cells)) + "</tr>"

    body = "".join(tr(r) for r in rows) + (tr(totals, "th") if totals is not None else "")
    return (f"<table class='{css}'><thead>{tr(header, 'th')}</thead><tbody>{body}</tbody></table>"
            f"<p><small>{html.escape(footer)}</small></p>")


# ---- the table ---------------------------------------------------------------------------------


@dataclass(repr=False)   # subclasses too: a table prints as its text (``__repr__`` below)
class RowTable:
    """What every result table shares: a model, the input size it was analysed at, and
    ``rows`` (objects with ``as_dict()`` and a ``key``). A subclass says how a row looks:
    ``_COLUMNS`` (header), ``_RIGHT`` (right-aligned column indexes), ``_cells(row)``,
    ``_footer()`` and, where there is one, ``_totals()``. A last column that is empty on every
    row (e.g. notes) is left out of the printed table."""

    _TABLE: ClassVar[str] = "table"            # how error messages call it
    _COLUMNS: ClassVar[tuple[str, ...]] = ()
    _RIGHT: ClassVar[frozenset[int]] = frozenset()
    _CSS: ClassVar[str] = "dcnn-table"
    _INDEX: ClassVar[str] = "name"             # the DataFrame's index column
    _OPTIONAL_LAST: ClassVar[bool] = False     # drop the last column when no row fills it

    model_name: str
    input_size: tuple[int, ...]
    rows: list[Any]

    @property
    def _index(self) -> dict[str, int]:
        """Row key -> position (built on first use, rebuilt if rows were added)."""
        index = self.__dict__.get("_row_index")
        if index is None or len(index) != len(self.rows):
            index = self.__dict__["_row_index"] = {r.key: i for i, r in enumerate(self.rows)}
        return index

    def _extra_row(self, key: str) -> Any:
        return None

    def all_names(self) -> list[str]:
        """Every name the table answers: the rows' and any others (a subclass's aliases)."""
        return list(self._index)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)

    def __getitem__(self, key: int | str) -> Any:
        if isinstance(key, str):
            if key in self._index:
                return self.rows[self._index[key]]
            extra = self._extra_row(key)
            if extra is not None:
                return extra
            close = difflib.get_close_matches(key, self.all_names(), n=3)
            raise KeyError(f"no layer {key!r} in the {self._TABLE}" + (f"; did you mean {close}?" if close else ""))
        if isinstance(key, int) and not -len(self.rows) <= key < len(self.rows):
            raise IndexError(f"row {key} is outside the {self._TABLE}, which has {len(self.rows)} rows")
        return self.rows[key]

    def names(self) -> list[str]:
        """Row keys, in order."""
        return list(self._index)

    def to_records(self) -> list[dict[str, Any]]:
        return [r.as_dict() for r in self.rows]

    def to_dataframe(self):
        import pandas as pd

        return pd.DataFrame(self.to_records()).set_index(self._INDEX)

    # ---- rendering -----------------------------------------------------------------------------
    def _cells(self, row: Any) -> list[str]:
        raise NotImplementedError

    def _footer(self) -> str:
        return ""

    def _totals(self) -> list[str] | None:
        return None

    def _grid(self) -> tuple[list[str], list[list[str]], list[str] | None]:
        header, cells, totals = list(self._COLUMNS), [self._cells(r) for r in self.rows], self._totals()
        if self._OPTIONAL_LAST and not any(row[-1] for row in cells):
            header, cells = header[:-1], [row[:-1] for row in cells]
            totals = totals[:-1] if totals is not None else None
        return header, cells, totals

    def __str__(self) -> str:
        header, cells, totals = self._grid()
        table = [header, *cells] + ([totals] if totals is not None else [])
        rules = {0} | ({len(table) - 2} if totals is not None else set())
        return text_table(table, right=set(self._RIGHT), rules=rules, footer=self._footer())

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        header, cells, totals = self._grid()
        return html_table(header, cells, set(self._RIGHT), self._CSS, self._footer(), totals)
