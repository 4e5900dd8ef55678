"""VGG against Simonyan & Zisserman (ICLR 2015): Table 1 as built, Table 2's parameter counts,
configuration C's 1×1 layers, A-LRN's LRN, and the VGG-16 per-layer list of the lecture.
(Forward/backward, torchvision twins and wrong-channel errors: tests/test_models.py.)"""
import pytest
import torch
import torch.nn as nn

import dcnn_lib as dl
from dcnn_lib.layers.lrn import LocalResponseNorm
from dcnn_lib.models.classification.vgg import TABLE1, TABLE2_MILLIONS, VARIANTS, VGG, make_features, weight_layers

# (registered name, Table 1 column, exact parameters). Twins: torchvision's metadata. A-LRN
# has A's weights (LRN has none); C = D minus three 3×3 kernels plus three 1×1 kernels.
CONFIGS = [("vgg11", "A", 132_863_336), ("vgg11_lrn", "A-LRN", 132_863_336), ("vgg13", "B", 133_047_848),
           ("vgg16_c", "C", 133_638_952), ("vgg16", "D", 138_357_544), ("vgg19", "E", 143_667_240)]


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_table1_weight_layers():
    # the header row of Table 1: 11, 11, 13, 16, 16, 19 weight layers
    assert {c: weight_layers(c) for c in TABLE1} == {"A": 11, "A-LRN": 11, "B": 13, "C": 16, "D": 16, "E": 19}
    for column in TABLE1.values():
        assert column.count("maxpool") == 5 and column[-1] == "maxpool"


@pytest.mark.parametrize("name,config,params", CONFIGS)
def test_every_configuration_parameter_count_and_table2(name, config, params):
    model = dl.models.get(name)
    assert n_params(model) == params
    assert round(params / 1e6) == TABLE2_MILLIONS[config]  # 133, 133, 133, 134, 138, 144
    assert VARIANTS[name][0] == config
    assert isinstance(model, VGG) and model.config == config


def test_table2_as_printed():
    assert TABLE2_MILLIONS == {"A": 133, "A-LRN": 133, "B": 133, "C": 134, "D": 138, "E": 144}


@pytest.mark.parametrize("name,config", [("vgg11_bn", "A"), ("vgg13_bn", "B"), ("vgg16_bn", "D"), ("vgg19_bn", "E")])
def test_bn_twins_name_their_column_and_normalise_every_conv(name, config):
    model = dl.models.get(name)
    assert VARIANTS[name][0] == config
    layers = list(model.features)
    convs = [i for i, m in enumerate(layers) if isinstance(m, nn.Conv2d)]
    assert all(isinstance(layers[i + 1], nn.BatchNorm2d) for i in convs)
    assert len(convs) == weight_layers(config) - 3


def test_config_c_has_three_1x1_convolutions_at_the_end_of_blocks_3_to_5():
    layers = list(dl.models.get("vgg16_c").features)
    convs = [(i, m) for i, m in enumerate(layers) if isinstance(m, nn.Conv2d)]
    ones = [(i, m) for i, m in convs if m.kernel_size == (1, 1)]
    assert [(m.in_channels, m.out_channels, m.padding) for _, m in ones] == [(256, 256, (0, 0)), (512, 512, (0, 0)),
                                                                               (512, 512, (0, 0))]
    for i, _ in ones:  # each is the last convolution before a pooling: conv, ReLU, maxpool
        assert isinstance(layers[i + 1], nn.ReLU) and isinstance(layers[i + 2], nn.MaxPool2d)
    assert len(convs) == 13 and sum(m.kernel_size == (3, 3) for _, m in convs) == 10
    # C differs from D only there: three 3×3 kernels become 1×1 kernels
    saved = (9 - 1) * (256 * 256 + 2 * 512 * 512)
    assert n_params(dl.models.get("vgg16")) - n_params(dl.models.get("vgg16_c")) == saved == 4_718_592
    # the same input size comes out (1×1 convolutions keep the map size)
    with torch.no_grad():
        assert dl.models.get("vgg16_c").eval()(torch.randn(1, 3, 32, 32)).shape == (1, 1000)


def test_a_lrn_normalises_after_the_first_convolution_with_alexnets_constants():
    model = dl.models.get("vgg11_lrn")
    layers = list(model.features)
    lrns = [i for i, m in enumerate(layers) if isinstance(m, LocalResponseNorm)]
    assert lrns == [2]
    assert isinstance(layers[0], nn.Conv2d) and isinstance(layers[1], nn.ReLU) and isinstance(layers[3], nn.MaxPool2d)
    lrn = layers[2]
    assert (lrn.size, lrn.alpha, lrn.beta, lrn.k, lrn.mode) == (5, 1e-4, 0.75, 2.0, "across")
    # A-LRN is A plus a parameter-free layer: A's weights load once the indices are shifted
    a = dl.models.get("vgg11").eval()
    shifted = {}
    for key, value in a.state_dict().items():
        if key.startswith("features."):
            idx = int(key.split(".")[1])
            key = f"features.{idx + 1 if idx >= 2 else idx}.{key.split('.', 2)[2]}"
        shifted[key] = value
    model.load_state_dict(shifted, strict=True)
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        assert not torch.allclose(model.eval()(x), a(x))  # the LRN changes the function


# The lecture's VGG-16 list: output shape, "memory" (elements) and params (weights, no biases)
SLIDE = [
    ("features.0", (64, 224, 224), 3_211_264, 1_728), ("features.2", (64, 224, 224), 3_211_264, 36_864),
    ("features.4", (64, 112, 112), 802_816, 0),
    ("features.5", (128, 112, 112), 1_605_632, 73_728), ("features.7", (128, 112, 112), 1_605_632, 147_456),
    ("features.9", (128, 56, 56), 401_408, 0),
    ("features.10", (256, 56, 56), 802_816, 294_912), ("features.12", (256, 56, 56), 802_816, 589_824),
    ("features.14", (256, 56, 56), 802_816, 589_824), ("features.16", (256, 28, 28), 200_704, 0),
    ("features.17", (512, 28, 28), 401_408, 1_179_648), ("features.19", (512, 28, 28), 401_408, 2_359_296),
    ("features.21", (512, 28, 28), 401_408, 2_359_296), ("features.23", (512, 14, 14), 100_352, 0),
    ("features.24", (512, 14, 14), 100_352, 2_359_296), ("features.26", (512, 14, 14), 100_352, 2_359_296),
    ("features.28", (512, 14, 14), 100_352, 2_359_296), ("features.30", (512, 7, 7), 25_088, 0),
    ("classifier.0", (4096,), 4096, 102_760_448), ("classifier.3", (4096,), 4096, 16_777_216),
    ("classifier.6", (1000,), 1000, 4_096_000),
]


def test_vgg16_summary_recomputes_the_lecture_list_and_torchvisions_totals():
    s = dl.analysis.summary(dl.models.get("vgg16"), (3, 224, 224))
    for name, shape, memory, weights in SLIDE:
        row = s[name]
        assert row.output_shape[1:] == shape, name
        assert row.activations == memory, name
        bias = row.output_shape[1] if weights else 0
        assert row.params == weights + bias, name
    assert s.total_params == 138_357_544
    assert s.total_macs == 15_470_264_320 and round(s.total_macs / 1e9, 2) == 15.47  # torchvision: 15.47 GMACs
    # the rows of the slide (input + every conv, pool and FC output) add up to 15.2 M values
    assert 3 * 224 * 224 + sum(m for _, _, m, _ in SLIDE) == 15_237_608


def test_make_features_reads_the_papers_notation():
    f = make_features(["conv3-8", "maxpool", "conv7-16", "conv1-4"], in_channels=1, batch_norm=True, width=0.5)
    convs = [m for m in f if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size[0], c.padding[0]) for c in convs] == [
        (1, 4, 3, 1), (4, 8, 7, 3), (8, 2, 1, 0)]
    assert sum(isinstance(m, nn.BatchNorm2d) for m in f) == 3
    with pytest.raises(ValueError, match="unknown layer 'conv3x3'"):
        make_features(["conv3x3"])
    with pytest.raises(ValueError, match="config must be one of"):
        VGG("F")


def test_paper_initialisation_is_fixed_scale_and_kaiming_follows_the_fan_in():
    torch.manual_seed(0)
    model = VGG("A", init="paper")
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            assert abs(m.weight.std().item() - 0.01) < 0.002 and not m.bias.any()
    model = dl.models.get("vgg_small", init="kaiming")
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            expected = (2 / m.weight[0].numel()) ** 0.5
            assert abs(m.weight.std().item() / expected - 1) < 0.25
    with pytest.raises(ValueError, match="init must be"):
        VGG("A", init="xavier")


def test_vgg_small_is_vgg11_at_a_quarter_width_for_32x32():
    model = dl.models.get("vgg_small")
    convs = [m.out_channels for m in model.features if isinstance(m, nn.Conv2d)]
    assert convs == [16, 32, 64, 64, 128, 128, 128, 128]
    assert n_params(model) == dl.models.meta("vgg_small").published.params.value
    out = model.eval()(torch.randn(2, 1, 32, 32))
    assert out.shape == (2, 10)
    deep = dl.models.get("vgg_small", config="E", width=0.125, batch_norm=False)
    assert sum(isinstance(m, nn.Conv2d) for m in deep.modules()) == 16
    assert not any(isinstance(m, nn.BatchNorm2d) for m in deep.modules())
