"""Issue 15, points 3 and 9: corrupted Fashion-MNIST files are detected, named, and skipped.

Every test builds its own small "release" (idx files written here; ``EXPECTED`` set to their
sizes and MD5s, as the real module holds the published ones) in two places: ``$DCNN_DATA`` and
a stand-in for Debian's package. Then it damages the first copy the way the issue did.
"""
import gzip
import os
import subprocess
import sys
import tempfile
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

import dcnn_lib
import dcnn_lib as dl
from conftest import write_idx
from dcnn_lib.data import fashion as fm

NAMES = fm.FILES


def release(folder: Path, gz: bool = True, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (12, 28, 28)), "train-labels-idx1-ubyte": np.arange(12) % 10,
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (5, 28, 28)), "t10k-labels-idx1-ubyte": np.arange(5)}
    return {name: write_idx(folder / name, arrays[name], gz=gz) for name in NAMES}


@pytest.fixture
def places(tmp_path, monkeypatch):
    """``(dcnn_data, debian)``: the same good release in both; nothing in the cache."""
    data, debian = tmp_path / "dcnn_data", tmp_path / "debian"
    expected = release(data)
    assert release(debian) == expected
    monkeypatch.setenv("DCNN_DATA", str(data))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(fm, "DEBIAN_ROOT", debian)
    monkeypatch.setattr(fm, "EXPECTED", expected, raising=False)  # (main had none)
    return data, debian


def good_labels() -> list[int]:
    return (np.arange(12) % 10).tolist()


def load_warning_text() -> tuple[str, list[int]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        labels = dl.data.fashion_mnist_tensors(train=True)[1].tolist()
    text = "\n".join(str(w.message) for w in caught if issubclass(w.category, fm.CorruptedFileWarning))
    return text, labels


def test_a_same_length_corrupted_file_is_named_and_the_good_copy_used(places):
    data, debian = places
    raw = data / "FashionMNIST" / "raw"
    for name in NAMES:                         # an unpacked copy, then one byte changed
        raw.mkdir(parents=True, exist_ok=True)
        (raw / name).write_bytes(gzip.decompress((data / f"{name}.gz").read_bytes()))
        (data / f"{name}.gz").unlink()
    labels = raw / "train-labels-idx1-ubyte"
    b = bytearray(labels.read_bytes())
    b[-1] ^= 0xFF
    labels.write_bytes(bytes(b))
    text, got = load_warning_text()
    assert f"{labels}: checksum mismatch" in text and "same length: corrupted" in text
    assert got == good_labels()


def test_a_truncated_file_is_named_and_the_good_copy_used(places):
    data, debian = places
    (data / "t10k-images-idx3-ubyte.gz").unlink()
    write_idx(data / "t10k-images-idx3-ubyte", np.zeros((2, 28, 28)), gz=False)   # a short, plain file
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        images = dl.data.fashion_mnist_tensors(train=False)[0]
    text = "\n".join(str(w.message) for w in caught)
    assert f"{data / 't10k-images-idx3-ubyte'}: 1,584 bytes, expected 3,936 (truncated" in text
    assert images.shape == (5, 28, 28) and images.sum() > 0


def test_a_truncated_gz_does_not_block_the_fallback(places):
    data, debian = places
    gz = data / "train-images-idx3-ubyte.gz"
    gz.write_bytes(gz.read_bytes()[:200])
    text, got = load_warning_text()
    assert f"{gz}: not a complete gzip file" in text and f"using the good copy in {data}" in text
    assert got == good_labels()


def test_no_good_copy_anywhere_is_an_error_that_names_the_files(places, monkeypatch):
    data, debian = places
    for folder in (data, debian):
        gz = folder / "train-labels-idx1-ubyte.gz"
        gz.write_bytes(gz.read_bytes()[:-9])
    with pytest.raises(dl.data.DatasetNotFoundError) as err:
        dl.data.fashion_mnist_root()
    msg = str(err.value)
    assert "offline" in msg and "rejected" in msg
    assert f"{data / 'train-labels-idx1-ubyte.gz'}: not a complete gzip file" in msg
    assert f"{debian / 'train-labels-idx1-ubyte.gz'}: not a complete gzip file" in msg


def test_the_command_line_check_fails_without_a_good_copy(places):
    """``python -m dcnn_lib.data`` exits 1 (it printed success on a corrupted copy before)."""
    data, debian = places
    for folder in (data, debian):
        labels = folder / "t10k-labels-idx1-ubyte.gz"
        raw = bytearray(gzip.decompress(labels.read_bytes()))
        raw[-1] ^= 1
        labels.write_bytes(gzip.compress(bytes(raw)))
    code = textwrap.dedent(f"""
        import runpy
        from pathlib import Path
        from dcnn_lib.data import fashion as fm
        fm.DEBIAN_ROOT = Path({str(debian)!r})
        fm.EXPECTED = {fm.EXPECTED!r}
        runpy.run_module("dcnn_lib.data", run_name="__main__")
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(dcnn_lib.__file__).resolve().parent.parent)}
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=tempfile.gettempdir(), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "checksum mismatch" in done.stderr and "t10k-labels-idx1-ubyte.gz" in done.stderr


def test_files_are_hashed_once_per_process_until_they_change(places, monkeypatch):
    from dcnn_lib.data import checksums

    dl.data.fashion_mnist_root()                       # unpacks and checks
    hashed = []
    real = checksums._copy_hashing
    monkeypatch.setattr(checksums, "_copy_hashing", lambda src, dst: hashed.append(src) or real(src, dst))
    root = dl.data.fashion_mnist_root()
    assert hashed == []                                 # four digests kept from the first call
    labels = fm._raw_folder(root) / "t10k-labels-idx1-ubyte"
    os.utime(labels, ns=(labels.stat().st_atime_ns, labels.stat().st_mtime_ns + 10**9))
    dl.data.fashion_mnist_root()
    assert len(hashed) == 1                             # only the touched file again


def test_the_online_fallback_tries_https_first_and_keeps_the_checksum(places, monkeypatch):
    """The download goes through torchvision (which checks each file's published MD5) with
    the https mirror first. Nothing is fetched: torchvision's download function is replaced."""
    import torchvision.datasets.mnist as tv_mnist

    data, debian = places
    for folder in (data, debian):
        for name in NAMES:
            (folder / f"{name}.gz").unlink()
    served = dict(zip(NAMES, [np.zeros((12, 28, 28)), np.arange(12) % 10, np.zeros((5, 28, 28)), np.arange(5)]))
    monkeypatch.setattr(fm, "EXPECTED", {n: write_idx(data / "served" / n, a, gz=False) for n, a in served.items()},
                        raising=False)
    tried = []

    def fake_download(url, download_root, filename, md5):
        tried.append((url, md5))
        assert url.startswith("https://"), "http tried before https"
        write_idx(Path(download_root) / filename[:-3], served[filename[:-3]], gz=False)
    monkeypatch.setattr(tv_mnist, "download_and_extract_archive", fake_download)
    root = dl.data.fashion_mnist_root(download=True)
    assert len(tried) == 4 and all(url.startswith(fm.MIRRORS[0]) for url, _ in tried)
    assert fm.MIRRORS[0].startswith("https://")
    assert {md5 for _, md5 in tried} == {"8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
                                         "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"}
    assert (fm._raw_folder(root) / "train-images-idx3-ubyte").is_file()


def test_the_published_release_is_what_the_module_expects():
    """The sizes and MD5s in the module are those of the installed copy (Debian's package in CI)."""
    from dcnn_lib.data.checksums import check_file

    for name in NAMES:
        path = fm._raw_folder(dl.data.fashion_mnist_root()) / name
        assert check_file(path, fm.EXPECTED[name]) is None, name
