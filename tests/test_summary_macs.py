"""Multiply-adds of dl.analysis.summary: attention counted, torchvision's published figures met.

torchvision publishes for every classifier's weights a "GFLOPS" figure
(``weights.meta["_ops"]``) that counts multiply-adds of convolutions, matrix products and
attention. The figures ship in the installed package, so this test is offline. The models
are built with ``weights=None`` on the meta device (no memory, no initialisation); only the
figures come from the weight enums.
"""
from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torch.utils.flop_counter import FlopCounterMode

import dcnn_lib as dl

# One or more of every kind of network torchvision has: plain, inception, residual, grouped,
# dense, depthwise/squeeze-excitation, shuffles, ConvNeXt, windowed and global attention.
PUBLISHED = ["alexnet", "vgg16", "googlenet", "inception_v3", "resnet50", "resnext50_32x4d", "densenet121",
             "squeezenet1_1", "mobilenet_v3_large", "efficientnet_b0", "shufflenet_v2_x1_0", "regnet_y_400mf",
             "convnext_tiny", "swin_t", "swin_v2_t", "maxvit_t", "vit_b_16", "vit_b_32"]


def _weights(name: str):
    enum = torchvision.models.get_model_weights(name)
    return getattr(enum, "IMAGENET1K_V1", None) or enum.DEFAULT


def _model(name: str) -> nn.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with torch.device("meta"):
                return torchvision.models.get_model(name, weights=None)
        except NotImplementedError:   # an initialiser that reads values (RegNet): build it for real
            return torchvision.models.get_model(name, weights=None)


@pytest.mark.parametrize("name", PUBLISHED)
def test_total_macs_equal_torchvisions_published_gflops(name):
    weights = _weights(name)
    crop = weights.transforms().crop_size[0]
    macs = dl.analysis.summary(_model(name), (3, crop, crop)).total_macs
    published = weights.meta["_ops"] * 1e9
    # within 1%, or within the rounding of the published figure (three decimals of a GFLOP)
    assert abs(macs - published) <= max(0.01 * published, 0.0005e9), (name, macs / 1e9, weights.meta["_ops"])


def test_the_issues_two_figures():
    vit = dl.analysis.summary(_model("vit_b_16"), (3, 224, 224))
    assert vit.total_macs / 1e9 == pytest.approx(17.564, rel=1e-3)
    convnext = dl.analysis.summary(_model("convnext_tiny"), (3, 224, 224))
    assert convnext.total_macs / 1e9 == pytest.approx(4.456, rel=1e-3)


# ---- attention paths, worked by hand --------------------------------------------------------------

E, HEADS, L, FF = 16, 4, 10, 24
# projections: Q, K, V and the output, L·E·E each; attention: Q Kᵀ and A V, L·L·E each
ATTENTION = 4 * L * E * E + 2 * L * L * E


def _tokens():
    return torch.randn(1, L, E)


class SelfAttention(nn.Module):
    def __init__(self, need_weights=False):
        super().__init__()
        self.attn, self.need_weights = nn.MultiheadAttention(E, HEADS, batch_first=True), need_weights

    def forward(self, x):
        return self.attn(x, x, x, need_weights=self.need_weights)[0]


@pytest.mark.parametrize("need_weights", [False, True])
@pytest.mark.parametrize("device", [None, "cpu"])
def test_multihead_attention_fast_and_slow_paths(device, need_weights):
    s = dl.analysis.summary(SelfAttention(need_weights), _tokens(), device=device)
    assert s["attn"].macs == ATTENTION and s.total_macs == ATTENTION


def test_pytorchs_own_counter_misses_the_fused_paths():
    """Why summary has its own rules: on the CPU in eval mode nn.MultiheadAttention runs one
    fused kernel that FlopCounterMode does not price."""
    block, x = SelfAttention().eval(), _tokens()
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        block(x)
    assert counter.get_total_flops() // 2 < ATTENTION
    assert dl.analysis.summary(block, x, device="cpu").total_macs == ATTENTION


@pytest.mark.parametrize("device", [None, "cpu"])
def test_transformer_encoder_layer_fast_path(device):
    layer = nn.TransformerEncoderLayer(E, HEADS, dim_feedforward=FF, batch_first=True, dropout=0.0)
    s = dl.analysis.summary(layer, _tokens(), device=device)
    assert s.total_macs == ATTENTION + 2 * L * E * FF


@pytest.mark.parametrize("device", [None, "cpu"])
def test_scaled_dot_product_attention(device):
    class SDPA(nn.Module):
        def forward(self, x):                   # N x heads x L x E/heads
            q = x.view(1, L, HEADS, E // HEADS).transpose(1, 2)
            return F.scaled_dot_product_attention(q, q, q)

    assert dl.analysis.summary(SDPA(), _tokens(), device=device).total_macs == 2 * L * L * E


def test_a_small_vit_equals_its_formula_on_meta_and_on_the_cpu():
    vit = torchvision.models.VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2,
                                               hidden_dim=E, mlp_dim=FF, num_classes=3)
    tokens = (32 // 8) ** 2 + 1
    per_layer = 4 * tokens * E * E + 2 * tokens * tokens * E + 2 * tokens * E * FF
    expected = 16 * (3 * 8 * 8 * E) + 2 * per_layer + E * 3    # patches, encoder, head
    meta = dl.analysis.summary(vit, (3, 32, 32))
    cpu = dl.analysis.summary(vit, (3, 32, 32), device="cpu")
    assert meta.traced_on == "meta" and cpu.traced_on == "cpu"
    assert meta.total_macs == cpu.total_macs == expected
    # the class token and position embedding, used in the model's own forward, are on rows
    assert meta.leaf_params == meta.total_params == sum(p.numel() for p in vit.parameters())
    assert [r.output_shape for r in meta] == [r.output_shape for r in cpu]
