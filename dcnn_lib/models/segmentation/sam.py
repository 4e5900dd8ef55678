"""``sam_small``: a small model with the structure of the Segment Anything Model (Kirillov et al.,
"Segment Anything", ICCV 2023, §3 and Appendix A) — **a scaled-down SAM trained here, not the
released SAM weights**.

SAM answers *prompts*: given an image and a few points (foreground/background), a box or a
rough mask, it returns masks of the object meant. Three parts:

1. **Image encoder** — a ViT (:class:`~dcnn_lib.layers.ViTBlock`) run once per image, with a
   neck (1×1 conv, LayerNorm, 3×3 conv, LayerNorm) to a ``dim``-channel embedding at 1/p of the
   input resolution (SAM: ViT-H/16 on 1024², embedding 256 × 64 × 64).
2. **Prompt encoder** — points and box corners become tokens: a random-Fourier positional
   encoding of the coordinate plus a learned embedding of the kind (negative point, positive
   point, top-left corner, bottom-right corner; "not a point" for padding). Without a mask
   prompt, a learned "no mask" embedding is added to every position of the image embedding.
3. **Mask decoder** — learned output tokens (one IoU token, four mask tokens) are concatenated
   with the prompt tokens and a :class:`~dcnn_lib.layers.TwoWayTransformer` lets tokens and
   image attend to each other. The image embedding is upsampled 4× by two transposed
   convolutions; each mask token goes through a 3-layer MLP (a *hypernetwork*) that outputs the
   weights of a dynamic 1×1 classifier applied to every upsampled position; the IoU token
   predicts each mask's IoU. With ``multimask_output=True`` the three masks of tokens 1–3 are
   returned (ambiguity: part, object, whole), otherwise token 0's single mask.

Scaled down and simplified, deliberately: 64² inputs and 4×4 patches (16 × 16 tokens) instead
of 1024² and 16×16; a 4-block, 128-wide ViT with global attention and a learned absolute
position embedding (SAM: 32 blocks of 1280, windowed attention with relative positions, MAE
pre-training); 64-channel prompt/decoder width (256) and MLPs of 256 (2048); no mask prompts;
trained from scratch on the synthetic scenes with one point prompt per object (SAM: 11 rounds
of interactive point/box/mask prompts on SA-1B's 1.1 billion masks).

``forward(image, points=None, point_labels=None, boxes=None, multimask_output=True)`` returns
``{"out": (N, M, H, W) mask logits, "iou": (N, M)}`` with M = 3 (or 1): the registry's
``{"out": ...}`` contract, with masks in place of classes. Inputs whose sides are not multiples
of the patch size are zero-padded (as SAM pads to 1024²) and the masks cropped back.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from ...layers import guard_inputs
from ...layers.layer_norm_2d import LayerNorm2d
from ...layers.two_way_transformer import TwoWayTransformer
from ...layers.vit_block import MLP, PatchEmbedding, ViTBlock
from ...registry import Figure, Published, TestSettings, check_input_size, register_model

PAPER = "Kirillov et al., Segment Anything, ICCV 2023 (scaled-down re-implementation, trained here)"


class ImageEncoder(nn.Module):
    """ViT + neck. Shapes: ``(N, 3, H, W) -> (N, out_dim, H/p, W/p)`` (H, W multiples of p)."""

    def __init__(self, input_size: tuple[int, int, int] = (3, 64, 64), patch_size: int = 4, dim: int = 128,
                 depth: int = 4, heads: int = 4, out_dim: int = 64) -> None:
        super().__init__()
        in_channels, h, w = check_input_size(input_size, "ImageEncoder")
        self.patch_embed = PatchEmbedding(patch_size, in_channels, dim)
        self.pos_embed = nn.Parameter(torch.zeros(1, h // patch_size, w // patch_size, dim))
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        self.blocks = nn.ModuleList(ViTBlock(dim, heads) for _ in range(depth))
        self.neck = nn.Sequential(
            nn.Conv2d(dim, out_dim, 1, bias=False), LayerNorm2d(out_dim),
            nn.Conv2d(out_dim, out_dim, 3, padding=1, bias=False), LayerNorm2d(out_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x)                                              # N x g x g x dim
        pos = self.pos_embed
        if pos.shape[1:3] != x.shape[1:3]:                                  # another input size
            pos = F.interpolate(pos.permute(0, 3, 1, 2), size=x.shape[1:3], mode="bicubic",
                                align_corners=False).permute(0, 2, 3, 1)
        x = x + pos
        for block in self.blocks:
            x = block(x)
        return self.neck(x.permute(0, 3, 1, 2))                              # N x out_dim x g x g


class PositionEmbeddingRandom(nn.Module):
    """Random Fourier features of (x, y) in [0, 1]² (Tancik et al. 2020), as SAM encodes positions."""

    def __init__(self, dim: int, scale: float = 1.0) -> None:
        super().__init__()
        self.register_buffer("gaussian", scale * torch.randn(2, dim // 2))

    def encode(self, coords: torch.Tensor) -> torch.Tensor:
        """``(..., 2)`` normalised (x, y) -> ``(..., dim)``."""
        c = (2 * coords - 1) @ self.gaussian * (2 * math.pi)
        return torch.cat([torch.sin(c), torch.cos(c)], dim=-1)

    def grid(self, h: int, w: int) -> torch.Tensor:
        """Encoding of every cell centre of an ``h × w`` grid: ``(dim, h, w)``."""
        ys = (torch.arange(h, device=self.gaussian.device) + 0.5) / h
        xs = (torch.arange(w, device=self.gaussian.device) + 0.5) / w
        coords = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1)   # h x w x 2 as (x, y)
        return self.encode(coords).permute(2, 0, 1)


class PromptEncoder(nn.Module):
    """Points and boxes -> sparse tokens ``(N, T, dim)``; dense ``(N, dim, h, w)`` "no mask" embedding."""

    def __init__(self, dim: int = 64) -> None:
        super().__init__()
        self.pe_layer = PositionEmbeddingRandom(dim)
        # negative point, positive point, box top-left, box bottom-right
        self.point_embeddings = nn.ModuleList(nn.Embedding(1, dim) for _ in range(4))
        self.not_a_point_embed = nn.Embedding(1, dim)
        self.no_mask_embed = nn.Embedding(1, dim)
        self.dim = dim

    def forward(self, n: int, grid: tuple[int, int], image_size: tuple[int, int],
                points: torch.Tensor | None = None, labels: torch.Tensor | None = None,
                boxes: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        h_img, w_img = image_size
        scale = torch.tensor([w_img, h_img], dtype=torch.float32, device=self.no_mask_embed.weight.device)
        tokens = [torch.empty(n, 0, self.dim, device=scale.device)]
        if points is not None:
            if labels is None:
                labels = torch.ones(points.shape[:2], dtype=torch.long, device=points.device)
            if boxes is None:                                  # SAM pads points with a "not a point"
                points = torch.cat([points, torch.zeros_like(points[:, :1])], dim=1)
                labels = torch.cat([labels, -torch.ones_like(labels[:, :1])], dim=1)
            pe = self.pe_layer.encode((points.float() + 0.5) / scale)            # N x P x dim
            pe = torch.where((labels == -1)[..., None], torch.zeros_like(pe), pe)
            pe = pe + torch.where((labels == -1)[..., None], self.not_a_point_embed.weight, 0.0)
            pe = pe + torch.where((labels == 0)[..., None], self.point_embeddings[0].weight, 0.0)
            pe = pe + torch.where((labels == 1)[..., None], self.point_embeddings[1].weight, 0.0)
            tokens.append(pe)
        if boxes is not None:
            corners = boxes.reshape(-1, 2, 2).float() + 0.5                     # N x 2 x (x, y)
            pe = self.pe_layer.encode(corners / scale)
            pe = pe + torch.cat([self.point_embeddings[2].weight, self.point_embeddings[3].weight])
            tokens.append(pe)
        sparse = torch.cat(tokens, dim=1)
        dense = self.no_mask_embed.weight.reshape(1, -1, 1, 1).repeat(n, 1, *grid)   # a copy, not a view
        return sparse, dense

    def dense_pe(self, grid: tuple[int, int]) -> torch.Tensor:
        return self.pe_layer.grid(*grid)[None]                                     # 1 x dim x h x w


class MaskDecoder(nn.Module):
    """Two-way transformer over [IoU token, 4 mask tokens, prompt tokens] and the image embedding.

    Shapes: embedding ``(N, dim, h, w)`` -> masks ``(N, M, 4h, 4w)``, IoU ``(N, M)``.
    """

    def __init__(self, dim: int = 64, depth: int = 2, heads: int = 4, mlp_dim: int = 256,
                 num_multimask_outputs: int = 3) -> None:
        super().__init__()
        self.num_mask_tokens = num_multimask_outputs + 1
        self.iou_token = nn.Embedding(1, dim)
        self.mask_tokens = nn.Embedding(self.num_mask_tokens, dim)
        self.transformer = TwoWayTransformer(depth, dim, heads, mlp_dim)
        self.output_upscaling = nn.Sequential(
            nn.ConvTranspose2d(dim, dim // 4, 2, stride=2), LayerNorm2d(dim // 4), nn.GELU(),
            nn.ConvTranspose2d(dim // 4, dim // 8, 2, stride=2), nn.GELU())
        self.output_hypernetworks_mlps = nn.ModuleList(
            MLP(dim, dim, dim // 8, layers=3, act=nn.ReLU) for _ in range(self.num_mask_tokens))
        self.iou_prediction_head = MLP(dim, 256, self.num_mask_tokens, layers=3, act=nn.ReLU)

    def forward(self, image: torch.Tensor, image_pe: torch.Tensor, sparse: torch.Tensor,
                dense: torch.Tensor, multimask_output: bool) -> tuple[torch.Tensor, torch.Tensor]:
        n, c, h, w = image.shape
        out_tokens = torch.cat([self.iou_token.weight, self.mask_tokens.weight]).expand(n, -1, -1)
        tokens = torch.cat([out_tokens, sparse], dim=1)                          # N x (5 + T) x dim
        hs, src = self.transformer(image + dense, image_pe, tokens)
        iou_token, mask_tokens = hs[:, 0], hs[:, 1:1 + self.num_mask_tokens]
        up = self.output_upscaling(src.transpose(1, 2).reshape(n, c, h, w))      # N x dim/8 x 4h x 4w
        weights = torch.stack([mlp(mask_tokens[:, i]) for i, mlp in enumerate(self.output_hypernetworks_mlps)],
                              dim=1)                                               # N x 4 x dim/8
        masks = (weights @ up.flatten(2)).reshape(n, -1, *up.shape[-2:])           # N x 4 x 4h x 4w
        iou = self.iou_prediction_head(iou_token)                                 # N x 4
        sel = slice(1, None) if multimask_output else slice(0, 1)
        return masks[:, sel], iou[:, sel]


class SamSmall(nn.Module):
    """Image encoder + prompt encoder + mask decoder. See the module docstring.

    Shapes: ``image (N, 3, H, W)``, ``points (N, P, 2)`` pixel (x, y), ``point_labels (N, P)``
    (1 foreground, 0 background, -1 padding), ``boxes (N, 4)`` pixel (x1, y1, x2, y2) ->
    ``{"out": (N, M, H, W), "iou": (N, M)}``.
    """

    def __init__(self, input_size: tuple[int, int, int] = (3, 64, 64), patch_size: int = 4, encoder_dim: int = 128,
                 encoder_depth: int = 4, encoder_heads: int = 4, dim: int = 64, decoder_depth: int = 2,
                 decoder_heads: int = 4, decoder_mlp: int = 256) -> None:
        super().__init__()
        input_size = check_input_size(input_size, "SamSmall")
        self.image_encoder = ImageEncoder(input_size, patch_size, encoder_dim, encoder_depth, encoder_heads, dim)
        self.prompt_encoder = PromptEncoder(dim)
        self.mask_decoder = MaskDecoder(dim, decoder_depth, decoder_heads, decoder_mlp)
        self.patch_size = patch_size
        guard_inputs(self, "SamSmall", expected=input_size)

    def forward(self, image: torch.Tensor, points: torch.Tensor | None = None,
                point_labels: torch.Tensor | None = None, boxes: torch.Tensor | None = None,
                multimask_output: bool = True) -> dict[str, torch.Tensor]:
        n, _, h, w = image.shape
        p = self.patch_size
        ph, pw = -h % p, -w % p
        if ph or pw:
            image = F.pad(image, (0, pw, 0, ph))                                   # SAM pads, never resizes here
        emb = self.image_encoder(image)                                            # N x dim x H/p x W/p
        grid = tuple(emb.shape[-2:])
        sparse, dense = self.prompt_encoder(n, grid, tuple(image.shape[-2:]), points, point_labels, boxes)
        masks, iou = self.mask_decoder(emb, self.prompt_encoder.dense_pe(grid), sparse, dense, multimask_output)
        if masks.shape[-2:] != image.shape[-2:]:
            masks = F.interpolate(masks, size=image.shape[-2:], mode="bilinear", align_corners=False)
        return {"out": masks[..., :h, :w], "iou": iou}


def sam_loss(out: dict[str, torch.Tensor], target: torch.Tensor, focal_weight: float = 20.0,
             gamma: float = 2.0, alpha: float = 0.25) -> torch.Tensor:
    """SAM's training loss (Appendix A): ``20 · focal + dice`` on the best of the M masks only
    (the minimum over masks, so an ambiguous prompt is not penalised for the other valid
    answers), plus the MSE between the predicted IoUs and the masks' actual IoUs.

    ``target``: ``(N, H, W)`` binary mask of the object the prompt points at.
    """
    logits, iou_pred = out["out"], out["iou"]                                      # N x M x H x W, N x M
    t = target.float()[:, None].expand_as(logits)
    p = logits.sigmoid()
    ce = F.binary_cross_entropy_with_logits(logits, t, reduction="none")
    p_t = p * t + (1 - p) * (1 - t)
    focal = (alpha * t + (1 - alpha) * (1 - t)) * (1 - p_t) ** gamma * ce
    focal = focal.flatten(2).mean(-1)                                              # N x M
    inter = (p * t).flatten(2).sum(-1)
    dice = 1 - (2 * inter + 1) / (p.flatten(2).sum(-1) + t.flatten(2).sum(-1) + 1)   # N x M
    per_mask = focal_weight * focal + dice
    best = per_mask.min(dim=1).values
    with torch.no_grad():
        pred = logits > 0
        tb = t > 0.5
        actual = (pred & tb).flatten(2).sum(-1).float() / (pred | tb).flatten(2).sum(-1).clamp(min=1).float()
    return best.mean() + F.mse_loss(iou_pred.float(), actual)


sam_loss.takes_raw_output = True   # dcnn_lib.train.fit passes it the whole output (masks and IoUs)


@register_model(task="segmentation", paper=PAPER, year=2023, input_size=(3, 64, 64),
                published=Published(params=Figure(1_143_996, "counted from this scaled-down configuration")),
                test=TestSettings(input_size=(3, 64, 64), kwargs={"encoder_dim": 32, "dim": 32, "encoder_depth": 2}))
def sam_small(input_size: tuple[int, int, int] = (3, 64, 64), patch_size: int = 4, encoder_dim: int = 128,
              encoder_depth: int = 4, dim: int = 64) -> SamSmall:
    """A scaled-down SAM (ViT encoder, point/box prompt encoder, two-way mask decoder), trained here."""
    return SamSmall(input_size, patch_size, encoder_dim=encoder_dim, encoder_depth=encoder_depth, dim=dim)
