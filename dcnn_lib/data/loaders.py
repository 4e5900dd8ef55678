"""Fast mini-batches from tensors held in memory, with augmentation done a batch at a time.

Small images (28×28) are decoded once by torchvision's loader; after that, a per-image Python
transform costs more than the network on a CPU. :class:`TensorLoader` slices ready tensors
instead, shuffles with a generator seeded by ``(seed, epoch)`` (so a resumed run sees exactly
the batches an uninterrupted one would) and applies :class:`BatchAugment` to whole batches.
"""
from __future__ import annotations

from typing import Callable, Iterator, Sequence

import torch
import torch.nn.functional as F

from .fashion import CLASSES, MEAN, STD, fashion_mnist_tensors


class BatchAugment:
    """Random crops (zero padding ``pad`` then crop back) and horizontal flips, per image.

    Works on a float batch ``(N, C, H, W)``; the randomness comes from ``generator``.
    """

    def __init__(self, pad: int = 2, flip: bool = True) -> None:
        if pad < 0:
            raise ValueError(f"BatchAugment: pad must be >= 0, got {pad}")
        self.pad, self.flip = pad, flip

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        n, c, h, w = x.shape
        if self.pad:
            p = self.pad
            xp = F.pad(x, (p, p, p, p))
            oy = torch.randint(0, 2 * p + 1, (n,), generator=generator)
            ox = torch.randint(0, 2 * p + 1, (n,), generator=generator)
            rows = (oy[:, None] + torch.arange(h))[:, None, :, None]  # N x 1 x H x 1
            cols = (ox[:, None] + torch.arange(w))[:, None, None, :]  # N x 1 x 1 x W
            x = xp[torch.arange(n)[:, None, None, None], torch.arange(c)[None, :, None, None], rows, cols]
        if self.flip:
            flip = torch.rand(n, generator=generator) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        return x

    def __repr__(self) -> str:
        return f"BatchAugment(pad={self.pad}, flip={self.flip})"


class Resize:
    """Bilinear resize of a float batch ``(N, C, H, W)`` to ``size × size`` (antialiased)."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if x.shape[-1] == self.size and x.shape[-2] == self.size:
            return x
        return F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False,
                             antialias=self.size < x.shape[-1])

    def __repr__(self) -> str:
        return f"Resize({self.size})"


def shard_indices(order: torch.Tensor, rank: int, num_replicas: int) -> torch.Tensor:
    """Rank ``rank``'s share of the sample order ``order`` among ``num_replicas`` processes, as
    ``DistributedSampler`` takes it: ``order`` padded with its first samples to a multiple of
    ``num_replicas``, then every ``num_replicas``-th position from ``rank``. Shards are disjoint
    (but for the padding), cover ``order`` and have the same length."""
    n = len(order)
    if not 0 <= rank < num_replicas:
        raise ValueError(f"shard: rank must be in 0..{num_replicas - 1}, got {rank}")
    if n == 0 or num_replicas == 1:
        return order
    total = -(-n // num_replicas) * num_replicas
    return torch.cat([order, order.repeat(-(-total // n))[:total - n]])[rank::num_replicas]


class TensorLoader:
    """Iterate ``(images, labels)`` mini-batches over in-memory tensors.

    Args:
        images: ``(N, C, H, W)`` float tensor (already normalised).
        labels: ``(N,)`` int64 tensor.
        batch_size: images per batch.
        shuffle: reshuffle every epoch (seeded by ``seed`` and the epoch number).
        augment: a callable ``(batch, generator) -> batch`` applied to each batch, e.g.
            :class:`BatchAugment`.
        transform: a callable ``(batch, generator) -> batch`` applied after ``augment`` (train
            and test alike), e.g. :class:`Resize`.
        drop_last: drop a last incomplete batch.
        seed: base seed of the shuffling and augmentation generator.
        classes: class names, index = label (kept for plots).

    Call :meth:`set_epoch` before iterating (``dcnn_lib.train.fit`` does) to make the order a
    function of the epoch; otherwise every pass advances an internal epoch counter.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 128,
                 shuffle: bool = False, augment: Callable | None = None,
                 drop_last: bool = False, seed: int = 0, transform: Callable | None = None,
                 classes: Sequence[str] | None = None) -> None:
        if images.ndim != 4:
            raise ValueError(f"TensorLoader: images must be (N, C, H, W), got shape {tuple(images.shape)}")
        if labels.shape[:1] != images.shape[:1]:
            raise ValueError(f"TensorLoader: {len(images)} images but {len(labels)} labels")
        if batch_size < 1:
            raise ValueError(f"TensorLoader: batch_size must be >= 1, got {batch_size}")
        self.images, self.labels = images, labels
        self.batch_size, self.shuffle, self.augment = batch_size, shuffle, augment
        self.transform = transform
        self.drop_last, self.seed = drop_last, seed
        self.classes = tuple(classes) if classes is not None else None
        self.epoch = 0
        self._epoch_set = False
        self.rank, self.num_replicas = 0, 1

    @property
    def dataset(self) -> torch.utils.data.TensorDataset:
        return torch.utils.data.TensorDataset(self.images, self.labels)

    def set_epoch(self, epoch: int) -> None:
        self.epoch, self._epoch_set = epoch, True

    def shard(self, rank: int, num_replicas: int) -> None:
        """Read only shard ``rank`` of ``num_replicas`` (one per process of a distributed run;
        ``dcnn_lib.train.fit`` calls this under ``torchrun``), as ``DistributedSampler`` does:
        every epoch the same permutation on every rank, padded with its first samples to a
        multiple of ``num_replicas``, rank ``r`` taking positions ``r, r + R, r + 2R...``. The
        shards are disjoint and cover the data (a few samples repeat when ``num_replicas``
        does not divide it), and every rank has the same number of batches."""
        shard_indices(torch.arange(0), rank, num_replicas)       # checks the arguments
        self.rank, self.num_replicas = rank, num_replicas

    def _shard_size(self) -> int:
        return -(-len(self.images) // self.num_replicas)

    def __len__(self) -> int:
        n = self._shard_size()
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def indices(self) -> tuple[torch.Tensor, torch.Generator]:
        """The sample indices this loader (this shard) reads in the current epoch, in order, and
        the generator that then draws the augmentations."""
        g = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        n = len(self.images)
        order = torch.randperm(n, generator=g) if self.shuffle else torch.arange(n)
        if self.num_replicas > 1:
            order = shard_indices(order, self.rank, self.num_replicas)
            g = torch.Generator().manual_seed((self.seed * 100_003 + self.epoch) * 1_009 + self.rank)
        return order, g

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order, g = self.indices()
        for i in range(len(self)):
            idx = order[i * self.batch_size:(i + 1) * self.batch_size]
            x, y = self.images[idx], self.labels[idx]
            if self.augment is not None:
                x = self.augment(x, g)
            if self.transform is not None:
                x = self.transform(x, g)
            yield x, y
        if not self._epoch_set:
            self.epoch += 1
        self._epoch_set = False


def normalize_images(images: torch.Tensor, size: int | None = None,
                     mean: float = MEAN, std: float = STD) -> torch.Tensor:
    """``uint8 (N, H, W)`` → standardised ``float32 (N, 1, size, size)``.

    ``size`` larger than the image pads with the background value (LeNet's 32×32 input is the
    28×28 digit centred in a 32×32 field, as in the paper); smaller raises ``ValueError``.
    """
    x = images.float().div_(255).sub_(mean).div_(std).unsqueeze(1)
    if size is not None and size != x.shape[-1]:
        extra = size - x.shape[-1]
        if extra < 0:
            raise ValueError(f"normalize_images: size={size} is smaller than the images ({x.shape[-1]})")
        lo, hi = extra // 2, extra - extra // 2
        x = F.pad(x, (lo, hi, lo, hi), value=-mean / std)
    return x


def _subset(n_total: int, n: int | None, seed: int) -> torch.Tensor | None:
    if n is None or n >= n_total:
        return None
    return torch.randperm(n_total, generator=torch.Generator().manual_seed(seed))[:n]


def fashion_mnist_loaders(batch_size: int = 128, size: int = 28, resize: bool = False,
                          train_subset: int | None = None,
                          test_subset: int | None = None, augment: Callable | None = None,
                          seed: int = 0, test_batch_size: int = 1000,
                          download: bool | str = "auto") -> tuple[TensorLoader, TensorLoader]:
    """Train and test :class:`TensorLoader` of Fashion-MNIST, standardised, ``size × size``.

    ``size`` > 28 pads with the background (``resize=False``) or upsamples each batch
    (``resize=True``; the loaders keep 28×28 images in memory). ``train_subset`` /
    ``test_subset`` take a seeded random subset (``smoke`` scale).
    """
    loaders = []
    for train, n, bs in ((True, train_subset, batch_size), (False, test_subset, test_batch_size)):
        images, labels = fashion_mnist_tensors(train, download=download)
        keep = _subset(len(images), n, seed + int(train))
        if keep is not None:
            images, labels = images[keep], labels[keep]
        loaders.append(TensorLoader(normalize_images(images, None if resize else size), labels, bs,
                                    shuffle=train, augment=augment if train else None, seed=seed,
                                    transform=Resize(size) if resize else None, classes=CLASSES))
    return loaders[0], loaders[1]
