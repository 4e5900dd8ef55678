"""fit under bad input and faults (issue 15, points 4, 5 and 8): checkpoints of other runs,
damaged checkpoint files, folders that cannot be written, failed saves, nonsense arguments and
labels. Each case expects a named library error (``DcnnValueError`` / ``DcnnTypeError`` /
``DcnnError``) whose message names the file or argument and says what to do.

The error classes are checked by name so that every test here fails on its own, for its own
reason, on a library without them.
"""
import contextlib
import errno
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
import torch.nn as nn

from dcnn_lib.data import TensorLoader
from dcnn_lib.train import evaluate, fit


@contextlib.contextmanager
def named_error(kind: str, *patterns: str):
    """Expect an exception of the class named ``kind`` whose message matches every pattern."""
    with pytest.raises(Exception) as info:
        yield info
    assert type(info.value).__name__ == kind, f"{type(info.value).__name__}: {info.value}"
    for p in patterns:
        assert re.search(p, str(info.value)), f"{p!r} not in: {info.value}"


def blobs(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    return torch.randn(n, 1, 4, 4, generator=g) + (y.float() * 2 - 1)[:, None, None, None], y


def small_net(hidden=4):
    return nn.Sequential(nn.Conv2d(1, hidden, 3, padding=1), nn.ReLU(), nn.Dropout(0.2), nn.Flatten(),
                         nn.Linear(16 * hidden, 2))


class Counting:
    """A loader that counts the batches it hands out."""

    def __init__(self, loader):
        self.loader, self.batches = loader, 0

    def __len__(self):
        return len(self.loader)

    def set_epoch(self, epoch):
        self.loader.set_epoch(epoch)

    def __iter__(self):
        for batch in self.loader:
            self.batches += 1
            yield batch


def train_loader(seed=3):
    x, y = blobs()
    return TensorLoader(x, y, batch_size=16, shuffle=True, seed=seed)


def first_run(path, **kwargs):
    fit(small_net(), train_loader(), 2, checkpoint=path, progress=False, **kwargs)
    return path


# ---- resume: a checkpoint of another run --------------------------------------------------------
@pytest.mark.parametrize("change, named", [
    ({"lr": 1e-2}, r"lr: 0\.001 in the checkpoint, 0\.01 now"),
    ({"schedule": "cosine"}, r"schedule: 'onecycle' in the checkpoint, 'cosine' now"),
    ({"optimizer": "sgd"}, r"optimizer: 'adamw' in the checkpoint, 'sgd' now"),
    ({"weight_decay": 0.0}, r"weight_decay: 0\.0005 in the checkpoint, 0\.0 now"),
])
def test_resume_with_changed_settings_names_them(tmp_path, change, named):
    path = first_run(tmp_path / "run.pt")
    with named_error("DcnnValueError", named, re.escape(str(path)), "resume=False"):
        fit(small_net(), train_loader(), 2, checkpoint=path, progress=False, **change)
    fit(small_net(), train_loader(), 2, checkpoint=path, progress=False, resume=False, **change)  # the hint works


def test_resume_with_more_epochs_names_them(tmp_path):
    path = first_run(tmp_path / "run.pt")
    with named_error("DcnnValueError", r"epochs: 2 in the checkpoint, 3 now", "resume=False"):
        fit(small_net(), train_loader(), 3, checkpoint=path, progress=False)


def test_resume_into_another_model_says_so(tmp_path):
    path = first_run(tmp_path / "run.pt")
    with named_error("DcnnValueError", "another model", r"'0\.weight'", re.escape(str(path)), "resume=False"):
        fit(small_net(hidden=8), train_loader(), 2, checkpoint=path, progress=False)


# ---- damaged checkpoint files ---------------------------------------------------------------------
@pytest.mark.parametrize("content, named", [
    (b"", "empty"),
    (bytes(random.Random(0).randrange(256) for _ in range(3000)), "not a readable torch checkpoint"),
    (None, "not a readable torch checkpoint"),                   # a real checkpoint cut in half
])
def test_damaged_checkpoint_is_named(tmp_path, content, named):
    path = tmp_path / "run.pt"
    if content is None:
        first_run(path)
        content = path.read_bytes()[: path.stat().st_size // 2]
    path.write_bytes(content)
    with named_error("DcnnValueError", named, re.escape(str(path)), "resume=False") as info:
        fit(small_net(), train_loader(), 2, checkpoint=path, progress=False)
    assert "weights_only" not in str(info.value)


def test_a_torch_file_that_is_not_a_fit_checkpoint(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save(small_net().state_dict(), path)
    with named_error("DcnnValueError", "not written by dcnn_lib.train.fit", re.escape(str(path))):
        fit(small_net(), train_loader(), 2, checkpoint=path, progress=False)


# ---- where checkpoints go -----------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["folder is a file", "path is a folder"])
def test_unwritable_checkpoint_fails_before_training(tmp_path, where):
    # (A folder that is merely read-only does not stop root, who runs CI: a file standing where
    # the folder should be stops everyone.)
    if where == "folder is a file":
        (tmp_path / "ckpts").write_text("not a folder")
        path = tmp_path / "ckpts" / "run.pt"
    else:
        path = tmp_path / "run.pt"
        path.mkdir()
    loader = Counting(train_loader())
    with named_error("DcnnValueError", re.escape(str(path))):
        fit(small_net(), loader, 2, checkpoint=path, progress=False)
    assert loader.batches == 0


def test_failed_save_leaves_no_tmp_and_names_the_file(tmp_path, monkeypatch):
    path = tmp_path / "run.pt"
    real_save = torch.save

    def disk_full(obj, f, *args, **kwargs):
        (f.write if hasattr(f, "write") else Path(f).write_bytes)(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", disk_full)
    with named_error("DcnnError", re.escape(str(path)), "No space left"):
        fit(small_net(), train_loader(), 2, checkpoint=path, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    monkeypatch.setattr(torch, "save", real_save)


def test_checkpoint_is_synced_before_the_rename(tmp_path, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append(f"replace {Path(b).name}"), real_replace(a, b))[1])
    fit(small_net(), train_loader(), 1, checkpoint=tmp_path / "run.pt", progress=False)
    assert "replace run.pt" in calls
    assert calls.index("fsync") < calls.index("replace run.pt")


# ---- nonsense arguments and labels -----------------------------------------------------------------
@pytest.mark.parametrize("epochs", [2.5, "3", True])
def test_epochs_must_be_a_whole_number(epochs):
    with named_error("DcnnTypeError", "epochs", re.escape(repr(epochs))):
        fit(small_net(), train_loader(), epochs, progress=False)


def test_a_loader_with_a_length_that_yields_nothing():
    class Hollow:
        def __len__(self):
            return 3

        def __iter__(self):
            return iter(())

    with named_error("DcnnValueError", r"len\(\) 3 but yielded no batch in epoch 1"):
        fit(small_net(), Hollow(), 1, progress=False)


@pytest.mark.parametrize("labels, kind, named", [
    (lambda y: y.float(), "DcnnTypeError", r"must be int64.*float32.*probabilities of the logits' shape"),
    (lambda y: y.int(), "DcnnTypeError", r"must be int64.*int32.*\.long\(\)"),
    (lambda y: y + 5, "DcnnValueError", r"0\.\.1 for a model with 2 outputs, got labels 5\.\.6"),
    (lambda y: y - 1, "DcnnValueError", r"got labels -1\.\.0"),
])
def test_labels_that_are_not_classes(labels, kind, named):
    x, y = blobs()
    with named_error(kind, named):
        fit(small_net(), TensorLoader(x, labels(y), batch_size=16), 1, progress=False)
    with named_error(kind, named):
        evaluate(small_net(), TensorLoader(x, labels(y), batch_size=16))


def test_class_probabilities_are_targets_too():
    x, y = blobs()
    soft = nn.functional.one_hot(y, 2).float() * 0.9 + 0.05
    h = fit(small_net(), TensorLoader(x, soft, batch_size=16), 1, progress=False)
    assert h.last["train_loss"] > 0


def test_dense_labels_out_of_range_name_the_ignore_label():
    x = torch.randn(4, 1, 4, 4)
    y = torch.full((4, 4, 4), 7)
    y[0, 0, 0] = 255                                          # ignored pixels are fine
    net = nn.Conv2d(1, 3, 1)                                  # 3 classes per pixel
    with named_error("DcnnValueError", r"0\.\.2 \(or 255: ignored pixel\).*got labels 7\.\.7"):
        fit(net, TensorLoader(x, y, batch_size=2), 1, progress=False)


# ---- a process killed in the middle of an epoch --------------------------------------------------------
KILLED_RUN = textwrap.dedent("""
    import os, signal, sys
    sys.path[:0] = [{root!r}, {tests!r}]
    import torch
    from test_reliability_train import small_net, train_loader, Counting
    from dcnn_lib.train import fit

    class KillInEpoch2(Counting):
        def __iter__(self):
            for i, batch in enumerate(super().__iter__()):
                if self.batches == len(self) + 3:           # before the 3rd batch of the 2nd epoch
                    os.kill(os.getpid(), signal.SIGKILL)
                yield batch

    torch.manual_seed(123)
    fit(small_net(), KillInEpoch2(train_loader()), 3, checkpoint={path!r}, seed=7, progress=False)
""")


def test_sigkill_mid_epoch_resumes_to_identical_weights(tmp_path):
    path = tmp_path / "killed.pt"
    import dcnn_lib

    library = Path(dcnn_lib.__file__).resolve().parent.parent     # the same library in the child
    script = KILLED_RUN.format(root=str(library), tests=str(Path(__file__).resolve().parent), path=str(path))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert torch.load(path, weights_only=True)["epoch"] == 1 and not path.with_name("killed.pt.tmp").exists()

    torch.manual_seed(123)
    whole = small_net()
    fit(whole, train_loader(), 3, checkpoint=tmp_path / "whole.pt", seed=7, progress=False)
    resumed = small_net()
    h = fit(resumed, train_loader(), 3, checkpoint=path, seed=7, progress=False)
    assert h.resumed_at == 1 and len(h) == 3
    for (k, a), b in zip(whole.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), k
