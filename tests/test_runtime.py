import pytest
import torch

import dcnn_lib as dl
from dcnn_lib import runtime


def test_auto_scale_is_book_on_cpu_and_env_overrides(monkeypatch):
    monkeypatch.delenv("DCNN_SCALE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert runtime.resolve_scale("auto") == "book"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert runtime.resolve_scale("auto") == "full"
    monkeypatch.setenv("DCNN_SCALE", "smoke")
    assert runtime.resolve_scale("auto") == "smoke"
    assert runtime.resolve_scale("book") == "book"  # an explicit scale wins


def test_bad_scale_names_its_source(monkeypatch):
    monkeypatch.setenv("DCNN_SCALE", "huge")
    with pytest.raises(ValueError, match="DCNN_SCALE must be one of"):
        runtime.resolve_scale("auto")
    with pytest.raises(ValueError, match="SCALE must be one of"):
        runtime.resolve_scale("tiny")


def test_pick():
    assert runtime.pick("book", smoke=1, book=2, full=3) == 2
    with pytest.raises(ValueError):
        runtime.pick("auto", smoke=1, book=2, full=3)


def test_seed_everything_repeats_draws():
    runtime.seed_everything(5)
    a = torch.rand(3)
    runtime.seed_everything(5)
    assert torch.equal(a, torch.rand(3))


def test_provenance_line(monkeypatch):
    line = runtime.provenance("smoke", seed=3, dev=torch.device("cpu"))
    assert line.startswith("device cpu (")
    for part in ("scale smoke", f"dcnn_lib {dl.__version__}", f"torch {torch.__version__}", "seed 3"):
        assert part in line


def test_setup_prints_and_returns(monkeypatch, capsys):
    monkeypatch.setenv("DCNN_SCALE", "smoke")
    scale, dev = runtime.setup("auto", 0)
    assert scale == "smoke" and isinstance(dev, torch.device)
    assert "scale smoke" in capsys.readouterr().out


def test_offline_flag_short_circuits_the_network_check(monkeypatch):
    """The socket layer is replaced by one that always connects, so this fails wherever the
    flag is ignored, with or without a network (and never touches one)."""
    import socket

    class Connection:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    tried = []
    monkeypatch.setattr(socket, "create_connection", lambda address, timeout=None: tried.append(address) or Connection())
    monkeypatch.setenv("DCNN_OFFLINE", "1")
    assert runtime.online() is False and tried == []
    monkeypatch.setenv("DCNN_OFFLINE", "0")
    assert runtime.online("example.org", 443) is True and tried == [("example.org", 443)]
    monkeypatch.delenv("DCNN_OFFLINE")
    assert runtime.online() is True and tried[-1] == ("download.pytorch.org", 443)
