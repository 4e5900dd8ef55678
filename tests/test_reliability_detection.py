"""Issue 15, point 2: every detector rejects bad targets the same way, with a named error.

Before, YOLO put a box outside the image into a cell on the opposite side and turned label 0
into its last class, Faster R-CNN took label 0 as background, UD-Net took labels 0 / -1 and
truncated boxes and labels of different lengths, and NaN boxes gave NaN losses. Now one
function (``dcnn_lib.detection.contract.validate_targets``) checks the targets of every
registered detector in training mode, before any detector-specific code sees them.
"""
import math

import pytest
import torch

import dcnn_lib as dl
from conftest import library_error

DETECTORS = dl.models.list_models(task="detection")
SIZE = 64


def small(name):
    """The detector's small test configuration (the registry's ``meta(name).test.kwargs``)."""
    return dl.models.get(name, **dl.models.meta(name).test.kwargs)


@pytest.fixture(scope="module")
def models():
    cache = {}

    def get(name):
        if name not in cache:
            torch.manual_seed(0)
            cache[name] = small(name).train()
        return cache[name]
    return get


def target(boxes, labels):
    return {"boxes": torch.tensor(boxes, dtype=torch.float32), "labels": torch.tensor(labels, dtype=torch.int64),
            "masks": torch.zeros(len(boxes), SIZE, SIZE, dtype=torch.uint8)}


GOOD = [10.0, 10.0, 30.0, 40.0]
BAD_TARGETS = {
    # case: (boxes, labels, error kind, message)
    "box left of the image": ([[-5.0, 10.0, 20.0, 30.0]], [1], ValueError, r"box 0 .* lies outside image 0 of 64 x 64"),
    "box below the image": ([GOOD, [10.0, 50.0, 30.0, 70.0]], [1, 1], ValueError, r"box 1 .* lies outside image 0"),
    "box right of the image": ([[50.0, 10.0, 80.0, 30.0]], [1], ValueError, "clip_targets"),
    "label 0 (background)": ([GOOD], [0], ValueError, r"label 0: labels are object classes 1\.\.\d+ \(0 is the background"),
    "label -1": ([GOOD], [-1], ValueError, r"label -1: labels are object classes 1\.\."),
    "label above the classes": ([GOOD], [99], ValueError, r"label 99: labels are object classes 1\.\.\d+$"),
    "more boxes than labels": ([GOOD, GOOD], [1], ValueError, "has 2 boxes but 1 labels"),
    "more labels than boxes": ([GOOD], [1, 1], ValueError, "has 1 boxes but 2 labels"),
    "NaN box": ([[10.0, math.nan, 30.0, 40.0]], [1], ValueError, r"box 0 is not finite: \[10.0, nan"),
    "inf box": ([[10.0, 10.0, math.inf, 40.0]], [1], ValueError, "box 0 is not finite"),
    "zero-width box": ([[10.0, 10.0, 10.0, 40.0]], [1], ValueError, "box 0 has x2 <= x1 or y2 <= y1"),
    "float labels": ([GOOD], [1.0], TypeError, "labels must be an integer tensor"),
}


@pytest.mark.parametrize("case", list(BAD_TARGETS))
@pytest.mark.parametrize("name", DETECTORS)
def test_every_detector_rejects_bad_targets_the_same_way(models, name, case):
    boxes, labels, kind, message = BAD_TARGETS[case]
    model = models(name)
    t = target(boxes, [])
    t["labels"] = torch.tensor(labels)
    keys = getattr(model, "target_keys", ("boxes", "labels"))
    image = torch.rand(3, SIZE, SIZE)
    with library_error(kind, message) as err:
        model([image], [{k: t[k] for k in keys}])
    assert str(err.value).startswith(f"{model.detector_name}: target 0")


@pytest.mark.parametrize("name", DETECTORS)
def test_the_label_range_is_the_detectors_own(models, name):
    """``object_classes`` reads C from the model, whatever ``num_classes`` meant to its builder
    (torchvision's ``fasterrcnn_resnet50_fpn(num_classes=4)`` counts the background)."""
    model = models(name)
    c = dl.detection.object_classes(model)
    counts_background = name.endswith(("_fpn", "_vgg16"))
    assert c == dl.models.meta(name).test.kwargs["num_classes"] - counts_background
    keys = getattr(model, "target_keys", ("boxes", "labels"))
    with library_error(ValueError, f"label {c + 1}: labels are object classes 1..{c}"):
        model([torch.rand(3, SIZE, SIZE)], [{k: v for k, v in target([GOOD], [c + 1]).items() if k in keys}])


def test_yolo_no_longer_wraps_or_relabels():
    """The two silent YOLO faults, on the loss itself: label C is accepted (the last class),
    label 0 and a box beyond the left edge are not."""
    model = small("yolo_v1").train()
    image = torch.rand(3, SIZE, SIZE)
    ok = model([image], [{"boxes": torch.tensor([GOOD]), "labels": torch.tensor([3])}])
    assert all(torch.isfinite(v) for v in ok.values())
    with library_error(ValueError, "label 0"):
        model([image], [{"boxes": torch.tensor([GOOD]), "labels": torch.tensor([0])}])
    with library_error(ValueError, "outside image 0"):
        model([image], [{"boxes": torch.tensor([[-20.0, 5.0, -2.0, 20.0]]), "labels": torch.tensor([1])}])


def test_fit_names_a_nan_box_instead_of_the_learning_rate():
    model = small("yolo_v1")
    bad = [([torch.rand(3, SIZE, SIZE)], [{"boxes": torch.tensor([[1.0, 2.0, math.nan, 9.0]]),
                                             "labels": torch.tensor([1])}])]
    with library_error(ValueError, "box 0 is not finite") as err:
        dl.detection.fit(model, bad, epochs=1, progress=False, device="cpu")
    assert "learning rate" not in str(err.value)


def test_images_of_the_wrong_kind_are_library_error(models):
    model = models("yolo_v1")
    with library_error(TypeError, r"image 0 is torch.float64 but the model's parameters are torch.float32"):
        model([torch.rand(3, SIZE, SIZE, dtype=torch.float64)], [target([GOOD], [1])])
    with library_error(TypeError, "image 0 must be a float tensor in \\[0, 1\\], got torch.uint8"):
        model([torch.zeros(3, SIZE, SIZE, dtype=torch.uint8)], [target([GOOD], [1])])
    with library_error(TypeError, "targets must be a list of dicts"):
        model([torch.rand(3, SIZE, SIZE)], {"boxes": torch.tensor([GOOD]), "labels": torch.tensor([1])})


def test_clip_targets_makes_boxes_fit_and_drops_empty_ones():
    t = {"boxes": torch.tensor([[-5.0, 10.0, 20.0, 30.0], [70.0, 5.0, 90.0, 9.0], [10.0, 50.0, 30.0, 80.0]]),
         "labels": torch.tensor([1, 2, 3]), "masks": torch.zeros(3, SIZE, SIZE), "image_id": 7}
    (out,) = dl.detection.clip_targets([torch.rand(3, SIZE, SIZE)], [t])
    assert out["boxes"].tolist() == [[0.0, 10.0, 20.0, 30.0], [10.0, 50.0, 30.0, 64.0]]
    assert out["labels"].tolist() == [1, 3] and out["masks"].shape == (2, SIZE, SIZE) and out["image_id"] == 7
    model = small("yolo_v1").train()
    losses = model([torch.rand(3, SIZE, SIZE)], [{k: out[k] for k in ("boxes", "labels")}])
    assert all(torch.isfinite(v) for v in losses.values())
