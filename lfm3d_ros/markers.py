"""RViz markers for lifted skeletons: one SPHERE_LIST (joints) + one LINE_LIST (bones) each.

Conventions (docs/node.md):
- namespace per instance (`instance_<id>`, or `untracked_<index>` for instance_id -1),
  marker id 0 = joints, 1 = bones, so a tracked instance keeps its markers frame to frame;
- colour from the instance id (golden-ratio hue walk: neighbouring ids differ clearly);
- a lifetime so stale skeletons vanish when input stops;
- a DELETEALL first whenever the set of namespaces changes (and on deactivate), so
  markers of instances that left do not linger until their lifetime ends;
- metric skeletons are drawn where they are (metres); root-relative pixel-unit skeletons
  are drawn at their 2D centroid with 1 pixel = 1 mm (`PIXEL_DRAW_SCALE`), so several
  people are laid out as in the image instead of on top of each other at the origin.
Sphere diameter = `marker_scale` x the skeleton's extent (works in both units).
"""

from __future__ import annotations

import colorsys

import numpy as np

from lfm3d_ros.conversions import SkeletonOut

PIXEL_DRAW_SCALE = 1e-3  # metres drawn per pixel for non-metric skeletons
JOINTS_ID, BONES_ID = 0, 1
_GOLDEN = 0.618033988749895


def instance_colour(instance_id: int) -> tuple[float, float, float]:
    """Stable, distinct RGB in [0, 1] for an instance id (-1 and others all work)."""
    hue = (0.1 + _GOLDEN * (int(instance_id) + 1)) % 1.0
    return colorsys.hsv_to_rgb(hue, 0.75, 0.95)


def namespace(skeleton: SkeletonOut, index: int) -> str:
    """Marker namespace of the index-th skeleton of a message."""
    if skeleton.instance_id >= 0:
        return f"instance_{skeleton.instance_id}"
    return f"untracked_{index}"


def drawn_points(skeleton: SkeletonOut) -> np.ndarray:
    """(N, 3) points in the marker frame (metres), NaN where invalid."""
    if skeleton.metric:
        return skeleton.points
    offset = np.array([skeleton.center[0], skeleton.center[1], 0.0])
    return (skeleton.points + offset) * PIXEL_DRAW_SCALE


def bone_segments(points: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """(2E', 3) LINE_LIST vertices for the edges whose two ends are finite."""
    if edges.size == 0:
        return np.zeros((0, 3))
    a, b = points[edges[:, 0]], points[edges[:, 1]]              # (E, 3) each
    ok = np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1)
    return np.stack([a[ok], b[ok]], axis=1).reshape(-1, 3)        # (2E', 3) interleaved


def sphere_diameter(points: np.ndarray, marker_scale: float) -> float:
    """marker_scale x the extent (largest bounding-box side) of the finite points; > 0."""
    finite = points[np.isfinite(points).all(axis=1)]
    size = float(np.ptp(finite, axis=0).max()) if len(finite) >= 2 else 0.0
    return max(marker_scale * size, 1e-4)


class MarkerBuilder:
    """Builds MarkerArrays and remembers the previous namespace set for DELETEALL."""

    def __init__(self, marker_scale: float = 0.03, lifetime_s: float = 0.5):
        if marker_scale <= 0 or lifetime_s < 0:
            raise ValueError(f"marker_scale must be > 0 and lifetime >= 0, got {marker_scale}, {lifetime_s}")
        self.marker_scale, self.lifetime_s = marker_scale, lifetime_s
        self._previous: frozenset[str] | None = None

    def needs_delete_all(self, namespaces: list[str]) -> bool:
        """True when the set of namespaces differs from the last call's (then remembers it)."""
        current = frozenset(namespaces)
        changed = self._previous is not None and current != self._previous
        self._previous = current
        return changed

    def build(self, skeletons: list[SkeletonOut], header):
        """SkeletonOut list + std_msgs/Header -> visualization_msgs/MarkerArray."""
        from visualization_msgs.msg import MarkerArray

        out = MarkerArray()
        names = [namespace(sk, i) for i, sk in enumerate(skeletons)]
        if self.needs_delete_all(names):
            out.markers.append(self.delete_all(header))
        for sk, ns in zip(skeletons, names):
            out.markers.extend(self._instance_markers(sk, ns, header))
        return out

    def delete_all(self, header):
        """One DELETEALL marker (also forgets the namespace set)."""
        from visualization_msgs.msg import Marker

        self._previous = None
        return Marker(header=header, action=Marker.DELETEALL)

    def _instance_markers(self, sk: SkeletonOut, ns: str, header):
        from builtin_interfaces.msg import Duration
        from geometry_msgs.msg import Point
        from std_msgs.msg import ColorRGBA
        from visualization_msgs.msg import Marker

        pts = drawn_points(sk)
        finite = pts[np.isfinite(pts).all(axis=1)]
        diameter = sphere_diameter(pts, self.marker_scale)
        r, g, b = instance_colour(sk.instance_id)
        secs = int(self.lifetime_s)
        lifetime = Duration(sec=secs, nanosec=int(round((self.lifetime_s - secs) * 1e9)))

        def marker(kind: int, mid: int, vertices: np.ndarray, width: float) -> Marker:
            m = Marker(header=header, ns=ns, id=mid, type=kind, action=Marker.ADD,
                       lifetime=lifetime, frame_locked=False)
            m.pose.orientation.w = 1.0
            m.scale.x = m.scale.y = m.scale.z = width
            m.color = ColorRGBA(r=float(r), g=float(g), b=float(b), a=1.0)
            m.points = [Point(x=x, y=y, z=z) for x, y, z in np.asarray(vertices, float).tolist()]
            return m

        return [marker(Marker.SPHERE_LIST, JOINTS_ID, finite, diameter),
                marker(Marker.LINE_LIST, BONES_ID, bone_segments(pts, sk.edges), 0.4 * diameter)]
