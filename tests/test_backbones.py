"""The backbone contract (dcnn_lib.models.backbones), checked on every registered classifier that
declares it: each stage, cut out of the model, gives ``channels`` maps at ``input / stride``.

Built and run on the ``meta`` device: shapes only, no arithmetic, so the papers' configurations
cost nothing.
"""
import pytest
import torch
import torch.nn as nn

import dcnn_lib as dl
from dcnn_lib.errors import DcnnTypeError, DcnnValueError
from dcnn_lib.models.backbones import (RegionCNN, Stage, classifier_head, conv_trunk, deepest_stages,
                                       fpn_backbone, stage_at, stages)


def _on_meta(name):
    with torch.device("meta"):
        return dl.models.get(name)


BACKBONES = [n for n in dl.models.list_models("classification") if hasattr(_on_meta(n), "feature_info")]


def test_the_backbones_of_the_detectors_and_segmenters_declare_the_contract():
    assert {"vgg16", "vgg16_bn", "vgg_small", "alexnet_paper", "resnet50", "resnet101"} <= set(BACKBONES)


@pytest.mark.parametrize("name", BACKBONES)
def test_every_stage_has_its_channels_and_stride(name):
    model = _on_meta(name).eval()
    c, h = dl.models.meta(name).input_size[0], 1024   # large: valid convolutions' borders are negligible
    x = torch.empty(1, c, h, h, device="meta")
    previous = None
    for stage in stages(model):
        out = conv_trunk(model, stage.stride)(x)
        assert out.shape[:2] == (1, stage.channels), (stage, out.shape)
        # the map is input / stride (less the borders of unpadded convolutions: ZFNet, AlexNet)
        assert out.shape[2] == pytest.approx(h / stage.stride, rel=0.05, abs=1), (stage, out.shape)
        if previous is not None:
            assert out.shape[2] < previous
        previous = out.shape[2]
    assert isinstance(dict(model.named_children())[model.classifier_name], (nn.Linear, nn.Sequential))


def test_a_model_without_the_contract_is_refused_by_name():
    with pytest.raises(DcnnTypeError, match="LeNet5 is not a backbone"):
        stages(dl.models.get("lenet5"))
    with pytest.raises(DcnnValueError, match="no feature map of stride 64.*4, 8, 16, 32"):
        stage_at(dl.models.get("resnet18"), 64)


def test_deepest_stages_of_a_hand_built_stack():
    # conv (stride 1) -> pool /2 -> conv 3x3/2 -> relu: stages at 1 (before the pool), 2, 4 (the end)
    stack = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 8, 3),
                          nn.Conv2d(8, 16, 3, stride=2), nn.ReLU())
    assert deepest_stages(stack, "f", 3) == (Stage("f.1", 4, 1), Stage("f.3", 8, 2), Stage("f.5", 16, 4))


def test_cut_parts_share_the_classifiers_modules():
    vgg = dl.models.get("vgg_small", width=1 / 16)
    trunk = conv_trunk(vgg, 16)
    assert trunk[0] is vgg.features[0] and trunk.out_channels == stage_at(vgg, 16).channels
    head = classifier_head(vgg)
    assert head[0] is vgg.classifier[0] and head.out_features == vgg.classifier[-1].in_features
    region = RegionCNN(vgg).eval()
    pool5, fc7 = region(torch.rand(2, 1, 32, 32))
    assert pool5.shape == (2, head.in_features) and fc7.shape == (2, head.out_features)
    resnet = dl.models.get("resnet18", widths=(4, 8, 16, 32))
    pool5, fc7 = RegionCNN(resnet).eval()(torch.rand(1, 3, 32, 32))
    assert pool5.shape == fc7.shape == (1, 32)
    fpn = fpn_backbone(resnet, out_channels=8)
    assert list(fpn(torch.rand(1, 3, 64, 64))) == ["0", "1", "2", "3", "pool"]
