"""dl.recipes.repeat / compare: several seeds of a recipe and the verdict on a difference."""
import pytest

import dcnn_lib as dl
from dcnn_lib.train import History


class FakeRecipe:
    """A recipe whose 'training' returns a fixed accuracy per seed (no training)."""

    def __init__(self, name, accs):
        self.name, self.accs, self.calls = name, accs, []

    def train(self, seed=0, **kw):
        self.calls.append((seed, kw))
        h = History(name=self.name)
        h.append(epoch=1, train_loss=0.1, train_acc=0.9, val_loss=0.2, val_acc=self.accs[seed], lr=0.1, seconds=3.0)
        return None, h


def test_repeat_collects_one_value_per_seed_and_formats_checkpoints():
    r = FakeRecipe("a", {0: 0.90, 1: 0.92, 2: 0.91})
    rep = dl.recipes.repeat(r, seeds=(0, 1, 2), checkpoint="ck/a-{seed}.pt")
    assert rep.values == (0.90, 0.92, 0.91) and rep.mean == pytest.approx(0.91)
    assert rep.std == pytest.approx(0.01) and rep.seconds == 3.0
    assert [c[1]["checkpoint"] for c in r.calls] == ["ck/a-0.pt", "ck/a-1.pt", "ck/a-2.pt"]


def test_a_consistent_difference_is_significant_and_noise_is_not():
    a = dl.recipes.repeat(FakeRecipe("a", {0: 0.90, 1: 0.92, 2: 0.91}), seeds=(0, 1, 2))
    b = dl.recipes.repeat(FakeRecipe("b", {0: 0.93, 1: 0.95, 2: 0.945}), seeds=(0, 1, 2))
    noisy = dl.recipes.repeat(FakeRecipe("c", {0: 0.92, 1: 0.91, 2: 0.912}), seeds=(0, 1, 2))
    d = dl.recipes.compare(b, a)
    assert d.mean == pytest.approx((0.03 + 0.03 + 0.035) / 3) and d.verdict == "b is better"
    n = dl.recipes.compare(noisy, a)
    assert n.verdict == "within noise" and not n.significant
    assert "within noise" in str(n)


def test_bad_seeds_and_unpaired_comparisons_are_named_errors():
    r = FakeRecipe("a", {0: 0.9, 1: 0.9})
    with pytest.raises(dl.errors.DcnnValueError, match="distinct integers"):
        dl.recipes.repeat(r, seeds=(0, 0))
    a = dl.recipes.repeat(r, seeds=(0,))
    b = dl.recipes.repeat(r, seeds=(1,))
    with pytest.raises(dl.errors.DcnnValueError, match="same seeds"):
        dl.recipes.compare(a, b)


def test_repeat_trains_a_real_recipe_at_smoke_scale():
    rep = dl.recipes.repeat(dl.recipes.get("lenet5_relu", "smoke"), seeds=(0, 1), progress=False)
    assert len(rep.values) == 2 and all(0.0 <= v <= 1.0 for v in rep.values)
    assert rep.values[0] != rep.values[1]          # the seed changes the run
