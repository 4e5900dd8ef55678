"""Fashion-MNIST, offline first, through the real loader (``torchvision.datasets.FashionMNIST``).

The four idx files are looked for, in this order, in

1. ``$DCNN_DATA`` (a folder holding the files, gzipped or not, flat or in torchvision's
   ``FashionMNIST/raw/`` layout);
2. the user cache, ``$XDG_CACHE_HOME/dcnn_lib/data`` (``~/.cache/dcnn_lib/data``);
3. Debian's ``dataset-fashion-mnist`` package, ``/usr/share/datasets/fashion-mnist``.

**Every file is checked** against the published release: its size and MD5 (:data:`EXPECTED`,
of the uncompressed files, whose ``.gz`` are those of torchvision's ``FashionMNIST.resources``;
a ``.gz`` is checked by its content, so Debian's recompressed copy passes). A truncated file, a
truncated ``.gz`` or a same-length corrupted file is rejected with a warning that names it and
says why, and the next location that holds a good copy of that file is used. Files are hashed
once per process (and again only when their size or modification time changes).

Good files found anywhere are unpacked once into torchvision's layout under ``$DCNN_DATA``
(when set) or the cache, so ``FashionMNIST(root, download=False)`` reads them. Only when no good
copy is anywhere and the machine is online (Colab) does torchvision download them, over https
first (:data:`MIRRORS`; torchvision checks the published MD5 of each download). Offline,
:class:`DatasetNotFoundError` says what was found, what was wrong with it, and how to get the
files; ``python -m dcnn_lib.data`` prints the same and exits with status 1.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch

from ..errors import DcnnError
from ..runtime import online
from .checksums import check_file, unpack_verified

FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
DEBIAN_ROOT = Path("/usr/share/datasets/fashion-mnist")
# (bytes, MD5) of each uncompressed file of the official release (torchvision lists the MD5s
# of the .gz files: 8d4fb7e6..., 25c81989..., bef4ecab..., bb300cfd...; these are their contents').
EXPECTED = {
    "train-images-idx3-ubyte": (47_040_016, "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
    "train-labels-idx1-ubyte": (60_008, "9018921c3c673c538a1fc5bad174d6f9"),
    "t10k-images-idx3-ubyte": (7_840_016, "8181f5470baa50b63fa0f6fddb340f0a"),
    "t10k-labels-idx1-ubyte": (10_008, "15d484375f8d13e6eb1aabb0c3f46965"),
}
# Download mirrors, https first (the zalandoresearch/fashion-mnist repository), then
# torchvision's own (plain http); every download is checked against the published MD5.
MIRRORS = ["https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
           "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
MIRROR_HOST = "raw.githubusercontent.com"
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
# Mean and standard deviation of the 60,000 training images, pixels scaled to [0, 1].
MEAN, STD = 0.2860, 0.3530


class DatasetNotFoundError(DcnnError, FileNotFoundError):
    """The data set is not on this machine (or only corrupted copies are) and cannot be downloaded."""


class CorruptedFileWarning(UserWarning):
    """A data file was found but is not the published one; another copy is used instead."""


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/dcnn_lib`` (default ``~/.cache/dcnn_lib``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "dcnn_lib"


def _candidates() -> list[Path]:
    roots = []
    if os.environ.get("DCNN_DATA"):
        roots.append(Path(os.environ["DCNN_DATA"]).expanduser())
    roots += [cache_dir() / "data", DEBIAN_ROOT]
    return roots


def _writable_root() -> Path:
    if os.environ.get("DCNN_DATA"):
        return Path(os.environ["DCNN_DATA"]).expanduser()
    return cache_dir() / "data"


def _raw_folder(root: Path) -> Path:
    return root / "FashionMNIST" / "raw"


def _sources(name: str) -> list[Path]:
    """Every place ``name`` may be, best first: each root's flat folder, then its raw layout."""
    return [d / f for root in _candidates() for d in (root, _raw_folder(root)) for f in (name, f"{name}.gz")]


def _verified_root(problems: dict[Path, str]) -> Path | None:
    """A root whose raw layout holds the four good files (the usual case: nothing to write)."""
    for root in _candidates():
        raw = _raw_folder(root)
        if all((raw / f).is_file() for f in FILES):
            bad = {raw / f: why for f in FILES if (why := check_file(raw / f, EXPECTED[f]))}
            if not bad:
                return root
            problems.update(bad)
    return None


def _assemble(target: Path, problems: dict[Path, str]) -> bool:
    """Put a good copy of every file into ``target``'s raw layout, each from the first
    location that has one; ``problems`` collects the files rejected on the way."""
    raw = _raw_folder(target)
    for name in FILES:
        dst = raw / name
        if dst.is_file() and dst not in problems and check_file(dst, EXPECTED[name]) is None:
            continue
        for src in _sources(name):
            if src == dst or src in problems or not src.is_file():
                continue
            why = unpack_verified(src, dst, EXPECTED[name])
            if why is None:
                break
            problems[src] = why
        else:
            return False
    return True


def _warn(problems: dict[Path, str], used: Path) -> None:
    if problems:
        warnings.warn("Fashion-MNIST: rejected files that are not the published ones:\n"
                      + "\n".join(f"  - {p}: {why}" for p, why in problems.items())
                      + f"\nusing the good copy in {used}", CorruptedFileWarning, stacklevel=3)


def _not_found_message(problems: dict[Path, str]) -> str:
    looked = "\n".join(f"  - {p}" for p in _candidates())
    rejected = "".join(f"\n  - {p}: {why}" for p, why in problems.items())
    return (
        "Fashion-MNIST is not on this machine and this machine is offline. Looked in:\n"
        f"{looked}\n"
        + (f"Found, but not the published files (rejected):{rejected}\n" if rejected else "")
        + "Get it one of these ways:\n"
        "  - Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist\n"
        "  - copy the four files train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,\n"
        "    t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz (from\n"
        "    https://github.com/zalandoresearch/fashion-mnist) into a folder and set DCNN_DATA to it\n"
        "  - run once with internet access: dcnn_lib.data.fashion_mnist_root(download=True)"
    )


def _download(target: Path) -> None:
    from torchvision.datasets import FashionMNIST

    # torchvision's class with the https mirror first (same name: it names the folder)
    mirrored = type("FashionMNIST", (FashionMNIST,), {"mirrors": MIRRORS})
    for name in FILES:   # torchvision skips the download when the (bad) files exist
        (_raw_folder(target) / name).unlink(missing_ok=True)
    mirrored(str(target), train=True, download=True)


def fashion_mnist_root(download: bool | str = "auto") -> Path:
    """A folder that ``torchvision.datasets.FashionMNIST(root)`` reads without downloading,
    holding the published files (checked; see the module docstring).

    ``download="auto"`` downloads only when no good copy is anywhere and the machine is
    online; ``False`` never downloads; ``True`` downloads then even if the check says offline.
    """
    problems: dict[Path, str] = {}
    root = _verified_root(problems)
    if root is None:
        target = _writable_root()
        if _assemble(target, problems):
            root = target
        elif download is True or (download == "auto" and online(MIRROR_HOST, 443)):
            _download(target)
            if _assemble(target, problems):
                root = target
    if root is None:
        raise DatasetNotFoundError(_not_found_message(problems))
    _warn(problems, root)
    return root


def fashion_mnist(train: bool = True, transform=None, target_transform=None,
                  download: bool | str = "auto"):
    """``torchvision.datasets.FashionMNIST`` for the train (60,000) or test (10,000) split."""
    from torchvision.datasets import FashionMNIST

    root = fashion_mnist_root(download)
    return FashionMNIST(str(root), train=train, transform=transform,
                        target_transform=target_transform, download=False)


def fashion_mnist_tensors(train: bool = True, download: bool | str = "auto"
                          ) -> tuple[torch.Tensor, torch.Tensor]:
    """The whole split as tensors: images ``uint8 (N, 28, 28)``, labels ``int64 (N,)``.

    Read by torchvision's loader (it parses the idx files); kept in memory, 47 MB for train.
    """
    ds = fashion_mnist(train, download=download)
    return ds.data, ds.targets
