"""3D pose errors, numpy only. Each returns per-instance errors (B,) in the input
units (mean Euclidean distance over the valid points); average with `.mean()`.

Protocols (VideoPose3D naming):
- `mpjpe`   protocol 1: both poses centred on their valid points' centroid (our
            rigs have no common root joint), no rotation or scale.
- `pa_mpjpe` protocol 2: pred aligned to gt by similarity Procrustes (rotation,
            scale, translation) per instance.
- `n_mpjpe` centred as protocol 1, then pred scaled by the least-squares scale.

An instance with no valid point has no error: it gives NaN (use np.nanmean).
"""

from __future__ import annotations

import numpy as np

from lfm3d_net.geometry import apply_similarity, similarity_procrustes


def _check(pred, gt, mask) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate shapes; return float64 pred, gt (B, N, 3) and bool mask (B, N)."""
    pred = np.asarray(pred)
    gt = np.asarray(gt)
    if pred.ndim != 3 or pred.shape[-1] != 3:
        raise ValueError(f"pred must have shape (B, N, 3); got {pred.shape}")
    if gt.shape != pred.shape:
        raise ValueError(f"gt must have the shape of pred {pred.shape}; got {gt.shape}")
    if mask is None:
        mask = np.ones(pred.shape[:2], dtype=bool)
    mask = np.asarray(mask)
    if mask.shape != pred.shape[:2]:
        raise ValueError(f"mask must have shape {pred.shape[:2]} (B, N); got {mask.shape}")
    return pred.astype(np.float64), gt.astype(np.float64), mask.astype(bool)


def _mean_error(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean Euclidean distance over valid points, (B,); NaN where none is valid."""
    dist = np.linalg.norm(np.where(mask[..., None], pred - gt, 0.0), axis=-1)  # (B, N)
    count = mask.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, dist.sum(axis=1) / count, np.nan)


def _centred(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """x minus its valid points' centroid, zeros at masked points. (B, N, 3)."""
    w = mask[..., None]
    x = np.where(w, x, 0.0)
    mu = x.sum(axis=1, keepdims=True) / np.maximum(mask.sum(axis=1), 1)[:, None, None]
    return np.where(w, x - mu, 0.0)


def mpjpe(pred, gt, mask=None) -> np.ndarray:
    """Protocol 1: mean per-joint position error after centroid alignment.

    Args:
        pred, gt: (B, N, 3) same units; mask: (B, N) bool or None (all valid).
    Returns:
        (B,) errors in input units.
    """
    pred, gt, mask = _check(pred, gt, mask)
    return _mean_error(_centred(pred, mask), _centred(gt, mask), mask)


def n_mpjpe(pred, gt, mask=None) -> np.ndarray:
    """Scale-normalised MPJPE: centroid alignment, then the least-squares scale
    s = sum <p, g> / sum |p|^2 over valid points applied to pred.

    Args:
        pred, gt: (B, N, 3) same units; mask: (B, N) bool or None.
    Returns:
        (B,) errors in gt units.
    """
    pred, gt, mask = _check(pred, gt, mask)
    p = _centred(pred, mask)
    g = _centred(gt, mask)
    pp = np.einsum("bnd,bnd->b", p, p)
    s = np.einsum("bnd,bnd->b", p, g) / np.where(pp > 0, pp, 1.0)  # 0 if pred collapsed
    return _mean_error(s[:, None, None] * p, g, mask)


def pa_mpjpe(pred, gt, mask=None) -> np.ndarray:
    """Protocol 2: MPJPE after per-instance similarity Procrustes of pred onto gt
    (proper rotation, scale, translation fitted on the valid points).

    Args:
        pred, gt: (B, N, 3) same units; mask: (B, N) bool or None.
    Returns:
        (B,) errors in gt units.
    """
    pred, gt, mask = _check(pred, gt, mask)
    R, s, t = similarity_procrustes(pred, gt, mask)
    return _mean_error(apply_similarity(np.where(mask[..., None], pred, 0.0), R, s, t), gt, mask)
