"""The chapters' training results, kept in the executed notebooks and read back from them.

A chapter that trains a model on Fashion-MNIST records the outcome with :func:`record`; the
numbers are glued into the notebook (myst-nb ``glue``, not displayed) under the key
``result_<name>``. Because the committed notebooks carry their outputs, another chapter
(the closing "Design principles" chapter) can gather every result with :func:`read` without
training anything again, and the numbers it shows are exactly the ones the reader saw::

    model, history = recipe.train()
    dl.results.record("resnet8w_fmnist", history, model, reference=("d2l ResNet-18", 0.918))

    table = dl.results.read("chapters/*.ipynb")        # one row per recorded run

What is stored (plain numbers and strings, so the notebook JSON stays readable): ``name``,
``model`` (class name or registry name), ``params``, ``test_acc`` (the last epoch's
``val_acc``), ``best_test_acc``, ``train_acc``, ``epochs``, ``train_seconds``, ``scale``,
``device``, optional ``reference`` (label, value) and any ``extra`` numbers.
"""
from __future__ import annotations

import ast
import glob
import json
import math
import os
from pathlib import Path
from typing import Any, Iterable

from .errors import DcnnTypeError, DcnnValueError

PREFIX = "result_"
FIELDS = ("chapter", "name", "model", "params", "test_acc", "best_test_acc", "train_acc", "epochs",
          "train_seconds", "scale", "device", "reference", "reference_acc")


def _number(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def summarise(name: str, history: Any, model: Any = None, *, scale: str | None = None,
              device: str | None = None, reference: tuple[str, float] | None = None,
              model_name: str | None = None, **extra: float) -> dict[str, Any]:
    """The record :func:`record` glues: a dict of plain values (see the module docstring)."""
    if not isinstance(name, str) or not name or any(c in name for c in " :/"):
        raise DcnnValueError(f"results.record: name must be a non-empty string without spaces, ':' or "
                             f"'/', got {name!r}")
    if not hasattr(history, "records") or not len(history):
        raise DcnnTypeError(f"results.record({name!r}): history must be a dl.train.History with at least "
                            f"one epoch, got {type(history).__name__}")
    last = history[-1]
    val = [v for v in history["val_acc"] if _number(v) is not None]
    rec: dict[str, Any] = {
        "name": name,
        "model": model_name or (type(model).__name__ if model is not None else getattr(history, "name", "")),
        "params": int(sum(p.numel() for p in model.parameters())) if model is not None else None,
        "test_acc": _number(last.get("val_acc")),
        "best_test_acc": max(val) if val else None,
        "train_acc": _number(last.get("train_acc")),
        "epochs": len(history),
        "train_seconds": round(float(history.total_seconds), 1),
        "scale": scale,
        "device": device,
    }
    if reference is not None:
        label, value = reference
        rec["reference"], rec["reference_acc"] = str(label), float(value)
    for k, v in extra.items():
        n = _number(v)
        if n is None:
            raise DcnnValueError(f"results.record({name!r}): extra value {k}={v!r} is not a number")
        rec[k] = n
    return rec


def record(name: str, history: Any, model: Any = None, **kwargs: Any) -> dict[str, Any]:
    """Glue the result of one training run into the running notebook as ``result_<name>``.

    ``history``: the :class:`dcnn_lib.train.History` of the run; ``model``: the trained model
    (its parameters are counted); ``scale``/``device`` default to the chapter's (read from
    :mod:`dcnn_lib.runtime`); ``reference=("d2l ResNet-18", 0.918)`` a published figure to
    compare with. Returns the record. Outside a notebook nothing is glued.
    """
    from . import runtime

    kwargs.setdefault("scale", runtime.current_scale())
    kwargs.setdefault("device", runtime.describe_device())
    rec = summarise(name, history, model, **kwargs)
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with the book's environment
        return rec
    if get_ipython() is not None:
        try:
            from myst_nb import glue
        except ImportError:  # Colab / a plain pip install: no book build to glue for
            return rec
        glue(PREFIX + name, rec, display=False)
    return rec


def _records_of(path: Path) -> list[dict[str, Any]]:
    try:
        nb = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise DcnnValueError(f"results.read: cannot read notebook {path}: {e}") from None
    found = []
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            key = out.get("metadata", {}).get("scrapbook", {}).get("name", "")
            if not key.startswith(PREFIX):
                continue
            text = next((v for k, v in out.get("data", {}).items() if k.endswith("text/plain")), None)
            if text is None:
                continue
            rec = ast.literal_eval(text if isinstance(text, str) else "".join(text))
            found.append({"chapter": path.stem, **rec})
    return found


def read(notebooks: str | os.PathLike | Iterable[str | os.PathLike] = "chapters/*.ipynb"):
    """Every recorded result in ``notebooks`` (a glob pattern, a path or a list of them), as a
    pandas DataFrame with one row per run (columns :data:`FIELDS` plus any extras), in the
    order of the files and of the cells. A pattern that matches nothing raises."""
    import pandas as pd

    patterns = [notebooks] if isinstance(notebooks, (str, os.PathLike)) else list(notebooks)
    paths: list[Path] = []
    for p in patterns:
        matched = sorted(glob.glob(str(p))) or ([str(p)] if Path(p).is_file() else [])
        if not matched:
            raise DcnnValueError(f"results.read: no notebook matches {str(p)!r}")
        paths += [Path(m) for m in matched]
    rows = [r for p in paths for r in _records_of(p)]
    columns = list(FIELDS) + sorted({k for r in rows for k in r} - set(FIELDS))
    return pd.DataFrame(rows, columns=columns)


__all__ = ["PREFIX", "FIELDS", "summarise", "record", "read"]
