"""Linear probing: how linearly separable are a frozen network's features?

The features of every training image are computed once (no gradient), standardised with the
training set's mean and standard deviation, and a multinomial logistic regression (one linear
layer, softmax cross-entropy, an L2 penalty) is fitted to them with full-batch L-BFGS; its
test accuracy is the probe's score. The standard protocol for self-supervised encoders
(I-JEPA evaluates its target encoder's average-pooled features this way on ImageNet).

Works on any feature function ``images -> (N, D)``; imports no model.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass(frozen=True)
class ProbeResult:
    train_acc: float
    test_acc: float
    dim: int
    n_train: int
    n_test: int
    classifier: nn.Linear          # on standardised features: (f - mean) / std
    mean: torch.Tensor
    std: torch.Tensor

    def _repr_html_(self) -> str:
        return (f"<table><tr><th>features</th><th>train images</th><th>train acc</th><th>test acc</th></tr>"
                f"<tr><td>{self.dim}</td><td>{self.n_train:,}</td><td>{self.train_acc:.4f}</td>"
                f"<td>{self.test_acc:.4f}</td></tr></table>")


@torch.no_grad()
def extract_features(features: Callable[[torch.Tensor], torch.Tensor], loader: Iterable,
                     device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """``(features (N, D), labels (N,))`` of every batch of ``loader`` (a module is put in
    eval mode for the pass and restored)."""
    was_training = isinstance(features, nn.Module) and features.training
    if isinstance(features, nn.Module):
        features.eval()
    xs, ys = [], []
    try:
        for x, y in loader:
            f = features(x.to(device))
            if f.ndim != 2:
                raise ValueError(f"linear_probe: the feature function must return (N, D), got {tuple(f.shape)}")
            xs.append(f.float().cpu())
            ys.append(y)
    finally:
        if was_training:
            features.train()
    return torch.cat(xs), torch.cat(ys)


def fit_linear(train_x: torch.Tensor, train_y: torch.Tensor, num_classes: int | None = None,
               weight_decay: float = 1e-4, max_iter: int = 200) -> nn.Linear:
    """Multinomial logistic regression by full-batch L-BFGS on ``(N, D)`` features."""
    k = num_classes or int(train_y.max()) + 1
    clf = nn.Linear(train_x.shape[1], k)
    nn.init.zeros_(clf.weight)
    nn.init.zeros_(clf.bias)
    opt = torch.optim.LBFGS(clf.parameters(), lr=1.0, max_iter=max_iter, history_size=20,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(clf(train_x), train_y) + 0.5 * weight_decay * clf.weight.pow(2).sum()
        loss.backward()
        return loss
    opt.step(closure)
    return clf


def linear_probe(features: Callable[[torch.Tensor], torch.Tensor], train_loader: Iterable, test_loader: Iterable,
                 num_classes: int | None = None, weight_decay: float = 1e-4, max_iter: int = 200,
                 device: torch.device | str = "cpu") -> ProbeResult:
    """Fit a linear classifier on frozen ``features`` of ``train_loader``; score it on
    ``test_loader``. Returns a :class:`ProbeResult` (accuracies, feature dimension, classifier)."""
    tr_x, tr_y = extract_features(features, train_loader, device)
    te_x, te_y = extract_features(features, test_loader, device)
    mean, std = tr_x.mean(0), tr_x.std(0).clamp_min(1e-6)
    tr_x, te_x = (tr_x - mean) / std, (te_x - mean) / std
    clf = fit_linear(tr_x, tr_y, num_classes, weight_decay, max_iter)
    with torch.no_grad():
        train_acc = (clf(tr_x).argmax(1) == tr_y).float().mean().item()
        test_acc = (clf(te_x).argmax(1) == te_y).float().mean().item()
    return ProbeResult(train_acc, test_acc, tr_x.shape[1], len(tr_y), len(te_y), clf, mean, std)
