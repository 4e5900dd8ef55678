"""Issue 20, point 5: models compile with ``torch.compile`` without graph breaks in dcnn_lib's
code — the input checks included (they return at once while dynamo traces).

``torch._dynamo.explain`` traces one forward on the CPU (no code generation). A representative
set per family runs here, small configurations where a family has them; every registered
classifier and segmenter is checked by ``benchmarks/compile_check.py`` (see its docstring).
"""
import importlib.util
from pathlib import Path

import pytest
import torch

from conftest import ROOT

spec = importlib.util.spec_from_file_location("compile_check", ROOT / "benchmarks" / "compile_check.py")
compile_check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compile_check)

# name: (input size, builder overrides) — one per family of classifiers, and the segmenters whose
# forward has code of its own (mirror padding, unpooling, pyramid pooling, attention)
REPRESENTATIVES = {
    "lenet5": ((1, 32, 32), {}),                                   # custom subsampling, RBF output
    "alexnet_small": ((1, 64, 64), {}),                            # LRN
    "vgg11": ((3, 32, 32), {}),
    "nin_small": ((1, 28, 28), {}),                                # mlpconv
    "googlenet_small": ((1, 28, 28), {}),                          # inception modules
    "inception_resnet_small": ((1, 28, 28), {}),                   # scaled residual inception
    "resnet20_cifar": ((3, 32, 32), {}),                           # option-A shortcuts
    "preact_resnet18": ((3, 32, 32), {}),
    "yolo_v1_classifier": ((3, 64, 64), {"width": 1 / 16}),
    "unet": ((3, 20, 20), {"widths": (4, 8, 16, 32, 64)}),        # valid padding: mirror_pad
    "segnet": ((3, 32, 32), {}),                                   # max unpooling with indices
    "pspnet": ((3, 64, 64), {}),                                   # pyramid pooling
    "sam_small": ((3, 64, 64), {}),                                # attention, position embedding
}


@pytest.mark.parametrize("name", REPRESENTATIVES)
def test_compiles_without_graph_breaks_of_ours(name):
    size, overrides = REPRESENTATIVES[name]
    result = compile_check.explain(name, size, **overrides)
    assert result["ours"] == [], result["ours"]
    assert result["graphs"] >= 1


def test_a_graph_break_in_our_code_would_be_reported(monkeypatch):
    """The check can fail: a forward with a break (a tensor's value read on the host) in a file
    counted as ours is reported with its place."""
    from dcnn_lib.models.classification import lenet

    real = lenet.LeNet5.forward

    def forward(self, x):
        print(float(x.sum()))                 # reading a traced value: a graph break on this line
        return real(self, x)
    monkeypatch.setattr(lenet.LeNet5, "forward", forward)
    monkeypatch.setattr(compile_check, "LIBRARY", str(Path(__file__).resolve().parent))   # this file is "ours"
    result = compile_check.explain("lenet5", (1, 32, 32))
    assert result["breaks"] >= 1
    assert [b["where"] for b in result["ours"]] == [f"{__file__}:{forward.__code__.co_firstlineno + 1}"]
