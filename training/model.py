"""The 3D-LFM network (Dabhi, Jeni, Lucey, "3D-LFM: Lifting Foundation Model", CVPR 2024).

Reads top to bottom like the paper:
    2D normalisation -> Random Fourier Features (+ side, front) -> token encoder
    -> L x HybridAttentionLayer (local graph attention || global self-attention)
    -> final LayerNorm -> decoder MLP -> canonical 3D shape.

There is no per-index embedding: a token knows only its normalised 2D position, its
side (left / centre / right) and, optionally, its front (front end / neither / back end),
so the network is permutation-equivariant and takes any number of keypoints N (up to
`max_keypoints`). Padded tokens are masked out of every
attention, so they cannot change real tokens' outputs.

Shapes: B batch, N keypoints, D model width, H heads, Dh = D / H.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn

# Additive attention bias for disallowed (query, key) pairs. Not -inf: a row with every key
# disallowed would give NaN. -1e4 still underflows exp() to exactly 0 in fp32/fp64 (so
# masking is exact) and stays finite in fp16 (max 65504) for TensorRT FP16 engines.
MASK_BIAS = -1.0e4
SCALE_EPS = 1e-6  # floor of the 2D normalisation scale (docs/interfaces.md)


@dataclass
class ModelConfig:
    dim: int = 128  # D, token width
    heads: int = 4  # H, attention heads in each branch (local and global); D % H == 0
    layers: int = 4  # L, hybrid attention layers (paper: 4)
    rff_dim: int = 128  # Random Fourier Features per token (half sin, half cos); even
    rff_sigma: float = 1.0  # std of the RFF frequencies omega, in 1 / normalised units
    rff_seed: int = 0  # seed of the generator that draws omega and b (once)
    mlp_ratio: int = 4  # hidden width of each layer's MLP = mlp_ratio * D
    dropout: float = 0.0  # dropout on attention weights and residual branches (training)
    use_sides: bool = True  # append the side value (-1 left, 0 centre, +1 right) to each token
    use_fronts: bool = False  # append the front value (+1 front, 0 neither/unknown, -1 back)
    max_keypoints: int = 256  # largest N the model is meant for (checked in eager mode)
    knn: int = 4  # k of the k-NN adjacency used when a rig has no edges (lfm3d_net.graph)

    def __post_init__(self) -> None:
        if self.dim % self.heads != 0:
            raise ValueError(f"ModelConfig: dim={self.dim} must be divisible by heads={self.heads}")
        if self.rff_dim % 2 != 0 or self.rff_dim <= 0:
            raise ValueError(f"ModelConfig: rff_dim={self.rff_dim} must be a positive even number")
        if self.layers < 1 or self.max_keypoints < 1 or self.knn < 0:
            raise ValueError(f"ModelConfig: bad layers/max_keypoints/knn in {self}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"ModelConfig.from_dict: unknown fields {sorted(unknown)}")
        return cls(**d)


PRESETS: dict[str, ModelConfig] = {
    "tiny": ModelConfig(dim=32, heads=2, layers=2, rff_dim=32),  # tests only
    # CPU default, sized for >= 1,000 lifts/s on one core (bench/model_size.py times others)
    "small": ModelConfig(dim=96, heads=4, layers=4, rff_dim=96),
    "small64": ModelConfig(dim=64, heads=4, layers=4, rff_dim=96),  # cheaper CPU candidate (experiment)
    # GPU model: D=192 keeps the ONNX file < 16 MB (D=256 would be ~17 MB)
    "base": ModelConfig(dim=192, heads=6, layers=4, rff_dim=192),
    "large": ModelConfig(dim=512, heads=8, layers=4, rff_dim=512),
}


def preset(name: str, **overrides) -> ModelConfig:
    """A copy of a named preset (`tiny`, `small`, `base`, `large`) with fields overridden."""
    if name not in PRESETS:
        raise ValueError(f"unknown model preset {name!r}; known: {sorted(PRESETS)}")
    return ModelConfig(**{**asdict(PRESETS[name]), **overrides})


# ----------------------------------------------------------------------------------------
# 2D normalisation (torch twin of lfm3d_net.geometry.normalize_2d)


def normalize_2d(kp: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Centre on the visible points' mean, scale so they fit in [-1, 1] (aspect kept).

    kp (B, N, 2) any 2D units, mask (B, N) bool.
    Returns normed (B, N, 2) (zeros at masked points), center (B, 2), scale (B,).
    """
    m = mask.unsqueeze(-1)  # (B, N, 1)
    zeros = torch.zeros_like(kp)
    # where(), not multiply: masked points may hold inf/NaN garbage and inf * 0 = NaN
    count = m.to(kp.dtype).sum(dim=1).clamp(min=1.0)  # (B, 1)
    center = torch.where(m, kp, zeros).sum(dim=1) / count  # (B, 2)
    offset = torch.where(m, kp - center.unsqueeze(1), zeros)  # (B, N, 2)
    scale = offset.abs().amax(dim=(1, 2)).clamp(min=SCALE_EPS)  # (B,)
    normed = offset / scale[:, None, None]  # (B, N, 2)
    return normed, center, scale


# ----------------------------------------------------------------------------------------
# Token encoding


class RandomFourierFeatures(nn.Module):
    """sqrt(2/F) * [sin(x w + b); cos(x w + b)] with w ~ N(0, sigma^2), b ~ U(0, 2 pi).

    w and b are drawn once from a seeded generator and registered as buffers, so they are
    saved with the weights and never trained. x (..., in_dim) -> (..., out_dim).
    """

    def __init__(self, in_dim: int, out_dim: int, sigma: float, seed: int):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        half = out_dim // 2
        self.register_buffer("omega", torch.randn(in_dim, half, generator=gen) * sigma)  # (in, F/2)
        self.register_buffer("bias", torch.rand(half, generator=gen) * 2 * math.pi)  # (F/2,)
        self.gain = math.sqrt(2.0 / out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        proj = x @ self.omega + self.bias  # (..., F/2)
        return self.gain * torch.cat([torch.sin(proj), torch.cos(proj)], dim=-1)  # (..., F)


class TokenEncoder(nn.Module):
    """RFF of the normalised 2D (+ side, front values) -> Linear to D. No per-index embedding.

    proj's input columns: F RFF features, then side (if use_sides), then front (if use_fronts).
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.use_sides, self.use_fronts = cfg.use_sides, cfg.use_fronts
        self.rff = RandomFourierFeatures(2, cfg.rff_dim, cfg.rff_sigma, cfg.rff_seed)
        self.proj = nn.Linear(cfg.rff_dim + int(cfg.use_sides) + int(cfg.use_fronts), cfg.dim)

    def forward(self, normed: torch.Tensor, sides: torch.Tensor,
                fronts: torch.Tensor | None = None) -> torch.Tensor:
        feats = [self.rff(normed)]  # (B, N, F)
        if self.use_sides:
            feats.append(sides.unsqueeze(-1).to(feats[0].dtype))  # (B, N, 1)
        if self.use_fronts:  # None = unknown fronts, all 0
            fronts = torch.zeros_like(sides) if fronts is None else fronts
            feats.append(fronts.unsqueeze(-1).to(feats[0].dtype))  # (B, N, 1)
        return self.proj(torch.cat(feats, dim=-1) if len(feats) > 1 else feats[0])  # (B, N, D)


# ----------------------------------------------------------------------------------------
# Hybrid attention


def attention_biases(mask: torch.Tensor, adjacency: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Additive biases of the local and global branches, stacked: (B, 2, 1, N, N).

    A real query attends to real keys only: its rig/kNN neighbours (local) or all of them
    (global). A padded query attends to itself only, so no softmax row is empty and padded
    tokens never feed real ones. The diagonal is always allowed, whatever `adjacency` says.
    """
    n = mask.shape[1]
    idx = torch.arange(n, device=mask.device)
    eye = (idx.unsqueeze(0) == idx.unsqueeze(1)).unsqueeze(0)  # (1, N, N)
    both_real = mask.unsqueeze(2) & mask.unsqueeze(1)  # (B, N, N) query x key
    allowed_global = both_real | eye  # (B, N, N)
    allowed_local = (adjacency & both_real) | eye  # (B, N, N)
    allowed = torch.stack([allowed_local, allowed_global], dim=1).unsqueeze(2)  # (B, 2, 1, N, N)
    zero = torch.zeros((), dtype=dtype, device=mask.device)
    neg = torch.full((), MASK_BIAS, dtype=dtype, device=mask.device)
    return torch.where(allowed, zero, neg)


class HybridAttentionLayer(nn.Module):
    """Local graph attention || global self-attention, concat -> Linear -> residual; MLP.

    Both branches are H-head scaled dot-product attention with their own Q, K, V. They
    are computed together: one fused Linear gives Q, K, V of both branches (a "branch"
    axis of size 2), one attention call applies the per-branch bias. Pre-norm residuals.
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.heads = cfg.heads
        self.head_dim = cfg.dim // cfg.heads
        self.norm_attn = nn.LayerNorm(cfg.dim)
        self.qkv = nn.Linear(cfg.dim, 2 * 3 * cfg.dim)  # (local, global) x (q, k, v)
        self.proj = nn.Linear(2 * cfg.dim, cfg.dim)  # concat of both branches -> D
        self.norm_mlp = nn.LayerNorm(cfg.dim)
        self.mlp = nn.Sequential(
            nn.Linear(cfg.dim, cfg.mlp_ratio * cfg.dim),
            nn.GELU(),  # exact (erf) GELU: exports as Erf, which TensorRT supports
            nn.Linear(cfg.mlp_ratio * cfg.dim, cfg.dim),
        )
        self.attn_drop = nn.Dropout(cfg.dropout)
        self.resid_drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """x (B, N, D), bias (B, 2, 1, N, N) from `attention_biases` -> (B, N, D)."""
        b, n, d = x.shape
        qkv = self.qkv(self.norm_attn(x))  # (B, N, 6D)
        qkv = qkv.reshape(b, n, 2, 3, self.heads, self.head_dim)  # (B, N, branch, qkv, H, Dh)
        qkv = qkv.permute(3, 0, 2, 4, 1, 5)  # (qkv, B, branch, H, N, Dh)
        q, k, v = qkv[0], qkv[1], qkv[2]  # each (B, 2, H, N, Dh)
        scores = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(self.head_dim)) + bias  # (B, 2, H, N, N)
        weights = self.attn_drop(torch.softmax(scores, dim=-1))
        out = weights @ v  # (B, 2, H, N, Dh)
        out = out.permute(0, 3, 1, 2, 4).reshape(b, n, 2 * d)  # (B, N, 2D): [local heads, global heads]
        x = x + self.resid_drop(self.proj(out))
        x = x + self.resid_drop(self.mlp(self.norm_mlp(x)))
        return x


# ----------------------------------------------------------------------------------------
# The network


def check_inputs(keypoints, mask, adjacency, sides, max_keypoints: int, who: str = "LFM3D.forward",
                 fronts=None) -> None:
    """Shape/dtype checks of the forward inputs (eager mode only: tracing must not bake
    shapes in); ValueError naming what is wrong. Shared with training.fused_triton."""
    if keypoints.ndim != 3 or keypoints.shape[-1] != 2:
        raise ValueError(f"{who}: keypoints must be (B, N, 2), got {tuple(keypoints.shape)}")
    b, n, _ = keypoints.shape
    if n > max_keypoints:
        raise ValueError(f"{who}: N={n} exceeds max_keypoints={max_keypoints}")
    for name, t, shape in (("mask", mask, (b, n)), ("adjacency", adjacency, (b, n, n)), ("sides", sides, (b, n)),
                           ("fronts", fronts, (b, n))):
        if t is not None and tuple(t.shape) != shape:
            raise ValueError(f"{who}: {name} must be {shape}, got {tuple(t.shape)}")
    if mask.dtype != torch.bool or adjacency.dtype != torch.bool:
        raise ValueError(f"{who}: mask and adjacency must be bool, got {mask.dtype}, {adjacency.dtype}")


class LFM3D(nn.Module):
    """2D keypoints of any category -> canonical 3D shape (up to rotation and scale)."""

    def __init__(self, cfg: ModelConfig | None = None):
        super().__init__()
        self.config = cfg if cfg is not None else ModelConfig()
        self.encoder = TokenEncoder(self.config)
        self.layers = nn.ModuleList(HybridAttentionLayer(self.config) for _ in range(self.config.layers))
        self.norm_out = nn.LayerNorm(self.config.dim)
        self.decoder = nn.Sequential(
            nn.Linear(self.config.dim, self.config.dim),
            nn.GELU(),
            nn.Linear(self.config.dim, 3),
        )

    def forward(
        self,
        keypoints: torch.Tensor,
        mask: torch.Tensor,
        adjacency: torch.Tensor,
        sides: torch.Tensor,
        fronts: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """keypoints (B, N, 2) raw 2D, mask (B, N) bool (True = valid), adjacency (B, N, N)
        bool (local neighbours), sides (B, N) in {-1, 0, 1}, fronts (B, N) in {-1, 0, 1} or
        None (= all 0, unknown; ignored unless config.use_fronts) -> shape3d (B, N, 3) in the
        normalised units of `normalize_2d`, zeros at masked points."""
        if not (torch.jit.is_tracing() or torch.onnx.is_in_onnx_export()):
            check_inputs(keypoints, mask, adjacency, sides, self.config.max_keypoints, fronts=fronts)
        normed, _, _ = normalize_2d(keypoints, mask)  # (B, N, 2)
        x = self.encoder(normed, sides, fronts)  # (B, N, D)
        bias = attention_biases(mask, adjacency, x.dtype)  # (B, 2, 1, N, N)
        for layer in self.layers:
            x = layer(x, bias)  # (B, N, D)
        shape3d = self.decoder(self.norm_out(x))  # (B, N, 3)
        return torch.where(mask.unsqueeze(-1), shape3d, torch.zeros_like(shape3d))

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
