"""Lift a message's accepted instances through a Lifter (no ROS; tested with a fake lifter).

All instances that share an edge set (the usual case: one detector, one rig) go through
`Lifter.lift` as ONE padded batch, ragged N allowed. `Lifter.lift` takes one edge list
per call (docs/interfaces.md), so a message that mixes rigs (people + a face) is lifted
as one batch per distinct edge set, in input order.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from lfm3d_net import metric
from lfm3d_ros.conversions import Instance, SkeletonOut, pad_batch, unpad_results


def edge_groups(instances: list[Instance]) -> list[list[int]]:
    """Indices of `instances` grouped by identical edge sets, groups in first-seen order."""
    groups: dict[bytes, list[int]] = {}
    for i, inst in enumerate(instances):
        key = np.ascontiguousarray(inst.edges, dtype=np.int64).tobytes()
        groups.setdefault(key, []).append(i)
    return list(groups.values())


def lift_instances(lifter, instances: list[Instance], camera_k: np.ndarray | None = None,
                   size_of: Callable[[str], float] | None = None) -> list[SkeletonOut]:
    """Lift instances; metric placement when `camera_k` (9,) and `size_of(category)` are given.

    Returns one SkeletonOut per instance, in input order. Lifter errors propagate.
    """
    out: list[SkeletonOut | None] = [None] * len(instances)
    for group in edge_groups(instances):
        members = [instances[i] for i in group]
        kp, mask, sides = pad_batch(members)               # (B, N, 2), (B, N), (B, N)
        edges = members[0].edges if members[0].edges.size else None
        result = lifter.lift(kp, mask, edges=edges, sides=sides)
        points = np.asarray(result.points, np.float64)      # (B, N, 3) pixels, root-relative
        scale = np.asarray(result.scale, np.float64).reshape(-1)
        center = np.asarray(result.center, np.float64).reshape(-1, 2)
        if camera_k is not None and size_of is not None:
            sizes = np.array([size_of(inst.category) for inst in members])
            placed, _, m_per_px = metric.place_metric(points, center, mask, camera_k, sizes)
            skeletons = unpad_results(members, placed, scale * m_per_px, center, metric=True)
        else:
            skeletons = unpad_results(members, points, scale, center)
        for i, sk in zip(group, skeletons):
            out[i] = sk
    return out
