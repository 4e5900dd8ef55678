"""Segmentation: models (shapes, parameter counts, twins, clear errors), their building blocks,
the metrics (hand-worked and against scikit-learn), the dense-prediction parts of ``fit``, the
point-prompt loader and the offline behaviour of the online data set.

Forward passes use narrow versions of the models (the same builders, smaller widths) at 64×64
and 37×50; the papers' configurations are built on the ``meta`` device, where counting
parameters and shapes costs no arithmetic.
"""
import math

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import dcnn_lib as dl
from dcnn_lib.data import PointPromptLoader, TensorLoader
from dcnn_lib.layers import (ASPP, BilinearUpsampling, ChainedResidualPooling, ContextModule, FeatureStages,
                             MultiResolutionFusion, PyramidPooling, RecurrentConv, RecurrentResidualBlock,
                             UpConcat, bilinear_kernel, dilate_stage, match_size)
from dcnn_lib.metrics import (PromptedMaskIoU, SegmentationMetrics, confusion_matrix, dice_per_class,
                              iou_per_class, elementwise_mask_iou, mean_dice, mean_iou, pixel_accuracy)
from dcnn_lib.models.segmentation.sam import sam_loss
from dcnn_lib.models.segmentation.unet import mirror_pad, valid_tile
from dcnn_lib.models.segmentation.common import UNET_SMALL, VGG_NARROW
from dcnn_lib.train import History, evaluate, fit

SEGMENTERS = dl.models.list_models(task="segmentation")


def _narrow(name):
    """The model's small test configuration (``meta(name).test.kwargs``), with 5 classes."""
    torch.manual_seed(0)
    kwargs = dict(dl.models.meta(name).test.kwargs)
    if "num_classes" in dl.models.meta(name).defaults:
        kwargs["num_classes"] = 5
    return dl.models.get(name, **kwargs)


@pytest.mark.parametrize("name", SEGMENTERS)
def test_shapes_at_two_sizes_and_backward(name):
    model = _narrow(name).train()
    c, *size = dl.models.meta(name).test_input_size
    for h, w in [size, (37, 50)]:              # 37×50: odd, and not a multiple of 32
        x = torch.randn(2, c, h, w)
        if name == "sam_small":
            out = model(x, points=torch.tensor([[[5.0, 7.0]], [[30.0, 20.0]]]),
                        point_labels=torch.ones(2, 1, dtype=torch.long))
            assert out["out"].shape == (2, 3, h, w) and out["iou"].shape == (2, 3)
            loss = sam_loss(out, torch.zeros(2, h, w))
        else:
            out = model(x)
            assert set(out) <= {"out", "aux"}
            assert all(v.shape == (2, 5, h, w) for v in out.values()), {k: v.shape for k, v in out.items()}
            loss = sum(F.cross_entropy(v, torch.zeros(2, h, w, dtype=torch.long)) for v in out.values())
        assert torch.isfinite(loss)
        model.zero_grad()
        loss.backward()
    # SAM: a positive point uses neither the box-corner nor the negative-point embedding, and
    # multimask output not the single-mask token's hypernetwork
    unused = ("prompt_encoder.point_embeddings.0.", "prompt_encoder.point_embeddings.2.",
              "prompt_encoder.point_embeddings.3.", "mask_decoder.output_hypernetworks_mlps.0.")
    grads = {n: p.grad for n, p in model.named_parameters() if not n.startswith(unused)}
    assert all(g is not None and torch.isfinite(g).all() for g in grads.values()), \
        [n for n, g in grads.items() if g is None]


def test_unet_is_the_paper_network():
    with torch.device("meta"):
        grey = dl.models.get("unet", in_channels=1)
        rgb = dl.models.get("unet")
        # Fig. 1: a 572×572 tile gives a 388×388 map; the bottom is 1024 × 28 × 28
        assert rgb.forward_tile(torch.zeros(1, 3, 572, 572)).shape == (1, 2, 388, 388)
    n_grey = sum(p.numel() for p in grey.parameters())
    assert n_grey == 31_030_658 and abs(n_grey - 31.03e6) < 1e3          # the "≈ 31.03M" of the paper
    assert sum(p.numel() for p in rgb.parameters()) - n_grey == 2 * 64 * 9  # two more input channels
    assert sum(isinstance(m, nn.Conv2d) for m in rgb.modules()) == 19      # + 4 up-convs = 23 layers
    assert sum(isinstance(m, nn.ConvTranspose2d) for m in rgb.modules()) == 4
    assert valid_tile(388) == (572, 388) and valid_tile(64) == (252, 68)


def test_unet_valid_mirrors_the_border_and_same_does_not():
    torch.manual_seed(0)
    valid = dl.models.get("unet", widths=UNET_SMALL).eval()
    same = dl.models.get("unet", widths=UNET_SMALL, padding="same").eval()
    x = torch.randn(1, 3, 40, 40)
    assert valid(x)["out"].shape == same(x)["out"].shape == (1, 2, 40, 40)
    # a mirror pad reflects without repeating the edge, and works past the image size
    row = torch.arange(4.0).reshape(1, 1, 1, 4)
    assert mirror_pad(row, 2, 0, 0, 0)[0, 0, 0].tolist() == [2, 1, 0, 1, 2, 3]
    assert mirror_pad(torch.zeros(1, 1, 3, 3), 10, 10, 10, 10).shape == (1, 1, 23, 23)


def test_fcn_variants_and_their_skips():
    counts = {}
    for v in ("32s", "16s", "8s"):
        with torch.device("meta"):
            m = dl.models.get(f"fcn{v}")
        counts[v] = sum(p.numel() for p in m.parameters())
        assert m.to_pool3[0].padding == (100, 100)                      # the released models' pad 100
        assert not m.upscore.learnable and "weight" not in dict(m.upscore.named_parameters())
    # 16s adds score_pool4 (512·21 + 21) and a learned 2× upsampling (21·21·4·4)
    assert counts["16s"] - counts["32s"] == 512 * 21 + 21 + 21 * 21 * 16
    assert counts["8s"] - counts["16s"] == 256 * 21 + 21 + 21 * 21 * 16
    assert round(counts["32s"] / 1e6) == 134                             # Table 1: 134M
    # zero-initialised score layers (§4.3): an untrained FCN outputs zeros
    m = _narrow("fcn8s").eval()
    assert m(torch.randn(1, 3, 64, 64))["out"].abs().max() == 0


def test_fcn_same_padding_upsamples_as_the_fixed_bilinear_layer():
    from dcnn_lib.models.segmentation.fcn import crop

    model = dl.models.get("fcn32s", num_classes=3, pad100=False, **{**VGG_NARROW, "hidden": 8}).eval()
    score = torch.randn(1, 3, 3, 3)
    fixed = crop(model.upscore(score), 16, (96, 96))            # the paper's layer, cropped by f/2
    fast = F.interpolate(score, size=(96, 96), mode="bilinear", align_corners=False)
    assert torch.allclose(fixed[..., 16:-16, 16:-16], fast[..., 16:-16, 16:-16], atol=1e-5)


def test_fcn_convolutionalises_the_classifier():
    from dcnn_lib.models.segmentation.fcn import convolutionalize

    fc = nn.Linear(8 * 7 * 7, 16)
    conv = nn.Conv2d(8, 16, 7)
    assert convolutionalize(fc, conv)
    x = torch.randn(2, 8, 7, 7)
    assert torch.allclose(conv(x).flatten(1), fc(x.flatten(1)), atol=1e-5)
    assert not convolutionalize(nn.Linear(10, 16), conv)


def test_segnet_unpools_with_the_encoders_indices():
    model = _narrow("segnet").eval()
    assert isinstance(model.unpool, nn.MaxUnpool2d) and model.pool.return_indices
    with torch.device("meta"):
        paper = dl.models.get("segnet")
    enc = sum(p.numel() for p in paper.encoder.parameters())
    assert round(enc / 1e6, 1) == 14.7                                   # "from 134M to 14.7M"


def test_dilated_front_end_keeps_one_eighth_resolution():
    model = _narrow("dilated_context").eval()
    assert model.front_end(torch.randn(1, 3, 64, 64)).shape == (1, 5, 8, 8)
    with torch.device("meta"):
        paper = dl.models.get("dilated_context")
    context = sum(p.numel() for p in paper.context.parameters())
    assert context == 64 * 21 ** 2 + 8 * 21                              # "64C² parameters" + biases


def test_too_small_input_names_the_layer():
    with pytest.raises(ValueError, match=r"SegNet: layer 'pool' .*too small"):
        _narrow("segnet").eval()(torch.randn(1, 3, 16, 16))


def test_backbone_layers_are_named_by_their_path_in_the_segmentation_model():
    model = _narrow("fcn_resnet50").eval()
    with pytest.raises(ValueError, match=r"FCNResNet: layer 'backbone\.conv1'"):
        model(torch.randn(1, 1, 64, 64))


# ---- torchvision twins: their weights load and the outputs agree, main and auxiliary heads -------
@pytest.mark.parametrize("name", ["fcn_resnet50", "deeplabv3_resnet50"])
def test_twin_with_auxiliary_head_matches_torchvision(name):
    import torchvision

    torch.manual_seed(0)
    theirs = torchvision.models.get_model(name, weights=None, weights_backbone=None, aux_loss=True).eval()
    ours = dl.models.get(name, aux_loss=True).eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    assert sum(p.numel() for p in ours.parameters()) == dl.models.meta(name).published.other["params_with_aux"].value
    x = torch.randn(1, 3, 48, 40)
    with torch.no_grad():
        a, b = ours(x), theirs(x)
    assert set(a) == set(b) == {"out", "aux"}
    for k in a:
        assert torch.allclose(a[k], b[k], rtol=1e-4, atol=1e-5), (k, (a[k] - b[k]).abs().max())


def test_dilate_stage_matches_torchvision_and_multi_grid():
    import torchvision

    tv = torchvision.models.resnet50(weights=None, replace_stride_with_dilation=[False, True, True])
    ours = dl.models.get("resnet50")
    dilate_stage(ours.layer3, 2, 1)
    dilate_stage(ours.layer4, 4, 2)
    for (n, a), b in zip(ours.layer4.named_modules(), tv.layer4.modules()):
        if isinstance(a, nn.Conv2d):
            assert (a.stride, a.dilation, a.padding) == (b.stride, b.dilation, b.padding), n
    mg = dl.models.get("resnet50")
    dilate_stage(mg.layer4, 2, 1, multi_grid=(1, 2, 4))
    assert [b.conv2.dilation[0] for b in mg.layer4] == [2, 4, 8]


# ---- building blocks --------------------------------------------------------------------------
def test_bilinear_upsampling_is_bilinear_interpolation():
    assert bilinear_kernel(4)[0].tolist() == [0.0625, 0.1875, 0.1875, 0.0625]
    up = BilinearUpsampling(2, 2, learnable=False)
    assert sum(p.numel() for p in up.parameters()) == 0
    x = torch.rand(1, 2, 5, 6)
    y = up(x)                                                  # (H - 1) * 2 + 4
    assert y.shape == (1, 2, 12, 14)
    ref = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    assert torch.allclose(y[..., 1:-1, 1:-1][..., 1:-1, 1:-1], ref[..., 1:-1, 1:-1], atol=1e-6)
    learn = BilinearUpsampling(3, 2)
    assert sum(p.numel() for p in learn.parameters()) == 3 * 3 * 16


def test_up_concat_crops_or_pads():
    skip = torch.randn(1, 4, 9, 9)
    crop = UpConcat(8, 4, mode="crop")(torch.randn(1, 8, 3, 3), skip)
    assert crop.shape == (1, 8, 6, 6)
    pad = UpConcat(8, 4, mode="pad")(torch.randn(1, 8, 4, 4), skip)
    assert pad.shape == (1, 8, 9, 9)
    x = torch.arange(25.0).reshape(1, 1, 5, 5)
    assert match_size(x, (3, 3))[0, 0, 0].tolist() == [6, 7, 8]        # centre crop


def test_context_module_identity_init_and_receptive_field():
    basic = ContextModule(5)
    x = torch.rand(2, 5, 20, 20)                                       # non-negative: ReLU keeps it
    assert torch.allclose(basic(x), x)
    assert sum(p.numel() for p in basic.parameters()) == 64 * 25 + 8 * 5
    rf = dl.analysis.receptive_field(basic, (5, 96, 96))
    convs = [r.size[0] for r in rf if r.type == "Conv2d"]
    assert convs == [3, 5, 9, 17, 33, 65, 67, 67]                      # Table 1 of Yu & Koltun
    assert all(r.output_size == (96, 96) for r in rf)                  # no resolution lost
    large = ContextModule(4, "large")
    assert [m.out_channels for m in large if isinstance(m, nn.Conv2d)] == [8, 8, 16, 32, 64, 128, 128, 4]
    assert (large(x[:, :4]) - x[:, :4]).abs().max() < 0.05             # identity up to ε


def test_pyramid_pooling_aspp_and_refinenet_blocks():
    x = torch.randn(2, 16, 12, 12)
    ppm = PyramidPooling(16)
    assert ppm(x).shape == (2, 32, 12, 12) and ppm.out_channels == 32
    assert [s[0].output_size for s in ppm.stages] == [1, 2, 3, 6]
    aspp = ASPP(16, (2, 4, 6), 8)
    assert aspp(x).shape == (2, 8, 12, 12) and len(aspp.convs) == 5
    assert [b[0].dilation for b in list(aspp.convs)[1:4]] == [(2, 2), (4, 4), (6, 6)]
    crp = ChainedResidualPooling(16)
    assert crp(x).shape == x.shape
    with torch.no_grad():
        for c in crp.convs:
            c.weight.zero_()
    assert torch.equal(crp(x), F.relu(x))                               # the chain only adds
    mrf = MultiResolutionFusion([16, 32], 8)
    assert mrf([x, torch.randn(2, 32, 6, 6)]).shape == (2, 8, 12, 12)
    with pytest.raises(ValueError, match="2 input paths"):
        mrf([x])


def test_recurrent_units():
    rcl = RecurrentConv(4, t=2)
    assert len(rcl.norms) == 3                                         # t = 2: steps 0, 1, 2
    assert sum(p.numel() for p in rcl.parameters()) == 2 * 4 * 4 * 9 + 3 * 8
    x = torch.randn(2, 4, 8, 8)
    assert rcl(x).shape == x.shape
    block = RecurrentResidualBlock(3, 4).eval()
    assert block(torch.randn(2, 3, 8, 8)).shape == (2, 4, 8, 8)
    # recurrence widens the receptive field with the same weights: 3 steps of a 3×3 kernel
    rf = dl.analysis.receptive_field(RecurrentConv(1, t=2), (1, 32, 32))
    assert rf[-1].size == (7, 7)
    # NABLA-N without latent spaces is R2U-Net exactly
    a = dl.models.get("nabla_n", widths=UNET_SMALL, n_latent=0)
    b = dl.models.get("r2unet", widths=UNET_SMALL)
    assert sum(p.numel() for p in a.parameters()) == sum(p.numel() for p in b.parameters())


def test_feature_stages_errors():
    with pytest.raises(ValueError, match="has no child"):
        FeatureStages(nn.Sequential(nn.Conv2d(1, 1, 1)), {"layer9": "out"})


def test_sam_small_prompts_and_meta():
    info = dl.models.meta("sam_small")
    assert "scaled-down" in info.paper and info.published.params.source.startswith("counted")
    model = _narrow("sam_small").eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        single = model(x, points=torch.rand(2, 2, 2) * 64, point_labels=torch.tensor([[1, 0], [1, 1]]),
                       multimask_output=False)
        boxed = model(x, boxes=torch.tensor([[4.0, 4, 30, 30], [0, 0, 63, 63]]))
        none = model(x)
    assert single["out"].shape == (2, 1, 64, 64) and boxed["out"].shape == (2, 3, 64, 64)
    assert none["out"].shape == (2, 3, 64, 64)
    assert not torch.allclose(boxed["out"], none["out"])               # the prompt matters


# ---- metrics ----------------------------------------------------------------------------------
def test_metrics_on_a_hand_worked_example():
    # truth and prediction on a 2×3 image with 3 classes
    truth = torch.tensor([[0, 0, 1], [1, 2, 2]])
    pred = torch.tensor([[0, 1, 1], [1, 2, 0]])
    cm = confusion_matrix(pred, truth, 3)
    assert cm.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert pixel_accuracy(cm) == pytest.approx(4 / 6)
    # IoU: class 0: 1 / (2 + 2 - 1) = 1/3; class 1: 2 / (2 + 3 - 2) = 2/3; class 2: 1 / (2 + 1 - 1) = 1/2
    assert iou_per_class(cm).tolist() == pytest.approx([1 / 3, 2 / 3, 1 / 2])
    assert mean_iou(cm) == pytest.approx((1 / 3 + 2 / 3 + 1 / 2) / 3)
    # Dice: 2·TP / (|truth| + |pred|): 2/4, 4/5, 2/3
    assert dice_per_class(cm).tolist() == pytest.approx([1 / 2, 4 / 5, 2 / 3])
    assert mean_dice(cm) == pytest.approx((1 / 2 + 4 / 5 + 2 / 3) / 3)


def test_metrics_absent_classes_ignored_pixels_and_scores():
    truth = torch.tensor([[0, 0], [255, 1]])
    scores = torch.zeros(1, 4, 2, 2)
    scores[0, 0, 0, :] = 1                      # predicts 0, 0 on the first row
    scores[0, 3, 1, :] = 1                      # predicts 3 on the second row
    m = SegmentationMetrics(4)
    m.update({"out": scores}, truth[None])
    assert m.cm.sum() == 3                       # the 255 pixel is not counted
    iou = m.per_class()["iou"]
    assert iou[0] == 1 and iou[1] == 0 and iou[3] == 0 and math.isnan(iou[2])
    assert m.compute()["miou"] == pytest.approx(1 / 3)        # class 2 occurs nowhere: left out
    with pytest.raises(ValueError, match="target labels"):
        confusion_matrix(torch.zeros(2, dtype=torch.long), torch.tensor([0, 7]), 4)


def test_metrics_agree_with_scikit_learn():
    from sklearn.metrics import confusion_matrix as sk_cm, f1_score, jaccard_score

    g = torch.Generator().manual_seed(0)
    truth = torch.randint(0, 5, (4, 16, 16), generator=g)
    pred = torch.where(torch.rand(4, 16, 16, generator=g) < 0.6, truth, torch.randint(0, 5, (4, 16, 16), generator=g))
    cm = confusion_matrix(pred, truth, 5)
    t, p = truth.flatten().numpy(), pred.flatten().numpy()
    assert np.array_equal(cm.numpy(), sk_cm(t, p, labels=range(5)))
    assert np.allclose(iou_per_class(cm).numpy(), jaccard_score(t, p, average=None))
    assert np.allclose(dice_per_class(cm).numpy(), f1_score(t, p, average=None))
    assert mean_iou(cm) == pytest.approx(jaccard_score(t, p, average="macro"))


def test_elementwise_mask_iou_and_prompted_metric():
    a = torch.zeros(2, 4, 4, dtype=torch.bool)
    a[0, :2] = True
    b = torch.zeros(2, 4, 4, dtype=torch.bool)
    b[0, 1:3] = True
    assert elementwise_mask_iou(a, b).tolist() == [pytest.approx(1 / 3), 1.0]      # 4 / 12; two empty masks agree
    logits = torch.stack([a.float() * 2 - 1, b.float() * 2 - 1], dim=1)  # N x 2 masks
    m = PromptedMaskIoU()
    m.update({"out": logits, "iou": torch.tensor([[0.1, 0.9], [0.9, 0.1]])}, b)
    r = m.compute()
    assert r["miou"] == pytest.approx((1 + 1) / 2) and r["oracle_miou"] == pytest.approx(1.0)


# ---- the fit loop on dense predictions --------------------------------------------------------
class _SmallSeg(nn.Module):
    """Two heads: main and auxiliary, torchvision style."""

    def __init__(self):
        super().__init__()
        self.body = nn.Conv2d(1, 8, 3, padding=1)
        self.out, self.aux = nn.Conv2d(8, 2, 1), nn.Conv2d(8, 2, 1)

    def forward(self, x):
        h = F.relu(self.body(x))
        return {"out": self.out(h), "aux": self.aux(h)}


def _blobs(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 8, 8, generator=g) * 0.3
    y = (torch.rand(n, 8, 8, generator=g) < 0.4).long()
    x = x + y[:, None].float() * 1.5              # foreground pixels are brighter
    y[:, 0, 0] = 255                               # one ignored pixel per image
    return x, y


def test_fit_trains_a_dense_model_with_aux_loss_and_metrics():
    torch.manual_seed(0)
    train = TensorLoader(*_blobs(), batch_size=16, shuffle=True)
    test = TensorLoader(*_blobs(32, seed=1), batch_size=16)
    h = fit(_SmallSeg(), train, 4, val_loader=test, lr=2e-2, progress=False,
            metrics=lambda: SegmentationMetrics(2))
    assert {"val_pixel_acc", "val_miou", "val_dice"} <= set(h.columns)
    assert 0 <= h.last["train_acc"] <= 1 and h.last["val_acc"] == pytest.approx(h.last["val_pixel_acc"])
    baseline = SegmentationMetrics(2)
    baseline.update(torch.zeros_like(test.labels), test.labels)        # all background
    assert h.last["val_miou"] > baseline.compute()["miou"] + 0.3
    assert h.best("val_miou")["val_miou"] == max(h["val_miou"])
    assert "val miou" in str(h) and "val miou" in h._repr_html_()
    restored = History.from_state_dict(h.state_dict())
    assert restored["val_miou"] == h["val_miou"]


def test_fit_passes_keyword_inputs_and_the_raw_output():
    seen = {}

    class Prompted(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3, padding=1)

        def forward(self, image, scale):
            seen["scale"] = scale.shape
            return {"out": self.conv(image) * scale[:, None, None, None], "iou": scale[:, None]}

    def loss(out, y):
        assert set(out) == {"out", "iou"}
        return F.binary_cross_entropy_with_logits(out["out"][:, 0], y)

    loss.takes_raw_output = True
    x, y = torch.randn(8, 1, 6, 6), (torch.rand(8, 6, 6) > 0.5).float()

    class Loader:
        def __len__(self):
            return 2

        def __iter__(self):
            for i in (0, 4):
                yield {"image": x[i:i + 4], "scale": torch.ones(4)}, y[i:i + 4]

    h = fit(Prompted(), Loader(), 2, val_loader=Loader(), loss_fn=loss, progress=False, schedule=None)
    assert seen["scale"] == (4,) and math.isnan(h.last["train_acc"]) and math.isfinite(h.last["val_loss"])
    assert evaluate(Prompted(), Loader(), loss_fn=loss)["loss"] > 0


# ---- data: point prompts, the online data set offline -----------------------------------------
def test_point_prompt_loader():
    masks = [torch.zeros(2, 8, 8, dtype=torch.bool), torch.zeros(1, 8, 8, dtype=torch.bool)]
    masks[0][0, :2, :2] = True
    masks[0][1, 5:, 5:] = True
    masks[1][0, 3, 3:6] = True
    images = torch.randn(2, 3, 8, 8)
    loader = PointPromptLoader(images, masks, batch_size=2, shuffle=True, seed=0)
    assert len(loader) == 2 and len(loader.items) == 3
    batches = list(loader)
    for inputs, target in batches:
        for (px, py), m in zip(inputs["points"][:, 0].long().tolist(), target):
            assert m[py, px] == 1                                      # every point is on its object
        assert inputs["point_labels"].eq(1).all()
    again = list(PointPromptLoader(images, masks, batch_size=2, shuffle=True, seed=0))
    assert torch.equal(batches[0][0]["points"], again[0][0]["points"])  # deterministic per seed
    fixed = PointPromptLoader(images, masks, batch_size=3, resample=False)
    fixed.set_epoch(1)
    p1 = next(iter(fixed))[0]["points"]
    fixed.set_epoch(5)
    assert torch.equal(p1, next(iter(fixed))[0]["points"])
    one = PointPromptLoader(images, masks, batch_size=8, seed=0, one_per_scene=True)
    (inputs, target), = list(one)
    assert len(one) == 1 and len(target) == 2                           # one object of each of 2 scenes
    for (px, py), m in zip(inputs["points"][:, 0].long().tolist(), target):
        assert m[py, px] == 1
    with pytest.raises(ValueError, match="no object"):
        PointPromptLoader(images[:1], [torch.zeros(0, 8, 8, dtype=torch.bool)])


def test_pets_offline_and_absent_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("DCNN_DATA", str(tmp_path))
    with pytest.raises(dl.data.DatasetNotFoundError, match="offline"):
        dl.data.oxford_pets_segmentation("test", size=32)


def test_segmentation_figures():
    import matplotlib.pyplot as plt

    images = torch.rand(3, 3, 16, 16)
    labels = torch.randint(0, 4, (3, 16, 16))
    pic = dl.viz.overlay(images[0], labels[0], 4)
    assert pic.shape == (16, 16, 3)
    bg = labels[0] == 0
    assert np.allclose(pic[bg.numpy()], images[0].permute(1, 2, 0).numpy()[bg.numpy()])   # background untouched
    fig = dl.viz.show_segmentation(images, {"truth": labels, "model": labels.flip(-1)}, ["bg", "a", "b", "c"])
    assert len(fig.axes) == 9
    plt.close(fig)


def test_median_frequency_weights_and_weighted_recipes():
    from dcnn_lib.recipes.segmentation import median_frequency_weights

    labels = torch.tensor([[0, 0, 0, 0, 0, 0], [1, 1, 2, 255, 255, 255]])   # freq 6/9, 2/9, 1/9
    w = median_frequency_weights(labels, 4)
    assert w.tolist() == pytest.approx([(2 / 9) / (6 / 9), 1.0, 2.0, 0.0])     # median 2/9; class 3 absent
    recipe = dl.recipes.get("seg_segnet", "smoke")
    assert recipe.class_balance                                                # SegNet §4 balances classes
    from types import SimpleNamespace

    from dcnn_lib.recipes.segmentation import NUM_CLASSES

    data = SimpleNamespace(y_train=labels)
    full = median_frequency_weights(labels, NUM_CLASSES)
    loss = recipe.fit_kwargs(data)["loss_fn"]
    assert torch.allclose(loss.weight, full) and loss.ignore_index == 255
    half = dl.recipes.get("seg_fcn32s", "smoke")                               # weights ** 0.5
    assert torch.allclose(half.fit_kwargs(data)["loss_fn"].weight, full ** 0.5)
    assert "loss_fn" not in dl.recipes.get("seg_unet", "smoke").fit_kwargs(data)   # unweighted
