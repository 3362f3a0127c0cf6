"""RViz markers for lifted skeletons: one SPHERE_LIST (joints) + one LINE_LIST (bones) each.

Conventions (docs/node.md):
- namespace per instance (`instance_<id>`, or `untracked_<index>` for instance_id -1; a
  repeated id in one message gets `instance_<id>_<k>` for its k-th repeat, so two skeletons
  with the same id are both drawn), marker id 0 = joints, 1 = bones, so a tracked instance
  keeps its markers frame to frame;
- colour from the instance id (golden-ratio hue walk: neighbouring ids differ clearly);
- a lifetime so stale skeletons vanish when input stops;
- a DELETEALL first whenever the set of namespaces changes (and on deactivate), so
  markers of instances that left do not linger until their lifetime ends;
- metric skeletons are drawn where they are (metres); root-relative pixel-unit skeletons
  are drawn at their 2D centroid with 1 pixel = 1 mm (`PIXEL_DRAW_SCALE`), so several
  people are laid out as in the image instead of on top of each other at the origin.
Sphere diameter = `marker_scale` x the skeleton's extent (largest bounding-box side; works in
both units).

`MarkerBuilder.specs` computes the markers as arrays (`MarkerSpec`); `cdr.marker_array`
writes them as message bytes without a Python object per point (the node's fast path), and
`to_marker_array` builds the rclpy message objects (tests, and distributions whose Marker
layout the CDR writer does not know).
"""

from __future__ import annotations

import colorsys
import functools
from dataclasses import dataclass

import numpy as np

from lfm3d_ros.conversions import SkeletonOut

PIXEL_DRAW_SCALE = 1e-3  # metres drawn per pixel for non-metric skeletons
JOINTS_ID, BONES_ID = 0, 1
SPHERE_LIST, LINE_LIST = 7, 5  # visualization_msgs/Marker types
ADD, DELETEALL = 0, 3          # visualization_msgs/Marker actions
BONE_WIDTH = 0.4               # line width as a fraction of the sphere diameter
_GOLDEN = 0.618033988749895


@dataclass(slots=True)
class MarkerSpec:
    """One visualization_msgs/Marker as plain data (not frozen: built 20 times a message)."""

    ns: str
    id: int
    type: int
    action: int
    width: float                       # scale.x = y = z
    rgba: tuple[float, float, float, float]
    lifetime: tuple[int, int]          # (sec, nanosec)
    points: np.ndarray                 # (K, 3) float64, finite


@functools.lru_cache(maxsize=1024)
def instance_colour(instance_id: int) -> tuple[float, float, float]:
    """Stable, distinct RGB in [0, 1] for an instance id (-1 and others all work)."""
    hue = (0.1 + _GOLDEN * (int(instance_id) + 1)) % 1.0
    return tuple(float(c) for c in colorsys.hsv_to_rgb(hue, 0.75, 0.95))


def namespaces(skeletons: list[SkeletonOut]) -> list[str]:
    """Marker namespace of each skeleton of a message, unique within the message."""
    seen: dict[int, int] = {}
    out = []
    for index, sk in enumerate(skeletons):
        if sk.instance_id < 0:
            out.append(f"untracked_{index}")
            continue
        k = seen.get(sk.instance_id, 0)
        seen[sk.instance_id] = k + 1
        out.append(f"instance_{sk.instance_id}" + (f"_{k}" if k else ""))
    return out


def drawn_points(skeletons: list[SkeletonOut]) -> np.ndarray:
    """(P, 3) all skeletons' points, concatenated, in the marker frame (metres), NaN where
    invalid: metric ones as they are, pixel ones offset to their centroid and scaled."""
    metric = np.array([sk.metric for sk in skeletons])                           # (S,)
    counts = [len(sk.points) for sk in skeletons]
    offset = np.zeros((len(skeletons), 3))
    offset[:, :2] = np.array([sk.center for sk in skeletons]).reshape(-1, 2)
    offset[metric] = 0.0
    scale = np.where(metric, 1.0, PIXEL_DRAW_SCALE)[:, None]                      # (S, 1)
    return (np.concatenate([sk.points for sk in skeletons]) + np.repeat(offset, counts, axis=0)) \
        * np.repeat(scale, counts, axis=0)


def bone_segments(points: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LINE_LIST vertices (2E', 3) for the edges (E, 2) whose two ends are finite, and which
    edges those are ((E,) bool)."""
    if edges.size == 0:
        return np.zeros((0, 3)), np.zeros(0, bool)
    a, b = points[edges[:, 0]], points[edges[:, 1]]              # (E, 3) each
    ok = np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1)
    return np.stack([a[ok], b[ok]], axis=1).reshape(-1, 3), ok   # (2E', 3) interleaved


def extents(points: np.ndarray, owner: np.ndarray, count: int) -> np.ndarray:
    """Largest bounding-box side of each owner's points: (P, 3) finite, (P,) int in
    [0, count) -> (count,), 0 for an owner without points."""
    lo = np.full((count, 3), np.inf)
    hi = np.full((count, 3), -np.inf)
    np.minimum.at(lo, owner, points)
    np.maximum.at(hi, owner, points)
    return np.where(np.isfinite(lo).all(axis=1), (hi - lo).max(axis=1), 0.0)


def _pieces(rows: np.ndarray, counts: np.ndarray) -> list[np.ndarray]:
    """Consecutive slices of `rows` with the given lengths (np.split without its per-piece cost)."""
    ends = np.cumsum(counts).tolist()
    return [rows[a:b] for a, b in zip([0] + ends[:-1], ends)]


class MarkerBuilder:
    """Builds markers and remembers the previous namespace set for DELETEALL."""

    def __init__(self, marker_scale: float = 0.03, lifetime_s: float = 0.5):
        if marker_scale <= 0 or lifetime_s < 0:
            raise ValueError(f"marker_scale must be > 0 and lifetime >= 0, got {marker_scale}, {lifetime_s}")
        self.marker_scale, self.lifetime_s = marker_scale, lifetime_s
        self._previous: frozenset[str] | None = None

    def needs_delete_all(self, names: list[str]) -> bool:
        """True when the set of namespaces differs from the last call's (then remembers it)."""
        current = frozenset(names)
        changed = self._previous is not None and current != self._previous
        self._previous = current
        return changed

    def specs(self, skeletons: list[SkeletonOut]) -> list[MarkerSpec]:
        """The markers of one message: [DELETEALL if the instance set changed] + 2 per skeleton.

        The geometry of all skeletons is computed at once (concatenated points, global edge
        indices); the loop at the end only slices it into markers.
        """
        names = namespaces(skeletons)
        out = [self.delete_all()] if self.needs_delete_all(names) else []
        if not skeletons:
            return out
        n_sk = len(skeletons)
        counts = np.array([len(sk.points) for sk in skeletons])
        starts = np.cumsum(counts) - counts
        pts = drawn_points(skeletons)                                             # (P, 3)
        owner = np.repeat(np.arange(n_sk), counts)                               # (P,)
        finite = np.isfinite(pts).all(axis=1)
        diameters = np.maximum(self.marker_scale * extents(pts[finite], owner[finite], n_sk), 1e-4)
        joints = _pieces(pts[finite], np.bincount(owner[finite], minlength=n_sk))
        edge_counts = np.array([len(sk.edges) for sk in skeletons])
        edges = np.concatenate([sk.edges.reshape(-1, 2) for sk in skeletons]) \
            + np.repeat(starts, edge_counts)[:, None]                              # (E, 2) global
        segments, kept = bone_segments(pts, edges.astype(np.int64))
        bones = _pieces(segments, 2 * np.bincount(np.repeat(np.arange(n_sk), edge_counts)[kept],
                                                  minlength=n_sk))
        secs = int(self.lifetime_s)
        lifetime = (secs, int(round((self.lifetime_s - secs) * 1e9)))
        for sk, ns, d, joint, bone in zip(skeletons, names, diameters.tolist(),
                                          joints, bones):
            rgba = (*instance_colour(sk.instance_id), 1.0)
            out.append(MarkerSpec(ns, JOINTS_ID, SPHERE_LIST, ADD, d, rgba, lifetime, joint))
            out.append(MarkerSpec(ns, BONES_ID, LINE_LIST, ADD, BONE_WIDTH * d, rgba, lifetime, bone))
        return out

    def delete_all(self) -> MarkerSpec:
        """One DELETEALL marker (also forgets the namespace set)."""
        self._previous = None
        return MarkerSpec("", 0, 0, DELETEALL, 0.0, (0.0, 0.0, 0.0, 0.0), (0, 0), np.zeros((0, 3)))

    def build(self, skeletons: list[SkeletonOut], header):
        """SkeletonOut list + std_msgs/Header -> visualization_msgs/MarkerArray (objects)."""
        return to_marker_array(self.specs(skeletons), header)


def to_marker_array(specs: list[MarkerSpec], header):
    """MarkerSpecs + std_msgs/Header -> visualization_msgs/MarkerArray message objects."""
    from builtin_interfaces.msg import Duration
    from geometry_msgs.msg import Point
    from std_msgs.msg import ColorRGBA
    from visualization_msgs.msg import Marker, MarkerArray

    out = MarkerArray()
    for s in specs:
        m = Marker(header=header, ns=s.ns, id=s.id, type=s.type, action=s.action,
                   lifetime=Duration(sec=s.lifetime[0], nanosec=s.lifetime[1]), frame_locked=False)
        m.pose.orientation.w = 1.0
        m.scale.x = m.scale.y = m.scale.z = s.width
        m.color = ColorRGBA(r=s.rgba[0], g=s.rgba[1], b=s.rgba[2], a=s.rgba[3])
        m.points = [Point(x=x, y=y, z=z) for x, y, z in s.points.tolist()]
        out.markers.append(m)
    return out
