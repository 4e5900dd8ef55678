"""The synthetic scenes are exact by construction: check the invariants."""
import pytest
import torch

import dcnn_lib as dl
from dcnn_lib.data import FashionScenes, collate_detection, collate_segmentation


@pytest.fixture(scope="module")
def scenes():
    return FashionScenes("train", n=40, seed=1, size=96, item_size=(24, 48))


def test_masks_boxes_labels_and_semantic_agree(scenes):
    n_objects = 0
    for i in range(len(scenes)):
        image, t = scenes[i]
        assert image.shape == (3, 96, 96) and 0 <= image.min() and image.max() <= 1
        masks, boxes, labels, sem = t["masks"], t["boxes"], t["labels"], t["semantic"]
        assert masks.shape[0] == boxes.shape[0] == labels.shape[0]
        assert ((labels >= 1) & (labels <= 10)).all()
        assert not (masks.sum(0) > 1).any(), "visible masks must not overlap"
        for m, b, l in zip(masks, boxes, labels):
            ys, xs = torch.nonzero(m, as_tuple=True)
            assert b.tolist() == [xs.min().item(), ys.min().item(), xs.max().item() + 1, ys.max().item() + 1]
            assert (sem[m] == l).all()
        assert ((sem > 0) == masks.any(0)).all() if len(masks) else (sem == 0).all()
        n_objects += len(labels)
    assert n_objects >= len(scenes)  # at least one object on average


def test_deterministic_per_seed_and_index(scenes):
    again = FashionScenes("train", n=5, seed=1, size=96, item_size=(24, 48))
    a, ta = scenes[3]
    b, tb = again[3]
    assert torch.equal(a, b) and torch.equal(ta["masks"], tb["masks"])
    c, _ = FashionScenes("train", n=5, seed=2, size=96, item_size=(24, 48))[3]
    assert not torch.equal(a, c)


def test_splits_use_disjoint_items(fake_fashion_mnist):
    _, train_x, _, test_x, _ = fake_fashion_mnist
    train, test = FashionScenes("train", n=2, size=64), FashionScenes("test", n=2, size=64)
    assert torch.equal(train.items, torch.from_numpy(train_x))
    assert torch.equal(test.items, torch.from_numpy(test_x))


def test_collate_and_bad_arguments(scenes):
    images, targets = collate_detection([scenes[0], scenes[1]])
    assert len(images) == 2 and "boxes" in targets[0]
    x, y = collate_segmentation([scenes[0], scenes[1]])
    assert x.shape == (2, 3, 96, 96) and y.shape == (2, 96, 96) and y.dtype == torch.int64
    with pytest.raises(ValueError, match="split"):
        FashionScenes("val", n=2)
    with pytest.raises(ValueError, match="item_size"):
        FashionScenes("train", n=2, size=32, item_size=(28, 64))
    with pytest.raises(IndexError):
        scenes[40]
    assert "synthetic" in scenes.note and scenes.classes[0] == "background"


def test_scene_objects_are_one_labelled_item_in_context():
    from dcnn_lib.data import SceneObjects

    plain = SceneObjects("test", n=12, seed=3, size=48, normalize=False)
    standard = SceneObjects("test", n=12, seed=3, size=48)
    assert len(plain) == 12 and "synthetic" in plain.note and len(plain.classes) == 10
    for i in range(12):
        image, label = plain[i]
        _, target = plain.scenes[i]
        assert image.shape == (3, 48, 48) and 0 <= image.min() and image.max() <= 1
        assert label == int(target["labels"][0]) - 1 and len(target["labels"]) == 1
        assert torch.allclose(standard[i][0], (image - standard.mean) / standard.std)
    assert torch.equal(plain[5][0], SceneObjects("test", n=12, seed=3, size=48, normalize=False)[5][0])
