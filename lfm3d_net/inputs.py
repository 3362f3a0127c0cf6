"""Input checking and padding shared by the Lifter and the ROS node.

`validate_and_pad` turns what a user passes (one instance, a batch, or a ragged
list of instances) into the network's padded batch, or raises a ValueError that
says what is wrong and where. (The ROS node's per-instance, non-raising checks, which
drop one bad detection and count it, live with its message parsing in
`lfm3d_ros/conversions.py`.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lfm3d_net.graph import check_edges

MIN_VALID_POINTS = 3  # fewer visible points cannot fix a 3D shape's rotation
# Degenerate input (checked by `spread_check`): coordinates beyond MAX_ABS_COORD are corrupt
# (no camera has a million pixels a side; float32 squares overflow near 1e19), and valid points
# whose bounding box is smaller than MIN_SPREAD, or than MIN_REL_SPREAD of their magnitude
# (float32 keeps ~7 digits), coincide: no 2D shape to lift, any scale fitted to it is noise.
MAX_ABS_COORD = 1e6
MIN_SPREAD = 1e-6
MIN_REL_SPREAD = 1e-4


@dataclass
class LiftInputs:
    """A validated, padded batch ready for `graph.build_adjacency` and a backend."""

    keypoints: np.ndarray  # (B, N, 2) float32, input units; 0 at masked/padded points
    mask: np.ndarray  # (B, N) bool, True = valid; False on padding
    edges: np.ndarray | None  # (E, 2) int64 in [0, N), or None (-> kNN)
    sides: np.ndarray  # (B, N) float32 in {-1, 0, +1}; 0 on padding
    squeeze: bool  # input was one (N, 2) instance: drop B = 1 from the outputs
    lengths: np.ndarray  # (B,) int64, each instance's N before padding
    fronts: np.ndarray | None = None  # (B, N) float32 in {-1, 0, +1}; 0 on padding; None = all 0


def _numeric(a: np.ndarray, name: str) -> None:
    """Raise ValueError unless `a` holds real numbers (bool excluded)."""
    if a.dtype == bool or not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
        raise ValueError(f"{name} must be real numbers; got dtype {a.dtype}")


def _shape_error(shape) -> ValueError:
    return ValueError(f"keypoints must have shape (B, N, 2) or (N, 2); got {tuple(shape)}")


def _as_instances(keypoints) -> tuple[np.ndarray, np.ndarray, bool]:
    """keypoints -> (padded (B, N, 2) array, lengths (B,), squeeze)."""
    if isinstance(keypoints, (list, tuple)) and keypoints and all(
        np.ndim(k) == 2 for k in keypoints
    ):
        items = [np.asarray(k) for k in keypoints]  # ragged list of (N_i, 2)
        for i, k in enumerate(items):
            if k.shape[-1] != 2:
                raise ValueError(f"keypoints[{i}] must have shape (N, 2); got {k.shape}")
            _numeric(k, f"keypoints[{i}]")
        lengths = np.array([len(k) for k in items], dtype=np.int64)
        out = np.zeros((len(items), int(lengths.max()), 2), dtype=np.float32)
        for i, k in enumerate(items):  # a Python loop only on the ragged (list) path
            out[i, : len(k)] = k
        return out, lengths, False
    kp = np.asarray(keypoints)
    if kp.ndim not in (2, 3) or kp.shape[-1] != 2:
        raise _shape_error(kp.shape)
    _numeric(kp, "keypoints")
    squeeze = kp.ndim == 2
    if squeeze:
        kp = kp[None]
    lengths = np.full(kp.shape[0], kp.shape[1], dtype=np.int64)
    return kp, lengths, squeeze


def _per_instance(value, name: str, B: int, N: int, lengths: np.ndarray, squeeze: bool):
    """Mask/sides argument -> (B, N) array. Accepts (N,) (shared by all instances
    or the one unbatched instance), (B, N), or a list of (N_i,) per instance."""
    if isinstance(value, (list, tuple)) and value and all(np.ndim(v) == 1 for v in value):
        if len(value) != B:
            raise ValueError(f"{name} has {len(value)} entries for {B} instances")
        out = np.zeros((B, N), dtype=np.asarray(value[0]).dtype)
        for i, v in enumerate(value):
            v = np.asarray(v)
            if v.shape != (lengths[i],):
                raise ValueError(
                    f"{name}[{i}] must have shape ({lengths[i]},) like keypoints[{i}]; got {v.shape}"
                )
            out[i, : len(v)] = v
        return out
    v = np.asarray(value)
    if v.shape == (N,):
        return np.broadcast_to(v, (B, N))
    if v.shape == (B, N) and not squeeze:
        return v
    want = f"({N},)" if squeeze else f"({B}, {N}) or ({N},)"
    raise ValueError(f"{name} must have shape {want} to match keypoints; got {v.shape}")


def _where(bad: np.ndarray, limit: int = 3) -> str:
    """'instance 0 keypoint(s) [3, 5]; instance 2 keypoint(s) [1]' for a (B, N) bool."""
    rows = np.flatnonzero(bad.any(axis=1))
    parts = [f"instance {b} keypoint(s) {np.flatnonzero(bad[b]).tolist()}" for b in rows[:limit]]
    more = f"; and {rows.size - limit} more instance(s)" if rows.size > limit else ""
    return "; ".join(parts) + more


def _fast_keypoints(keypoints, mask, max_keypoints):
    """The common input, accepted with a few cheap checks: (kp (B, N, 2), m (B, N), squeeze),
    or None when `validate_and_pad` must take its general path.

    Common = a C-contiguous float32 ndarray (N, 2) or (B, N, 2), finite everywhere, at most
    max_keypoints points, and mask None or a bool ndarray (N,) or (batched only) (B, N)
    leaving >= MIN_VALID_POINTS valid points per instance. Anything else returns None, so
    the general path raises its precise errors and does the conversions and padding.
    """
    if not (isinstance(keypoints, np.ndarray) and keypoints.dtype == np.float32
            and keypoints.ndim in (2, 3) and keypoints.shape[-1] == 2
            and keypoints.flags.c_contiguous):
        return None
    squeeze = keypoints.ndim == 2
    kp = keypoints[None] if squeeze else keypoints
    B, N = kp.shape[:2]
    if (max_keypoints is not None and N > max_keypoints) or N < MIN_VALID_POINTS:
        return None
    if mask is None:
        m = np.ones((B, N), dtype=bool)
    elif (isinstance(mask, np.ndarray) and mask.dtype == bool
          and (mask.shape == (N,) or (mask.shape == (B, N) and not squeeze))):
        m = np.empty((B, N), dtype=bool)
        m[...] = mask  # a copy: the result's mask must not alias the caller's
        if not m.all() and (m.sum(axis=1) < MIN_VALID_POINTS).any():
            return None
    else:
        return None
    if not np.isfinite(kp).all():  # NaN allowed at masked points: the general path zeroes it
        return None
    return kp, m, squeeze


def _checked_keypoints(keypoints, mask, max_keypoints):
    """General path of `validate_and_pad` for the keypoints and mask: checks, converts
    and pads. Returns (kp (B, N, 2), m (B, N) bool, pad (B, N) bool, lengths (B,), squeeze)."""
    kp, lengths, squeeze = _as_instances(keypoints)
    B, N = kp.shape[:2]
    if max_keypoints is not None and N > max_keypoints:
        raise ValueError(
            f"keypoints has N = {N} points per instance, more than max_keypoints = {max_keypoints}"
        )
    pad = np.arange(N) < lengths[:, None]  # (B, N) True on real (unpadded) points
    if mask is None:
        m = pad
    else:
        m = _per_instance(mask, "mask", B, N, lengths, squeeze)
        if m.dtype != bool:
            _numeric(np.asarray(m), "mask")
            if not np.isin(m, (0, 1)).all():
                raise ValueError(
                    "mask must be boolean (True = valid) or 0/1; got other values "
                    "(threshold confidences before passing them as a mask)"
                )
        m = m.astype(bool) & pad
    finite = np.isfinite(kp).all(axis=-1)  # (B, N)
    bad = m & ~finite
    if bad.any():
        raise ValueError(f"keypoints are NaN or inf at valid points: {_where(bad)}")
    counts = m.sum(axis=1)
    few = np.flatnonzero(counts < MIN_VALID_POINTS)
    if few.size:
        b = int(few[0])
        raise ValueError(
            f"instance {b} has {int(counts[b])} valid keypoint(s); at least "
            f"{MIN_VALID_POINTS} are needed ({few.size} instance(s) affected)"
        )
    if not finite.all():
        kp = np.where(m[..., None], kp, 0)  # NaN at masked points is fine: zero it
    return kp, m, pad, lengths, squeeze


def spread_check(kp: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which instances are degenerate: (too_large (B,), collapsed (B,)) bool.

    kp (B, N, 2) any units, finite at valid points; mask (B, N) bool, True = valid, at least
    one valid point per instance. too_large: a valid |x| or |y| > MAX_ABS_COORD. collapsed
    (only where not too_large): the larger side of the valid points' bounding box is
    < MIN_SPREAD, or <= MIN_REL_SPREAD x the largest valid |coordinate|.
    """
    m = np.asarray(mask, bool)[..., None]                                  # (B, N, 1)
    lo = np.where(m, kp, np.inf).min(axis=1)                               # (B, 2)
    hi = np.where(m, kp, -np.inf).max(axis=1)                              # (B, 2)
    with np.errstate(over="ignore", invalid="ignore"):  # +-3e38 spans overflow: too_large anyway
        magnitude = np.maximum(np.abs(lo), np.abs(hi)).max(axis=1)         # (B,)
        spread = (hi - lo).max(axis=1)                                     # (B,)
    too_large = ~(magnitude <= MAX_ABS_COORD)
    collapsed = ~too_large & ((spread < MIN_SPREAD) | (spread <= MIN_REL_SPREAD * magnitude))
    return too_large, collapsed


def _check_spread(kp: np.ndarray, mask: np.ndarray) -> None:
    """ValueError naming the first degenerate instance (see `spread_check`)."""
    too_large, collapsed = spread_check(kp, mask)
    for bad, what in ((too_large, f"has a valid coordinate beyond +-{MAX_ABS_COORD:g}"),
                      (collapsed, "has valid points that coincide (no 2D spread to lift)")):
        rows = np.flatnonzero(bad)
        if rows.size:
            raise ValueError(f"keypoints instance {int(rows[0])} {what} ({rows.size} instance(s) affected)")


def _signs(value, name: str, B: int, N: int, lengths, squeeze: bool, pad) -> np.ndarray:
    """A sides / fronts argument -> (B, N) float32 in {-1, 0, +1}, 0 on padding."""
    v = np.asarray(_per_instance(value, name, B, N, lengths, squeeze))
    _numeric(v, name)
    off = ~np.isin(v, (-1, 0, 1))
    if off.any():
        raise ValueError(f"{name} must be -1, 0 or +1; got other values at {_where(off)}")
    return (v if pad is None else np.where(pad, v, 0)).astype(np.float32, order="C")


def validate_and_pad(keypoints, mask=None, edges=None, sides=None, max_keypoints=None,
                     fronts=None) -> LiftInputs:
    """Check user input and pad it to one (B, N_max) batch.

    Args:
        keypoints: (N, 2), (B, N, 2), or a list of (N_i, 2) arrays (ragged:
            padded to N_max with mask False), real numbers, any units.
        mask: True = valid. (N,) / (B, N) matching keypoints, or a list of
            (N_i,); bool or 0/1 numbers. None = all (unpadded) points valid.
            Masked points may hold NaN: they are replaced by 0.
        edges: (E, 2) integer pairs indexing the padded N, shared by all
            instances; None or empty = no edges (kNN adjacency).
        sides: values in {-1, 0, +1}; (N,) shared, (B, N), or a list of (N_i,).
            None = all 0 (unknown).
        fronts: like sides (+1 front end, -1 back end, 0 neither / unknown); None = unknown.
        max_keypoints: raise if N_max exceeds it (the model's limit).
    Returns:
        LiftInputs (keypoints float32 (B, N, 2), mask bool (B, N), edges int64
        (E, 2) or None, sides float32 (B, N), squeeze, lengths, fronts float32 (B, N) or None).
    Raises:
        ValueError naming the argument and the offending instance/keypoint/edge, also for a
        degenerate instance (`spread_check`: coordinates beyond MAX_ABS_COORD, or valid
        points that coincide).
    """
    fast = _fast_keypoints(keypoints, mask, max_keypoints)
    if fast is None:
        kp, m, pad, lengths, squeeze = _checked_keypoints(keypoints, mask, max_keypoints)
    else:  # nothing to convert or pad
        kp, m, squeeze = fast
        pad, lengths = None, np.full(m.shape[0], m.shape[1], dtype=np.int64)
    _check_spread(kp, m)
    B, N = m.shape
    if edges is None or np.size(edges) == 0:
        e = None
    else:
        e = check_edges(edges, N)
    sd = (np.zeros((B, N), dtype=np.float32) if sides is None
          else _signs(sides, "sides", B, N, lengths, squeeze, pad))
    fr = None if fronts is None else _signs(fronts, "fronts", B, N, lengths, squeeze, pad)
    return LiftInputs(
        keypoints=np.ascontiguousarray(kp, dtype=np.float32),
        mask=np.ascontiguousarray(m),
        edges=e,
        sides=sd,
        squeeze=squeeze,
        lengths=lengths,
        fronts=fr,
    )

