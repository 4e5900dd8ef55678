"""Detection: the contract every detector keeps, the parts it is made of, and the metrics.

Small configurations (a tiny VGG from the registry, 64×64 images) keep this fast; the
papers' configurations are only built on the ``meta`` device to count their parameters.
"""
import math

import numpy as np
import pytest
import torch
import torchvision
from torchvision.models.detection.anchor_utils import AnchorGenerator, DefaultBoxGenerator
from torchvision.models.detection.image_list import ImageList

import dcnn_lib as dl
from dcnn_lib import widgets
from dcnn_lib.data import FashionScenes
from dcnn_lib.detection import (average_precision, centre_targets, decode_centre_maps, evaluate, fit,
                                match_detections, mean_average_precision, point_f1, predict, random_detections,
                                selective_search)
from dcnn_lib.models.backbones import conv_trunk, inflate_input_channels
from dcnn_lib.detection.contract import DetectorContract
from dcnn_lib.detection.yolo_loss import yolo_v1_loss, yolo_v1_responsible

DETECTORS = dl.models.list_models(task="detection")


def _small(name):
    """The detector's small test configuration (``meta(name).test.kwargs``)."""
    return dl.models.get(name, **dl.models.meta(name).test.kwargs)


@pytest.fixture(scope="module")
def scenes():
    return FashionScenes("train", n=6, seed=3, size=64, item_size=(16, 32))


def _batch(size: int, labels_mod: int = 3):
    """Three scenes of ``size`` × ``size`` (the second without objects) and their targets."""
    scenes = FashionScenes("train", n=3, seed=3, size=size, item_size=(size // 4, size // 2))
    images, targets = [], []
    for i in range(3):
        image, t = scenes[i]
        images.append(image)
        targets.append({"boxes": t["boxes"], "labels": (t["labels"] - 1) % labels_mod + 1, "masks": t["masks"]})
    # an image without objects: the loss must still be defined (background only)
    targets[1] = {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.long),
                  "masks": torch.zeros(0, size, size, dtype=torch.bool)}
    return images, targets


@pytest.mark.parametrize("name", DETECTORS)
def test_contract_losses_in_training_boxes_in_eval(name):
    torch.manual_seed(0)
    model = _small(name)
    assert isinstance(model, DetectorContract)
    c, h, w = dl.models.meta(name).test_input_size
    assert h == w and c == 3
    images, targets = _batch(h)
    keys = getattr(model, "target_keys", ("boxes", "labels"))
    model.train()
    losses = model(images, [{k: t[k] for k in keys} for t in targets])
    assert isinstance(losses, dict) and losses
    assert all(v.ndim == 0 and torch.isfinite(v) for v in losses.values()), losses
    sum(losses.values()).backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())

    model.eval()
    with torch.no_grad():
        out = model(images)
    assert isinstance(out, list) and len(out) == len(images)
    for det, image in zip(out, images):
        k = len(det["boxes"])
        assert det["boxes"].shape == (k, 4) and det["labels"].shape == (k,) and det["scores"].shape == (k,)
        assert det["labels"].dtype == torch.int64 and (det["labels"] >= 1).all()
        assert (det["boxes"][:, 2:] >= det["boxes"][:, :2]).all()
        assert (det["boxes"][:, 2] <= image.shape[-1] + 1e-3).all() and (det["boxes"][:, 3] <= image.shape[-2] + 1e-3).all()
        if "masks" in det:
            assert det["masks"].shape == (k, 1, *image.shape[-2:])


@pytest.mark.parametrize("name", DETECTORS)
def test_bad_targets_raise_a_value_error(name):
    # wrong input channels: tests/test_models.py, for every registered model
    c, h, w = dl.models.meta(name).test_input_size
    model = _small(name).train()
    with pytest.raises(ValueError, match="needs targets"):
        model([torch.rand(c, h, w)])
    with pytest.raises(ValueError, match="x2 <= x1"):
        model([torch.rand(c, h, w)], [{"boxes": torch.tensor([[10.0, 10, 5, 20]]), "labels": torch.tensor([1])}])


def _params_on_meta(name, **kwargs):
    with torch.device("meta"):
        model = dl.models.get(name, **kwargs)
    return sum(p.numel() for p in model.parameters()), model


def test_paper_configurations_are_the_papers():
    _, yolo = _params_on_meta("yolo_v1")
    convs = [m for m in yolo.modules() if isinstance(m, torch.nn.Conv2d)]
    fcs = [m for m in yolo.modules() if isinstance(m, torch.nn.Linear)]
    assert len(convs) == 24 and len(fcs) == 2 and fcs[-1].out_features == 7 * 7 * 30
    _, faster = _params_on_meta("faster_rcnn")
    assert faster.rpn.anchor_generator.num_anchors_per_location() == [9]
    assert faster.roi_heads.box_predictor.cls_score.out_features == 21   # 20 VOC classes + background
    _, rcnn = _params_on_meta("rcnn")
    assert rcnn.svm.out_features == 20 and rcnn.proposals.max_proposals == 2000
    _, ssd = _params_on_meta("ssd")
    assert ssd.anchor_generator.num_anchors_per_location() == [4, 6, 6, 6, 4, 4]


# ---- YOLO ------------------------------------------------------------------------------------
def test_yolo_raw_output_is_the_grid():
    model = dl.models.get("yolo_v1", width=1 / 64, hidden=64).eval()       # the paper's S, B, C, input
    raw = model.raw([torch.rand(3, 200, 300), torch.rand(3, 448, 448)])
    assert raw.shape == (2, 7, 7, 2 * 5 + 20)
    small = dl.models.get("yolo_v1", num_classes=10, input_size=(3, 112, 112), width=1 / 64, hidden=64).eval()
    assert small.raw(torch.rand(1, 3, 112, 112)).shape == (1, 7, 7, 20)


def test_yolo_loss_on_a_hand_built_grid():
    S, B, C = 2, 2, 2
    raw = torch.zeros(1, S, S, 5 * B + C)
    # one object, box (50, 0)-(100, 50) in a 100 x 100 image: centre (75, 25), cell row 0, column 1,
    # x = y = 0.5 inside the cell, w = h = 0.5 of the image, class 2
    target = [{"boxes": torch.tensor([[50.0, 0, 100, 50]]), "labels": torch.tensor([2])}]
    cell = raw[0, 0, 1]
    cell[0:5] = torch.tensor([0.3, 0.5, 0.5 ** 0.5, 0.5 ** 0.5, 0.8])  # box (40, 0)-(90, 50): IoU 2000/3000
    cell[9] = 0.3                                                       # predictor 2: empty box, conf 0.3
    cell[10:12] = torch.tensor([0.2, 0.6])                              # class scores
    raw[0, 1, 1, 4] = 0.4                                               # a confidence in an empty cell
    losses = yolo_v1_loss(raw, target, S, B, C, (100, 100))
    assert losses["loss_coord"].item() == pytest.approx(5 * 0.2 ** 2)          # λ_coord (x − x̂)²
    assert losses["loss_obj"].item() == pytest.approx((0.8 - 2 / 3) ** 2)      # (C − IoU)²
    assert losses["loss_noobj"].item() == pytest.approx(0.5 * (0.3 ** 2 + 0.4 ** 2))
    assert losses["loss_class"].item() == pytest.approx(0.2 ** 2 + 0.4 ** 2)



def test_yolo_responsible_reports_what_the_grid_predicts_for_each_object():
    S, B, C = 2, 2, 2
    raw = torch.zeros(1, S, S, 5 * B + C)
    target = [{"boxes": torch.tensor([[50.0, 0, 100, 50], [0, 50, 40, 90]]), "labels": torch.tensor([2, 1])}]
    raw[0, 0, 1, 0:5] = torch.tensor([0.3, 0.5, 0.5 ** 0.5, 0.5 ** 0.5, 0.8])   # IoU 2/3 with object 1
    raw[0, 0, 1, 10:12] = torch.tensor([0.2, 0.6])                               # class 2: right
    raw[0, 1, 0, 5:10] = torch.tensor([0.4, 0.4, 0.4 ** 0.5, 0.4 ** 0.5, 0.9])               # predictor 2: exact box of object 2
    raw[0, 1, 0, 10:12] = torch.tensor([0.1, 0.7])                               # class 2: wrong
    raw[0, 1, 1, 4] = 0.4
    out = yolo_v1_responsible(raw, target, S, B, C, (100, 100))
    # object cells in grid order: (0, 1) then (1, 0)
    assert torch.allclose(out["iou"], torch.tensor([2 / 3, 1.0]))
    assert torch.allclose(out["confidence"], torch.tensor([0.8, 0.9]))
    assert out["class_correct"].tolist() == [True, False]
    assert len(out["empty_confidence"]) == S * S * B - 2 and out["empty_confidence"].max() == pytest.approx(0.4)
    # the model method gives the same on images
    model = dl.models.get("yolo_v1", num_classes=3, input_size=(3, 112, 112), width=1 / 32, hidden=32).eval()
    scene = [(torch.rand(3, 112, 112), {"boxes": torch.tensor([[10.0, 10, 50, 40]]), "labels": torch.tensor([3])})]
    got = model.responsible([im for im, _ in scene], [t for _, t in scene])
    assert got["iou"].shape == (1,) and got["class_correct"].shape == (1,)
    assert len(got["empty_confidence"]) == 7 * 7 * 2 - 1


# ---- anchors, IoU, NMS -------------------------------------------------------------------------
def _anchors(generator, image_size, feature_sizes):
    images = ImageList(torch.zeros(1, 3, *image_size), [image_size])
    features = [torch.zeros(1, 1, *s) for s in feature_sizes]
    return generator(images, features)[0]


def test_anchor_counts():
    # Faster R-CNN: 3 scales x 3 ratios at every position of a VGG-16 conv5_3 map (600 x 1000 -> 38 x 63)
    rpn = AnchorGenerator(sizes=((128, 256, 512),), aspect_ratios=((0.5, 1.0, 2.0),))
    assert len(_anchors(rpn, (600, 1000), [(38, 63)])) == 38 * 63 * 9
    # SSD300: 8,732 default boxes over six maps
    _, ssd = _params_on_meta("ssd")
    boxes = _anchors(ssd.anchor_generator.to("cpu"), (300, 300), [(38, 38), (19, 19), (10, 10), (5, 5), (3, 3), (1, 1)])
    assert len(boxes) == 8732 == dl.models.meta("ssd").published.other["default_boxes"].value
    # anchors at one position: the 9 boxes are the 3 areas at 3 aspect ratios
    nine = rpn.generate_anchors((128, 256, 512), (0.5, 1.0, 2.0))         # ratio-major order
    wh = nine[:, 2:] - nine[:, :2]
    assert torch.allclose((wh[:, 0] * wh[:, 1]).sqrt(), torch.tensor([128.0, 256, 512] * 3), atol=1.0)
    assert torch.allclose(wh[:, 1] / wh[:, 0], torch.tensor([0.5, 1.0, 2.0]).repeat_interleave(3), rtol=0.02)


def test_nms_steps_and_iou_agree_with_torchvision_ops():
    g = torch.Generator().manual_seed(0)
    for threshold in (0.3, 0.5, 0.7):
        xy = torch.rand(40, 2, generator=g) * 80
        boxes = torch.cat([xy, xy + 10 + torch.rand(40, 2, generator=g) * 30], 1)
        scores = torch.rand(40, generator=g)
        steps = widgets.nms_steps(boxes, scores, threshold)
        assert steps[-1]["kept"] == torchvision.ops.nms(boxes, scores, threshold).tolist()
        assert sum(len(s["suppressed"]) for s in steps) + len(steps) == 40
    a, b = torch.tensor([0.0, 0, 10, 10]), torch.tensor([5.0, 0, 15, 10])
    _, value = widgets.iou_figure(a, b)
    assert value == pytest.approx(torchvision.ops.box_iou(a[None], b[None]).item()) == pytest.approx(50 / 150)
    # mask IoU of rectangles = box IoU
    from dcnn_lib.detection.metrics import pairwise_mask_iou

    m = torch.zeros(2, 20, 20, dtype=torch.bool)
    m[0, 0:10, 0:10] = True
    m[1, 0:10, 5:15] = True
    assert pairwise_mask_iou(m[:1], m[1:]).item() == pytest.approx(50 / 150)


# ---- average precision, worked by hand ---------------------------------------------------------
def _det(boxes, scores, label=1):
    boxes = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)
    return {"boxes": boxes, "scores": torch.tensor(scores, dtype=torch.float32),
            "labels": torch.full((len(boxes),), label, dtype=torch.long)}


def _gt(boxes, label=1):
    boxes = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)
    return {"boxes": boxes, "labels": torch.full((len(boxes),), label, dtype=torch.long)}


def test_average_precision_hand_worked():
    # two objects; detections by score: hit, miss, hit -> precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1
    gt = _gt([[0, 0, 10, 10], [20, 20, 30, 30]])
    det = _det([[0, 0, 10, 10], [50, 50, 60, 60], [20, 20, 30, 30]], [0.9, 0.8, 0.7])
    m = mean_average_precision([det], [gt])
    assert m.ap50_voc == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)                 # exact area of the envelope
    assert m.ap50_voc07 == pytest.approx((6 * 1 + 5 * 2 / 3) / 11)            # recalls 0..0.5 -> 1, 0.6..1 -> 2/3
    assert m.ap50 == pytest.approx((51 * 1 + 50 * 2 / 3) / 101)               # COCO's 101 points
    assert m.ap == pytest.approx(m.ap50)                                       # exact boxes: every threshold
    p, r = np.array([1, 0.5, 2 / 3]), np.array([0.5, 0.5, 1.0])
    assert average_precision(p, r, "voc") == pytest.approx(5 / 6)


def test_duplicates_thresholds_and_the_two_matching_rules():
    gt = _gt([[0, 0, 10, 10]])
    # a duplicate detection of a matched object is a false positive: AP(VOC) = 1 (recall 1 at precision 1 first)
    m = mean_average_precision([_det([[0, 0, 10, 10], [0, 0, 10, 10]], [0.9, 0.8])], [gt])
    assert m.per_class[1]["precision"].tolist() == [1.0, 0.5] and m.ap50_voc == 1.0
    # IoU exactly 0.5: a hit for COCO (>=), a miss for VOC (>)
    half = mean_average_precision([_det([[0, 0, 10, 20]], [0.9])], [gt])          # IoU 100/200
    assert half.ap50 == 1.0 and half.ap50_voc == 0.0 and half.ap75 == 0.0
    # COCO gives a detection the best *unmatched* object; VOC looks at the best object, matched or not
    ious = torch.tensor([[0.9, 0.1], [0.7, 0.6]])
    assert match_detections(ious, 0.5, "coco").tolist() == [True, True]
    assert match_detections(ious, 0.5, "voc").tolist() == [True, False]


def test_classes_in_the_mean():
    gt = [_gt([[0, 0, 10, 10]], label=1)]
    # class 2 is predicted but absent from the ground truth: not in the mean; class 1 found: AP 1
    pred = [{k: torch.cat([a[k], b[k]]) for k in a} for a, b in
            zip([_det([[0, 0, 10, 10]], [0.9], 1)], [_det([[30, 30, 40, 40]], [0.95], 2)])]
    assert mean_average_precision(pred, gt).ap50 == 1.0
    # class 3 is in the ground truth but never predicted: AP 0 enters the mean
    gt2 = [{k: torch.cat([gt[0][k], _gt([[50, 50, 60, 60]], 3)[k]]) for k in gt[0]}]
    assert mean_average_precision(pred, gt2).ap50 == 0.5


def test_mean_average_precision_matches_pycocotools():
    import contextlib
    import io

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    g = torch.Generator().manual_seed(1)
    preds, targets = [], []
    for _ in range(15):
        k = int(torch.randint(0, 5, (1,), generator=g))
        xy = torch.rand(k, 2, generator=g) * 80
        gt = torch.cat([xy, xy + 5 + torch.rand(k, 2, generator=g) * 40], 1)
        gl = torch.randint(1, 4, (k,), generator=g)
        n = int(torch.randint(0, 8, (1,), generator=g))
        src = gt[torch.randint(0, max(k, 1), (n,), generator=g)] if k else torch.tensor([[10.0, 10, 30, 30]]).repeat(n, 1)
        pb = src + torch.randn(n, 4, generator=g) * 4
        pb = torch.cat([pb[:, :2], torch.maximum(pb[:, 2:], pb[:, :2] + 1)], 1)
        preds.append({"boxes": pb, "labels": torch.randint(1, 4, (n,), generator=g), "scores": torch.rand(n, generator=g)})
        targets.append({"boxes": gt, "labels": gl})
    ours = mean_average_precision(preds, targets)
    anns, dets = [], []
    for i, (p, t) in enumerate(zip(preds, targets)):
        for b, lab in zip(t["boxes"].tolist(), t["labels"].tolist()):
            anns.append({"id": len(anns) + 1, "image_id": i, "category_id": lab, "iscrowd": 0,
                         "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]], "area": (b[2] - b[0]) * (b[3] - b[1])})
        for b, lab, s in zip(p["boxes"].tolist(), p["labels"].tolist(), p["scores"].tolist()):
            dets.append({"image_id": i, "category_id": lab, "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]], "score": s})
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = {"images": [{"id": i} for i in range(len(targets))], "annotations": anns,
                        "categories": [{"id": c} for c in (1, 2, 3)]}
        coco.createIndex()
        ev = COCOeval(coco, coco.loadRes(dets), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    assert ours.ap == pytest.approx(ev.stats[0], abs=1e-12)
    assert ours.ap50 == pytest.approx(ev.stats[1], abs=1e-12)
    assert ours.ap75 == pytest.approx(ev.stats[2], abs=1e-12)


def test_point_f1_hand_worked():
    gt = torch.tensor([[10.0, 10], [50, 50], [90, 90]])
    pred = torch.tensor([[12.0, 10], [11, 11], [50, 58], [200, 200]])
    r = point_f1(pred, gt, radius=5)
    assert (r["hits"], r["precision"], r["recall"]) == (1, 0.25, 1 / 3)       # one hit; the duplicate does not count
    assert r["f1"] == pytest.approx(2 * 0.25 / 3 / (0.25 + 1 / 3))
    assert point_f1(pred, gt, radius=10)["hits"] == 2


# ---- parts -------------------------------------------------------------------------------------
def test_centre_maps_peak_at_the_centres_and_decode_the_boxes():
    boxes = torch.tensor([[10.0, 20, 30, 50], [40, 4, 60, 16]])
    heat, labels, wh = centre_targets(boxes, torch.tensor([1, 2]), (64, 64))
    assert heat.shape == (64, 64) and heat.max() == 1 and heat[35, 20] == 1 and heat[10, 50] == 1
    assert labels[35, 20] == 1 and labels[10, 50] == 2 and labels[0, 0] == 0
    logits = torch.stack([(labels == 1).float(), (labels == 2).float()]) * 10
    det = decode_centre_maps(heat, logits, wh, threshold=0.5)
    order = torch.argsort(det["labels"])
    assert det["labels"][order].tolist() == [1, 2] and (det["scores"] > 0.99).all()
    assert torch.allclose(det["boxes"][order], boxes, atol=1.01)
    # one class, no sizes: points with boxes of a fixed size
    points = decode_centre_maps(heat, None, None, threshold=0.5, default_size=0.25)
    assert points["labels"].tolist() == [1, 1] and torch.allclose(points["boxes"][:, 2] - points["boxes"][:, 0],
                                                                   torch.tensor(16.0))


def test_selective_search_and_backbone_parts():
    image, target = FashionScenes("train", n=1, seed=3, size=112, item_size=(20, 48))[0]
    boxes = selective_search(image, "fast", max_proposals=500)
    assert boxes.ndim == 2 and len(boxes) > 5 and (boxes[:, 2:] > boxes[:, :2]).all()
    assert (boxes[:, :2] >= 0).all() and (boxes[:, 2:] <= 112).all()
    best = torchvision.ops.box_iou(target["boxes"], boxes).max(1).values
    assert (best >= 0.5).float().mean() >= 0.5          # proposals find most objects
    vgg = dl.models.get("vgg16")
    assert conv_trunk(vgg, 16)(torch.zeros(1, 3, 64, 64)).shape == (1, 512, 4, 4)
    assert conv_trunk(vgg, 8).out_channels == 512
    grey = dl.models.get("vgg_small", width=1 / 16, in_channels=1).eval()
    x = torch.rand(2, 1, 32, 32)
    before = grey(x)
    assert torch.allclose(inflate_input_channels(grey, 3)(x.expand(-1, 3, -1, -1)), before, atol=1e-5)


# ---- torchvision twins -------------------------------------------------------------------------
@pytest.mark.parametrize("name", [n for n in DETECTORS if dl.models.meta(n).test.torchvision])
def test_detection_twins_load_strictly_and_match(name):
    info = dl.models.meta(name)
    kwargs = dict(min_size=96, max_size=96, rpn_pre_nms_top_n_test=50, rpn_post_nms_top_n_test=50,
                  box_detections_per_img=10) if "rcnn" in name else {}
    torch.manual_seed(0)
    theirs = torchvision.models.get_model(info.test.torchvision, weights=None, weights_backbone=None, **kwargs).eval()
    ours = dl.models.get(name, **kwargs).eval()
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in theirs.parameters()) \
        == info.published.params.value
    ours.load_state_dict(theirs.state_dict(), strict=True)
    images = [torch.rand(3, 80, 96, generator=torch.Generator().manual_seed(1))]
    with torch.no_grad():
        a, b = ours(images), theirs(images)
    assert a[0].keys() == b[0].keys() and len(a[0]["boxes"]) > 0
    for key in a[0]:
        assert torch.allclose(a[0][key].float(), b[0][key].float(), atol=1e-5), key


# ---- the loop ----------------------------------------------------------------------------------
def test_fit_evaluate_and_the_random_floor(scenes):
    data = [(img, {"boxes": t["boxes"], "labels": (t["labels"] - 1) % 3 + 1}) for img, t in (scenes[i] for i in range(4))]
    loader = dl.detection.detection_loader(data, batch_size=2, shuffle=True)
    model = _small("yolo_v1")
    seen = []
    history = fit(model, loader, 2, lr=1e-3, schedule="cosine", progress=False, callbacks=[lambda e, h: seen.append(e)])
    assert len(history) == 2 and seen == [1, 2] and not model.training
    terms = ["loss_coord", "loss_obj", "loss_noobj", "loss_class"]
    assert list(history.columns[-4:]) == terms and all(math.isfinite(v) for v in history["train_loss"])
    assert history[-1]["train_loss"] == pytest.approx(sum(history[-1][k] for k in terms))
    report = evaluate(model, data)
    assert len(report.predictions) == 4 and 0 <= report.metrics.ap <= 1 and report.images_per_second > 0
    assert len(predict(model, data[0][0])) == 1
    floor = mean_average_precision(random_detections([t for _, t in data], (64, 64), 3, seed=0),
                                   [t for _, t in data])
    assert floor.ap50 < 0.2


def test_yolo_recipe_streams_new_scenes_and_pretrains_on_scene_objects():
    from dcnn_lib.recipes import detection as R

    yolo = R.get("yolo_v1", "smoke")
    train, test = yolo.data(seed=0)
    shared_train, shared_test = R.get("ssd", "smoke").data(seed=0)
    assert isinstance(train, dl.data.FashionScenes) and len(train) == yolo.stream["smoke"]
    assert train.seed == R.STREAM_SEED and not torch.equal(train[0][0], shared_train[0][0])
    assert all(torch.equal(a[0], b[0]) for a, b in zip(test, shared_test))      # same test scenes
    assert "new (streamed)" in yolo.describe()["data"] and "16 train" in R.get("ssd", "smoke").describe()["data"]
    pre = dl.recipes.get("yolo_v1_pretraining", "smoke")
    loader, val = pre.loaders(seed=0)
    images, labels = next(iter(loader))
    assert images.shape == (pre.batch_size, 3, 48, 48) and labels.min() >= 0 and labels.max() <= 9
    assert len(loader.dataset) == 1024 and len(val.dataset) == 256
    assert "single-object scenes" in pre.describe()["data"]
    # its weights load into the detector's first 20 convolutions
    net = pre.build_model()
    model = yolo.build_model(backbone_weights=net.state_dict())
    assert torch.equal(model.features[0].weight, net.features[0].weight)
