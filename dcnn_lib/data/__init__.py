"""Offline-first data: Fashion-MNIST through torchvision's loader, photos from installed wheels,
and synthetic segmentation/detection scenes built from both."""
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
from .scenes import (SCENE_CLASSES, SYNTHETIC, FashionScenes, SceneConfig, SceneObjects, collate_detection,
                     collate_segmentation)
from .prompts import PointPromptLoader
from .pets import PET_CLASSES, oxford_pets_segmentation
from .multiblock import BlockMasks, multiblock_masks

__all__ = [
    "FASHION_CLASSES", "DatasetNotFoundError", "cache_dir", "fashion_mnist", "fashion_mnist_root",
    "fashion_mnist_tensors", "BatchAugment", "Resize", "TensorLoader", "fashion_mnist_loaders",
    "normalize_images", "FashionScenes", "SceneConfig", "SceneObjects", "SCENE_CLASSES", "SYNTHETIC",
    "collate_detection", "collate_segmentation", "PointPromptLoader", "PET_CLASSES", "oxford_pets_segmentation", "IMAGENET_MEAN", "IMAGENET_STD", "list_photos", "photo", "photo_tensor",
    "BlockMasks", "multiblock_masks",
]
