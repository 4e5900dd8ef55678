"""Oxford-IIIT Pet segmentation (Parkhi, Vedaldi, Zisserman & Jawahar, CVPR 2012): a real
data set for the segmentation chapter's online path (Colab, ``full`` scale).

37 breeds of cats and dogs, 3,680 trainval and 3,669 test photographs, each with a *trimap*:
pet, background, and an uncertain border. Read by ``torchvision.datasets.OxfordIIITPet``
from ``$DCNN_DATA`` or the user cache; downloaded (≈ 800 MB) only when absent and online.
Offline and absent, :class:`~dcnn_lib.data.DatasetNotFoundError` says so (chapters check
:func:`dcnn_lib.runtime.online` first and skip this path with a message).

Labels: 0 background, 1 pet, 255 border (ignored by :func:`dcnn_lib.train.fit` and
:mod:`dcnn_lib.metrics`, as VOC's object borders).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .fashion import DatasetNotFoundError, cache_dir

PET_CLASSES = ("background", "pet")
PETS_HOST = "www.robots.ox.ac.uk"   # where torchvision.datasets.OxfordIIITPet downloads from


def pets_root() -> Path:
    return Path(os.environ["DCNN_DATA"]) if os.environ.get("DCNN_DATA") else cache_dir() / "data"


def oxford_pets_segmentation(split: str = "trainval", size: int = 128, limit: int | None = None,
                             download: bool | str = "auto") -> tuple[torch.Tensor, torch.Tensor]:
    """``(images (N, 3, size, size) float in [0, 1], masks (N, size, size) int64)``.

    Images are resized bilinearly (antialiased), trimaps with nearest neighbours, both to a
    square (the aspect ratio is not kept). ``limit`` takes the first ``limit`` images.
    """
    import torchvision

    from ..runtime import online

    if split not in ("trainval", "test"):
        raise ValueError(f"oxford_pets_segmentation: split must be 'trainval' or 'test', got {split!r}")
    root = pets_root()
    want_download = online(PETS_HOST) if download == "auto" else bool(download)
    try:
        ds = torchvision.datasets.OxfordIIITPet(str(root), split=split, target_types="segmentation",
                                                download=want_download)
    except RuntimeError as err:   # torchvision: "Dataset not found or corrupted"
        raise DatasetNotFoundError(
            f"Oxford-IIIT Pet is not in {root} and the machine is offline ({err}); it downloads "
            "automatically when online (Colab)") from None
    n = len(ds) if limit is None else min(limit, len(ds))
    images, masks = [], []
    for i in range(n):
        img, trimap = ds[i]
        x = torch.from_numpy(np.asarray(img.convert("RGB"), dtype=np.float32) / 255).permute(2, 0, 1)
        images.append(F.interpolate(x[None], size=(size, size), mode="bilinear", antialias=True,
                                    align_corners=False)[0])
        t = torch.from_numpy(np.asarray(trimap, dtype=np.int64))
        t = F.interpolate(t[None, None].float(), size=(size, size), mode="nearest")[0, 0].long()
        masks.append(torch.where(t == 1, 1, torch.where(t == 2, 0, 255)))
    return torch.stack(images).clamp(0, 1), torch.stack(masks)
