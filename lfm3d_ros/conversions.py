"""Message <-> array conversion for the lifter node, with the bad-input policy.

Pure Python + numpy: input messages are read by attribute (duck typing), so tests can
pass `types.SimpleNamespace` objects; output messages are built by `to_skeleton_msgs`,
which imports the generated message classes only when called.

Bad-input policy (docs/node.md): an instance that cannot be lifted is rejected with a
`Rejected(reason, detail)`; the rest of the message is still lifted. Reasons are the
keys of `REASONS`. A NaN x or y marks that one point as missing (msg/Keypoints2D.msg);
an infinite coordinate or a non-finite confidence is a corrupt instance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from lfm3d_net.inputs import MAX_ABS_COORD, MIN_VALID_POINTS, spread_check  # the Lifter's own rules

# reason key -> what it means (diagnostics and docs use the same keys)
REASONS: dict[str, str] = {
    "length_mismatch": "x, y and confidence have different lengths",
    "non_finite": "an x or y is infinite or a confidence is NaN/inf",
    "too_few_points": f"fewer than {MIN_VALID_POINTS} valid points after confidence masking",
    "too_many_points": "more keypoints than max_keypoints",
    "bad_edges": "odd-length edges or an edge index >= N",
    "unknown_rig": "rig name not in the rig registry",
    "rig_mismatch": "rig has a different number of joints than the instance",
    "over_max_batch": "more valid instances in one message than max_batch",
    "out_of_range": f"a valid x or y beyond +-{MAX_ABS_COORD:g} pixels (corrupt coordinates)",
    "degenerate": "the valid points coincide (all zero, identical, or a vanishing spread)",
    "degenerate_output": "the lifted 3D is non-finite or collapses to a point, or its metric "
                         "depth is not a positive finite number",
}


@dataclass(frozen=True)
class Limits:
    """Per-instance acceptance rules, from the node's parameters."""

    min_confidence: float = 0.0   # points with confidence < this are masked out
    max_keypoints: int = 256      # instances with more points are rejected
    default_rig: str = ""         # used when an instance names no rig and N matches


@dataclass
class Instance:
    """One accepted input instance, as arrays."""

    index: int                 # position in the input message
    instance_id: int
    category: str
    rig: str                   # rig actually used ("" = none)
    xy: np.ndarray             # (N, 2) float32 pixels, 0 at invalid points
    valid: np.ndarray          # (N,) bool, True = usable point
    confidence: np.ndarray     # (N,) float32 in [0, 1], 0 at invalid points
    edges: np.ndarray          # (E, 2) int64, indices < N
    sides: np.ndarray          # (N,) float32 in {-1, 0, 1}
    fronts: np.ndarray | None = None  # (N,) float32 in {-1, 0, 1}; None = all 0 (unknown)
    own_edges: bool = False    # edges came from the message, not from the rig


@dataclass(frozen=True)
class Rejected:
    """Why one input instance was dropped."""

    index: int
    instance_id: int
    reason: str                # a key of REASONS
    detail: str


RigLookup = Callable[[str], object]  # name -> rig with .n, .edge_array(), .side_array(),
#                                      .front_array(); KeyError


class _Reject(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def _resolve_rig(name: str, n: int, limits: Limits, rig_lookup: RigLookup | None):
    """The rig object to use for an instance of n points, or None."""
    if rig_lookup is None:
        if name:
            raise _Reject("unknown_rig", f"rig {name!r} given but no rig registry is available")
        return None
    if name:
        try:
            rig = rig_lookup(name)
        except KeyError:
            raise _Reject("unknown_rig", f"unknown rig {name!r}") from None
        if rig.n != n:
            raise _Reject("rig_mismatch", f"rig {name!r} has {rig.n} joints but the instance has {n}")
        return rig
    if limits.default_rig:
        try:
            rig = rig_lookup(limits.default_rig)
        except KeyError:
            return None  # a bad default_rig is reported once at configure, not per message
        return rig if rig.n == n else None
    return None


def _edges_from_flat(flat, n: int) -> np.ndarray:
    flat = np.asarray(flat, dtype=np.int64).reshape(-1)
    if flat.size % 2:
        raise _Reject("bad_edges", f"edges has odd length {flat.size}")
    if flat.size and flat.max() >= n:
        raise _Reject("bad_edges", f"edge index {int(flat.max())} out of range for {n} points")
    return flat.reshape(-1, 2)


def parse_instance(kp, index: int, limits: Limits, rig_lookup: RigLookup | None = None) -> Instance:
    """One Keypoints2D (duck-typed) -> Instance; raises _Reject with a reason key."""
    inst = _parse_one(kp, index, limits, rig_lookup)
    _, bad = drop_degenerate([inst])
    if bad:
        raise _Reject(bad[0].reason, bad[0].detail)
    return inst


def _parse_one(kp, index: int, limits: Limits, rig_lookup: RigLookup | None) -> Instance:
    """`parse_instance` without the degenerate-shape check (`drop_degenerate` does it for a
    whole message in one numpy pass)."""
    x = np.asarray(kp.x, dtype=np.float32).reshape(-1)
    y = np.asarray(kp.y, dtype=np.float32).reshape(-1)
    n = x.size
    conf_in = np.asarray(kp.confidence, dtype=np.float32).reshape(-1)
    if y.size != n or conf_in.size not in (0, n):
        raise _Reject("length_mismatch",
                      f"len(x)={n}, len(y)={y.size}, len(confidence)={conf_in.size}")
    if n > limits.max_keypoints:
        raise _Reject("too_many_points", f"{n} keypoints > max_keypoints={limits.max_keypoints}")
    if np.isinf(x).any() or np.isinf(y).any() or not np.isfinite(conf_in).all():
        raise _Reject("non_finite", "infinite coordinate or non-finite confidence")
    conf = np.ones(n, np.float32) if conf_in.size == 0 else conf_in
    valid = ~np.isnan(x) & ~np.isnan(y) & (conf >= limits.min_confidence)
    count = np.count_nonzero(valid)
    if count < MIN_VALID_POINTS:
        raise _Reject("too_few_points", f"{count} valid points (min_confidence={limits.min_confidence})")
    xy = np.empty((n, 2), np.float32)                                      # (N, 2)
    xy[:, 0], xy[:, 1] = x, y
    rig = _resolve_rig(str(kp.rig), n, limits, rig_lookup)
    edges = _edges_from_flat(kp.edges, n)
    own_edges = edges.size > 0
    rig_edges, sides, fronts = _rig_arrays(rig, n)
    if not own_edges and rig is not None:
        edges = rig_edges
    xy[~valid] = 0.0
    # An empty category takes the rig's (coco17 -> person), so the size prior fits.
    category = str(kp.category) or (getattr(rig, "category", "") if rig is not None else "")
    return Instance(index=index, instance_id=int(kp.instance_id), category=category,
                    rig=getattr(rig, "name", "") if rig is not None else "",
                    xy=xy, valid=valid,
                    confidence=np.where(valid, np.minimum(np.maximum(conf, 0), 1), 0).astype(np.float32),
                    edges=edges, sides=sides, fronts=fronts, own_edges=own_edges)


_RIG_ARRAYS: dict[int, tuple[object, np.ndarray, np.ndarray, np.ndarray]] = {}


def _rig_arrays(rig, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(edges (E, 2) int64, sides (N,) float32, fronts (N,) float32 or None) of a rig, built
    once per rig object (read-only, shared by instances); no rig: no edges, sides 0, fronts None."""
    if rig is None:
        return np.zeros((0, 2), np.int64), np.zeros(n, np.float32), None
    hit = _RIG_ARRAYS.get(id(rig))
    if hit is None or hit[0] is not rig:  # id() of a dropped rig may be reused: check identity
        arrays = (np.asarray(rig.edge_array(), np.int64).reshape(-1, 2),
                  np.asarray(rig.side_array(), np.float32), np.asarray(rig.front_array(), np.float32))
        for a in arrays:
            a.setflags(write=False)
        hit = _RIG_ARRAYS[id(rig)] = (rig, *arrays)
    return hit[1], hit[2], hit[3]


def parse_array(msg, limits: Limits, rig_lookup: RigLookup | None = None
                ) -> tuple[list[Instance], list[Rejected]]:
    """Keypoints2DArray (duck-typed) -> (accepted instances, rejected instances), input order."""
    accepted: list[Instance] = []
    rejected: list[Rejected] = []
    for i, kp in enumerate(msg.instances):
        try:
            accepted.append(_parse_one(kp, i, limits, rig_lookup))
        except _Reject as err:
            rejected.append(Rejected(i, int(getattr(kp, "instance_id", -1)), err.reason, err.detail))
    accepted, degenerate = drop_degenerate(accepted)
    return accepted, sorted(rejected + degenerate, key=lambda r: r.index)


def drop_degenerate(instances: list[Instance]) -> tuple[list[Instance], list[Rejected]]:
    """(the instances lfm3d_net.inputs.spread_check accepts, the others as out_of_range /
    degenerate), in one pass over the padded message."""
    if not instances:
        return [], []
    xy, valid, _, _ = pad_batch(instances)
    too_large, collapsed = spread_check(xy, valid)
    if not (too_large.any() or collapsed.any()):
        return instances, []
    kept, bad = [], []
    for inst, large, flat in zip(instances, too_large, collapsed):
        if large:
            bad.append(Rejected(inst.index, inst.instance_id, "out_of_range",
                                f"a valid coordinate beyond +-{MAX_ABS_COORD:g}"))
        elif flat:
            bad.append(Rejected(inst.index, inst.instance_id, "degenerate",
                                "the valid points coincide: no 2D spread to lift"))
        else:
            kept.append(inst)
    return kept, bad


def cap_batch(accepted: list[Instance], max_batch: int) -> tuple[list[Instance], list[Rejected]]:
    """Keep the first `max_batch` instances; reject the rest as `over_max_batch`."""
    extra = [Rejected(a.index, a.instance_id, "over_max_batch", f"more than max_batch={max_batch} instances")
             for a in accepted[max_batch:]]
    return accepted[:max_batch], extra


def pad_batch(instances: list[Instance]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stack ragged instances into one batch.

    Returns keypoints (B, N_max, 2) float32 pixels, mask (B, N_max) bool (False at
    invalid and padded points), sides and fronts (B, N_max) float32 (0 on padding).
    """
    if not instances:
        raise ValueError("pad_batch: no instances to pad")
    b, n_max = len(instances), max(inst.xy.shape[0] for inst in instances)
    kp = np.zeros((b, n_max, 2), np.float32)
    mask = np.zeros((b, n_max), bool)
    sides = np.zeros((b, n_max), np.float32)
    fronts = np.zeros((b, n_max), np.float32)
    for row, inst in enumerate(instances):
        n = inst.xy.shape[0]
        kp[row, :n], mask[row, :n], sides[row, :n] = inst.xy, inst.valid, inst.sides
        if inst.fronts is not None:
            fronts[row, :n] = inst.fronts
    return kp, mask, sides, fronts


@dataclass
class SkeletonOut:
    """One lifted instance, ready to become a Skeleton3D."""

    instance_id: int
    category: str
    rig: str
    points: np.ndarray         # (N, 3) float64, NaN at invalid points
    confidence: np.ndarray     # (N,) float32
    edges: np.ndarray          # (E, 2) int64
    metric: bool = False
    scale: float = 0.0
    center: np.ndarray = field(default_factory=lambda: np.zeros(2))  # (2,) pixels, 2D centroid


def unpad_results(instances: list[Instance], points: np.ndarray, scale: np.ndarray,
                  center: np.ndarray, metric: bool = False) -> list[SkeletonOut]:
    """Lifter output -> one SkeletonOut per instance, NaN at invalid points.

    points (B, N_max, 3), scale (B,) output units per normalised unit, center (B, 2) pixels.
    """
    points = np.asarray(points, dtype=np.float64)
    center = np.asarray(center, dtype=np.float64).reshape(-1, 2)
    if points.shape[0] != len(instances):
        raise ValueError(f"unpad_results: {points.shape[0]} results for {len(instances)} instances")
    out = []
    for row, inst in enumerate(instances):
        n = inst.xy.shape[0]
        pts = np.where(inst.valid[:, None], points[row, :n], np.nan)
        out.append(SkeletonOut(inst.instance_id, inst.category, inst.rig, pts,
                               inst.confidence, inst.edges, metric, float(scale[row]),
                               center[row].copy()))
    return out


def to_skeleton_msgs(skeletons: list[SkeletonOut], header):
    """SkeletonOut list + std_msgs/Header -> lfm3d_ros.msg.Skeleton3DArray."""
    from geometry_msgs.msg import Point
    from lfm3d_ros.msg import Skeleton3D, Skeleton3DArray

    out = Skeleton3DArray(header=header)
    for sk in skeletons:
        msg = Skeleton3D(instance_id=int(sk.instance_id), category=sk.category, rig=sk.rig,
                         metric=bool(sk.metric), scale=float(sk.scale))
        msg.points = [Point(x=x, y=y, z=z) for x, y, z in sk.points.tolist()]
        msg.confidence = sk.confidence.astype(np.float32).tolist()
        msg.edges = sk.edges.reshape(-1).astype(np.uint16).tolist()
        out.skeletons.append(msg)
    return out


def points_from_msg(skeleton) -> np.ndarray:
    """Skeleton3D (duck-typed) -> (N, 3) float64."""
    return np.array([[p.x, p.y, p.z] for p in skeleton.points], dtype=np.float64).reshape(-1, 3)
