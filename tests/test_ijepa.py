"""I-JEPA: the multi-block masks (counts, scales, aspect ratios, no context/target overlap,
determinism), the EMA target encoder, the loss on layer-normalised targets, the predictor's
shapes, and the linear probe used to evaluate the features."""
import pytest
import torch
import torch.nn.functional as F

import dcnn_lib as dl
from dcnn_lib.data.multiblock import block_size, multiblock_masks
from dcnn_lib.models.classification.ijepa import IJEPA, JEPAEncoder, ema_momentum, gather_tokens, ijepa_pretraining


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def tiny() -> IJEPA:
    torch.manual_seed(0)
    encoder = JEPAEncoder(28, 4, 2, 4, 32, 64, in_channels=1)
    IJEPA.init_weights(encoder)
    return IJEPA(encoder, predictor_dim=16, predictor_depth=1)


# ---- masks ------------------------------------------------------------------------------------
@pytest.mark.parametrize("grid,min_keep", [((14, 14), 10), ((16, 16), 10), ((7, 7), 4)])
def test_masks_follow_the_paper(grid, min_keep):
    n_patches = grid[0] * grid[1]
    for seed in range(20):
        m = multiblock_masks(8, grid, min_keep=min_keep, generator=gen(seed))
        assert m.targets.shape[:2] == (4, 8) and m.context.shape[0] == 8
        ctx, tgt = m.dense()
        # targets: 4 rectangles per image, all of one size, scale 0.15-0.2, aspect 0.75-1.5 (up
        # to the rounding of a side to whole patches)
        k = m.targets.shape[2]
        rows = tgt.any(3).sum(2)
        cols = tgt.any(2).sum(2)
        assert torch.all(rows * cols == k) and torch.all(tgt.sum((2, 3)) == k)    # full rectangles
        h, w = int(rows[0, 0]), int(cols[0, 0])
        lo, hi = int(n_patches * 0.15), int(n_patches * 0.2)
        assert (lo - max(h, w) - 1) <= h * w <= (hi + max(h, w) + 1)
        side = min(grid)
        assert 0.75 * w - 1 <= h <= 1.5 * w + 1 or h == side or w == side
        # no context patch is a target patch, and the context keeps more than min_keep patches
        assert not torch.any(ctx & tgt.any(0))
        assert m.context.shape[1] > min_keep
        assert torch.all(m.context < n_patches) and torch.all(m.targets < n_patches)
        assert all(len(set(c.tolist())) == len(c) for c in m.context)              # no repeats


def test_context_block_scale_before_the_targets_are_removed():
    m = multiblock_masks(4, (14, 14), n_targets=1, target_scale=(0.01, 0.01), min_keep=0, generator=gen(3))
    # a tiny target removes at most 1 patch from a square context of 85-100 % of the grid
    assert 0.85 * 196 - 2 * 14 <= m.context.shape[1] + 1 <= 196
    # int(196 · scale) patches, height / width = aspect: 0.85 -> 166 -> 13 x 13; 0.15 at 0.75 -> 29 -> 5 x 6
    for scale, aspect, size in [(0.85, 1.0, (13, 13)), (1.0, 1.0, (14, 14)), (0.15, 0.75, (5, 6)), (0.2, 1.5, (8, 5))]:
        assert block_size((14, 14), scale, aspect) == size


def test_masks_are_deterministic_for_a_seed_and_differ_across_seeds():
    a = multiblock_masks(16, (14, 14), generator=gen(7))
    b = multiblock_masks(16, (14, 14), generator=gen(7))
    c = multiblock_masks(16, (14, 14), generator=gen(8))
    assert torch.equal(a.context, b.context) and torch.equal(a.targets, b.targets)
    assert not (a.context.shape == c.context.shape and torch.equal(a.context, c.context))
    # positions differ between the images of a batch
    assert len({tuple(t.tolist()) for t in a.targets[0]}) > 1


def test_overlap_allowed_and_bad_arguments():
    m = multiblock_masks(8, (14, 14), allow_overlap=True, generator=gen(0))
    ctx, tgt = m.dense()
    assert ctx.sum((1, 2)).min() >= int(196 * 0.85) - 14 * 2                     # nothing removed
    for kwargs, msg in [({"target_scale": (0.3, 0.2)}, "target_scale"), ({"min_keep": 196}, "min_keep"),
                        ({"n_targets": 0}, "n_targets"), ({"target_aspect": (0.0, 1.0)}, "target_aspect")]:
        with pytest.raises(ValueError, match=msg):
            multiblock_masks(2, (14, 14), **kwargs)


# ---- the model ----------------------------------------------------------------------------------
def test_forward_shapes_targets_are_normalised_and_only_the_context_encoder_learns():
    model = tiny()
    x = torch.randn(3, 1, 28, 28)
    masks = multiblock_masks(3, model.grid, min_keep=4, generator=gen(0))
    pred, target = model(x, masks)
    m, n, k = masks.targets.shape
    assert pred.shape == target.shape == (m, n, k, 32)
    assert torch.allclose(target.mean(-1), torch.zeros(m, n, k), atol=1e-5)        # LN without affine
    assert torch.allclose(target.var(-1, unbiased=False), torch.ones(m, n, k), atol=1e-3)
    # the targets are the full-image target-encoder features at the target positions
    full = F.layer_norm(model.target_encoder(x), (32,))
    assert torch.allclose(target[2, 1], full[1, masks.targets[2, 1]], atol=1e-6)
    loss = model.loss(pred, target)
    assert loss.item() == pytest.approx(F.smooth_l1_loss(pred, target).item())
    loss.backward()
    assert all(p.grad is not None for p in model.context_encoder.parameters())
    assert all(p.grad is not None for p in model.predictor.parameters())
    assert all(p.grad is None and not p.requires_grad for p in model.target_encoder.parameters())


def test_context_encoder_sees_only_the_context():
    model = tiny()
    masks = multiblock_masks(2, model.grid, min_keep=4, generator=gen(1))
    x = torch.randn(2, 1, 28, 28, requires_grad=True)
    model.context_encoder(x, masks.context).sum().backward()
    seen = x.grad.abs().sum(1).reshape(2, 7, 4, 7, 4).sum((2, 4)) > 0                 # per patch
    ctx, tgt = masks.dense()
    assert torch.equal(seen, ctx)


def test_ema_update_and_schedule():
    model = tiny()
    with torch.no_grad():
        for p in model.context_encoder.parameters():
            p.add_(1.0)
    before = [p.clone() for p in model.target_encoder.parameters()]
    model.update_target(0.75)
    for b, t, c in zip(before, model.target_encoder.parameters(), model.context_encoder.parameters()):
        assert torch.allclose(t, 0.75 * b + 0.25 * c)
    model.update_target(1.0)                                    # momentum 1: frozen
    assert torch.equal(next(model.target_encoder.parameters()), 0.75 * before[0] + 0.25 * next(model.context_encoder.parameters()))
    assert ema_momentum(0, 100) == 0.996 and ema_momentum(100, 100) == 1.0
    assert ema_momentum(50, 100) == pytest.approx(0.998)
    with pytest.raises(ValueError, match="momentum must be in"):
        model.update_target(1.5)


def test_gather_tokens():
    x = torch.arange(24.).reshape(2, 4, 3)
    idx = torch.tensor([[3, 0], [1, 1]])
    assert torch.equal(gather_tokens(x, idx), torch.stack([x[0, [3, 0]], x[1, [1, 1]]]))


def test_a_few_steps_reduce_the_loss_on_one_batch():
    model = tiny()
    x = torch.randn(8, 1, 28, 28, generator=gen(2))
    masks = multiblock_masks(8, model.grid, min_keep=4, generator=gen(2))
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    losses = []
    for step in range(30):
        loss = model.loss(*model(x, masks))
        opt.zero_grad()
        loss.backward()
        opt.step()
        model.update_target(ema_momentum(step, 30))
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


# ---- linear probe -------------------------------------------------------------------------------
def test_linear_probe_separable_and_random_labels():
    torch.manual_seed(0)
    centres = torch.randn(3, 5) * 5
    y = torch.arange(300) % 3
    x = centres[y] + torch.randn(300, 5)
    loader = [(x[i:i + 100], y[i:i + 100]) for i in range(0, 300, 100)]
    result = dl.analysis.linear_probe(lambda t: t, loader[:2], loader[2:])
    assert result.test_acc > 0.95 and result.dim == 5 and result.n_train == 200
    noise = torch.randn(300, 5)
    bad = [(noise[i:i + 100], y[i:i + 100]) for i in range(0, 300, 100)]
    assert dl.analysis.linear_probe(lambda t: t, bad[:2], bad[2:]).test_acc < 0.5
    with pytest.raises(ValueError, match="must return \\(N, D\\)"):
        dl.analysis.linear_probe(lambda t: t[:, None], loader[:1], loader[2:])


def test_registered_configurations_and_pretraining_system():
    with torch.device("meta"):
        h14 = dl.models.get("ijepa_vit_h14")
        system = ijepa_pretraining("ijepa_vit_h14", h14)
    enc = system.context_encoder
    assert enc is h14.encoder and enc.grid == (16, 16) and enc.hidden_dim == 1280 and len(enc.encoder.layers) == 32
    pred = system.predictor
    assert len(pred.encoder.layers) == 12 and pred.predictor_embed.out_features == 384
    assert pred.encoder.layers[0].self_attention.heads == 16                     # the encoder's heads
    assert sum(p.numel() for p in system.target_encoder.parameters()) == sum(p.numel() for p in enc.parameters())
    small = dl.models.get("ijepa_small")
    probe = ijepa_pretraining("ijepa_small", small).classifier(10)
    assert probe(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    # the encoder runs on other grids too (fixed sine-cosine positions)
    assert small(torch.randn(1, 1, 36, 20)).shape == (1, 10)
    with pytest.raises(ValueError, match="no I-JEPA configuration"):
        ijepa_pretraining("vit_b_16")


def test_pretraining_obeys_the_dry_run(monkeypatch):
    """Under DCNN_DRY_RUN the pre-training loop runs two epochs of one batch (like fit), so the
    chapter runs at full scale on a CPU; without it every batch is seen."""
    from dcnn_lib.recipes.convnext_vit_jepa import pretrain

    images = [(torch.randn(8, 1, 28, 28), torch.zeros(8, dtype=torch.long)) for _ in range(3)]
    seen = []

    class Counting(list):
        def __iter__(self):
            for b in super().__iter__():
                seen.append(len(b[0]))
                yield b

    def run():
        seen.clear()
        torch.manual_seed(0)
        system = ijepa_pretraining("ijepa_small", dl.models.get("ijepa_small", num_layers=1))
        history = pretrain(system, Counting(images), 3, lr=1e-3, weight_decay=0.0, progress=False)
        return len(history), len(seen)

    monkeypatch.delenv("DCNN_DRY_RUN", raising=False)
    assert run() == (3, 9)
    monkeypatch.setenv("DCNN_DRY_RUN", "1")
    assert run() == (2, 2)
