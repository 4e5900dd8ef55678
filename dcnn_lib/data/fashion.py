"""Fashion-MNIST, offline first, through the real loader (``torchvision.datasets.FashionMNIST``).

The four idx files are looked for, in this order, in

1. ``$DCNN_DATA`` (a folder holding the files, gzipped or not, flat or in torchvision's
   ``FashionMNIST/raw/`` layout);
2. the user cache, ``$XDG_CACHE_HOME/dcnn_lib/data`` (``~/.cache/dcnn_lib/data``);
3. Debian's ``dataset-fashion-mnist`` package, ``/usr/share/datasets/fashion-mnist``.

Gzipped files found anywhere are unpacked once into torchvision's layout under ``$DCNN_DATA``
(when set) or the cache, so ``FashionMNIST(root, download=False)`` reads them. Only when the
files are nowhere and the machine is online (Colab) does torchvision download them; offline,
:class:`DatasetNotFoundError` says how to get them.
"""
from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import torch

from ..runtime import online

FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
DEBIAN_ROOT = Path("/usr/share/datasets/fashion-mnist")
MIRROR_HOST = "fashion-mnist.s3-website.eu-central-1.amazonaws.com"
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
# Mean and standard deviation of the 60,000 training images, pixels scaled to [0, 1].
MEAN, STD = 0.2860, 0.3530


class DatasetNotFoundError(FileNotFoundError):
    """The data set is not on this machine and cannot be downloaded."""


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


def _ready(root: Path) -> bool:
    return all((_raw_folder(root) / f).is_file() for f in FILES)


def _find_files(folder: Path) -> dict[str, Path] | None:
    """The four files (gzipped or not) in ``folder`` or its torchvision layout, else None."""
    found = {}
    for name in FILES:
        for d in (folder, _raw_folder(folder)):
            for candidate in (d / name, d / f"{name}.gz"):
                if candidate.is_file():
                    found[name] = candidate
                    break
            if name in found:
                break
    return found if len(found) == len(FILES) else None


def _unpack(files: dict[str, Path], root: Path) -> None:
    raw = _raw_folder(root)
    raw.mkdir(parents=True, exist_ok=True)
    for name, src in files.items():
        dst = raw / name
        if dst.is_file():
            continue
        tmp = dst.with_suffix(".part")
        opener = gzip.open if src.suffix == ".gz" else open
        with opener(src, "rb") as fin, open(tmp, "wb") as fout:
            shutil.copyfileobj(fin, fout)
        tmp.replace(dst)


def _not_found_message() -> str:
    looked = "\n".join(f"  - {p}" for p in _candidates())
    return (
        "Fashion-MNIST is not on this machine and this machine is offline. Looked in:\n"
        f"{looked}\n"
        "Get it one of these ways:\n"
        "  - Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist\n"
        "  - copy the four files train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,\n"
        "    t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz (from\n"
        "    https://github.com/zalandoresearch/fashion-mnist) into a folder and set DCNN_DATA to it\n"
        "  - run once with internet access: dcnn_lib.data.fashion_mnist_root(download=True)"
    )


def fashion_mnist_root(download: bool | str = "auto") -> Path:
    """A folder that ``torchvision.datasets.FashionMNIST(root)`` reads without downloading.

    ``download="auto"`` downloads only when the files are nowhere and the machine is online;
    ``False`` never downloads; ``True`` downloads when absent even if the check says offline.
    """
    for root in _candidates():
        if _ready(root):
            return root
    for root in _candidates():
        files = _find_files(root)
        if files is not None:
            target = _writable_root()
            _unpack(files, target)
            return target
    if download is True or (download == "auto" and online(MIRROR_HOST, 80)):
        from torchvision.datasets import FashionMNIST

        target = _writable_root()
        FashionMNIST(str(target), train=True, download=True)
        FashionMNIST(str(target), train=False, download=True)
        return target
    raise DatasetNotFoundError(_not_found_message())


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
