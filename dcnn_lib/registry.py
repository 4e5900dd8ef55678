"""The model registry: one name per architecture, with the paper's facts attached.

A family module under ``dcnn_lib/models/<task>/`` registers each model with an explicit builder
function (``dcnn_lib.models`` imports every module there, so nothing else needs editing)::

    @register_model(task="classification", paper="LeCun et al., Proc. IEEE 1998", year=1998,
                    input_size=(1, 32, 32),
                    published=Published(params=Figure(60_000, "paper, §II-B")))
    def lenet5(num_classes: int = 10, in_channels: int = 1) -> nn.Module:
        return LeNet5(num_classes, in_channels)

and everybody else goes through :func:`get`, :func:`list_models` and :func:`meta` (re-exported
as ``dcnn_lib.models.get`` etc.). ``get(name)`` with no overrides builds the paper's
configuration; keyword overrides go to the builder (``get("lenet5", num_classes=3)``).
``meta(name)`` returns the typed :class:`~dcnn_lib.model_meta.ModelMeta`.
"""
from __future__ import annotations

import difflib
import inspect
from typing import Any, Callable

import torch.nn as nn

from .errors import DcnnTypeError, DcnnValueError, UnknownModelError
from .model_meta import TASKS, Figure, ModelMeta, Published, TestSettings, check_input_size

_REGISTRY: dict[str, ModelMeta] = {}


def register_model(
    name: str | None = None,
    *,
    task: str,
    paper: str,
    year: int,
    input_size: tuple[int, int, int],
    published: Published | None = None,
    test: TestSettings | None = None,
) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Decorator that registers a model builder under ``name`` (default: the function's name).

    ``input_size`` is ``(C, H, W)`` of the paper's input; ``published`` the published figures
    (:class:`Published`), ``test`` how the tests exercise it (:class:`TestSettings`). The first
    paragraph of the builder's docstring becomes ``meta(name).description``. Registering a name
    twice raises ``ValueError``.
    """
    if task not in TASKS:
        raise DcnnValueError(f"register_model: task must be one of {TASKS}, got {task!r}")
    input_size = check_input_size(input_size, "register_model")
    if published is not None and not isinstance(published, Published):
        raise DcnnTypeError(f"register_model: published must be a Published(...), got {type(published).__name__}")
    if test is not None and not isinstance(test, TestSettings):
        raise DcnnTypeError(f"register_model: test must be a TestSettings(...), got {type(test).__name__}")

    def decorator(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        key = name or builder.__name__
        if key in _REGISTRY:
            other = _REGISTRY[key].builder
            raise DcnnValueError(f"model name {key!r} is already registered "
                                 f"(by {other.__module__}.{other.__qualname__})")
        doc = inspect.getdoc(builder) or ""
        _REGISTRY[key] = ModelMeta(
            name=key, task=task, paper=paper, year=year, input_size=input_size,
            description=doc.split("\n\n")[0].replace("\n", " "),
            published=published or Published(), test=test or TestSettings(), builder=builder,
        )
        return builder

    return decorator


def _info(name: Any) -> ModelMeta:
    if not isinstance(name, str):
        raise DcnnTypeError(f"a model name must be a str such as 'resnet50', got {name!r} "
                            f"(dcnn_lib.models.list_models() lists them)")
    try:
        return _REGISTRY[name]
    except KeyError:
        # names that extend the query first ("lenet" -> lenet5, lenet5_relu), then similar ones
        close = [n for n in sorted(_REGISTRY) if n.startswith(name)][:5]
        close += [n for n in difflib.get_close_matches(name, _REGISTRY, n=5, cutoff=0.4) if n not in close]
        close = close[:6]
        hint = f"closest: {', '.join(close)}" if close else f"registered: {', '.join(sorted(_REGISTRY))}"
        raise UnknownModelError(f"unknown model {name!r}; {hint}") from None


def _check_overrides(name: str, overrides: dict[str, Any]) -> None:
    """The arguments every builder shares, checked the same way for every model."""
    if "num_classes" in overrides:
        n = overrides["num_classes"]
        if isinstance(n, bool) or not isinstance(n, int):
            raise DcnnTypeError(f"model {name!r}: num_classes must be an int >= 1, got {n!r}")
        if n < 1:
            raise DcnnValueError(f"model {name!r}: num_classes must be >= 1 (the number of classes "
                                 f"the model predicts), got {n}")
    if "in_channels" in overrides:
        c = overrides["in_channels"]
        if isinstance(c, bool) or not isinstance(c, int) or c < 1:
            raise DcnnValueError(f"model {name!r}: in_channels must be an int >= 1, got {c!r}")
    if "input_size" in overrides:
        overrides["input_size"] = check_input_size(overrides["input_size"], f"model {name!r}")


def get(name: str, **overrides: Any) -> nn.Module:
    """Build model ``name``; ``overrides`` go to its builder (e.g. ``num_classes=10``).

    Without overrides the paper's configuration is built. An override the builder does not
    take raises ``TypeError`` listing the ones it does; ``num_classes``, ``in_channels`` and
    ``input_size`` (always ``(C, H, W)``) are checked before the builder runs.
    """
    info = _info(name)
    params = inspect.signature(info.builder).parameters
    takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    unknown = [k for k in overrides if k not in params]
    if unknown and not takes_kwargs:
        raise DcnnTypeError(
            f"model {name!r} takes no argument {', '.join(map(repr, unknown))}; "
            f"it takes: {', '.join(params) or 'nothing'}"
        )
    _check_overrides(name, overrides)
    return info.builder(**overrides)


def list_models(task: str | None = None) -> list[str]:
    """Registered model names, sorted; only those of ``task`` when given."""
    if task is not None and task not in TASKS:
        raise DcnnValueError(f"list_models: task must be one of {TASKS} or None, got {task!r}")
    return sorted(n for n, i in _REGISTRY.items() if task is None or i.task == task)


def meta(name: str) -> ModelMeta:
    """The typed facts of ``name``: task, paper, year, ``input_size`` (C, H, W), description,
    ``published`` figures with their sources and ``test`` settings (``.as_dict()`` for plain data)."""
    return _info(name)


__all__ = ["TASKS", "Figure", "ModelMeta", "Published", "TestSettings", "UnknownModelError",
           "check_input_size", "register_model", "get", "list_models", "meta"]
