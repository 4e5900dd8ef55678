"""The typed metadata of a registered model: what ``dcnn_lib.models.meta(name)`` returns.

Two kinds of facts are kept apart:

- :class:`Published` — numbers somebody published about the architecture, each a
  :class:`Figure` with its source. The same fields for every model: ``params``, ``gmacs``,
  ``top1``, ``top5``, and ``other`` for the rest (dataset scores, the paper's rounded counts...).
- :class:`TestSettings` — how this repository checks the model: the input size the CPU tests
  run at, the builder arguments of a small test configuration, the torchvision twin and the
  arguments torchvision needs to build it, the input size of the benchmarks.

Everything is frozen: ``meta()`` hands out the registry's own object, and nobody can change it.

Keys of :attr:`Published.other` are snake_case and say their unit; the ones in use::

    params_m            parameters in millions, as the source prints them (VGG Table 2: 138)
    params_with_aux     parameters with the auxiliary heads (GoogLeNet, FCN/DeepLab twins)
    gmacs_paper         the paper's own multiply-adds (ResNet Table 1 "FLOPs"), x 10^9
    top1_error, top5_error            ImageNet validation error, % (papers report errors)
    top5_error_<n>nets                the same for an ensemble of n networks
    cifar10_error, mnist_error        test error, %
    voc2007_map, voc_miou, voc2011_miou, coco_box_ap, coco_mask_ap    detection/segmentation, %
    connections, receptive_field, default_boxes, fps, model_size_mb   plain counts
"""
from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Callable, Mapping

from .errors import DcnnTypeError, DcnnValueError

TASKS = ("classification", "segmentation", "detection")
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


def check_input_size(value: Any, where: str) -> tuple[int, int, int]:
    """``value`` as a ``(C, H, W)`` tuple of positive ints, or a named error saying what is wrong."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        raise DcnnTypeError(f"{where}: input_size must be (C, H, W), a tuple of three positive ints, "
                            f"got {value!r}")
    if len(value) != 3:
        raise DcnnValueError(f"{where}: input_size must be (C, H, W), three values, got {len(value)}: {value!r}")
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int):
            raise DcnnTypeError(f"{where}: input_size must hold ints (C, H, W), got {value!r}")
        if v < 1:
            raise DcnnValueError(f"{where}: input_size must be positive (C, H, W), got {value!r}")
    return tuple(int(v) for v in value)  # type: ignore[return-value]


@dataclass(frozen=True)
class Figure:
    """One published number and where it was published.

    ``value`` is a number (int for counts); ``source`` names the publication ("paper, Table 3",
    "torchvision weights metadata", "timm", "computed from the paper's layer table"...);
    ``note`` says how it was measured when that matters ("10-crop", "single model").
    """

    value: int | float
    source: str
    note: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)):
            raise DcnnTypeError(f"Figure: value must be a number, got {self.value!r}")
        if not isinstance(self.source, str) or not self.source.strip():
            raise DcnnValueError(f"Figure({self.value!r}): every published figure needs its source")


@dataclass(frozen=True)
class Published:
    """The published figures of one architecture; ``None`` where nobody published one.

    - ``params``: the exact parameter count of ``get(name)`` (an int; the tests assert equality);
    - ``gmacs``: multiply-accumulates at ``meta.input_size``, in 10^9;
    - ``top1``, ``top5``: ImageNet validation accuracy, % (unless ``note`` says otherwise);
    - ``other``: every other published number, by a snake_case key (see the module docstring).
    """

    params: Figure | None = None
    gmacs: Figure | None = None
    top1: Figure | None = None
    top5: Figure | None = None
    other: Mapping[str, Figure] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for f in ("params", "gmacs", "top1", "top5"):
            v = getattr(self, f)
            if v is not None and not isinstance(v, Figure):
                raise DcnnTypeError(f"Published.{f} must be a Figure (value, source), got {v!r}")
        if self.params is not None and not isinstance(self.params.value, int):
            raise DcnnTypeError(f"Published.params must be an exact int count, got {self.params.value!r}")
        for k, v in self.other.items():
            if not _KEY.match(k) or not isinstance(v, Figure):
                raise DcnnValueError(f"Published.other[{k!r}]: keys are snake_case, values Figures; got {v!r}")
        object.__setattr__(self, "other", MappingProxyType(dict(self.other)))

    def as_dict(self) -> dict[str, Any]:
        """``{"params": {"value", "source", "note"}, ..., "other": {key: {...}}}``, plain data."""
        plain = lambda f: None if f is None else {"value": f.value, "source": f.source, "note": f.note}  # noqa: E731
        out = {f: plain(getattr(self, f)) for f in ("params", "gmacs", "top1", "top5")}
        out["other"] = {k: plain(v) for k, v in self.other.items()}
        return out


@dataclass(frozen=True)
class TestSettings:
    """How the tests and benchmarks of this repository exercise the model.

    - ``input_size``: ``(C, H, W)`` of the CPU tests; ``None``: ``meta.input_size``;
    - ``kwargs``: builder arguments of the small configuration that forward/backward tests build
      (narrow widths; ``{}``: the paper's configuration is small enough);
    - ``torchvision``: the torchvision builder of the same architecture, if there is one;
      ``torchvision_kwargs``: what torchvision needs to build that twin (``aux_logits=False``...);
    - ``bench_input_size``: ``(C, H, W)`` the benchmarks use; ``None``: ``meta.input_size``.
    """

    __test__ = False  # not a pytest test class

    input_size: tuple[int, int, int] | None = None
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    torchvision: str | None = None
    torchvision_kwargs: Mapping[str, Any] = field(default_factory=dict)
    bench_input_size: tuple[int, int, int] | None = None

    def __post_init__(self) -> None:
        for f in ("input_size", "bench_input_size"):
            if getattr(self, f) is not None:
                object.__setattr__(self, f, check_input_size(getattr(self, f), f"TestSettings.{f}"))
        object.__setattr__(self, "kwargs", MappingProxyType(dict(self.kwargs)))
        object.__setattr__(self, "torchvision_kwargs", MappingProxyType(dict(self.torchvision_kwargs)))


@dataclass(frozen=True)
class ModelMeta:
    """What the registry knows of one model (returned by ``dcnn_lib.models.meta(name)``)."""

    name: str
    task: str
    paper: str
    year: int
    input_size: tuple[int, int, int]
    description: str = ""
    published: Published = field(default_factory=Published)
    test: TestSettings = field(default_factory=TestSettings)
    builder: Callable[..., Any] | None = field(default=None, repr=False, compare=False)

    @property
    def defaults(self) -> dict[str, Any]:
        """The builder's keyword arguments and their defaults (the paper's configuration)."""
        if self.builder is None:
            return {}
        return {k: p.default for k, p in inspect.signature(self.builder).parameters.items()
                if p.default is not inspect.Parameter.empty}

    @property
    def test_input_size(self) -> tuple[int, int, int]:
        """``test.input_size`` or, when not set, ``input_size``."""
        return self.test.input_size or self.input_size

    def as_dict(self) -> dict[str, Any]:
        """The same facts as plain nested dicts (for printing, JSON or a DataFrame)."""
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)
                               if f.name not in ("builder", "published", "test")}
        out["published"] = self.published.as_dict()
        out["test"] = {f.name: (dict(v) if isinstance(v := getattr(self.test, f.name), Mapping) else v)
                       for f in fields(self.test)}
        out["defaults"] = self.defaults
        return out
