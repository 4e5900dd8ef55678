"""I-JEPA: Assran, Duval, Misra, Bojanowski, Vincent, Rabbat, LeCun & Ballas, "Self-Supervised
Learning from Images with a Joint-Embedding Predictive Architecture", CVPR 2023.

Learn features without labels by predicting, from one part of an image, the *representations*
(not the pixels) of other parts::

    image ─► target encoder (EMA, no gradient) ─► LN ─► features of the target blocks ─┐
      │                                                                                   ├─► loss
      └─► context block ─► context encoder (ViT) ─► predictor (narrow ViT, + mask tokens at ┘
                                                     the target positions) ─► predictions

- Masks: :func:`dcnn_lib.data.multiblock_masks` (4 target blocks, one context block without
  them).
- Context encoder: a ViT without class token, fixed 2-D sine-cosine position embeddings, run
  only on the context patches.
- Target encoder: the same ViT on the whole image; its weights are an exponential moving
  average of the context encoder's (:meth:`IJEPA.update_target`; momentum 0.996 → 1.0
  linearly over training, :func:`ema_momentum`). It gets no gradient.
- Predictor: a narrow ViT (ViT-H/14: 12 layers of width 384, the encoder's 16 heads). For each
  target block, the context tokens (projected to the predictor's width, plus their position
  embeddings) are joined by one mask token per target patch (a shared learned vector plus that
  patch's position embedding); the predictor's outputs at the mask tokens, projected back to
  the encoder's width, are the predictions. Each target block is predicted in its own pass.

Why it does not collapse to a constant (which would make the loss 0): the targets come from a
slowly moving copy that gradients cannot reach, and the predictor must place its answer at a
given position from partial context; together they make a constant a poor solution during
training (the paper's choices, after BYOL; there is no proof).

Loss, as in the official code (``src/train.py``) and not the paper's text: the target features
are layer-normalised over the feature dimension without affine parameters
(``F.layer_norm(h, (D,))``, after the encoder's own final LayerNorm) and compared with the
predictions by ``smooth_l1_loss`` (Huber, β = 1), averaged over every patch of every block.
The paper writes an average squared L2 distance between predictions and target
representations (eq. 1) and does not mention the normalisation.

Evaluation: the target encoder's patch features, average-pooled, feed a linear probe
(:func:`dcnn_lib.analysis.linear_probe`).

Registered configuration (``ijepa_vit_h14``): ViT-H/14 at 224 (the official
``configs/in1k_vith14_ep300.yaml``): encoder 32 × 1280 (16 heads, MLP 5120), predictor
12 × 384.
"""
from __future__ import annotations

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

from ...data.multiblock import BlockMasks
from ...layers import guard_inputs
from ...layers.pos_embedding import sincos_2d
from ...layers.transformer_encoder import TransformerEncoder
from ...layers.vit_block import PatchEmbedding
from ...registry import Figure, Published, TestSettings, register_model

PAPER = ("Assran et al., Self-supervised learning from images with a joint-embedding predictive "
         "architecture, CVPR 2023")

# configs/in1k_vith14_ep300.yaml: masks and optimisation (the encoder is ViT-H/14).
OFFICIAL = {"n_targets": 4, "target_scale": (0.15, 0.2), "target_aspect": (0.75, 1.5),
            "context_scale": (0.85, 1.0), "min_keep": 10, "ema": (0.996, 1.0), "epochs": 300,
            "batch_size": 2048, "lr": 1e-3, "start_lr": 2e-4, "final_lr": 1e-6, "warmup_epochs": 40,
            "weight_decay": (0.04, 0.4), "predictor_depth": 12, "predictor_dim": 384}
# Paper Table 1: ImageNet-1K linear probe top-1 (%), by encoder (epochs).
TABLE1_PROBE = {"vit_b_16 (600 ep)": 72.9, "vit_l_16 (600 ep)": 77.5, "vit_h_14 (300 ep)": 79.3,
                "vit_h_16_448 (300 ep)": 81.1}


def gather_tokens(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``x (N, L, D)``, ``index (N, K)`` -> ``(N, K, D)``: the listed tokens of each sample."""
    return x.gather(1, index.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


class JEPAEncoder(nn.Module):
    """ViT without class token, with fixed sine-cosine positions, on a subset of its patches.

    Shapes: ``(N, C, H, W)`` and ``keep (N, K)`` (``None``: all patches) -> ``(N, K, dim)``.
    ``image_size`` only sets the grid whose embeddings are kept ready; other sizes work.
    """

    def __init__(self, image_size: int = 224, patch_size: int = 14, num_layers: int = 32, num_heads: int = 16,
                 hidden_dim: int = 1280, mlp_dim: int = 5120, in_channels: int = 3) -> None:
        super().__init__()
        if image_size % patch_size:
            raise ValueError(f"JEPAEncoder: image_size {image_size} must be a multiple of patch_size {patch_size}")
        self.grid = (image_size // patch_size,) * 2
        self.image_size = (image_size, image_size)
        self.hidden_dim, self.num_heads = hidden_dim, num_heads
        self.patch_embed = PatchEmbedding(patch_size, in_channels, hidden_dim)
        self.register_buffer("pos_embed", sincos_2d(hidden_dim, self.grid)[None], persistent=False)  # 1 x L x D
        self.encoder = TransformerEncoder(num_layers, hidden_dim, num_heads, mlp_dim)

    def positions(self, grid: tuple[int, int]) -> torch.Tensor:
        """The fixed embeddings of an ``h × w`` grid ``(1, h·w, D)`` (any grid: nothing is learned)."""
        if tuple(grid) == self.grid:
            return self.pos_embed
        return sincos_2d(self.hidden_dim, tuple(grid))[None].to(self.pos_embed)

    def forward(self, x: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
        x = self.patch_embed(x)                                           # N x h x w x D
        x = x.flatten(1, 2) + self.positions(tuple(x.shape[1:3]))         # N x L x D
        if keep is not None:
            x = gather_tokens(x, keep)                                    # N x K x D: context only
        return self.encoder(x)


class JEPAPredictor(nn.Module):
    """Narrow ViT from context tokens to the representations at target positions.

    Shapes: ``context (N, Kc, dim)``, ``context_index (N, Kc)``, ``target_index (M, N, Kt)``
    -> ``(M, N, Kt, dim)``.
    """

    def __init__(self, grid: tuple[int, int], dim: int, predictor_dim: int = 384, depth: int = 12,
                 heads: int = 16) -> None:
        super().__init__()
        self.predictor_embed = nn.Linear(dim, predictor_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, predictor_dim))
        nn.init.trunc_normal_(self.mask_token, std=0.02)
        self.register_buffer("pos_embed", sincos_2d(predictor_dim, grid)[None], persistent=False)
        self.encoder = TransformerEncoder(depth, predictor_dim, heads, 4 * predictor_dim)
        self.predictor_proj = nn.Linear(predictor_dim, dim)

    def forward(self, context: torch.Tensor, context_index: torch.Tensor, target_index: torch.Tensor) -> torch.Tensor:
        m, n, kt = target_index.shape
        kc = context.shape[1]
        pos = self.pos_embed.expand(n, -1, -1)
        x = self.predictor_embed(context) + gather_tokens(pos, context_index)              # N x Kc x Dp
        x = x.repeat(m, 1, 1)                                                              # M·N x Kc x Dp
        queries = self.mask_token + gather_tokens(pos.repeat(m, 1, 1), target_index.reshape(m * n, kt))
        x = self.encoder(torch.cat([x, queries], dim=1))                                   # M·N x Kc+Kt x Dp
        return self.predictor_proj(x[:, kc:]).reshape(m, n, kt, -1)                        # M x N x Kt x D


class JEPAClassifier(nn.Module):
    """An I-JEPA encoder with a linear head on its average-pooled patch features — the network
    whose accuracy a linear probe reports (the paper freezes the encoder and trains the head).

    Shapes: ``(N, C, H, W) -> (N, num_classes)``.
    """

    def __init__(self, encoder: JEPAEncoder, num_classes: int = 1000) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(encoder.hidden_dim, num_classes)
        self.num_classes = num_classes
        guard_inputs(self, "JEPAClassifier", expected=(encoder.patch_embed.in_channels, *encoder.image_size))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x).mean(dim=1)                                # N x D

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))                                # N x num_classes


class IJEPA(nn.Module):
    """Context encoder, EMA target encoder and predictor, around a :class:`JEPAEncoder`.

    ``forward(images, masks)`` returns ``(predictions, targets)``, both ``(M, N, Kt, dim)``;
    :meth:`loss` compares them; after each optimiser step call :meth:`update_target`.
    :meth:`features` gives the target encoder's average-pooled features ``(N, dim)``.

    Args:
        encoder: the context encoder (trained by gradient); the target encoder starts as a copy.
        predictor_dim, predictor_depth: width and depth of the predictor.
        predictor_heads: its heads (default: the encoder's, as in the official code).

    The predictor is initialised as in the official code (:meth:`init_weights`); the encoder is
    used as it is (the registered builders initialise theirs the same way).
    """

    def __init__(self, encoder: JEPAEncoder, predictor_dim: int = 384, predictor_depth: int = 12,
                 predictor_heads: int | None = None) -> None:
        super().__init__()
        self.context_encoder = encoder
        self.target_encoder = copy.deepcopy(self.context_encoder).requires_grad_(False)
        self.predictor = JEPAPredictor(encoder.grid, encoder.hidden_dim, predictor_dim, predictor_depth,
                                       predictor_heads or encoder.num_heads)
        self.init_weights(self.predictor)
        self.grid = encoder.grid
        guard_inputs(self, "IJEPA", expected=(encoder.patch_embed.in_channels, *encoder.image_size))

    def classifier(self, num_classes: int) -> JEPAClassifier:
        """A copy of the target encoder with a (new) linear head: the network to probe."""
        return JEPAClassifier(copy.deepcopy(self.target_encoder).requires_grad_(True), num_classes)

    @staticmethod
    @torch.no_grad()
    def init_weights(module: nn.Module) -> None:
        """The official initialisation: truncated normal (σ = 0.02) for linear and patch
        layers, zero biases; each block's output projections divided by √(2 · layer)."""
        for m in module.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            if hasattr(m, "in_proj_weight"):
                nn.init.trunc_normal_(m.in_proj_weight, std=0.02)
                nn.init.zeros_(m.in_proj_bias)
        encoder = module.encoder if hasattr(module, "encoder") else module
        for i, block in enumerate(encoder.layers, start=1):
            block.self_attention.out_proj.weight.div_((2.0 * i) ** 0.5)
            block.mlp[-2].weight.div_((2.0 * i) ** 0.5)

    def forward(self, images: torch.Tensor, masks: BlockMasks) -> tuple[torch.Tensor, torch.Tensor]:
        m, n, kt = masks.targets.shape
        with torch.no_grad():
            h = self.target_encoder(images)                                               # N x L x D
            h = F.layer_norm(h, (h.shape[-1],))                                           # normalise each patch
            targets = gather_tokens(h.repeat(m, 1, 1), masks.targets.reshape(m * n, kt))  # M·N x Kt x D
        z = self.context_encoder(images, masks.context)                                   # N x Kc x D
        predictions = self.predictor(z, masks.context, masks.targets)                     # M x N x Kt x D
        return predictions, targets.reshape(m, n, kt, -1)

    @staticmethod
    def loss(predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Smooth-L1 between predictions and normalised target features (official code)."""
        return F.smooth_l1_loss(predictions, targets)

    @torch.no_grad()
    def update_target(self, momentum: float) -> None:
        """``θ_target ← m · θ_target + (1 − m) · θ_context`` for every parameter."""
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"IJEPA.update_target: momentum must be in [0, 1], got {momentum}")
        for t, c in zip(self.target_encoder.parameters(), self.context_encoder.parameters()):
            t.mul_(momentum).add_(c.detach(), alpha=1.0 - momentum)

    @torch.no_grad()
    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Average-pooled target-encoder features: ``(N, C, H, W) -> (N, dim)``."""
        return self.target_encoder(images).mean(dim=1)


def ema_momentum(step: int, total_steps: int, start: float = 0.996, end: float = 1.0) -> float:
    """The official schedule: momentum rises linearly from ``start`` to ``end`` over training."""
    if total_steps < 1:
        raise ValueError(f"ema_momentum: total_steps must be >= 1, got {total_steps}")
    return start + (end - start) * min(step, total_steps) / total_steps


# ---- registered models: the encoder with its probe head; pre-train it with ijepa_pretraining ----
# ViT-H/14 as in configs/in1k_vith14_ep300.yaml (with 14×14 patches on 224²: a 16×16 grid).
VIT_H14 = {"image_size": 224, "patch_size": 14, "num_layers": 32, "num_heads": 16, "hidden_dim": 1280, "mlp_dim": 5120}
# Fashion-MNIST (1 × 28 × 28): the encoder of vit_small (4×4 patches, 7×7 grid), a predictor half as wide.
SMALL = {"image_size": 28, "patch_size": 4, "num_layers": 6, "num_heads": 4, "hidden_dim": 64, "mlp_dim": 128}
SMALL_PREDICTOR = {"predictor_dim": 32, "predictor_depth": 3}
PREDICTORS = {"ijepa_vit_h14": {"predictor_dim": OFFICIAL["predictor_dim"], "predictor_depth": OFFICIAL["predictor_depth"]},
              "ijepa_small": SMALL_PREDICTOR}


def ijepa_pretraining(name: str, model: JEPAClassifier | None = None, **overrides) -> IJEPA:
    """The pre-training system of registered I-JEPA model ``name``: its encoder (``model``'s, or
    a new one) as the context encoder, an EMA copy as the target encoder, and the predictor of
    its configuration (``overrides`` change the predictor's arguments)."""
    if name not in PREDICTORS:
        raise ValueError(f"ijepa_pretraining: no I-JEPA configuration {name!r}; known: {', '.join(PREDICTORS)}")
    if model is None:
        from ...registry import get
        model = get(name)
    return IJEPA(model.encoder, **{**PREDICTORS[name], **overrides})


# Counted from the architecture (no published count: the official checkpoints also store the
# fixed position embeddings as a frozen parameter, 256 × 1280 more).
_COUNTED = "counted from the architecture (encoder + linear head; fixed position embeddings are not parameters)"


@register_model(task="classification", paper=PAPER, year=2023, input_size=(3, 224, 224),
                published=Published(params=Figure(631_715_560, _COUNTED),
                                    top1=Figure(TABLE1_PROBE["vit_h_14 (300 ep)"], "paper, Table 1",
                                                "linear probe on the frozen target encoder, ImageNet-1K")),
                test=TestSettings(input_size=(3, 28, 28), kwargs={"num_layers": 2}))
def ijepa_vit_h14(num_classes: int = 1000, in_channels: int = 3, **overrides) -> JEPAClassifier:
    """I-JEPA's ViT-H/14 encoder (official configuration) with a linear head on pooled features.

    ``ijepa_pretraining("ijepa_vit_h14", model)`` gives the system that pre-trains it (EMA target
    encoder, 12 × 384 predictor)."""
    encoder = JEPAEncoder(**{**VIT_H14, **overrides}, in_channels=in_channels)
    IJEPA.init_weights(encoder)
    return JEPAClassifier(encoder, num_classes)


@register_model(task="classification", paper=PAPER + " (scaled down for 28×28 images)", year=2023,
                input_size=(1, 28, 28), published=Published(params=Figure(202_698, _COUNTED)))
def ijepa_small(num_classes: int = 10, in_channels: int = 1, **overrides) -> JEPAClassifier:
    """I-JEPA for Fashion-MNIST: vit_small's encoder (4×4 patches, 6 × 64, no class token) with a
    linear head; ``ijepa_pretraining("ijepa_small", model)`` adds a 3 × 32 predictor."""
    encoder = JEPAEncoder(**{**SMALL, **overrides}, in_channels=in_channels)
    IJEPA.init_weights(encoder)
    return JEPAClassifier(encoder, num_classes)
