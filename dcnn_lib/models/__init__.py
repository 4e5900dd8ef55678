"""The model zoo: ``get``, ``list_models`` and ``meta`` over every registered architecture.

Importing this package imports every module under ``classification/``, ``segmentation/`` and
``detection/`` (and their subpackages): a new family module registers its models by being
there, with no import line to add anywhere.
"""
from __future__ import annotations

import importlib
import pkgutil

from ..model_meta import Figure, ModelMeta, Published, TestSettings
from ..registry import TASKS, UnknownModelError, get, list_models, meta, register_model


def _discover(task: str) -> None:
    """Import ``dcnn_lib.models.<task>`` and every module below it (registration is a side effect)."""
    package = importlib.import_module(f"{__name__}.{task}")
    for module in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
        importlib.import_module(module.name)


for _task in TASKS:
    _discover(_task)
del _task

__all__ = ["TASKS", "Figure", "ModelMeta", "Published", "TestSettings", "UnknownModelError",
           "get", "list_models", "meta", "register_model"]
