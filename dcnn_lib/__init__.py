"""dcnn_lib: deep CNN architectures from LeNet to ViT, and the tools to analyse them.

    import dcnn_lib as dl
    model = dl.models.get("lenet5")
    dl.analysis.summary(model, (1, 32, 32))
"""
__version__ = "0.1.0"

from . import analysis, data, detection, errors, layers, metrics, models, recipes, runtime  # noqa: E402
from .registry import register_model  # noqa: E402


def __getattr__(name: str):
    # train, viz, widgets and results pull in tqdm, matplotlib and ipywidgets: import them on first use.
    if name in ("train", "viz", "widgets", "results"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'dcnn_lib' has no attribute {name!r}")


__all__ = ["analysis", "data", "detection", "errors", "layers", "metrics", "models", "recipes", "results",
           "runtime", "train", "viz", "widgets", "register_model", "__version__"]
