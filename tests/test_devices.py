"""Mixed precision, channels-last, checkpoint/resume and the torchvision twins on every device
this machine has: always the CPU, and CUDA where there is one (marked ``cuda``; run them alone
with ``pytest -m cuda``, as ``benchmarks/gpu_check.sh`` does on a GPU machine).

On the CPU these run in every ``make test``; the CUDA cases are the same code on the GPU, so a
GPU machine checks exactly what the CPU checks here, plus the CUDA random state in checkpoints.
"""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import dcnn_lib as dl
from dcnn_lib.data import TensorLoader
from dcnn_lib.train import fit

DEVICES = [
    "cpu",
    pytest.param("cuda", marks=[pytest.mark.cuda,
                                pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")]),
]


class DropNet(nn.Module):
    """A small classifier with dropout, so training consumes the device's random numbers."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.drop = nn.Dropout(0.3)
        self.fc = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):                                      # N x 1 x 16 x 16
        x = F.max_pool2d(F.relu(self.bn(self.conv(x))), 4)    # N x 8 x 4 x 4
        return self.fc(self.drop(x.flatten(1)))               # N x 10


def _data(seed=0, n=64):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 16, 16, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    return TensorLoader(x, y, batch_size=16, shuffle=True, seed=seed)


def _params(model):
    return torch.cat([p.detach().float().cpu().flatten() for p in model.state_dict().values()
                      if p.is_floating_point()])


@pytest.mark.parametrize("device", DEVICES)
def test_mixed_precision_trains_in_float32_weights(device):
    torch.manual_seed(0)
    model = DropNet()
    history = fit(model, _data(), 2, device=device, amp=True, progress=False, seed=0)
    assert len(history) == 2 and all(torch.isfinite(torch.tensor(v)) for v in history["train_loss"])
    # the weights stay float32 (autocast casts per operation; the optimiser updates float32)
    assert all(p.dtype == torch.float32 for p in model.parameters())
    # bfloat16/float16 forward agrees with float32 to the precision of the half type
    model.eval()
    x = torch.randn(8, 1, 16, 16, device=next(model.parameters()).device)
    with torch.no_grad():
        full = model(x)
        dtype = torch.bfloat16 if device == "cpu" or torch.cuda.is_bf16_supported() else torch.float16
        with torch.autocast(device_type=device, dtype=dtype):
            half = model(x).float()
    assert torch.allclose(full, half, atol=0.05 * full.abs().max().item() + 1e-3), (full - half).abs().max()


@pytest.mark.parametrize("device", DEVICES)
def test_channels_last_gives_the_same_outputs(device):
    torch.manual_seed(0)
    model = dl.models.get("resnet18").to(device).eval()
    x = torch.randn(2, 3, 64, 64, device=device)
    with torch.no_grad():
        ref = model(x)
        model = model.to(memory_format=torch.channels_last)
        out = model(x.contiguous(memory_format=torch.channels_last))
    assert torch.allclose(ref, out, rtol=1e-3, atol=1e-4), (ref - out).abs().max()


@pytest.mark.parametrize("device", DEVICES)
def test_resume_restores_weights_and_the_random_state(tmp_path, device):
    """Two epochs in one go equal one epoch, an interruption, and a resume to two: the checkpoint holds
    the model, the optimiser, the schedule and every random state (CUDA's too on a GPU)."""
    torch.manual_seed(0)
    straight = DropNet()
    fit(straight, _data(), 2, device=device, amp=False, progress=False, seed=0)

    torch.manual_seed(0)
    first = DropNet()
    ckpt = tmp_path / "run.pt"

    def interrupt(epoch, history):                  # a run killed after its first epoch
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit(first, _data(), 2, device=device, amp=False, progress=False, seed=0, checkpoint=ckpt,
            callbacks=[interrupt])
    state = torch.load(ckpt, weights_only=False)
    assert state["epoch"] == 1
    if device == "cuda":
        rng = state["rng"]
        assert "cuda" in rng, f"checkpoint keys {sorted(rng)}: no CUDA random state"
    torch.manual_seed(123)                           # the resumed run must not depend on this
    resumed = DropNet()
    fit(resumed, _data(), 2, device=device, amp=False, progress=False, seed=0, checkpoint=ckpt, resume=True)
    a, b = _params(straight), _params(resumed)
    tol = 0 if device == "cpu" else 1e-5             # cuDNN may pick other kernels after a restart
    assert torch.allclose(a, b, rtol=0, atol=tol), (a - b).abs().max()


# Small twins on the CPU too (tests/test_models.py compares every twin on the CPU already,
# at float64-like tolerance); on CUDA the big ones as well, with TF32 off.
CPU_TWINS = ["resnet18", "googlenet"]
CUDA_TWINS = CPU_TWINS + ["vgg11", "inception_v3", "convnext_tiny", "vit_b_16", "densenet121"]
TWIN_CASES = [("cpu", n) for n in CPU_TWINS] + [
    pytest.param("cuda", n, marks=[pytest.mark.cuda,
                                   pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")])
    for n in CUDA_TWINS]


@pytest.mark.parametrize("device, name", TWIN_CASES)
def test_twins_equal_torchvision_on_the_device(device, name):
    import torchvision

    assert name in dl.models.list_models(), f"{name} is not registered: the list of twins is out of date"
    info = dl.models.meta(name)
    torch.manual_seed(0)
    theirs = torchvision.models.get_model(info.test.torchvision, weights=None, **info.test.torchvision_kwargs)
    ours = dl.models.get(name)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    theirs, ours = theirs.to(device).eval(), ours.to(device).eval()
    c, h, w = info.input_size
    x = torch.randn(2, c, h, w, device=device)
    old = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        with torch.no_grad():
            a, b = ours(x), theirs(x)
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old
    a, b = getattr(a, "logits", a), getattr(b, "logits", b)
    assert torch.allclose(a, b, rtol=1e-3, atol=1e-4), (a - b).abs().max()


def test_setup_reports_peak_memory_at_exit(tmp_path):
    """``DCNN_PEAK_MEMORY_FILE``: the chapter's process writes its peak GPU memory when it ends
    (how benchmarks/gpu_check.sh measures every full-scale chapter; 0 bytes on the CPU)."""
    import json
    import os
    import subprocess
    import sys

    report = tmp_path / "peak.json"
    code = ("import torch, dcnn_lib as dl; dl.runtime.setup('smoke', 0, verbose=False)\n"
            "x = torch.ones(1024, 1024, device=dl.runtime.device())\n")
    env = {**os.environ, "DCNN_PEAK_MEMORY_FILE": str(report), "DCNN_OFFLINE": "1"}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=300)
    data = json.loads(report.read_text())
    assert set(data) == {"device", "max_memory_allocated"}
    if torch.cuda.is_available():
        assert data["max_memory_allocated"] >= 4 * 1024 * 1024
    else:
        assert data["max_memory_allocated"] == 0 and data["device"].startswith("cpu")
