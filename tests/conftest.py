"""Shared test set-up: offline, few threads, and helpers that write idx files."""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent

# Tests never touch the network: dcnn_lib.runtime.online() answers False under DCNN_OFFLINE.
os.environ["DCNN_OFFLINE"] = "1"
torch.set_num_threads(min(2, torch.get_num_threads()))


@contextlib.contextmanager
def library_error(kind: type, match: str):
    """``pytest.raises(kind, match=match)`` that also checks the error is one of dcnn_lib's own
    (``dcnn_lib.errors.DcnnError``): a named error, not one PyTorch raised deep inside."""
    with pytest.raises(kind, match=match) as info:
        yield info
    from dcnn_lib.errors import DcnnError

    assert isinstance(info.value, DcnnError), f"{type(info.value).__name__} is not a dcnn_lib error: {info.value}"


def write_idx(path: Path, array: np.ndarray, gz: bool = True) -> tuple[int, str]:
    """Write ``array`` (uint8) in the idx format of (Fashion-)MNIST; returns the uncompressed
    file's ``(size, md5)``, what ``dcnn_lib.data.fashion.EXPECTED`` holds for the real files."""
    array = np.asarray(array, dtype=np.uint8)
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        with gzip.open(str(path) + ".gz", "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)
    return len(data), hashlib.md5(data).hexdigest()


@pytest.fixture
def fake_fashion_mnist(tmp_path, monkeypatch):
    """A tiny Fashion-MNIST in idx.gz files (written here, not downloaded); DCNN_DATA points at it.

    Returns ``(folder, train_images, train_labels, test_images, test_labels)``.
    """
    rng = np.random.default_rng(0)
    train_x = rng.integers(0, 256, (30, 28, 28), dtype=np.uint8)
    train_y = np.arange(30, dtype=np.uint8) % 10
    test_x = rng.integers(0, 256, (10, 28, 28), dtype=np.uint8)
    test_y = np.arange(10, dtype=np.uint8)[::-1].copy()
    folder = tmp_path / "fmnist"
    expected = {name: write_idx(folder / name, arr)
                for name, arr in [("train-images-idx3-ubyte", train_x), ("train-labels-idx1-ubyte", train_y),
                                  ("t10k-images-idx3-ubyte", test_x), ("t10k-labels-idx1-ubyte", test_y)]}
    monkeypatch.setattr("dcnn_lib.data.fashion.EXPECTED", expected)  # the fake files are "the release"
    monkeypatch.setenv("DCNN_DATA", str(folder))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return folder, train_x, train_y, test_x, test_y
