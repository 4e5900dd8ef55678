"""The model registry: one name per architecture, with the paper's facts attached.

A model file registers its builders with :func:`register_model`::

    @register_model(task="classification", paper="LeCun et al., Proc. IEEE 1998",
                    year=1998, input_size=(1, 32, 32), reference={"params": 60_000})
    def lenet5(num_classes: int = 10) -> nn.Module:
        return LeNet5(num_classes)

and everybody else goes through :func:`get`, :func:`list_models` and :func:`meta`
(re-exported as ``dcnn_lib.models.get`` etc.). ``get(name)`` with no overrides builds the
paper's configuration; keyword overrides go to the builder (``get("lenet5", num_classes=3)``).
"""
from __future__ import annotations

import difflib
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

import torch.nn as nn

TASKS = ("classification", "segmentation", "detection")


class UnknownModelError(KeyError, ValueError):
    """Raised for a model name that is not registered (a ``KeyError`` and a ``ValueError``)."""

    def __str__(self) -> str:  # KeyError would print the message with quotes around it
        return str(self.args[0])


@dataclass(frozen=True)
class ModelInfo:
    """What the registry knows of one model."""

    name: str
    builder: Callable[..., nn.Module]
    task: str
    paper: str
    year: int
    input_size: tuple[int, ...]
    reference: dict[str, Any] = field(default_factory=dict)
    torchvision: str | None = None
    description: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "task": self.task,
            "paper": self.paper,
            "year": self.year,
            "input_size": self.input_size,
            "reference": dict(self.reference),
            "torchvision": self.torchvision,
            "description": self.description,
            "defaults": {
                k: p.default
                for k, p in inspect.signature(self.builder).parameters.items()
                if p.default is not inspect.Parameter.empty
            },
        }


_REGISTRY: dict[str, ModelInfo] = {}


def register_model(
    name: str | None = None,
    *,
    task: str,
    paper: str,
    year: int,
    input_size: tuple[int, ...],
    reference: dict[str, Any] | None = None,
    torchvision: str | None = None,
) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Decorator that registers a model builder under ``name`` (default: the function's name).

    ``input_size`` is ``(C, H, W)`` of the paper's input; ``reference`` holds the published
    figures the tests and chapters compare against (``params``, ``macs``, accuracies...);
    ``torchvision`` names the torchvision builder of the same architecture, if there is one.
    Registering a name twice raises ``ValueError``.
    """
    if task not in TASKS:
        raise ValueError(f"register_model: task must be one of {TASKS}, got {task!r}")
    if len(input_size) != 3:
        raise ValueError(f"register_model: input_size must be (C, H, W), got {input_size!r}")

    def decorator(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        key = name or builder.__name__
        if key in _REGISTRY:
            other = _REGISTRY[key].builder
            raise ValueError(
                f"model name {key!r} is already registered "
                f"(by {other.__module__}.{other.__qualname__})"
            )
        doc = inspect.getdoc(builder) or ""
        _REGISTRY[key] = ModelInfo(
            name=key,
            builder=builder,
            task=task,
            paper=paper,
            year=year,
            input_size=tuple(input_size),
            reference=dict(reference or {}),
            torchvision=torchvision,
            description=doc.split("\n\n")[0].replace("\n", " "),
        )
        return builder

    return decorator


def _info(name: str) -> ModelInfo:
    try:
        return _REGISTRY[name]
    except KeyError:
        # names that extend the query first ("lenet" -> lenet5, lenet5_relu), then similar ones
        close = [n for n in sorted(_REGISTRY) if n.startswith(name)][:5]
        close += [n for n in difflib.get_close_matches(name, _REGISTRY, n=5, cutoff=0.4) if n not in close]
        close = close[:6]
        hint = f"closest: {', '.join(close)}" if close else f"registered: {', '.join(sorted(_REGISTRY))}"
        raise UnknownModelError(f"unknown model {name!r}; {hint}") from None


def get(name: str, **overrides: Any) -> nn.Module:
    """Build model ``name``; ``overrides`` go to its builder (e.g. ``num_classes=10``).

    Without overrides the paper's configuration is built. An override the builder does not
    take raises ``TypeError`` listing the ones it does.
    """
    info = _info(name)
    params = inspect.signature(info.builder).parameters
    takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    unknown = [k for k in overrides if k not in params]
    if unknown and not takes_kwargs:
        raise TypeError(
            f"model {name!r} takes no argument {', '.join(map(repr, unknown))}; "
            f"it takes: {', '.join(params) or 'nothing'}"
        )
    return info.builder(**overrides)


def list_models(task: str | None = None) -> list[str]:
    """Registered model names, sorted; only those of ``task`` when given."""
    if task is not None and task not in TASKS:
        raise ValueError(f"list_models: task must be one of {TASKS} or None, got {task!r}")
    return sorted(n for n, i in _REGISTRY.items() if task is None or i.task == task)


def meta(name: str) -> dict[str, Any]:
    """Paper, year, input size, published reference figures and torchvision twin of ``name``."""
    return _info(name).as_dict()
