"""A real nuclei image for UD-Net: the 2-D test image that ships inside the ``stardist``
wheel (Schmidt, Weigert, Broaddus & Myers, MICCAI 2018) — a 512 × 512 fluorescence microscopy
image from the 2018 Kaggle Data Science Bowl (Caicedo et al., Nature Methods 2019) with its
instance mask, read from the installed package's files (stardist itself is not imported).

- :func:`stardist_nuclei`: ``(image (1, 512, 512) float in [0, 1], instances (512, 512) int64)``
  (0 = background, 1..K one label per nucleus); raises :class:`DatasetNotFoundError` without
  stardist.
- :func:`nuclei_crops`: detection samples ``(image (3, s, s), {"boxes", "labels", "points"})``
  cut from a band of rows of the image (so that training and test crops do not overlap):
  one box per nucleus whose centre lies in the crop, label 1, ``points`` its centre.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch

from .fashion import DatasetNotFoundError

SOURCE = ("stardist's 2-D test image: 2018 Data Science Bowl fluorescence nuclei (Caicedo et al., "
          "Nature Methods 2019), from the stardist package (Schmidt et al., MICCAI 2018)")


def _stardist_images() -> Path:
    spec = importlib.util.find_spec("stardist")
    if spec is None or not spec.submodule_search_locations:
        raise DatasetNotFoundError("the nuclei image ships with the stardist package: pip install stardist")
    folder = Path(list(spec.submodule_search_locations)[0]) / "data" / "images"
    if not (folder / "img2d.tif").is_file():
        raise DatasetNotFoundError(f"stardist is installed but {folder / 'img2d.tif'} is missing")
    return folder


def stardist_available() -> bool:
    try:
        _stardist_images()
        return True
    except DatasetNotFoundError:
        return False


def stardist_nuclei() -> tuple[torch.Tensor, torch.Tensor]:
    """The image (min-max scaled to [0, 1]) and its instance labels."""
    import tifffile

    folder = _stardist_images()
    img = tifffile.imread(folder / "img2d.tif").astype(np.float32)
    mask = tifffile.imread(folder / "mask2d.tif").astype(np.int64)
    img = (img - img.min()) / max(float(img.max() - img.min()), 1e-6)
    return torch.from_numpy(img)[None], torch.from_numpy(mask)


def nuclei_crops(image: torch.Tensor, instances: torch.Tensor, rows: tuple[int, int], size: int = 128,
                 n: int | None = None, seed: int = 0) -> list[tuple[torch.Tensor, dict[str, torch.Tensor]]]:
    """Crops of ``size`` × ``size`` from rows ``rows[0]:rows[1]`` of the image: ``n`` random
    ones (seeded), or, with ``n=None``, a grid that tiles the band. Images are grey repeated
    to 3 channels; a nucleus belongs to a crop when its centre does (its box is clipped)."""
    top, bottom = rows
    if bottom - top < size:
        raise ValueError(f"nuclei_crops: the band {rows} is smaller than the crop ({size})")
    ids = [int(i) for i in torch.unique(instances) if i > 0]
    ys, xs = [], []
    boxes = []
    for i in ids:
        yy, xx = torch.nonzero(instances == i, as_tuple=True)
        boxes.append([xx.min().item(), yy.min().item(), xx.max().item() + 1, yy.max().item() + 1])
        ys.append(yy.float().mean().item())
        xs.append(xx.float().mean().item())
    boxes_t = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)
    centres = torch.tensor(list(zip(xs, ys)), dtype=torch.float32).reshape(-1, 2)
    width = image.shape[-1]
    if n is None:
        corners = [(y, x) for y in range(top, bottom - size + 1, size) for x in range(0, width - size + 1, size)]
    else:
        rng = np.random.default_rng(seed)
        corners = [(int(rng.integers(top, bottom - size + 1)), int(rng.integers(0, width - size + 1))) for _ in range(n)]
    out = []
    for y, x in corners:
        crop = image[:, y:y + size, x:x + size].expand(3, -1, -1).clone()
        inside = (centres[:, 0] >= x) & (centres[:, 0] < x + size) & (centres[:, 1] >= y) & (centres[:, 1] < y + size)
        b = boxes_t[inside] - torch.tensor([x, y, x, y], dtype=torch.float32)
        b = b.clamp(0, size)
        out.append((crop, {"boxes": b, "labels": torch.ones(len(b), dtype=torch.int64),
                           "points": centres[inside] - torch.tensor([x, y], dtype=torch.float32)}))
    return out
