"""Recurrent convolutions (RCL, R2U-Net's unit, IRRCNN and its equal-parameter family, RCNN) and
capsules (squash, routing by agreement, CapsNet's counts, margin loss), against hand-written
loops and hand-worked numbers.

(Forward/backward of every registered model and the ``reference["params"]`` counts run in
tests/test_models.py.)
"""
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import dcnn_lib as dl
from dcnn_lib.layers import (CapsuleLoss, InceptionRecurrentBlock, PrimaryCapsules, RecurrentConv,
                             RecurrentResidualBlock, RoutingCapsules, dynamic_routing, margin_loss, squash)
from dcnn_lib.layers.recurrent_conv import liang_hu_lrn


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def _randomise_norms(m: nn.Module, seed: int = 0) -> nn.Module:
    """Non-trivial running statistics and affine parameters, so that eval-mode BN matters."""
    g = torch.Generator().manual_seed(seed)
    for bn in m.modules():
        if isinstance(bn, nn.BatchNorm2d):
            c = bn.num_features
            bn.running_mean.copy_(torch.randn(c, generator=g) * 0.1)
            bn.running_var.copy_(torch.rand(c, generator=g) + 0.5)
            bn.weight.data.copy_(torch.rand(c, generator=g) + 0.5)
            bn.bias.data.copy_(torch.randn(c, generator=g) * 0.1)
    return m.eval()


# ---- the RCL ------------------------------------------------------------------------------------
@pytest.mark.parametrize("t", [0, 1, 2, 3, 4])
def test_rcl_parameters_do_not_depend_on_t(t):
    rcl = RecurrentConv(3, 8, 3, t=t, norm="none")
    weights = 3 * 8 * 9 + 8 + (8 * 8 * 9 if t else 0)        # w_f (+ bias), w_r once
    assert n_params(rcl) == weights
    assert n_params(RecurrentConv(3, 8, 3, t=t, norm="lrn")) == weights          # LRN has no parameters
    # with batch norm only the per-step norms grow with t (2 parameters per map and step)
    assert n_params(RecurrentConv(3, 8, 3, t=t)) == weights - 8 + 2 * 8 * (t + 1)


@pytest.mark.parametrize("norm", ["batch", "lrn", "none"])
@pytest.mark.parametrize("kernel", [1, 3])
def test_rcl_equals_a_hand_written_unrolled_loop(norm, kernel):
    torch.manual_seed(0)
    rcl = _randomise_norms(RecurrentConv(3, 6, kernel, t=3, norm=norm))
    x = torch.randn(2, 3, 9, 9)
    wf, wr, b = rcl.feedforward.weight, rcl.recurrent.weight, rcl.feedforward.bias
    p = kernel // 2

    def state(step, z):
        if norm == "batch":
            bn = rcl.norms[step]
            z = (z - bn.running_mean[:, None, None]) / torch.sqrt(bn.running_var[:, None, None] + bn.eps)
            return F.relu(z * bn.weight[:, None, None] + bn.bias[:, None, None])
        if norm == "lrn":                    # Liang & Hu: x / (1 + α/N Σ x²)^β over N = K/8 + 1 maps
            a = F.relu(z)
            n = 6 // 8 + 1
            sq = F.pad(a * a, (0, 0, 0, 0, n // 2, (n - 1) // 2))
            s = sum(sq[:, i:i + 6] for i in range(n))
            return a / (1 + 0.001 / n * s) ** 0.75
        return F.relu(z)

    with torch.no_grad():
        u = F.conv2d(x, wf, b, padding=p)
        h = state(0, u)
        states = [h]
        for step in range(1, 4):
            h = state(step, u + F.conv2d(h, wr, None, padding=p))
            states.append(h)
        assert torch.allclose(rcl(x), h, atol=1e-6)
        assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(rcl.states(x), states))


def test_rcl_shares_its_recurrent_kernel_across_steps():
    rcl = RecurrentConv(2, 4, t=3, norm="none")
    rcl(torch.randn(1, 2, 8, 8)).sum().backward()
    convs = [m for m in rcl.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 2                                   # one feed-forward, one recurrent kernel
    assert rcl.recurrent.weight.grad is not None             # the sum of its gradients over the 3 steps


def test_rcl_receptive_field_grows_with_t_at_fixed_parameters():
    sizes = [dl.analysis.receptive_field(RecurrentConv(1, t=t, norm="none"), (1, 32, 32))[-1].size[0]
             for t in range(5)]
    assert sizes == [3, 5, 7, 9, 11]                        # (2T + 3): T + 1 stacked 3×3 views
    assert len({n_params(RecurrentConv(1, t=t, norm="none")) for t in range(1, 5)}) == 1


def test_liang_hu_lrn_constants():
    lrn = liang_hu_lrn(96)
    assert (lrn.size, lrn.beta, lrn.k) == (13, 0.75, 1.0) and math.isclose(lrn.alpha * 13, 0.001)


def test_rcl_bad_arguments_say_what_was_given():
    with pytest.raises(ValueError, match="t .*>= 0, got -1"):
        RecurrentConv(4, t=-1)
    with pytest.raises(ValueError, match="norm must be one of"):
        RecurrentConv(4, norm="group")
    with pytest.raises(ValueError, match="odd"):
        RecurrentConv(4, kernel_size=2)


# ---- R2U-Net's unit on the shared RCL -------------------------------------------------------------
def test_r2unet_unit_is_two_shared_rcls_and_a_residual():
    torch.manual_seed(0)
    block = _randomise_norms(RecurrentResidualBlock(3, 4, t=2))
    assert [type(m) for m in block.rcl] == [RecurrentConv, RecurrentConv]
    # the state-dict keys R2U-Net checkpoints were saved with
    assert sorted(k for k in block.state_dict() if k.startswith("rcl.0.")) == sorted(
        ["rcl.0.feedforward.weight", "rcl.0.recurrent.weight"]
        + [f"rcl.0.norms.{i}.{p}" for i in range(3)
           for p in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")])
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        a = block.adapt(x)
        assert torch.allclose(block(x), a + block.rcl[1](block.rcl[0](a)))
    # R2U-Net's parameters: 2 RCLs (two 3×3 kernels, 3 BNs each) and the 1×1 per unit
    assert n_params(block) == (3 * 4 + 4) + 2 * (2 * 4 * 4 * 9 + 3 * 2 * 4)


# ---- IRRCNN and the equal-parameter family --------------------------------------------------------
def _conv_weights(m: nn.Module) -> int:
    return sum(p.numel() for x in m.modules() if isinstance(x, (nn.Conv2d, nn.Linear)) for p in x.parameters())


@pytest.mark.parametrize("suffix", ["", "_small"])
def test_irrcnn_family_has_equal_convolution_weights(suffix):
    nets = {v: dl.models.get(v + suffix) for v in ("irrcnn", "ircnn", "eirn", "ein")}
    # an RCL's two kernels become two stacked convolutions: the same weights
    assert _conv_weights(nets["irrcnn"]) == _conv_weights(nets["eirn"])
    assert _conv_weights(nets["ircnn"]) == _conv_weights(nets["ein"])
    # the residual adds only the 1×1 projections of blocks whose input is narrower than their output
    projections = [b.downsample for _, b in nets["irrcnn"].blocks() if b.downsample is not None]
    assert projections and n_params(nets["irrcnn"]) - n_params(nets["ircnn"]) == sum(map(n_params, projections))
    # batch norms: T + 1 per RCL against 2 per unrolled pair
    t = nets["irrcnn"].config["t"]
    rcl_maps = sum(r.out_channels for r in nets["irrcnn"].modules() if isinstance(r, RecurrentConv))
    assert n_params(nets["irrcnn"]) - n_params(nets["eirn"]) == 2 * rcl_maps * (t + 1 - 2)


def test_recurrent_cnn_small_matches_irrcnn_small():
    a, b = n_params(dl.models.get("recurrent_cnn_small")), n_params(dl.models.get("irrcnn_small"))
    assert abs(a - b) / b < 0.005


def test_recurrent_cnn_counts_match_the_paper():
    for k, millions in {96: 0.67, 128: 1.19, 160: 1.86}.items():
        count = 3 * k * 25 + k + 4 * (2 * 9 * k * k + k) + 10 * k + 10     # conv1, 4 RCLs, softmax
        assert count == n_params(dl.models.get(f"recurrent_cnn{k}"))
        assert round(count / 1e6, 2) == millions


@pytest.mark.parametrize("name", ["dcrn", "dcrn_small"])
def test_dcrn_layers_are_dense_rcls_and_t0_is_the_plain_dense_network(name):
    net, plain = dl.models.get(name), dl.models.get(name, t=0)
    layers = [m for m in net.modules() if isinstance(m, dl.layers.RecurrentDenseLayer)]
    k = layers[0].out_channels
    # every layer reads all earlier maps: its input grows by k from one layer to the next in a block
    block = net.block1
    assert [layer.in_channels for layer in block.layers] == [block.layers[0].in_channels + i * k
                                                           for i in range(len(block.layers))]
    # t = 2 adds to each layer one k×k 3×3 recurrent kernel and two batch norms (2k each)
    assert n_params(net) - n_params(plain) == len(layers) * (9 * k * k + 2 * 2 * k)
    x = torch.randn(2, *dl.models.meta(name).input_size)
    assert net.block1(net.stem(x) if name == "dcrn" else net.stem_pool(net.stem(x))).shape[1] == block.out_channels


def test_dcrn_dense_layer_equals_an_rcl_on_the_concatenation():
    torch.manual_seed(0)
    layer = _randomise_norms(dl.layers.RecurrentDenseLayer(20, 6, t=2))
    parts = [torch.randn(2, 8, 5, 5), torch.randn(2, 12, 5, 5)]
    assert torch.allclose(layer(parts), RecurrentConv.forward(layer, torch.cat(parts, 1)))
    with pytest.raises(ValueError, match="RecurrentDenseLayer.*20 channels.*got 8"):
        layer(parts[:1])


def test_irrcnn_block_shapes_and_residual_protocol():
    block = InceptionRecurrentBlock(8, (4, 8, 4), t=2).eval()
    x = torch.randn(2, 8, 10, 10)
    with torch.no_grad():
        y = block(x)
        assert y.shape == (2, 16, 10, 10)
        assert torch.allclose(y, block.downsample(x) + block.residual(x))
    plain = InceptionRecurrentBlock(16, (4, 8, 4), residual=False)
    assert plain.shortcut(torch.randn(1, 16, 4, 4)) is None
    same = InceptionRecurrentBlock(16, (4, 8, 4))
    assert same.downsample is None                           # widths agree: identity shortcut
    with pytest.raises(ValueError, match="unit must be one of"):
        InceptionRecurrentBlock(8, (4, 8, 4), unit="dense")
    with pytest.raises(ValueError, match="widths are"):
        InceptionRecurrentBlock(8, (4, 8))


# ---- capsules -------------------------------------------------------------------------------------
def test_squash_keeps_direction_and_maps_lengths_into_0_1():
    # lengths from 1e-3 to 1e3 (float64: in float32 1/(1 + ‖s‖²) vanishes beside 1 above ‖s‖ ≈ 4000)
    s = torch.randn(1000, 16, dtype=torch.float64) * torch.logspace(-3, 3, 1000, dtype=torch.float64)[:, None]
    v = squash(s)
    n_s, n_v = s.norm(dim=-1), v.norm(dim=-1)
    assert (n_v >= 0).all() and (n_v < 1).all()
    assert torch.allclose(n_v, n_s ** 2 / (1 + n_s ** 2), rtol=1e-6, atol=1e-12)
    assert (squash(torch.randn(500, 8) * 30).norm(dim=-1) < 1).all()               # float32, ‖s‖ ~ 85
    assert torch.allclose(F.normalize(v, dim=-1), F.normalize(s, dim=-1), atol=1e-5)
    zero = torch.zeros(3, 8, requires_grad=True)
    assert torch.equal(squash(zero), torch.zeros(3, 8))
    squash(zero).sum().backward()
    assert torch.isfinite(zero.grad).all()
    assert math.isclose(squash(torch.tensor([3.0, 4.0])).norm().item(), 25 / 26, rel_tol=1e-6)


def test_routing_coefficients_sum_to_one_over_parents():
    u_hat = torch.randn(4, 30, 5, 8)
    r = dynamic_routing(u_hat, iterations=3, record=True)
    assert len(r.history) == 3 and r.outputs.shape == (4, 5, 8)
    for c in r.history:
        assert c.shape == (4, 30, 5) and torch.allclose(c.sum(-1), torch.ones(4, 30))
    assert torch.allclose(r.history[0], torch.full((4, 30, 5), 1 / 5))        # b = 0: uniform
    assert torch.equal(r.coupling, r.history[-1])
    assert (r.outputs.norm(dim=-1) < 1).all()


def test_routing_by_agreement_worked_by_hand():
    # two children, two parents, 1-D predictions: child 0 predicts (1, 0), child 1 predicts (1, 2)
    u_hat = torch.tensor([[[[1.0], [0.0]], [[1.0], [2.0]]]])        # N=1 x I=2 x J=2 x D=1
    one = dynamic_routing(u_hat, iterations=1)
    s = torch.tensor([0.5 * 1 + 0.5 * 1, 0.5 * 0 + 0.5 * 2])        # c = 1/2 everywhere
    v = s * s.abs() / (1 + s * s)                                    # squash in 1-D: s|s|/(1+s²)
    assert torch.allclose(one.outputs.flatten(), v)
    two = dynamic_routing(u_hat, iterations=2, record=True)
    b = u_hat[0, :, :, 0] * v                                        # agreement û_j|i · v_j
    c = torch.softmax(b, dim=1)
    assert torch.allclose(two.history[1][0], c)
    s2 = (c * u_hat[0, :, :, 0]).sum(0)
    assert torch.allclose(two.outputs.flatten(), s2 * s2.abs() / (1 + s2 * s2))
    # child 0 agrees with parent 0 only, so it routes more of its output there
    assert c[0, 0] > 0.5 and c[1, 1] > 0.5


def test_capsnet_parameter_counts_match_the_paper():
    full, bare = dl.models.get("capsnet"), dl.models.get("capsnet", reconstruction=False)
    assert n_params(full) == 8_215_568 and n_params(bare) == 6_804_224           # "8.2M" / "6.8M"
    assert n_params(full.conv1) == 9 * 9 * 256 + 256 == 20_992
    assert n_params(full.primary) == 9 * 9 * 256 * 256 + 256 == 5_308_672
    assert n_params(full.digits) == 1152 * 10 * 8 * 16 == 1_474_560            # one W_ij per (i, j), no bias
    assert n_params(full.decoder) == 160 * 512 + 512 + 512 * 1024 + 1024 + 1024 * 784 + 784


def test_capsnet_shapes_masking_and_routing_keyword():
    torch.manual_seed(0)
    m = dl.models.get("capsnet_small").eval()
    x = torch.rand(3, 1, 28, 28)
    with torch.no_grad():
        out = m(x)
        assert out["out"].shape == (3, 10) and out["poses"].shape == (3, 10, 16)
        assert out["reconstruction"].shape == (3, 784) and torch.equal(out["input"], x)
        assert torch.allclose(out["out"], out["poses"].norm(dim=-1))
        # the decoder reads only the capsule of the given class
        labels = torch.tensor([1, 2, 3])
        rec = m(x, labels)["reconstruction"]
        poses = out["poses"].clone()
        poses[torch.arange(3), labels] = 0
        poses[torch.arange(3), labels] += out["poses"][torch.arange(3), labels]
        assert torch.allclose(rec, m.reconstruct(poses, labels))
        assert torch.allclose(m(x)["reconstruction"], m.reconstruct(out["poses"], out["out"].argmax(1)))
        assert torch.equal(m.primary_capsules(x).shape and torch.tensor(m.primary_capsules(x).shape),
                           torch.tensor([3, 16 * 6 * 6, 8]))
    assert dl.models.get("capsnet_small", routing_iterations=1).digits.iterations == 1
    assert len(m.route(x[:1]).history) == 3 and len(m.route(x[:1], iterations=5).history) == 5
    assert "reconstruction" not in dl.models.get("capsnet_small", reconstruction=False)(x)
    # Fig. 4: dimension 3 of the class capsule moved by each delta, decoded
    grid = m.perturb(x[0], label=4, deltas=(-0.25, 0.0, 0.25))
    assert grid.shape == (16, 3, 1, 28, 28)
    pose = m(x[:1])["poses"][0].clone()
    pose[4, 3] += 0.25
    assert torch.allclose(grid[3, 2].flatten(), m.reconstruct(pose[None], torch.tensor([4]))[0], atol=1e-6)
    assert torch.allclose(grid[5, 1], grid[0, 1])            # delta 0: every row decodes the same pose
    with pytest.raises(ValueError, match="iterations must be an int >= 1"):
        dl.models.get("capsnet_small", routing_iterations=0)


def test_primary_capsules_group_channels_into_vectors():
    pc = PrimaryCapsules(4, capsules=2, dim=3, kernel_size=3, stride=1)
    x = torch.randn(1, 4, 5, 5)
    u = pc(x)
    assert u.shape == (1, 2 * 3 * 3, 3)
    raw = pc.conv(x)                                          # channels 3k .. 3k+2 are capsule type k
    assert torch.allclose(u[0, 9 + 4], squash(raw[0, 3:6, 1, 1]))   # type 1, position (1, 1)


def test_margin_loss_worked_by_hand():
    lengths = torch.tensor([[0.95, 0.05, 0.20], [0.50, 0.70, 0.00]])
    targets = torch.tensor([0, 1])
    # image 0: present 0.95 > 0.9 → 0; absent 0.05 < 0.1 → 0; absent 0.2: 0.5·0.1² = 0.005
    # image 1: present 0.7: 0.2² = 0.04; absent 0.5: 0.5·0.4² = 0.08; absent 0 → 0
    assert torch.allclose(margin_loss(lengths, targets), torch.tensor([0.005, 0.12]))
    assert torch.allclose(margin_loss(lengths, targets, lam=1.0), torch.tensor([0.01, 0.2]))
    loss = CapsuleLoss(reconstruction_weight=0.0005)
    image = torch.zeros(2, 1, 2, 2)
    out = {"out": lengths, "reconstruction": torch.full((2, 4), 0.5), "input": image}
    # SSE per image = 4 · 0.25 = 1, scaled by 0.0005; means over the batch
    assert math.isclose(loss(out, targets).item(), (0.005 + 0.12) / 2 + 0.0005, rel_tol=1e-6)
    assert math.isclose(CapsuleLoss(reconstruction_weight=0)(out, targets).item(), 0.0625, rel_tol=1e-6)
    with pytest.raises(ValueError, match="lengths must be"):
        margin_loss(lengths[0], targets)


def test_routing_capsules_bad_input_names_the_layer():
    layer = RoutingCapsules(12, 8, 10, 16)
    with pytest.raises(ValueError, match=r"RoutingCapsules: expects capsules \(N, 12, 8\)"):
        layer(torch.randn(2, 12, 4))
    with pytest.raises(ValueError, match="dynamic_routing: u_hat must be"):
        dynamic_routing(torch.randn(2, 3, 4))


def test_capsule_recipe_feeds_pixels_and_labels():
    r = dl.recipes.get("capsnet_small", "smoke")
    train, test = r.loaders()
    (inputs, y), (x_test, _) = next(iter(train)), next(iter(test))
    assert set(inputs) == {"x", "labels"} and torch.equal(inputs["labels"], y)
    assert inputs["x"].min() >= 0 and inputs["x"].max() <= 1 and x_test.min() >= 0
    assert len(train) == len(r.loaders()[0].loader)
    assert r.fit_kwargs()["loss_fn"].takes_raw_output


def test_draw_rcl_draws_one_state_per_step_from_the_layer():
    import matplotlib
    matplotlib.use("Agg")
    from dcnn_lib.diagrams import draw_rcl
    ax = draw_rcl(RecurrentConv(4, 8, 3, t=3))
    texts = [t.get_text() for t in ax.texts]
    assert [s for s in texts if s.startswith("x(")] == [f"x({i})\nBN, ReLU" for i in range(4)]
    assert texts.count("w_r 3×3") == 3 and texts.count("w_f 3×3") == 4
    with pytest.raises(TypeError, match="draw_rcl: expects a RecurrentConv, got Conv2d"):
        draw_rcl(nn.Conv2d(1, 1, 3))
