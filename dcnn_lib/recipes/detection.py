"""Recipes of the chapter "Detection": the scenes, the backbone every detector starts from, and
one training run per detector.

**The scenes.** 112 × 112 canvases with 1–4 Fashion-MNIST items of 20–48 pixels
(:class:`dcnn_lib.data.FashionScenes`, synthetic), 10 classes; train and test scenes use items
of the Fashion-MNIST train and test splits. ``SCENES`` gives the numbers per scale.

**The backbone.** Every detector of the R-CNN family and SSD takes its CNN from the registry:
``vgg_small`` (VGG-11's configuration A at 1/8 of the width, batch norm), first trained to
classify Fashion-MNIST (the recipe ``detection_backbone``, registered with the classification
recipes) — the book's stand-in for the papers' ImageNet pre-training — then inflated to RGB.
YOLO pre-trains its own network as its paper does (§2.2: the first 20 convolutions + average
pooling + FC as a classifier; the recipe ``yolo_v1_pretraining``), on single-object scenes
(:class:`dcnn_lib.data.SceneObjects`: one item on the scenes' textures, as ImageNet's photographs
show one object in its surroundings), then detects with a 512-wide FC layer on a stream of new
scenes. UD-Net (R2U-Net) is trained from scratch, as in its paper. (Why these choices: the
measurements are in ``benchmarks/NOTES.md``.)

**The runs.** :class:`DetectionRecipe` holds a detector's book-scale configuration (the
paper's design at the scenes' size: strides, anchors and widths scaled down, said in
``note``), its optimiser and its number of epochs per scale::

    r = dl.recipes.detection.get("faster_rcnn", SCALE)
    train, test = r.data()
    model, history = r.train(data=(train, test), backbone_weights=weights)
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import torch
import torch.nn as nn

from .. import models
from ..data.fashion import MEAN, STD
from . import Recipe, register

SIZE = 112
SCENE_CONFIG = {"size": SIZE, "item_size": (20, 48), "objects": (1, 4)}
SCENES = {"smoke": {"train": 16, "test": 8}, "book": {"train": 480, "test": 120},
          "full": {"train": 4000, "test": 500}}
# A recipe with ``stream`` trains on newly generated scenes instead (YOLO: see its note); their
# seed is offset so that they are never the shared training scenes.
STREAM_SEED = 1000
NUM_CLASSES = 10
# Images are standardised like the Fashion-MNIST the backbone was trained on.
NORMALISE = {"image_mean": [MEAN] * 3, "image_std": [STD] * 3}

BACKBONE = register(Recipe(
    "detection_backbone", "vgg_small", {"width": 0.125, "in_channels": 1}, size=32, lr=1e-2,
    epochs={"smoke": 1, "book": 2, "full": 10}, train_subset={"smoke": 1024, "book": None, "full": None},
    test_subset={"smoke": 256, "book": None, "full": None},
    note="VGG-11 (configuration A) at 1/8 width with batch norm on Fashion-MNIST: the detectors' "
         "stand-in for ImageNet pre-training"))
BACKBONE_ARGS = {"backbone": "vgg_small", "backbone_kwargs": dict(BACKBONE.model_kwargs)}


@dataclass(frozen=True)
class SceneObjectsRecipe(Recipe):
    """A classification recipe on single-object scenes (:class:`dcnn_lib.data.SceneObjects`)
    instead of Fashion-MNIST: ``size`` is the canvas, ``train_subset``/``test_subset`` the
    number of scenes per scale (objects of 20-40 pixels, 3 channels)."""

    def loaders(self, seed: int = 0):
        from ..data import SceneObjects

        n_train, n_test = self.train_subset[self.scale], self.test_subset[self.scale]
        train = SceneObjects("train", n=n_train, seed=seed, size=self.size)
        test = SceneObjects("test", n=n_test, seed=seed, size=self.size)
        gen = torch.Generator().manual_seed(seed)
        return (torch.utils.data.DataLoader(train, batch_size=self.batch_size, shuffle=True, generator=gen),
                torch.utils.data.DataLoader(test, batch_size=256))

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d["data"] = (f"single-object scenes {self.size}×{self.size}, {self.train_subset[self.scale]:,} train / "
                     f"{self.test_subset[self.scale]:,} test")
        return d


# YOLO's own pre-training (§2.2): its first 20 convolutions + average pooling + FC, as a
# classifier of ImageNet — photographs of one object in its surroundings — before detecting on
# VOC. Here: one tinted Fashion-MNIST item on the scenes' textures (SceneObjects), before
# detecting on the scenes.
YOLO_ARGS = {"width": 1 / 8, "batch_norm": True}
YOLO_PRETRAINING = register(SceneObjectsRecipe(
    "yolo_v1_pretraining", "yolo_v1_classifier", {"num_classes": 10, "input_size": (3, SIZE // 2, SIZE // 2), **YOLO_ARGS}, size=48,
    lr=1e-2, epochs={"smoke": 1, "book": 1, "full": 10}, train_subset={"smoke": 1024, "book": 30_000, "full": 200_000},
    test_subset={"smoke": 256, "book": 5_000, "full": 10_000},
    note="YOLO's first 20 convolutions + average pooling + FC classifying single-object scenes: the paper's "
         "ImageNet pre-training"))
# torchvision's RPN settings at the scenes' size (the paper's: 12000/2000 train, 6000/300 test)
SMALL_RPN = dict(rpn_pre_nms_top_n_train=1000, rpn_post_nms_top_n_train=300, rpn_pre_nms_top_n_test=500,
                 rpn_post_nms_top_n_test=100, box_batch_size_per_image=64)


# The nuclei image (stardist's): random training crops from rows 0-384, test tiles from rows 384-512.
NUCLEI = {"size": 128, "train_rows": (0, 384), "test_rows": (384, 512),
          "smoke": {"train": 8, "test": 4}, "book": {"train": 64, "test": 4}, "full": {"train": 800, "test": 4}}


def nuclei_data(scale: str, seed: int = 0) -> tuple[list, list]:
    """``(train, test)`` crops of the nuclei image (needs stardist; see :mod:`dcnn_lib.data.nuclei`)."""
    from ..data.nuclei import nuclei_crops, stardist_nuclei

    image, instances = stardist_nuclei()
    n, s = NUCLEI[scale], NUCLEI["size"]
    train = nuclei_crops(image, instances, NUCLEI["train_rows"], s, n=n["train"], seed=seed)
    test = nuclei_crops(image, instances, NUCLEI["test_rows"], s)[:n["test"]]
    return train, test


def scenes(split: str, n: int, seed: int = 0) -> list:
    """``n`` scenes of ``split``: a list of ``(image, target)``, generated once per arguments;
    every call returns its own copy, so a caller may change the tensors without changing what
    the next caller gets."""
    return copy.deepcopy(list(_scenes(split, n, seed)))


@lru_cache(maxsize=4)
def _scenes(split: str, n: int, seed: int) -> tuple:
    """The cached scenes (never handed out: :func:`scenes` copies them)."""
    from ..data import FashionScenes

    ds = FashionScenes(split, n=n, seed=seed, **SCENE_CONFIG)
    return tuple(ds[i] for i in range(n))


@dataclass(frozen=True)
class DetectionRecipe(Recipe):
    """How to train one detector (a :class:`~dcnn_lib.recipes.Recipe` whose data are scenes).

    ``model_kwargs`` are the builder's overrides (the book-scale configuration);
    ``backbone_recipe``: the classification recipe whose trained weights the builder takes as
    ``backbone_weights`` (``None``: trained from scratch); ``dataset``: ``"scenes"`` or
    ``"nuclei"``. ``epochs`` maps a scale to a number of epochs; the Fashion-MNIST fields of
    ``Recipe`` are unused. ``stream`` (scale -> number of scenes, ``None``: off): train on that
    many *new* scenes, generated as they are read (a lazy :class:`~dcnn_lib.data.FashionScenes`,
    nothing cached), instead of the shared ``SCENES`` training set; the test scenes stay the same.
    """

    epochs: dict[str, int] = field(default_factory=lambda: {"smoke": 1, "book": 8, "full": 24})
    batch_size: int = 8
    weight_decay: float = 1e-4
    backbone_recipe: str | None = "detection_backbone"
    dataset: str = "scenes"
    stream: dict[str, int] | None = None

    def data(self, seed: int = 0) -> tuple[Any, list]:
        """``(train, test)`` of ``(image, target)`` pairs: scenes, or nuclei crops (``dataset``).
        With ``stream``, ``train`` is a lazy data set of new scenes."""
        if self.dataset == "nuclei":
            return nuclei_data(self.scale, seed)
        n = SCENES[self.scale]
        test = scenes("test", n["test"], seed)
        if self.stream is not None:
            from ..data import FashionScenes

            return FashionScenes("train", n=self.stream[self.scale], seed=STREAM_SEED + seed, **SCENE_CONFIG), test
        return scenes("train", n["train"], seed), test

    def build_model(self, backbone_weights: dict[str, torch.Tensor] | None = None) -> nn.Module:
        kwargs = dict(self.model_kwargs)
        if self.backbone_recipe is not None:
            kwargs["backbone_weights"] = backbone_weights
        return models.get(self.model, **kwargs)

    def train(self, model: nn.Module | None = None, data: tuple[list, list] | None = None,
              backbone_weights: dict[str, torch.Tensor] | None = None, seed: int = 0, **fit_overrides: Any):
        """Build (or take) the model and train it on the scenes; returns ``(model, history)``."""
        from ..detection import detection_loader, fit
        from ..runtime import seed_everything

        seed_everything(seed)
        model = model if model is not None else self.build_model(backbone_weights)
        train, _ = data if data is not None else self.data(seed)
        loader = detection_loader(train, self.batch_size, shuffle=True, seed=seed)
        kwargs = dict(optimizer=self.optimizer, lr=self.lr, weight_decay=self.weight_decay,
                      schedule=self.schedule, name=self.name, seed=seed, **fit_overrides)
        history = fit(model, loader, self.n_epochs, **kwargs)
        return model, history

    def describe(self) -> dict[str, Any]:
        n = SCENES[self.scale] if self.dataset == "scenes" else NUCLEI[self.scale]
        what = f"scenes of {SIZE}×{SIZE}" if self.dataset == "scenes" else f"nuclei crops of {NUCLEI['size']}²"
        train = f"{n['train']} train" if self.stream is None else f"{self.stream[self.scale]:,} new (streamed) train"
        return {"name": self.name, "model": self.model, "epochs": self.n_epochs, "batch_size": self.batch_size,
                "optimizer": self.optimizer, "lr": self.lr, "schedule": self.schedule,
                "data": f"{train} / {n['test']} test {what}",
                "pre-training": self.backbone_recipe or "none (from scratch)",
                "scale": self.scale, "note": self.note}


def get(name: str, scale: str = "book") -> DetectionRecipe:
    """The detection recipe ``name`` at ``scale``."""
    if name not in RECIPES:
        raise KeyError(f"unknown detection recipe {name!r}; recipes: {', '.join(RECIPES)}")
    return RECIPES[name].for_scale(scale)


_PAPER_DESIGN_SMALL = (
    DetectionRecipe(
        "rcnn", "rcnn", dict(num_classes=NUM_CLASSES, **BACKBONE_ARGS, warp_size=32, train_rois_per_image=32,
                             **NORMALISE),
        epochs={"smoke": 1, "book": 4, "full": 12},
        note="selective search (fast), regions warped to 32×32, vgg_small features (fc7: 256, pool5: 64)"),
    DetectionRecipe(
        "fast_rcnn", "fast_rcnn", dict(num_classes=NUM_CLASSES, **BACKBONE_ARGS, stride=8, box_head=256,
                                       min_size=SIZE, max_size=SIZE, rois_per_image=64, **NORMALISE),
        note="vgg_small conv4 (stride 8, 14×14 map), RoI pooling 7×7, new 256-wide fc6/fc7"),
    DetectionRecipe(
        "faster_rcnn", "faster_rcnn", dict(num_classes=NUM_CLASSES, **BACKBONE_ARGS, stride=8, box_head=256,
                                           anchor_sizes=(16, 32, 64), min_size=SIZE, max_size=SIZE, **SMALL_RPN,
                                           **NORMALISE),
        note="RPN with 3 scales (16, 32, 64 px) × 3 ratios on the stride-8 map, RoI pooling 7×7"),
    DetectionRecipe(
        "mask_rcnn", "mask_rcnn", dict(num_classes=NUM_CLASSES, **BACKBONE_ARGS, fpn=False, stride=8, box_head=256,
                                       mask_layers=(32, 32, 32, 32), anchor_sizes=(16, 32, 64), min_size=SIZE,
                                       max_size=SIZE, box_detections_per_img=20, **SMALL_RPN, **NORMALISE),
        note="one stride-8 map instead of ResNet-50-FPN, RoIAlign, mask head 4 × conv 32 + deconv"),
    DetectionRecipe(
        "yolo_v1", "yolo_v1", dict(num_classes=NUM_CLASSES, input_size=(3, SIZE, SIZE), **YOLO_ARGS,
                                   hidden=512, dropout=0.0, **NORMALISE),
        epochs={"smoke": 1, "book": 1, "full": 2}, backbone_recipe="yolo_v1_pretraining",
        stream={"smoke": 16, "book": 38_400, "full": 400_000},
        note="S = 7 on 112×112 (two strides removed), all 24 + 2 layers at 1/8 width (FC 512), batch norm, no "
             "dropout; first 20 convolutions pre-trained on single-object scenes; 38,400 new scenes, each seen once "
             "(its FC head memorises the 480 shared scenes)"),
    DetectionRecipe(
        "ssd", "ssd", dict(num_classes=NUM_CLASSES, **BACKBONE_ARGS, input_size=(3, SIZE, SIZE), stride=8,
                           fc_channels=128, extra_channels=(128, 128, 128), **NORMALISE),
        epochs={"smoke": 1, "book": 12, "full": 36},
        note="5 maps (14², 7², 4², 2², 1²) over vgg_small conv4, 4–6 default boxes per position"),
    DetectionRecipe(
        "udnet", "udnet", dict(num_classes=NUM_CLASSES, input_size=(3, SIZE // 2, SIZE // 2), widths=(8, 16, 32, 64), t=2,
                               box_size=True, **NORMALISE),
        epochs={"smoke": 1, "book": 14, "full": 40}, lr=3e-3, backbone_recipe=None,
        note="R2U-Net (4 levels, 8–64 channels, t = 2) on the scene at half size (56×56), a centre map, "
             "one class map per class and 2 size maps"),
    DetectionRecipe(
        "udnet_nuclei", "udnet", dict(num_classes=1, input_size=(3, NUCLEI["size"], NUCLEI["size"]), widths=(8, 16, 32, 64), t=2,
                                      box_size=False, peak_window=9),
        epochs={"smoke": 1, "book": 12, "full": 40}, backbone_recipe=None, dataset="nuclei",
        note="the paper's task: one class, a centre map only; points scored within 6 px"),
)
RECIPES: dict[str, DetectionRecipe] = {r.name: r for r in _PAPER_DESIGN_SMALL}
for _r in _PAPER_DESIGN_SMALL:
    models.meta(_r.model)   # fails early on an unknown model name

ORDER = ("rcnn", "fast_rcnn", "faster_rcnn", "mask_rcnn", "yolo_v1", "ssd", "udnet")
