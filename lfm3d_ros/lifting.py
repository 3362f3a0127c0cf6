"""Lift a message's accepted instances through a Lifter (no ROS; tested with a fake lifter).

All accepted instances of a message go through `Lifter.lift` as ONE padded batch, ragged N
and mixed rigs allowed: each instance brings its own edge list (`instance_edges`; empty =
the Lifter's kNN graph), so people and a face in the same image share one network call.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from lfm3d_net import metric
from lfm3d_ros.conversions import Instance, SkeletonOut, pad_batch, unpad_results


def lift_instances(lifter, instances: list[Instance], camera_k: np.ndarray | None = None,
                   size_of: Callable[[str], float] | None = None) -> list[SkeletonOut]:
    """Lift instances; metric placement when `camera_k` (9,) and `size_of(category)` are given.

    Returns one SkeletonOut per instance, in input order. Lifter errors propagate.
    """
    kp, mask, sides, fronts = pad_batch(instances)          # (B, N, 2), (B, N), (B, N), (B, N)
    edges = [inst.edges if inst.edges.size else None for inst in instances]
    result = lifter.lift(kp, mask, sides=sides, instance_edges=edges, fronts=fronts)
    points = np.asarray(result.points, np.float64)          # (B, N, 3) pixels, root-relative
    scale = np.asarray(result.scale, np.float64).reshape(-1)
    center = np.asarray(result.center, np.float64).reshape(-1, 2)
    if camera_k is not None and size_of is not None:
        sizes = np.array([size_of(inst.category) for inst in instances])
        placed, _, m_per_px = metric.place_metric(points, center, mask, camera_k, sizes)
        return unpad_results(instances, placed, scale * m_per_px, center, metric=True)
    return unpad_results(instances, points, scale, center)
