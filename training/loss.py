"""Procrustean training loss of 3D-LFM: align the predicted canonical shape to the ground
truth with a masked similarity transform, then take the squared error.

The alignment lives only here, never in the exported network. `procrustes_align` is the
torch twin of `lfm3d_net.geometry.similarity_procrustes` (same contract).
"""

from __future__ import annotations

import torch

EPS = 1e-8  # guards divisions by the point count and by the source variance


def _check(src: torch.Tensor, dst: torch.Tensor, mask: torch.Tensor, where: str) -> None:
    if src.ndim != 3 or src.shape[-1] != 3 or src.shape != dst.shape:
        raise ValueError(f"{where}: src and dst must both be (B, N, 3), got {tuple(src.shape)}, {tuple(dst.shape)}")
    if tuple(mask.shape) != tuple(src.shape[:2]):
        raise ValueError(f"{where}: mask must be {tuple(src.shape[:2])}, got {tuple(mask.shape)}")


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over visible points: x (B, N, C), mask (B, N) bool -> (B, C)."""
    m = mask.unsqueeze(-1)  # (B, N, 1)
    count = m.sum(dim=1).clamp(min=1).to(x.dtype)  # (B, 1)
    return torch.where(m, x, torch.zeros_like(x)).sum(dim=1) / count


def rms_radius(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Root mean square distance of the visible points from their centroid: (B, N, 3) -> (B,)."""
    centred = torch.where(mask.unsqueeze(-1), x - masked_mean(x, mask).unsqueeze(1), torch.zeros_like(x))
    count = mask.sum(dim=1).clamp(min=1).to(x.dtype)  # (B,)
    return torch.sqrt((centred**2).sum(dim=(1, 2)) / count)


def procrustes_align(
    src: torch.Tensor, dst: torch.Tensor, mask: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Similarity transform minimising sum_mask |s R src + t - dst|^2 (Umeyama 1991).

    src, dst (B, N, 3), mask (B, N) bool -> R (B, 3, 3) with det R = +1 always, s (B,), t (B, 3).
    Differentiable (through the SVD). The SVD runs in at least float32 even under autocast.
    Degenerate input (fewer than 3 points, collinear or coincident src) still gives a finite,
    proper R; a src with no spread gets s = 0 and t = dst's centroid.
    """
    _check(src, dst, mask, "procrustes_align")
    dtype = torch.float64 if src.dtype == torch.float64 else torch.float32
    with torch.autocast(device_type=src.device.type, enabled=False):
        src, dst = src.to(dtype), dst.to(dtype)
        m = mask.unsqueeze(-1)  # (B, N, 1)
        mu_src, mu_dst = masked_mean(src, mask), masked_mean(dst, mask)  # (B, 3)
        xs = torch.where(m, src - mu_src.unsqueeze(1), torch.zeros_like(src))  # (B, N, 3)
        xd = torch.where(m, dst - mu_dst.unsqueeze(1), torch.zeros_like(dst))  # (B, N, 3)
        cov = xd.transpose(1, 2) @ xs  # (B, 3, 3) = sum_n dst_n src_n^T
        u, sig, vh = torch.linalg.svd(cov)  # cov = U diag(sig) Vh
        # flip the last singular vector if U Vh is a reflection, so det R = +1
        d = torch.sign(torch.linalg.det(u @ vh))  # (B,)
        d = torch.where(d == 0, torch.ones_like(d), d)
        flip = torch.stack([torch.ones_like(d), torch.ones_like(d), d], dim=-1)  # (B, 3)
        rot = (u * flip.unsqueeze(1)) @ vh  # (B, 3, 3) = U diag(flip) Vh
        var_src = (xs**2).sum(dim=(1, 2))  # (B,)
        scale = (sig * flip).sum(dim=-1) / var_src.clamp(min=EPS)  # (B,)
        trans = mu_dst - scale.unsqueeze(-1) * (rot @ mu_src.unsqueeze(-1)).squeeze(-1)  # (B, 3)
    return rot, scale, trans


def apply_similarity(x: torch.Tensor, rot: torch.Tensor, scale: torch.Tensor, trans: torch.Tensor) -> torch.Tensor:
    """s R x + t for x (B, N, 3), R (B, 3, 3), s (B,), t (B, 3) -> (B, N, 3)."""
    return scale[:, None, None] * (x @ rot.transpose(1, 2)) + trans.unsqueeze(1)


def _instance_losses(pred: torch.Tensor, target_n: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(B,) mean squared distance of visible points after aligning pred to target_n (both
    zeroed at masked points; target_n centred, unit RMS radius)."""
    rot, scale, trans = procrustes_align(pred.detach(), target_n, mask)
    aligned = apply_similarity(pred, rot, scale, trans)  # (B, N, 3)
    sq = ((aligned - target_n) ** 2).sum(dim=-1)  # (B, N)
    sq = torch.where(mask, sq, torch.zeros_like(sq))
    return sq.sum(dim=1) / mask.sum(dim=1).clamp(min=1).to(pred.dtype)


def procrustes_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor,
                    mirror_ok: torch.Tensor | None = None) -> torch.Tensor:
    """Mean squared point distance after aligning pred to the unit-RMS-radius target.

    pred, target (B, N, 3), mask (B, N) bool -> scalar. Per instance: the target is centred
    and divided by its RMS radius (so categories of different size weigh alike), pred is
    similarity-aligned to it, and the squared distances of visible points are averaged;
    the loss is the mean over instances with at least one visible point. Units: squared
    fractions of the target's RMS radius (1.0 = as bad as predicting a single point).

    mirror_ok (B,) bool: instances whose input cannot tell the shape from its depth mirror
    (no left/right sides: the mirror projects to the same 2D). Their loss is the smaller of
    the losses against the target and against its depth mirror, so the network may commit
    to either answer instead of hedging towards the flat mean of the two.

    The transform is fitted on a detached pred. By the envelope theorem the gradient is
    the same as differentiating through the SVD (R, s, t minimise this very error, so its
    derivative through them is zero), but it stays finite when singular values coincide
    (planar or collinear predictions early in training), where the SVD gradient is NaN.
    """
    _check(pred, target, mask, "procrustes_loss")
    dtype = torch.float64 if pred.dtype == torch.float64 else torch.float32
    with torch.autocast(device_type=pred.device.type, enabled=False):
        # zero masked points first: garbage (inf/NaN) there would poison the gradient of where()
        m = mask.unsqueeze(-1)
        pred = torch.where(m, pred.to(dtype), torch.zeros((), dtype=dtype, device=pred.device))
        target = torch.where(m, target.to(dtype), torch.zeros((), dtype=dtype, device=target.device))
        centred = target - masked_mean(target, mask).unsqueeze(1)  # (B, N, 3)
        target_n = centred / rms_radius(target, mask).clamp(min=EPS)[:, None, None]
        per_instance = _instance_losses(pred, target_n, mask)  # (B,)
        if mirror_ok is not None and bool(mirror_ok.any()):
            mirror = target_n * target_n.new_tensor([1.0, 1.0, -1.0])  # depth mirror: the same 2D
            per_instance = torch.where(mirror_ok, torch.minimum(per_instance, _instance_losses(pred, mirror, mask)),
                                       per_instance)
        has_points = (mask.sum(dim=1) > 0).to(dtype)
        return (per_instance * has_points).sum() / has_points.sum().clamp(min=1.0)
