"""Lift metrics shared by training (validation) and evaluation.

Own module so ``training.train`` and ``training.eval`` need not import each other: eval
trains small models for its rig-transfer table, and training validates with these metrics.
Definitions (MPJPE after camera alignment and RMS-radius scaling, PA-MPJPE after similarity
Procrustes) are in ``training.eval``'s docstring.
"""
from __future__ import annotations

import numpy as np

MM_CATEGORIES = ("person",)  # 3D data in metres -> also report millimetres


def camera_aligned(pred: np.ndarray, kp2d: np.ndarray, mask: np.ndarray, to_2d_units: bool = False) -> np.ndarray:
    """(B, N, 3) canonical shape -> (B, N, 3) rotated into the camera frame, centred (shape units,
    or the 2D's units with ``to_2d_units``: scaled by the fitted orthographic scale)."""
    from lfm3d_net.geometry import align_to_camera
    pred = np.asarray(pred, np.float64)
    R, s = align_to_camera(pred, np.asarray(kp2d, np.float64), mask)
    m = np.asarray(mask, bool)[..., None]
    c = (pred * m).sum(1, keepdims=True) / np.maximum(m.sum(1, keepdims=True), 1)
    out = np.einsum("bij,bnj->bni", R, (pred - c) * m)
    return out * s[:, None, None] if to_2d_units else out


def lift_metrics(pred: np.ndarray, kp2d: np.ndarray, mask: np.ndarray, target: np.ndarray) -> dict:
    """Per-instance errors (B,) of a canonical prediction against the camera-frame target.

    Args: pred (B, N, 3) any scale; kp2d (B, N, 2) the observed input; mask (B, N) bool;
    target (B, N, 3) ground truth in the camera frame (its units: metres for people).
    Returns dict of (B,) arrays: ``mpjpe``, ``pa_mpjpe`` (target units), ``mpjpe_pct``,
    ``pa_mpjpe_pct`` (% of the target's RMS radius).
    """
    from lfm3d_net.geometry import rms_radius
    from lfm3d_net.metrics import mpjpe, pa_mpjpe
    mask = np.asarray(mask, bool)
    target = np.asarray(target, np.float64)
    cam = camera_aligned(pred, kp2d, mask)
    r_gt = rms_radius(target, mask)
    r_pred = rms_radius(cam, mask)
    cam = cam * (r_gt / np.maximum(r_pred, 1e-12))[:, None, None]
    e1 = np.asarray(mpjpe(cam, target, mask), np.float64)
    e2 = np.asarray(pa_mpjpe(np.asarray(pred, np.float64), target, mask), np.float64)
    r = np.maximum(r_gt, 1e-12)
    return {"mpjpe": e1, "pa_mpjpe": e2, "mpjpe_pct": 100 * e1 / r, "pa_mpjpe_pct": 100 * e2 / r}


def summarise(per_instance: dict, category: str) -> dict:
    """Means of ``lift_metrics`` outputs (+ mm where the category is metric)."""
    out = {k: float(np.mean(v)) for k, v in per_instance.items() if k.endswith("_pct")}
    if category in MM_CATEGORIES:
        out["mpjpe_mm"] = 1000 * float(np.mean(per_instance["mpjpe"]))
        out["pa_mpjpe_mm"] = 1000 * float(np.mean(per_instance["pa_mpjpe"]))
    return out
