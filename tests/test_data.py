"""Offline data: idx files written by the test, read through torchvision's real loader."""
import numpy as np
import pytest
import torch

import dcnn_lib as dl
from dcnn_lib.data import fashion as fm
from dcnn_lib.data.loaders import BatchAugment, TensorLoader, normalize_images


def test_reads_gzipped_idx_files_through_torchvision(fake_fashion_mnist):
    folder, train_x, train_y, test_x, test_y = fake_fashion_mnist
    ds = dl.data.fashion_mnist(train=True)
    assert type(ds).__name__ == "FashionMNIST"  # torchvision's own class
    assert len(ds) == 30 and np.array_equal(ds.data.numpy(), train_x)
    assert np.array_equal(ds.targets.numpy(), train_y)
    images, labels = dl.data.fashion_mnist_tensors(train=False)
    assert np.array_equal(images.numpy(), test_x) and np.array_equal(labels.numpy(), test_y)
    img, label = ds[3]
    assert img.size == (28, 28) and label == 3
    # unpacked once into torchvision's layout under DCNN_DATA
    assert (folder / "FashionMNIST" / "raw" / "train-images-idx3-ubyte").is_file()


def test_reads_torchvision_layout_without_unpacking(tmp_path, monkeypatch):
    from conftest import write_idx

    raw = tmp_path / "FashionMNIST" / "raw"
    expected = {name: write_idx(raw / name, arr, gz=False)
                for name, arr in [("train-images-idx3-ubyte", np.zeros((2, 28, 28))),
                                  ("train-labels-idx1-ubyte", np.zeros(2)),
                                  ("t10k-images-idx3-ubyte", np.ones((1, 28, 28))), ("t10k-labels-idx1-ubyte", np.ones(1))]}
    monkeypatch.setattr(fm, "EXPECTED", expected)
    monkeypatch.setenv("DCNN_DATA", str(tmp_path))
    assert dl.data.fashion_mnist_root() == tmp_path
    assert len(dl.data.fashion_mnist(train=False)) == 1


def test_absent_and_offline_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("DCNN_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(fm, "DEBIAN_ROOT", tmp_path / "no-debian")
    with pytest.raises(dl.data.DatasetNotFoundError) as err:
        dl.data.fashion_mnist_root()
    msg = str(err.value)
    assert "offline" in msg and "apt-get install dataset-fashion-mnist" in msg and "DCNN_DATA" in msg
    assert str(tmp_path / "empty") in msg
    assert isinstance(err.value, FileNotFoundError)


def test_the_installed_copy_is_the_real_data_set():
    """The copy the chapters use (Debian's package in CI) is the full official release."""
    train_x, train_y = dl.data.fashion_mnist_tensors(train=True)
    test_x, test_y = dl.data.fashion_mnist_tensors(train=False)
    assert train_x.shape == (60_000, 28, 28) and test_x.shape == (10_000, 28, 28)
    assert torch.equal(torch.bincount(train_y), torch.full((10,), 6_000))
    assert torch.equal(torch.bincount(test_y), torch.full((10,), 1_000))
    assert abs(train_x.float().mean().item() / 255 - fm.MEAN) < 1e-3
    assert abs(train_x.float().div(255).std().item() - fm.STD) < 1e-3


def test_normalize_pads_to_32_with_the_background():
    x = normalize_images(torch.zeros(2, 28, 28, dtype=torch.uint8), size=32)
    assert x.shape == (2, 1, 32, 32)
    assert torch.allclose(x, torch.full_like(x, -fm.MEAN / fm.STD))
    with pytest.raises(ValueError, match="smaller"):
        normalize_images(torch.zeros(1, 28, 28, dtype=torch.uint8), size=20)


def test_tensor_loader_is_seeded_by_epoch():
    x, y = torch.arange(10.0).reshape(10, 1, 1, 1), torch.arange(10)
    loader = TensorLoader(x, y, batch_size=4, shuffle=True, seed=1)
    assert len(loader) == 3
    loader.set_epoch(2)
    a = torch.cat([b for _, b in loader])
    loader.set_epoch(2)
    b = torch.cat([b for _, b in loader])
    loader.set_epoch(3)
    c = torch.cat([b for _, b in loader])
    assert torch.equal(a, b) and not torch.equal(a, c) and sorted(a.tolist()) == list(range(10))
    assert len(TensorLoader(x, y, batch_size=4, drop_last=True)) == 2
    with pytest.raises(ValueError, match="4 images but 3 labels"):
        TensorLoader(x[:4], y[:3])
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        TensorLoader(x[:, 0], y)


def test_batch_augment_shifts_and_flips():
    x = torch.arange(2 * 1 * 5 * 5.0).reshape(2, 1, 5, 5)
    assert torch.equal(BatchAugment(pad=0, flip=False)(x), x)
    g = torch.Generator().manual_seed(0)
    out = BatchAugment(pad=1, flip=True)(x, g)
    assert out.shape == x.shape
    # every output is the image shifted by at most one pixel (zeros enter), maybe mirrored
    for i in range(2):
        candidates = []
        for img in (x[i, 0], x[i, 0].flip(-1)):
            padded = torch.nn.functional.pad(img, (1, 1, 1, 1))
            candidates += [padded[dy:dy + 5, dx:dx + 5] for dy in range(3) for dx in range(3)]
        assert any(torch.equal(out[i, 0], c) for c in candidates)
    with pytest.raises(ValueError):
        BatchAugment(pad=-1)


def test_loaders_subset_and_classes(fake_fashion_mnist):
    train, test = dl.data.fashion_mnist_loaders(batch_size=8, size=32, train_subset=12, test_subset=5)
    assert len(train.images) == 12 and len(test.images) == 5
    assert train.images.shape[1:] == (1, 32, 32)
    assert train.classes[0] == "T-shirt/top" and len(train.classes) == 10


@pytest.mark.parametrize("name", dl.data.list_photos())
def test_photos_ship_with_the_wheels(name):
    img = dl.data.photo(name)
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3 and min(img.shape[:2]) >= 200


def test_photo_tensor_and_unknown_photo():
    x = dl.data.photo_tensor("chelsea", size=64)
    assert x.shape == (1, 3, 64, 64) and abs(x.mean().item()) < 2
    with pytest.raises(ValueError, match="unknown photo 'cat'.*chelsea"):
        dl.data.photo("cat")


def test_upsampling_loaders_resize_each_batch(fake_fashion_mnist):
    train, test = dl.data.fashion_mnist_loaders(batch_size=4, size=64, resize=True, test_subset=3)
    assert train.images.shape[1:] == (1, 28, 28)        # kept small in memory
    x, _ = next(iter(test))
    assert x.shape == (3, 1, 64, 64)
    assert torch.allclose(dl.data.Resize(28)(test.images), test.images)
