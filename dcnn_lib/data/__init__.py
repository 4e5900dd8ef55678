"""Offline-first data: Fashion-MNIST through torchvision's loader, photos from installed wheels."""
from .fashion import (
    CLASSES as FASHION_CLASSES,
    DatasetNotFoundError,
    cache_dir,
    fashion_mnist,
    fashion_mnist_root,
    fashion_mnist_tensors,
)
from .loaders import BatchAugment, Resize, TensorLoader, fashion_mnist_loaders, normalize_images
from .photos import IMAGENET_MEAN, IMAGENET_STD, list_photos, photo, photo_tensor

__all__ = [
    "FASHION_CLASSES", "DatasetNotFoundError", "cache_dir", "fashion_mnist", "fashion_mnist_root",
    "fashion_mnist_tensors", "BatchAugment", "Resize", "TensorLoader", "fashion_mnist_loaders",
    "normalize_images", "IMAGENET_MEAN", "IMAGENET_STD", "list_photos", "photo", "photo_tensor",
]
