"""Lift a message's accepted instances through a Lifter (no ROS; tested with a fake lifter),
and decide whether the last camera_info may place them in metres (`camera_for`).

Instances are lifted in one `Lifter.lift` call per keypoint count N, not padded to the
message's largest N: the network's cost grows with the padded N (attention is N x N), so ten
17-point people beside one 133-point whole-body instance would each pay for 133 points
(issue 27: 3.6 -> 21.8 ms, 62 ms beside a 256-point instance). Within one N, instances of
different rigs still share the call: each brings its own edge list (`instance_edges`;
empty = the Lifter's kNN graph).

A lifted instance whose 3D is unusable (non-finite or collapsed to a point, or without a
positive finite metric depth) is rejected as `degenerate_output`, never published as NaN
with a non-zero confidence.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Callable

import numpy as np

from lfm3d_net import metric
from lfm3d_ros.conversions import Instance, Rejected, SkeletonOut, pad_batch, unpad_results

SizeOf = Callable[[str, str], float]  # (category, rig) -> metres of keypoint extent


@dataclass(frozen=True)
class CameraState:
    """The last valid camera_info: camera matrix (9,), its frame, when it arrived (monotonic s)."""

    k: np.ndarray
    frame_id: str
    received_s: float


def camera_for(camera: CameraState | None, frame_id: str, now_s: float, timeout_s: float
               ) -> tuple[np.ndarray | None, str, str | None]:
    """Whether a message from `frame_id` at `now_s` may be placed with `camera`.

    Returns (camera matrix or None, status text, why not metric: a diagnostics.NOT_METRIC
    reason, or None when metric or when no camera_info has arrived at all).
    """
    if camera is None:
        return None, "none received", None
    age = now_s - camera.received_s
    if timeout_s > 0 and age > timeout_s:
        return None, f"stale: {age:.1f} s old (camera_info_timeout {timeout_s:g} s)", "stale camera_info"
    if camera.frame_id and frame_id and camera.frame_id != frame_id:
        return (None, f"frame {camera.frame_id!r} is not the keypoints' frame {frame_id!r}",
                "camera_info frame mismatch")
    return camera.k, f"ok: frame {camera.frame_id!r}, {age:.1f} s old", None


def groups_by_size(instances: list[Instance]) -> list[list[int]]:
    """Positions of the instances grouped by keypoint count N, groups in order of first
    appearance, positions in input order within each."""
    groups: dict[int, list[int]] = {}
    for pos, inst in enumerate(instances):
        groups.setdefault(inst.xy.shape[0], []).append(pos)
    return list(groups.values())


def shared_rig(instances: list[Instance]) -> str:
    """The rig every instance names and takes its edges, sides and fronts from, else ""."""
    rig = instances[0].rig
    if rig and all(inst.rig == rig and not inst.own_edges for inst in instances):
        return rig
    return ""


def usable(points: np.ndarray) -> np.ndarray:
    """(B,) bool: each lifted instance is finite and not all at one spot.

    points (B, N, 3) root-relative, zeros at invalid and padded points (LiftResult.points).
    """
    with np.errstate(invalid="ignore"):
        spread = np.abs(points).max(axis=(1, 2))          # NaN if any point is NaN
    return np.isfinite(spread) & (spread > 0)


def _lift_group(lifter, instances: list[Instance], camera_k: np.ndarray | None,
                size_of: SizeOf | None) -> tuple[list[SkeletonOut | None], str]:
    """Lift instances of one N in one call: (a SkeletonOut per instance, None where unusable;
    how the unusable ones failed)."""
    kp, mask, sides, fronts = pad_batch(instances)          # (B, N, 2), (B, N), (B, N), (B, N)
    rig = shared_rig(instances)
    if rig:  # the Lifter's cached rig graph: no per-instance adjacency
        result = lifter.lift(kp, mask, rig=rig)
    else:
        edges = [inst.edges if inst.edges.size else None for inst in instances]
        result = lifter.lift(kp, mask, sides=sides, instance_edges=edges, fronts=fronts)
    points = np.asarray(result.points, np.float64)          # (B, N, 3) pixels, root-relative
    scale = np.asarray(result.scale, np.float64).reshape(-1)
    center = np.asarray(result.center, np.float64).reshape(-1, 2)
    ok = usable(points) & np.isfinite(scale) & (scale > 0)
    why = "non-finite or collapsed 3D"
    if camera_k is not None and size_of is not None:
        sizes = np.array([size_of(inst.category, inst.rig) for inst in instances])
        points, depth, m_per_px = metric.place_metric(points, center, mask, camera_k, sizes)
        ok &= np.isfinite(depth) & (depth > 0)
        why += " or no positive finite metric depth"
        out = unpad_results(instances, points, scale * m_per_px, center, metric=True)
    else:
        out = unpad_results(instances, points, scale, center)
    return [sk if good else None for sk, good in zip(out, ok)], why


def lift_instances(lifter, instances: list[Instance], camera_k: np.ndarray | None = None,
                   size_of: SizeOf | None = None, pool: Executor | None = None
                   ) -> tuple[list[SkeletonOut], list[Rejected]]:
    """Lift instances; metric placement when `camera_k` (9,) and `size_of` are given.

    With a `pool`, the groups of different N after the first run on its threads meanwhile
    (the network releases the GIL, so on two cores ten people and a whole-body instance
    take about the longer of the two, not their sum); results are the same either way.
    Returns (one SkeletonOut per usable instance, in input order; the `degenerate_output`
    rejections). Lifter errors propagate.
    """
    groups = groups_by_size(instances)
    parts = [[instances[p] for p in positions] for positions in groups]
    if pool is not None and len(parts) > 1:
        futures = [pool.submit(_lift_group, lifter, part, camera_k, size_of) for part in parts[1:]]
        outcomes = [_lift_group(lifter, parts[0], camera_k, size_of)] + [f.result() for f in futures]
    else:
        outcomes = [_lift_group(lifter, part, camera_k, size_of) for part in parts]
    lifted: list[SkeletonOut | None] = [None] * len(instances)
    rejected: list[Rejected] = []
    for positions, group, (results, why) in zip(groups, parts, outcomes):
        for pos, inst, sk in zip(positions, group, results):
            lifted[pos] = sk
            if sk is None:
                rejected.append(Rejected(inst.index, inst.instance_id, "degenerate_output", why))
    return [sk for sk in lifted if sk is not None], sorted(rejected, key=lambda r: r.index)
