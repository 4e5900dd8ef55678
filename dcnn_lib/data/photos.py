"""Real photographs that ship inside installed wheels, so feature maps work offline.

Sources: ``skimage.data`` (the images inside the scikit-image wheel, never the ones it
fetches), ``sklearn.datasets.load_sample_images`` (china, flower) and matplotlib's
``grace_hopper.jpg`` sample.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

# name -> (source, loader argument, credit)
PHOTOS = {
    "astronaut": ("skimage", "astronaut", "Eileen Collins, NASA (scikit-image)"),
    "chelsea": ("skimage", "chelsea", "Chelsea the cat, Stefan van der Walt (scikit-image)"),
    "coffee": ("skimage", "coffee", "a cup of coffee, Rachel Michetti (scikit-image)"),
    "rocket": ("skimage", "rocket", "SpaceX Falcon 9, public domain (scikit-image)"),
    "camera": ("skimage", "camera", "cameraman, grey, (scikit-image)"),
    "coins": ("skimage", "coins", "Greek coins, grey (scikit-image)"),
    "china": ("sklearn", "china.jpg", "a Chinese temple (scikit-learn sample images)"),
    "flower": ("sklearn", "flower.jpg", "a flower (scikit-learn sample images)"),
    "grace_hopper": ("matplotlib", "grace_hopper.jpg", "Grace Hopper (matplotlib sample data)"),
}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def list_photos() -> list[str]:
    return sorted(PHOTOS)


def photo(name: str) -> np.ndarray:
    """The photo ``name`` as ``uint8 (H, W, 3)`` (grey images are repeated over 3 channels)."""
    if name not in PHOTOS:
        raise ValueError(f"unknown photo {name!r}; choose one of {', '.join(list_photos())}")
    source, arg, _ = PHOTOS[name]
    if source == "skimage":
        import skimage.data

        img = getattr(skimage.data, arg)()
    elif source == "sklearn":
        from sklearn.datasets import load_sample_image

        img = load_sample_image(arg)
    else:
        import matplotlib.cbook as cbook
        from PIL import Image

        with cbook.get_sample_data(arg) as f:
            img = np.asarray(Image.open(f).convert("RGB"))
    img = np.asarray(img)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return np.ascontiguousarray(img[..., :3]).astype(np.uint8, copy=False)


def photo_tensor(name: str, size: int | None = 224, normalize: bool = True) -> torch.Tensor:
    """``(1, 3, size, size)`` float tensor: centre square crop, resized, ImageNet-normalised."""
    img = photo(name)
    h, w, _ = img.shape
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    x = torch.from_numpy(img[top:top + s, left:left + s]).permute(2, 0, 1).float().div(255)[None]
    if size is not None:
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    if normalize:
        x = (x - torch.tensor(IMAGENET_MEAN)[:, None, None]) / torch.tensor(IMAGENET_STD)[:, None, None]
    return x
