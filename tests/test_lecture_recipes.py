"""``dl.recipes.lecture``: the lecture's own architectures at d2l's input sizes, what ``full``
scale trains on a GPU (benchmarks/gpu_check.sh). Here: each builds the real architecture for
grey 10-class images at its size and trains a step."""
import pytest
import torch

import dcnn_lib as dl
from dcnn_lib.recipes import lecture


@pytest.mark.parametrize("name", sorted(lecture.D2L))
def test_lecture_recipe_trains_the_real_architecture_at_its_size(name):
    recipe = dl.recipes.get(name, "full")
    assert recipe.n_epochs == 10 and recipe.train_subset["full"] is None      # d2l: 10 epochs, all data
    model = recipe.build_model().train()
    x = torch.randn(2, 1, recipe.size, recipe.size)
    out = dl.train.split_outputs(model(x))[0]
    assert out.shape == (2, 10)
    torch.nn.functional.cross_entropy(out, torch.tensor([0, 1])).backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)

