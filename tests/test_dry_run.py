"""DCNN_DRY_RUN=1: every training and evaluation loop stops after a couple of steps, with the
real sizes, models and data paths (how CI executes every chapter at ``full`` on a CPU)."""
import pytest
import torch
import torch.nn as nn

import dcnn_lib as dl
from dcnn_lib.data import TensorLoader
from dcnn_lib.runtime import DRY_RUN_STEPS
from dcnn_lib.train.evaluation import DRY_RUN_SAMPLES


class Counting:
    def __init__(self, loader):
        self.loader, self.batches = loader, 0

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        for batch in self.loader:
            self.batches += 1
            yield batch


def data(n=160):
    return TensorLoader(torch.randn(n, 1, 4, 4), torch.arange(n) % 2, batch_size=16)


def net():
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 2))


@pytest.mark.parametrize("value, on", [("1", True), ("yes", True), ("0", False), ("", False), (" ", False)])
def test_the_switch(monkeypatch, value, on):
    monkeypatch.setenv("DCNN_DRY_RUN", value)
    assert dl.runtime.dry_run() is on


def test_fit_evaluate_and_predict_take_a_couple_of_steps(monkeypatch, tmp_path):
    monkeypatch.setenv("DCNN_DRY_RUN", "1")
    train, test = Counting(data()), Counting(data(64))
    h = dl.train.fit(net(), train, 30, val_loader=test, progress=False, checkpoint=tmp_path / "c.pt")
    assert len(h) == DRY_RUN_STEPS and train.batches == DRY_RUN_STEPS          # two epochs of one batch
    assert test.batches == DRY_RUN_STEPS * DRY_RUN_STEPS                    # two validations of two batches
    assert not (tmp_path / "c.pt").exists()              # a dry run never leaves a checkpoint to resume
    with pytest.raises(ValueError, match="cannot be written"):                # ... but checks its folder
        (tmp_path / "file").write_text("")
        dl.train.fit(net(), data(), 30, progress=False, checkpoint=tmp_path / "file" / "c.pt")
    logits, targets = dl.train.predict(net(), TensorLoader(torch.randn(500, 1, 4, 4), torch.zeros(500).long(), 100))
    n = DRY_RUN_STEPS * DRY_RUN_SAMPLES            # evaluation batches are cut short too
    assert logits.shape == (n, 2) and len(targets) == n
    monkeypatch.setenv("DCNN_DRY_RUN", "0")
    assert len(dl.train.fit(net(), data(), 3, progress=False)) == 3


def test_detection_fit_and_evaluate_take_a_couple_of_batches(monkeypatch):
    from test_train import ToyDetector, toy_scenes

    monkeypatch.setenv("DCNN_DRY_RUN", "1")
    scenes = toy_scenes(40)
    loader = Counting(dl.detection.detection_loader(scenes, batch_size=4))
    h = dl.detection.fit(ToyDetector(), loader, 10, progress=False)
    assert len(h) == DRY_RUN_STEPS and loader.batches == DRY_RUN_STEPS
    report = dl.detection.evaluate(ToyDetector(), scenes, batch_size=4)
    assert len(report.predictions) == DRY_RUN_STEPS * 4 and 0 <= report.metrics.ap <= 1


def test_a_long_analysis_loop_takes_a_couple_of_paths(monkeypatch):
    model = dl.models.get("resnet20_cifar", in_channels=1)
    x, y = torch.randn(2, 1, 16, 16), torch.tensor([0, 1])
    monkeypatch.setenv("DCNN_DRY_RUN", "1")
    assert list(dl.analysis.path_gradient_norms(model, x, y, samples=8)) == list(range(DRY_RUN_STEPS))
    monkeypatch.setenv("DCNN_DRY_RUN", "0")
    assert len(dl.analysis.path_gradient_norms(model, x, y, lengths=[0, 1, 2], samples=1)) == 3
