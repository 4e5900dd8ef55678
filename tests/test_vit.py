"""Vision Transformer: patches as a strided convolution, the packed attention layer against
``nn.MultiheadAttention``, torchvision twins with a non-zero head, position embeddings at other
sizes, and the attention analysis (maps, mean attention distance, rollout, token receptive
field).

(Parameter counts and forward/backward of every registered ViT run in tests/test_models.py.)
"""
import math

import pytest
import torch
import torch.nn as nn

import dcnn_lib as dl
from dcnn_lib.layers import Attention, PatchEmbedding, TransformerEncoder, ViTBlock, sincos_2d
from dcnn_lib.layers.pos_embedding import resize_grid_embedding
from dcnn_lib.models.classification.vit import VisionTransformer


def tiny_pair(seed: int = 0, image_size: int = 32, patch: int = 8):
    """A small torchvision ViT with a random (not zero) head, and ours with its weights."""
    import torchvision

    torch.manual_seed(seed)
    theirs = torchvision.models.VisionTransformer(image_size, patch, 2, 4, 64, 128, num_classes=10).eval()
    nn.init.normal_(theirs.heads.head.weight, std=0.5)        # torchvision starts the head at 0
    ours = VisionTransformer(image_size, patch, 2, 4, 64, 128, num_classes=10).eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    return ours, theirs


def test_patch_embedding_is_a_strided_convolution():
    emb = PatchEmbedding(4, 1, 8)
    x = torch.randn(2, 1, 12, 8)
    out = emb(x)
    assert out.shape == (2, 3, 2, 8)                                       # N x H/p x W/p x dim
    # token (1, 0) is the projection of rows 4..7, columns 0..3
    patch = x[:, :, 4:8, 0:4].reshape(2, -1)
    assert torch.allclose(out[:, 1, 0], patch @ emb.weight.reshape(8, -1).T + emb.bias, atol=1e-6)
    with pytest.raises(ValueError, match="multiples of the patch size 4"):
        emb(torch.randn(1, 1, 10, 8))


@pytest.mark.parametrize("cross", [False, True])
def test_packed_attention_equals_multihead_attention(cross):
    torch.manual_seed(0)
    mha = nn.MultiheadAttention(32, 4, batch_first=True).eval()
    ours = Attention(32, 4, packed=True).eval()
    ours.load_state_dict(mha.state_dict(), strict=True)
    q = torch.randn(3, 5, 32)
    k = torch.randn(3, 7, 32) if cross else q
    expected, weights = mha(q, k, k, need_weights=True, average_attn_weights=False)
    ours.store_attention = True
    assert torch.allclose(ours(q, k, k), expected, atol=1e-5)
    assert torch.allclose(ours.attention, weights, atol=1e-6)
    assert torch.allclose(ours.attention.sum(-1), torch.ones(3, 4, 5))


def test_attention_rejects_bad_shapes_and_heads():
    with pytest.raises(ValueError, match="heads \\(5\\) must divide"):
        Attention(32, 5)
    with pytest.raises(ValueError, match="expected q, k, v of shape \\(N, L, dim\\)"):
        Attention(32, 4)(torch.randn(5, 32), torch.randn(5, 32), torch.randn(5, 32))


def test_vit_block_and_encoder_are_torchvisions():
    from torchvision.models.vision_transformer import Encoder, EncoderBlock

    torch.manual_seed(0)
    theirs = EncoderBlock(4, 32, 64, 0.0, 0.0).eval()
    ours = ViTBlock(32, 4, mlp_dim=64, eps=1e-6, dropout=0.0, packed=True).eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(2, 6, 32)
    assert torch.allclose(ours(x), theirs(x), atol=1e-5)
    enc_theirs = Encoder(6, 2, 4, 32, 64, 0.0, 0.0).eval()
    enc_ours = TransformerEncoder(2, 32, 4, 64, seq_length=6).eval()
    enc_ours.load_state_dict(enc_theirs.state_dict(), strict=True)
    assert torch.allclose(enc_ours(x), enc_theirs(x), atol=1e-5)


def test_vit_twin_with_a_random_head():
    # the registry-wide twin test compares logits of torchvision's initialisation, whose head is
    # zero (all logits 0); here the head is random, so the whole network must agree
    ours, theirs = tiny_pair()
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        a, b = ours(x), theirs(x)
    assert b.abs().max() > 0.1
    assert torch.allclose(a, b, atol=1e-5, rtol=1e-4)


def test_vit_b_16_twin_at_224():
    import torchvision

    torch.manual_seed(0)
    theirs = torchvision.models.vit_b_16(weights=None).eval()
    nn.init.normal_(theirs.heads.head.weight, std=0.02)
    ours = dl.models.get("vit_b_16").eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        a, b = ours(x), theirs(x)
    assert b.abs().max() > 0.1 and torch.allclose(a, b, atol=1e-4, rtol=1e-4)


def test_configurations_of_table1():
    for name, (layers, dim, mlp, heads, patch) in {"vit_b_16": (12, 768, 3072, 12, 16), "vit_b_32": (12, 768, 3072, 12, 32),
                                                   "vit_l_16": (24, 1024, 4096, 16, 16),
                                                   "vit_h_14": (32, 1280, 5120, 16, 14)}.items():
        with torch.device("meta"):
            m = dl.models.get(name)
        assert m.config == {"image_size": 224, "patch_size": patch, "num_layers": layers, "num_heads": heads,
                            "hidden_dim": dim, "mlp_dim": mlp}
        assert m.encoder.pos_embedding.shape == (1, (224 // patch) ** 2 + 1, dim)
        if patch != 32:   # Table 1's sizes are those of the /16 and /14 models (a 32x32 patch adds 2.4M)
            paper = dl.models.meta(name).published.other["params_m"].value
            assert abs(sum(p.numel() for p in m.parameters()) / 1e6 - paper) / paper < 0.01


def test_other_input_sizes_resample_the_position_embeddings():
    ours, _ = tiny_pair()
    with torch.no_grad():
        out = ours(torch.randn(2, 3, 48, 40))                            # a 6 x 5 grid of patches
    assert out.shape == (2, 10)
    pos = torch.randn(1, 1 + 16, 8)
    same = resize_grid_embedding(pos, (4, 4))
    assert same is pos
    bigger = resize_grid_embedding(pos, (8, 6))
    assert bigger.shape == (1, 49, 8) and torch.equal(bigger[:, 0], pos[:, 0])
    enc = TransformerEncoder(1, 8, 2, 16, seq_length=17)
    with pytest.raises(ValueError, match="pass the patch grid"):
        enc(torch.randn(1, 10, 8))


def test_sincos_embedding():
    e = sincos_2d(8, (3, 4))
    assert e.shape == (12, 8)
    # first half depends on the row only, second half on the column only
    assert torch.equal(e[0, :4], e[3, :4]) and not torch.equal(e[0, :4], e[4, :4])
    assert torch.equal(e[0, 4:], e[4, 4:]) and not torch.equal(e[0, 4:], e[1, 4:])
    assert torch.allclose(e[0], torch.tensor([0., 0., 1., 1., 0., 0., 1., 1.]))
    with pytest.raises(ValueError, match="multiple of 4"):
        sincos_2d(6, (2, 2))


# ---- attention analysis -------------------------------------------------------------------------
def test_attention_maps_of_ours_equal_torchvisions():
    ours, theirs = tiny_pair()
    x = torch.randn(2, 3, 32, 32)
    a, b = dl.analysis.attention_maps(ours, x), dl.analysis.attention_maps(theirs, x)
    assert list(a) == list(b) == [f"encoder.layers.encoder_layer_{i}.self_attention" for i in range(2)]
    for ka in a:
        assert a[ka].shape == (2, 4, 17, 17) and torch.allclose(a[ka], b[ka], atol=1e-6)
    assert ours.encoder.layers[0].self_attention.store_attention is False     # left as found
    with pytest.raises(ValueError, match="no attention layer"):
        dl.analysis.attention_maps(nn.Linear(3, 3), torch.randn(1, 3))


def test_mean_attention_distance_by_hand():
    grid = (2, 2)                                                         # patches 0 1 / 2 3
    self_only = torch.eye(5).repeat(1, 2, 1, 1)                           # 1 image, 2 heads
    assert torch.allclose(dl.analysis.mean_attention_distance(self_only, grid, patch_size=4), torch.zeros(2))
    # each patch attends only to the class token and its horizontal neighbour (distance 1 patch)
    a = torch.zeros(1, 1, 5, 5)
    for q, k in ((1, 2), (2, 1), (3, 4), (4, 3)):
        a[0, 0, q, k], a[0, 0, q, 0] = 0.5, 0.5
    assert dl.analysis.mean_attention_distance(a, grid, patch_size=4).item() == pytest.approx(4.0)
    uniform = torch.full((1, 1, 4, 4), 0.25)
    expected = (0 + 1 + 1 + math.sqrt(2)) / 4 * 3
    assert dl.analysis.mean_attention_distance(uniform, grid, 3, prefix_tokens=0).item() == pytest.approx(expected)
    with pytest.raises(ValueError, match="does not match a 3×3 grid"):
        dl.analysis.mean_attention_distance(uniform, (3, 3))


def test_rollout_and_class_token_map():
    eye = torch.eye(5).repeat(2, 3, 1, 1)
    r = dl.analysis.attention_rollout([eye, eye])
    assert torch.allclose(r, torch.eye(5).expand(2, 5, 5))
    a = torch.zeros(1, 1, 5, 5)
    a[0, 0, :, 3] = 1.0                                                   # everybody looks at patch 2
    m = dl.analysis.class_token_map(a, (2, 2))
    assert m.shape == (1, 2, 2) and m[0, 1, 0] == 1 and m.sum() == 1
    r = dl.analysis.attention_rollout({"a": a}, residual=0.0)
    assert torch.allclose(dl.analysis.class_token_map(r, (2, 2)), m)


def test_token_receptive_field_patch_then_global():
    torch.manual_seed(0)
    model = VisionTransformer(28, 4, 2, 4, 32, 64, num_classes=10, in_channels=1)
    x = torch.randn(2, 1, 28, 28)
    patch = dl.analysis.token_receptive_field(model, x, "conv_proj")
    rows, cols = (patch > 0).nonzero(as_tuple=True)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (12, 15, 12, 15)   # the centre patch
    before = dl.analysis.token_receptive_field(model, x, "encoder.layers.encoder_layer_0.ln_1", prefix_tokens=1)
    assert int((before > 0).sum()) == 16                                   # layer norm: still one patch
    after = dl.analysis.token_receptive_field(model, x, "encoder.layers.encoder_layer_0", prefix_tokens=1)
    assert bool((after > 0).all())                                         # one attention layer: global
    with pytest.raises(ValueError, match="no module 'nope'"):
        dl.analysis.token_receptive_field(model, x, "nope")


def vit_macs(image: int, patch: int, layers: int, dim: int, mlp: int, classes: int, channels: int = 3) -> int:
    """Multiply-adds of a ViT by hand: patch projection, per layer q/k/v/out projections (4ND²),
    scores and weighted sum (2N²D) and the MLP (2·N·D·mlp), then the head."""
    n_patches = (image // patch) ** 2
    n = n_patches + 1
    return n_patches * channels * patch * patch * dim + layers * (4 * n * dim * dim + 2 * n * n * dim
                                                                  + 2 * n * dim * mlp) + dim * classes


@pytest.mark.parametrize("name", ["vit_b_16", "vit_b_32", "vit_small"])
def test_summary_counts_attention(name):
    info = dl.models.meta(name)
    with torch.device("meta"):
        model = dl.models.get(name)
    c = model.config
    macs = dl.analysis.summary(model, info.input_size).total_macs
    assert macs == vit_macs(c["image_size"], c["patch_size"], c["num_layers"], c["hidden_dim"], c["mlp_dim"],
                            model.num_classes, info.input_size[0])
    if info.published.gmacs is not None:                                  # torchvision: 17.564, 4.409
        assert macs / 1e9 == pytest.approx(info.published.gmacs.value, rel=1e-3)
