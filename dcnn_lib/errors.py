"""The library's error classes.

Every bad input the library recognises raises one of these, with a message that names the
argument (or layer), what was given, what is expected and what to do. They subclass the
built-in exceptions, so ``except ValueError`` keeps working.
"""


class DcnnError(Exception):
    """Base class of every error raised by dcnn_lib on purpose."""


class DcnnValueError(DcnnError, ValueError):
    """An argument of the right type with a wrong value."""


class DcnnTypeError(DcnnError, TypeError):
    """An argument of the wrong type."""


__all__ = ["DcnnError", "DcnnValueError", "DcnnTypeError"]
