"""Checkpoints of :func:`~dcnn_lib.train.fit`: everything needed to resume a run exactly.

A checkpoint holds the weights, the optimiser, the schedule, the gradient scaler, the History,
the random number generators (Python, NumPy, torch, CUDA) and the run's configuration. It is
written atomically (a temporary file, ``fsync``, then a rename), so a run killed at any moment
leaves either the previous checkpoint or the new one. :func:`load_checkpoint` reads it back
(``weights_only=True``) and :func:`check_resumable` refuses one written by another run, naming
what differs; every refusal names the file and says how to start again (``resume=False``).
"""
from __future__ import annotations

import os
import pickle
import random
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as nn

from ..errors import DcnnError, DcnnValueError

KEYS = ("epoch", "model", "optimizer", "history", "rng")
_AGAIN = "delete it or pass resume=False to start again"


def rng_state() -> dict[str, Any]:
    """The state of every random number generator (tensors and numbers only)."""
    np_state = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {"keys": torch.from_numpy(np_state[1].astype(np.int64)), "pos": int(np_state[2]),
                  "has_gauss": int(np_state[3]), "cached_gauss": float(np_state[4])},
        "python": [list(random.getstate()[1]), random.getstate()[2]],
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` returned."""
    torch.set_rng_state(state["torch"].cpu())
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].cpu().numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["cached_gauss"]))
    internal, gauss = state["python"]
    random.setstate((3, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


def _tmp(path: Path) -> Path:
    return path.with_name(path.name + ".tmp")


def check_writable(path: str | os.PathLike) -> Path:
    """Make sure a checkpoint can be written at ``path`` (its folder is created and a probe
    file written and removed) before any training; a :class:`DcnnValueError` names it if not."""
    path = Path(path)
    if path.is_dir():
        raise DcnnValueError(f"checkpoint {path} is a folder; give a file name such as {path / 'run.pt'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(_tmp(path), "wb"):
            pass
        _tmp(path).unlink()
    except OSError as e:
        raise DcnnValueError(f"checkpoint {path} cannot be written ({e.strerror or e}): choose a "
                             "writable folder, or pass checkpoint=None") from e
    return path


def save_atomic(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save(obj)`` to ``path`` atomically: write ``path.tmp``, flush and ``fsync`` it,
    rename it over ``path``, then ``fsync`` the folder. A failed save leaves no ``.tmp`` file
    (and the previous ``path`` untouched) and raises a :class:`DcnnError` naming the path."""
    path = Path(path)
    tmp = _tmp(path)
    try:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        tmp.unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise DcnnError(f"checkpoint {path} could not be saved ({e.strerror or e}); the previous "
                            "checkpoint, if any, is intact") from e
        raise
    try:                                      # the rename itself is durable once the folder is synced
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:                           # (not possible on every platform)
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load_checkpoint(path: str | os.PathLike, map_location: Any = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`~dcnn_lib.train.fit` (``weights_only=True``).

    A file that is empty, not a torch file, truncated, or not a fit checkpoint raises a
    :class:`DcnnValueError` naming it."""
    path = Path(path)
    if path.stat().st_size == 0:
        raise DcnnValueError(f"checkpoint {path} is empty (0 bytes; a save was interrupted?); {_AGAIN}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, EOFError, RuntimeError, ValueError, zipfile.BadZipFile, OSError) as e:
        raise DcnnValueError(f"checkpoint {path} is not a readable torch checkpoint (damaged, cut short, or "
                             f"another kind of file: torch.load raised {type(e).__name__}); {_AGAIN}") from None
    missing = [k for k in KEYS if k not in state] if isinstance(state, dict) else list(KEYS)
    if missing:
        raise DcnnValueError(f"checkpoint {path} was not written by dcnn_lib.train.fit (no "
                             f"{', '.join(missing)}); {_AGAIN}")
    return state


def describe_model(model: nn.Module) -> dict[str, Any]:
    """What identifies a model's weights: its class and the shape of every tensor."""
    return {"class": type(model).__name__,
            "shapes": {k: list(v.shape) for k, v in model.state_dict().items()}}


def check_resumable(state: dict[str, Any], path: Path, config: dict[str, Any], model: nn.Module) -> None:
    """Refuse to resume ``state`` (read from ``path``) into this run when its configuration or
    its model differ; the message names every difference."""
    old = state.get("config", {"epochs": state.get("epochs"), "steps_per_epoch": state.get("steps_per_epoch")})
    changed = [f"{k}: {old[k]!r} in the checkpoint, {config[k]!r} now" for k in config
               if k in old and old[k] is not None and old[k] != config[k]]
    if changed:
        raise DcnnValueError(f"fit: checkpoint {path} was written by a run with other settings ("
                             + "; ".join(changed) + f"); {_AGAIN}")
    saved, ours = state.get("model_shapes"), describe_model(model)
    if saved is None:
        saved = {"class": "?", "shapes": {k: list(v.shape) for k, v in state["model"].items()}}
    if saved["shapes"] != ours["shapes"]:
        diff = next((k for k in {**ours["shapes"], **saved["shapes"]}
                     if saved["shapes"].get(k) != ours["shapes"].get(k)), "?")
        raise DcnnValueError(
            f"fit: checkpoint {path} holds the weights of another model ({saved['class']}, "
            f"{len(saved['shapes'])} tensors) than this {ours['class']} ({len(ours['shapes'])} tensors; first "
            f"difference: {diff!r} is {saved['shapes'].get(diff)} there, {ours['shapes'].get(diff)} here); {_AGAIN}")


__all__ = ["check_resumable", "check_writable", "describe_model", "load_checkpoint", "rng_state",
           "save_atomic", "set_rng_state"]
