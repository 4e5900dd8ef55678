"""Adding a model touches one file: a new module under ``dcnn_lib/models/<task>/`` is found
without an import line, and the registry-driven tests run it.

A copy of the package and of the tests is made in a temporary folder; the README's example
(``## Adding a model``, taken verbatim) is saved as ``models/classification/mynet.py``, a small
segmentation model as ``models/segmentation/myseg.py``, and a model whose published parameter
count is wrong as ``models/classification/mybadnet.py``. pytest then runs in the copy: every
registry-driven test of the new models is collected and passes, except the parameter count of
the wrong one, which fails (so these tests can fail).
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

MYSEG = '''"""A two-layer dense network: a stand-in for a new segmentation family."""
import torch.nn as nn

from ...layers import guard_inputs
from ...registry import Figure, Published, TestSettings, register_model


class MySeg(nn.Module):
    def __init__(self, num_classes: int = 2, in_channels: int = 3, width: int = 8) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(in_channels, width, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(width, num_classes, 1))          # N x num_classes x H x W
        guard_inputs(self, "MySeg", expected=(in_channels, 256, 256))

    def forward(self, x):
        return {"out": self.body(x)}


@register_model(task="segmentation", paper="Someone, A dense net, 2020", year=2020, input_size=(3, 256, 256),
                published=Published(params=Figure(3 * 8 * 9 + 8 + 8 * 2 + 2, "counted")),
                test=TestSettings(input_size=(3, 32, 32), kwargs={"width": 4}))
def myseg(num_classes: int = 2, in_channels: int = 3, width: int = 8) -> MySeg:
    """A two-layer dense network."""
    return MySeg(num_classes, in_channels, width)
'''

MYBADNET = '''from ...registry import Figure, Published, register_model
from .mynet import PAPER, MyNet


@register_model(task="classification", paper=PAPER, year=2014, input_size=(1, 28, 28),
                published=Published(params=Figure(171, "a wrong count")))
def mybadnet(num_classes: int = 10, in_channels: int = 1) -> MyNet:
    """MyNet registered with a wrong parameter count."""
    return MyNet(num_classes, in_channels)
'''


def readme_example() -> str:
    section = (REPO / "README.md").read_text(encoding="utf-8").split("## Adding a model", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_a_new_module_is_discovered_and_tested(tmp_path):
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "dcnn_lib", tmp_path / "dcnn_lib", ignore=ignore)
    shutil.copytree(REPO / "tests", tmp_path / "tests", ignore=ignore)
    models = tmp_path / "dcnn_lib" / "models"
    (models / "classification" / "mynet.py").write_text(readme_example(), encoding="utf-8")
    (models / "classification" / "mybadnet.py").write_text(MYBADNET, encoding="utf-8")
    (models / "segmentation" / "myseg.py").write_text(MYSEG, encoding="utf-8")

    env = {**os.environ, "PYTHONPATH": str(tmp_path), "DCNN_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:randomly", "-p", "no:cacheprovider", "--rootdir",
         str(tmp_path), "tests/test_models.py", "tests/test_segmentation.py", "-k", "mynet or mybadnet or myseg"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    results = dict(re.findall(r"::(\S+) (PASSED|FAILED|ERROR|SKIPPED)", run.stdout))
    assert results == {
        "test_forward_backward[mynet]": "PASSED",
        "test_forward_backward[mybadnet]": "PASSED",
        "test_parameter_count_equals_the_published_one[mynet]": "PASSED",
        "test_parameter_count_equals_the_published_one[mybadnet]": "FAILED",
        "test_parameter_count_equals_the_published_one[myseg]": "PASSED",
        "test_wrong_channels_name_a_layer[mynet]": "PASSED",
        "test_wrong_channels_name_a_layer[mybadnet]": "PASSED",
        "test_wrong_channels_name_a_layer[myseg]": "PASSED",
        "test_shapes_at_two_sizes_and_backward[myseg]": "PASSED",
    }, run.stdout[-3000:] + run.stderr[-3000:]
    assert "assert 170 == 171" in run.stdout
