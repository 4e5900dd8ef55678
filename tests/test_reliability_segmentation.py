"""Issue 15, point 1: U-Net with valid padding on an image one pixel high or wide.

``mirror_pad`` used to loop forever there (a reflection step of 0), so the call runs in a
child process with a timeout: a hang fails the test instead of blocking the suite.
"""
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
import torch

import dcnn_lib

HANG_LIMIT_S = 60  # the call takes a few seconds; the limit only catches a hang on a busy machine


def run_with_timeout(code: str) -> str:
    """Run ``code`` in a child process that imports the same dcnn_lib as this test."""
    env = {**os.environ, "PYTHONPATH": str(Path(dcnn_lib.__file__).resolve().parent.parent)}
    try:
        done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=tempfile.gettempdir(),
                              capture_output=True, text=True, timeout=HANG_LIMIT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"did not return within {HANG_LIMIT_S} s (a hang)")
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_unet_valid_padding_on_one_pixel_images_returns():
    out = run_with_timeout("""
        import torch, dcnn_lib as dl
        from dcnn_lib.models.segmentation.unet import mirror_pad
        print(mirror_pad(torch.arange(3.0).view(1, 1, 1, 3), 2, 1, 3, 2)[0, 0].tolist())
        model = dl.models.get("unet", widths=(2, 4, 8, 16, 32)).eval()
        with torch.no_grad():
            for h, w in [(1, 1), (1, 9), (6, 1)]:
                print(list(model(torch.rand(1, 3, h, w))["out"].shape))
    """)
    padded, *shapes = out.splitlines()
    rows = eval(padded)  # noqa: S307 - our own child process's print
    assert len(rows) == 6 and all(r == [2.0, 1.0, 0.0, 1.0, 2.0, 1.0] for r in rows)  # one row repeated
    assert shapes == ["[1, 2, 1, 1]", "[1, 2, 1, 9]", "[1, 2, 6, 1]"]


def test_mirror_pad_of_an_empty_image_is_a_named_error():
    from dcnn_lib.errors import DcnnValueError
    from dcnn_lib.models.segmentation.unet import mirror_pad

    with pytest.raises(DcnnValueError, match="empty image of shape \\(1, 1, 0, 4\\)"):
        mirror_pad(torch.zeros(1, 1, 0, 4), 1, 1, 1, 1)
