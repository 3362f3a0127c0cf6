"""Local-attention adjacency for the network: from a rig's edges, or kNN in 2D.

Every adjacency is bool, symmetric, has all self-loops set (also for masked or
padded tokens, so no softmax row of the graph attention is empty), and connects a
masked point to nothing but itself. `training/` has a torch twin of this module;
the definitions below are exact so the two can agree bit for bit.
"""

from __future__ import annotations

import numpy as np

# k for edge-less input. Skeleton and object rigs have mean degree ~2 (trees and
# rings); 4 nearest neighbours, symmetrised (degree ~4-6), covers the bone
# neighbours plus the nearest non-adjacent joints without becoming global
# attention (that branch exists already), and still leaves small rigid rigs
# (8-10 points) sparse. The value used by a model is stored in its ONNX metadata
# (`lfm3d_knn`); this is the default for training and for models without it.
DEFAULT_KNN = 4


def _mask_2d(mask: np.ndarray | None, B: int, n: int) -> np.ndarray:
    """(B, n) bool mask (all True when None) or ValueError."""
    if mask is None:
        return np.ones((B, n), dtype=bool)
    m = np.asarray(mask)
    if m.shape != (B, n):
        raise ValueError(f"mask must have shape ({B}, {n}) (B, N); got {m.shape}")
    return m.astype(bool, copy=False)


def check_edges(edges, n: int) -> np.ndarray:
    """Validate an edge list for `n` points and return it as (E, 2) int64.

    Accepts anything array-like of integers with shape (E, 2) (E may be 0).
    Raises ValueError naming the problem (shape, dtype, the first offending edge).
    """
    e = np.asarray(edges)
    if e.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    if e.ndim != 2 or e.shape[1] != 2:
        raise ValueError(f"edges must have shape (E, 2); got {e.shape}")
    if not np.issubdtype(e.dtype, np.integer):  # bool and float are not indices
        raise ValueError(f"edges must be integer point indices; got dtype {e.dtype}")
    bad = np.flatnonzero(((e < 0) | (e >= n)).any(axis=1))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"edges[{i}] = {e[i].tolist()} is out of range for {n} keypoints "
            f"(indices must be in [0, {n - 1}]; {bad.size} bad edge(s))"
        )
    return e.astype(np.int64, copy=False)


def adjacency_from_edges(edges, n: int, mask: np.ndarray | None = None) -> np.ndarray:
    """Adjacency of an undirected edge list, with self-loops.

    Args:
        edges: (E, 2) integer index pairs in [0, n).
        n: number of keypoints N.
        mask: None -> returns (N, N); (N,) -> (N, N); (B, N) -> (B, N, N).
            Edges touching a masked point are dropped (it keeps its self-loop).
    Returns:
        bool adjacency, symmetric, diagonal True.
    """
    e = check_edges(edges, n)
    A = np.eye(n, dtype=bool)
    A[e[:, 0], e[:, 1]] = True
    A[e[:, 1], e[:, 0]] = True
    if mask is None:
        return A
    m = np.asarray(mask).astype(bool, copy=False)
    if m.shape[-1:] != (n,) or m.ndim not in (1, 2):
        raise ValueError(f"mask must have shape (N,) or (B, N) with N = {n}; got {m.shape}")
    return (A & m[..., :, None] & m[..., None, :]) | np.eye(n, dtype=bool)


def knn_adjacency(kp: np.ndarray, mask: np.ndarray | None = None, k: int = DEFAULT_KNN) -> np.ndarray:
    """k-nearest-neighbour adjacency in 2D among the visible points.

    Exact definition (the torch twin follows it): for each visible point i, take
    the k visible points j != i with the smallest squared distance
    sum((kp_i - kp_j)^2), ties broken by the lower index j (stable sort); fewer
    if fewer are visible. Then symmetrise (A | A^T) and set every diagonal entry.

    Args:
        kp: (B, N, 2) keypoints, any units (the result is scale/shift invariant).
        mask: (B, N) bool, True = visible; None = all visible.
        k: neighbours per point, >= 0 (0 gives self-loops only).
    Returns:
        (B, N, N) bool.
    """
    kp = np.asarray(kp)
    if kp.ndim != 3 or kp.shape[-1] != 2:
        raise ValueError(f"kp must have shape (B, N, 2); got {kp.shape}")
    if int(k) != k or k < 0:
        raise ValueError(f"k must be a non-negative integer; got {k!r}")
    B, n, _ = kp.shape
    m = _mask_2d(mask, B, n)
    eye = np.eye(n, dtype=bool)
    k = min(int(k), n - 1)
    if k <= 0:
        return np.broadcast_to(eye, (B, n, n)).copy()
    x = np.where(m[..., None], kp, 0).astype(np.float64, copy=False)  # NaN at masked -> 0
    diff = x[:, :, None, :] - x[:, None, :, :]  # (B, N, N, 2)
    d = (diff * diff).sum(axis=-1)  # (B, N, N) squared distances
    pair = m[:, :, None] & m[:, None, :] & ~eye  # candidate neighbours
    d = np.where(pair, d, np.inf)
    order = np.argsort(d, axis=-1, kind="stable")[..., :k]  # (B, N, k)
    A = np.zeros((B, n, n), dtype=bool)
    A[np.arange(B)[:, None, None], np.arange(n)[None, :, None], order] = True
    A &= pair  # drops picks at inf distance (fewer than k visible) and masked rows
    return A | A.transpose(0, 2, 1) | eye


def build_adjacency(
    kp: np.ndarray,
    mask: np.ndarray | None = None,
    edges=None,
    k: int = DEFAULT_KNN,
) -> np.ndarray:
    """The network's `adjacency` input: rig edges if given, else kNN in 2D.

    Args:
        kp: (B, N, 2) keypoints.
        mask: (B, N) bool; None = all valid.
        edges: (E, 2) indices shared by every instance, or None. An empty edge
            list counts as None (unknown rig -> kNN), as in the messages where
            an empty `edges` field means "not given".
        k: neighbours for the kNN case.
    Returns:
        (B, N, N) bool: symmetric, self-loops set, masked points isolated.
    """
    kp = np.asarray(kp)
    if kp.ndim != 3 or kp.shape[-1] != 2:
        raise ValueError(f"kp must have shape (B, N, 2); got {kp.shape}")
    B, n, _ = kp.shape
    if edges is None or np.size(edges) == 0:
        return knn_adjacency(kp, mask, k)
    m = _mask_2d(mask, B, n)
    return adjacency_from_edges(edges, n, m)
