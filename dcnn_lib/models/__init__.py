"""The model zoo: ``get``, ``list_models`` and ``meta`` over every registered architecture."""
from ..registry import TASKS, ModelInfo, UnknownModelError, get, list_models, meta, register_model
from . import classification  # noqa: F401  (registers the models)
from . import segmentation  # noqa: F401
from . import detection  # noqa: F401

__all__ = ["TASKS", "ModelInfo", "UnknownModelError", "get", "list_models", "meta", "register_model"]
