"""The fit loop: learning, history, checkpoints and exact resume."""
import math

import pytest
import torch
import torch.nn as nn

import dcnn_lib as dl
from dcnn_lib.data import BatchAugment, TensorLoader
from dcnn_lib.metrics import confusion_matrix
from dcnn_lib.train import History, evaluate, fit, predict


def blobs(n=256, seed=0):
    """Synthetic data: two Gaussian blobs on 1x4x4 "images" (class 1 is brighter)."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    x = torch.randn(n, 1, 4, 4, generator=g) + (y.float() * 2 - 1)[:, None, None, None] * 0.8
    return x, y


def small_net():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Dropout(0.2), nn.Flatten(), nn.Linear(64, 2))


def loaders(augment=True):
    x, y = blobs()
    xt, yt = blobs(64, seed=1)
    train = TensorLoader(x, y, batch_size=32, shuffle=True, augment=BatchAugment(1) if augment else None, seed=3)
    return train, TensorLoader(xt, yt, batch_size=64)


def test_loss_falls_and_accuracy_rises():
    torch.manual_seed(0)
    train, test = loaders(augment=False)
    h = fit(small_net(), train, 5, val_loader=test, lr=1e-2, progress=False)
    assert len(h) == 5 and h["epoch"] == [1, 2, 3, 4, 5]
    assert h[-1]["train_loss"] < 0.6 * h[0]["train_loss"]
    assert h.last["val_acc"] > 0.9
    assert h.best("val_acc")["val_acc"] == max(h["val_acc"])
    assert all(s >= 0 for s in h["seconds"]) and h.total_seconds >= 0


def test_resume_after_interruption_gives_the_same_weights(tmp_path):
    def run(checkpoint, interrupt_after=None):
        torch.manual_seed(123)
        model = small_net()
        train, test = loaders()

        def stop(epoch, history):
            if epoch == interrupt_after:
                raise KeyboardInterrupt

        try:
            h = fit(model, train, 3, val_loader=test, lr=5e-3, checkpoint=checkpoint, progress=False,
                    callbacks=[stop], seed=7)
        except KeyboardInterrupt:
            return None, None
        return model, h

    full_model, full_h = run(tmp_path / "a.pt")
    assert run(tmp_path / "b.pt", interrupt_after=1) == (None, None)
    assert torch.load(tmp_path / "b.pt", weights_only=True)["epoch"] == 1
    resumed_model, resumed_h = run(tmp_path / "b.pt")   # a fresh process would do the same
    assert resumed_h.resumed_at == 1
    for (k, a), b in zip(full_model.state_dict().items(), resumed_model.state_dict().values()):
        assert torch.equal(a, b), k
    assert full_h["train_loss"] == resumed_h["train_loss"]
    # a finished checkpoint resumes to "nothing left to do"
    again_model, again_h = run(tmp_path / "b.pt")
    assert len(again_h) == 3 and again_h.resumed_at == 3


def test_checkpoint_of_another_run_is_refused(tmp_path):
    train, _ = loaders()
    fit(small_net(), train, 1, checkpoint=tmp_path / "c.pt", progress=False)
    with pytest.raises(ValueError, match=r"epochs: 1 in the checkpoint, 2 now.*resume=False"):
        fit(small_net(), train, 2, checkpoint=tmp_path / "c.pt", progress=False)
    h = fit(small_net(), train, 2, checkpoint=tmp_path / "c.pt", resume=False, progress=False)
    assert len(h) == 2


def test_bad_arguments():
    train, _ = loaders()
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        fit(small_net(), train, 0)
    with pytest.raises(ValueError, match="optimizer must be"):
        fit(small_net(), train, 1, optimizer="lbfgs", progress=False)
    with pytest.raises(ValueError, match="schedule must be"):
        fit(small_net(), train, 1, schedule="step", progress=False)
    with pytest.raises(ValueError, match="no batches"):
        fit(small_net(), TensorLoader(torch.zeros(2, 1, 4, 4), torch.zeros(2, dtype=torch.long),
                                      batch_size=4, drop_last=True), 1)
    with pytest.raises(TypeError, match="length"):
        fit(small_net(), iter([]), 1)


def test_diverging_loss_stops_with_a_clear_error():
    train, _ = loaders(augment=False)
    with pytest.raises(FloatingPointError, match="loss became"):
        fit(small_net(), train, 1, optimizer="sgd", lr=1e12, momentum=0, schedule=None, progress=False)


def test_sgd_cosine_and_progress_bar_run(capsys):
    train, test = loaders()
    h = fit(small_net(), train, 2, val_loader=test, optimizer="sgd", lr=0.05, schedule="cosine", name="blobs")
    assert len(h) == 2 and h.last["lr"] < 0.05
    bar = capsys.readouterr().err                  # tqdm writes to stderr outside notebooks
    assert "blobs" in bar and f"{2 * len(train)}/{2 * len(train)}" in bar and "epoch 2/2" in bar
    fit(small_net(), train, 1, progress=False)
    assert capsys.readouterr().err == ""


def test_evaluate_predict_confusion():
    torch.manual_seed(0)
    model = small_net()
    _, test = loaders()
    logits, targets = predict(model, test)
    assert logits.shape == (64, 2) and targets.shape == (64,)
    m = evaluate(model, test)
    assert math.isclose(m["acc"], (logits.argmax(1) == targets).float().mean().item())
    cm = confusion_matrix(logits, targets, 2)
    assert cm.sum() == 64 and cm.trace() == (logits.argmax(1) == targets).sum()
    assert dl.train.confusion_matrix is confusion_matrix          # one function, in metrics
    assert torch.equal(confusion_matrix(torch.tensor([0, 1, 1]), torch.tensor([0, 0, 1]), 2),
                       torch.tensor([[1, 1], [0, 1]]))


def test_history_table_and_plot():
    h = History(name="x")
    h.append(epoch=1, train_loss=1.0, train_acc=0.5, lr=0.1, seconds=1.0)
    h.append(epoch=2, train_loss=0.5, train_acc=0.7, val_loss=0.6, val_acc=0.65, lr=0.05, seconds=1.0)
    assert "train acc" in str(h) and "<table>" in h._repr_html_()
    assert h.best("val_acc")["epoch"] == 2
    fig = h.plot()
    assert len(fig.axes) == 2
    with pytest.raises(KeyError, match="no column"):
        h["accuracy"]
    restored = History.from_state_dict(h.state_dict())
    assert restored.records == h.records


def test_recipe_trains_at_smoke_scale(fake_fashion_mnist):
    recipe = dl.recipes.get("lenet5_relu", "smoke")
    assert recipe.n_epochs == 1 and recipe.describe()["scale"] == "smoke"
    model, h = recipe.train(progress=False)
    assert len(h) == 1 and 0 <= h.last["val_acc"] <= 1
    with pytest.raises(KeyError, match="unknown recipe"):
        dl.recipes.get("nope")


class AuxNet(nn.Module):
    """A classifier with an auxiliary head: ``(logits, aux)`` in training mode, logits in eval."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.ReLU())
        self.head, self.aux = nn.Linear(8, 2), nn.Linear(8, 2)

    def forward(self, x):
        h = self.body(x)
        return (self.head(h), self.aux(h)) if self.training else self.head(h)


def test_auxiliary_outputs_add_their_weighted_loss():
    torch.manual_seed(0)
    x, y = blobs(64)
    train = TensorLoader(x, y, batch_size=64)
    model = AuxNet()
    with torch.no_grad():
        main, aux = model.train()(x)
    expected = nn.functional.cross_entropy(main, y) + 0.4 * nn.functional.cross_entropy(aux, y)
    # lr = 0: one epoch records the loss of the untouched model
    h = fit(model, train, 1, optimizer="sgd", lr=0.0, momentum=0, weight_decay=0, schedule=None,
            aux_weight=0.4, progress=False, seed=None)
    assert math.isclose(h.last["train_loss"], expected.item(), rel_tol=1e-5)
    assert h.last["train_acc"] == (main.argmax(1) == y).float().mean().item()
    h0 = fit(model, train, 1, optimizer="sgd", lr=0.0, momentum=0, weight_decay=0, schedule=None,
             aux_weight=0.0, progress=False, seed=None)
    assert math.isclose(h0.last["train_loss"], nn.functional.cross_entropy(main, y).item(), rel_tol=1e-5)


def test_model_with_auxiliary_heads_trains_and_evaluates():
    torch.manual_seed(0)
    train, test = loaders(augment=False)
    model = AuxNet()
    h = fit(model, train, 4, val_loader=test, lr=1e-2, progress=False)
    assert h.last["val_acc"] > 0.9 and h.last["train_loss"] < h[0]["train_loss"]
    logits, _ = predict(model, test)       # eval mode: the logits alone
    assert logits.shape == (64, 2)


@pytest.mark.parametrize("steps", [1, 2, 3, 4, 5, 8])
def test_one_cycle_runs_of_a_few_steps(steps):
    """A smoke-sized run of 1-8 batches must train (OneCycleLR alone divides by zero when its
    warm-up phase has no steps): short runs warm up for at least two steps or keep lr constant."""
    x, y = blobs(32 * steps)
    h = fit(small_net(), TensorLoader(x, y, batch_size=32), 1, lr=0.01, schedule="onecycle", progress=False)
    assert len(h) == 1 and math.isfinite(h.last["train_loss"])
    if steps >= 4:
        assert h.last["lr"] < 0.01          # annealed by the end of the cycle


# ---- stopping early ----------------------------------------------------------------------------
def test_early_stopping_ends_the_run_and_a_resume_finds_nothing_left(tmp_path):
    train, test = loaders(augment=False)
    # lr = 0: nothing improves after the first epoch, so patience 2 stops after epoch 3
    kwargs = dict(val_loader=test, optimizer="sgd", lr=0.0, schedule=None, progress=False,
                  early_stopping=dl.train.EarlyStopping("val_loss", patience=2), checkpoint=tmp_path / "c.pt")
    h = fit(small_net(), train, 10, **kwargs)
    assert len(h) == 3 and "val_loss has not improved for 2 epochs (best: epoch 1)" == h.stopped_early
    again = fit(small_net(), train, 10, **kwargs)
    assert again.resumed_at == 3 and len(again) == 3 and again.stopped_early == h.stopped_early


def test_a_callback_may_stop_training():
    train, _ = loaders()
    seen = []

    def enough(epoch, history):
        seen.append(epoch)
        if epoch == 2:
            raise dl.train.StopTraining("two is enough")

    h = fit(small_net(), train, 5, callbacks=[enough], progress=False)
    assert len(h) == 2 and seen == [1, 2] and h.stopped_early == "two is enough"


def test_early_stopping_rules():
    h = History()
    for e, v in enumerate([1.0, 0.5, 0.49, 0.6], 1):
        h.append(epoch=e, val_loss=v, val_acc=1 - v)
    stop = dl.train.EarlyStopping("val_loss", patience=2, min_delta=0.05)   # 0.49 is no real gain
    assert stop.best_epoch(h) == 1 and stop.mode == "min"
    with pytest.raises(dl.train.StopTraining, match="not improved for 2 epochs"):
        stop(4, h)
    assert dl.train.EarlyStopping("val_acc").mode == "max"
    dl.train.EarlyStopping("val_acc", patience=3)(4, h)                    # still waiting
    with pytest.raises(ValueError, match="no column 'val_miou'"):
        dl.train.EarlyStopping("val_miou")(4, h)
    with pytest.raises(ValueError, match="patience"):
        dl.train.EarlyStopping(patience=0)


def test_optimisers_and_schedules_are_public():
    net = small_net()
    opt = dl.train.make_optimizer("sgd", net.parameters(), lr=0.1, momentum=0.9)
    assert isinstance(opt, torch.optim.SGD) and opt.param_groups[0]["nesterov"]
    sched = dl.train.make_schedule("onecycle", opt, 0.1, total_steps=20)
    rates = []
    for _ in range(20):
        opt.step()
        sched.step()
        rates.append(opt.param_groups[0]["lr"])
    assert max(rates) == pytest.approx(0.1, rel=0.05) and rates[-1] < 0.02 * 0.1     # warmed up, annealed
    assert dl.train.make_schedule(None, opt, 0.1, 20) is None
    assert dl.train.make_schedule("onecycle", opt, 0.1, 3) is None         # too short to warm up


# ---- one loop, other steps ---------------------------------------------------------------------
class ToyDetector(nn.Module):
    """Follows the detection contract: a dict of losses in training mode, detections in eval."""

    target_keys = ("boxes",)

    def __init__(self):
        super().__init__()
        self.box = nn.Linear(3, 4)

    def forward(self, images, targets=None):
        feats = torch.stack([im.mean((1, 2)) for im in images])            # N x 3
        boxes = self.box(feats)
        if not self.training:
            return [{"boxes": b[None], "scores": torch.ones(1), "labels": torch.ones(1, dtype=torch.long)}
                    for b in boxes]
        truth = torch.stack([t["boxes"][0] for t in targets])
        return {"loss_box": (boxes - truth).abs().mean(), "loss_size": (boxes[:, 2:] - truth[:, 2:]).pow(2).mean()}


def toy_scenes(n=12):
    g = torch.Generator().manual_seed(0)
    return [(torch.rand(3, 8, 8, generator=g), {"boxes": torch.tensor([[1.0, 1.0, 5.0, 6.0]]),
                                                 "labels": torch.tensor([1])}) for _ in range(n)]


def test_detection_fit_is_the_one_loop_with_a_detection_step(tmp_path):
    loader = dl.detection.detection_loader(toy_scenes(), batch_size=4, shuffle=True)
    torch.manual_seed(0)
    model = ToyDetector()
    h = dl.detection.fit(model, loader, 3, lr=1e-2, progress=False, checkpoint=tmp_path / "d.pt")
    assert not model.training and list(h.columns[-2:]) == ["loss_box", "loss_size"]
    assert h[-1]["train_loss"] == pytest.approx(h[-1]["loss_box"] + h[-1]["loss_size"])
    assert h[-1]["train_loss"] < h[0]["train_loss"] and math.isnan(h[-1]["train_acc"])
    # the one loop's checkpoints come with it: an interrupted detector resumes exactly
    def stop(epoch, history):
        if epoch == 1:
            raise KeyboardInterrupt
    torch.manual_seed(0)
    with pytest.raises(KeyboardInterrupt):
        dl.detection.fit(ToyDetector(), loader, 3, lr=1e-2, progress=False, checkpoint=tmp_path / "e.pt",
                         callbacks=[stop])
    resumed = ToyDetector()
    h2 = dl.detection.fit(resumed, loader, 3, lr=1e-2, progress=False, checkpoint=tmp_path / "e.pt")
    assert h2.resumed_at == 1 and h2["train_loss"] == h["train_loss"]
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), resumed.state_dict().values()))


def test_a_step_of_ones_own():
    """Any batch format: the step says what the loss is and what to log."""
    x, y = blobs(64)

    def regression_step(model, batch, ctx):
        inputs, targets = batch
        pred = model(inputs.to(ctx.device))[:, 0]
        loss = nn.functional.mse_loss(pred, targets.float().to(ctx.device))
        return dl.train.StepOutput(loss, len(targets), terms={"mse": loss})

    h = fit(small_net(), TensorLoader(x, y, batch_size=16), 2, step=regression_step, progress=False)
    assert h["mse"] == h["train_loss"] and math.isnan(h.last["train_acc"])


# ---- cached recipe data are not shared ---------------------------------------------------------
def test_recipes_hand_out_copies_of_their_cached_scenes(fake_fashion_mnist):
    from dcnn_lib.recipes import detection, segmentation

    first = detection.scenes("test", 3)
    first[0][0].zero_()
    first[0][1]["boxes"] += 100
    again = detection.scenes("test", 3)
    assert again[0][0].abs().sum() > 0 and again[0][1]["boxes"].max() <= detection.SIZE
    data = segmentation.scene_data("smoke")
    data.y_train.fill_(3)
    data.x_test.zero_()
    fresh = segmentation.scene_data("smoke")
    assert (fresh.y_train == 0).any() and fresh.x_test.abs().sum() > 0
