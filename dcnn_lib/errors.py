"""The library's own exceptions.

Every error ``dcnn_lib`` raises on purpose is a :class:`DcnnError`, and also the built-in
exception a caller would expect (``ValueError``, ``TypeError``, ``KeyError``), so that both
``except dl.errors.DcnnError`` and ``except ValueError`` catch it. Messages say what was given,
what is expected, and what to do.

This module imports nothing of ``dcnn_lib``: every other module may import it.
"""
from __future__ import annotations


class DcnnError(Exception):
    """Base class of every error raised on purpose by ``dcnn_lib``."""


class DcnnValueError(DcnnError, ValueError):
    """An argument of the right type but a wrong value (``num_classes=0``, a bad size...)."""


class DcnnTypeError(DcnnError, TypeError):
    """An argument of the wrong type (``get(None)``, ``input_size="224"``...)."""


class UnknownModelError(DcnnValueError, KeyError):
    """A model name that is not registered (also a ``KeyError``: the registry is a mapping)."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0]) if self.args else ""


__all__ = ["DcnnError", "DcnnValueError", "DcnnTypeError", "UnknownModelError"]
