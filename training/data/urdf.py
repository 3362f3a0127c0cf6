"""A URDF kinematic tree and its forward kinematics, in numpy (no simulator needed).

Reads the joints of a URDF file (type, parent and child link, origin xyz/rpy, axis,
limits) and computes world poses of every link for a batch of joint values:

    tree = UrdfTree.read(path)
    frames = tree.link_frames({"joint1": q1, ...})    # link -> (M, 4, 4), URDF units
    pts = tree.points([("link7", (0, 0, 0.1)), ...], q) # (M, K, 3) points fixed to links

Conventions are the URDF spec's: a joint's origin places the child frame in the parent
frame; rpy are fixed-axis roll (x), pitch (y), yaw (z), i.e. R = Rz(yaw) Ry(pitch) Rx(roll);
revolute / continuous joints then rotate about `axis`, prismatic joints translate along it.
Joints missing from the values are at 0. Only the kinematics are read; meshes,
inertials and mimic tags are ignored (a mimic joint is simply another joint value).
"""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MOVING = ("revolute", "continuous", "prismatic")


@dataclass(frozen=True)
class Joint:
    name: str
    type: str                   # revolute | continuous | prismatic | fixed | floating | planar
    parent: str
    child: str
    origin: np.ndarray          # (4, 4) child frame in the parent frame at joint value 0
    axis: np.ndarray            # (3,) unit axis in the child frame
    lower: float                # limits (rad or URDF length units); -inf/inf when absent
    upper: float


def rpy_matrix(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """(3, 3) rotation of URDF fixed-axis roll/pitch/yaw (radians): Rz(yaw) Ry(pitch) Rx(roll)."""
    cr, sr, cp, sp, cy, sy = (math.cos(roll), math.sin(roll), math.cos(pitch), math.sin(pitch),
                              math.cos(yaw), math.sin(yaw))
    return np.array([[cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
                     [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
                     [-sp, cp * sr, cp * cr]])


def axis_angle_matrices(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """(M,) angles (rad) about a unit (3,) axis -> (M, 3, 3) rotations (Rodrigues)."""
    x, y, z = axis
    K = np.array([[0, -z, y], [z, 0, -x], [-y, x, 0]], dtype=np.float64)
    a = np.asarray(angle, np.float64)[:, None, None]
    return np.eye(3) + np.sin(a) * K + (1 - np.cos(a)) * (K @ K)


def _floats(text: str | None, n: int, default: float = 0.0) -> list[float]:
    vals = [float(v) for v in text.split()] if text else [default] * n
    if len(vals) != n:
        raise ValueError(f"expected {n} numbers, got {text!r}")
    return vals


class UrdfTree:
    """The joints of one URDF, parents before children (see module doc)."""

    def __init__(self, joints: list[Joint]):
        children = {j.child for j in joints}
        roots = {j.parent for j in joints} - children
        if len(roots) != 1:
            raise ValueError(f"URDF must have one root link, found {sorted(roots)}")
        self.root = roots.pop()
        by_parent: dict[str, list[Joint]] = {}
        for j in joints:
            by_parent.setdefault(j.parent, []).append(j)
        order, todo = [], [self.root]
        while todo:   # breadth-first from the root: every joint after its parent link's joint
            link = todo.pop(0)
            for j in by_parent.get(link, []):
                order.append(j)
                todo.append(j.child)
        self.joints = order
        self.links = (self.root, *(j.child for j in order))

    @classmethod
    def read(cls, path: str | Path) -> "UrdfTree":
        root = ET.parse(path).getroot()
        joints = []
        for e in root.iter("joint"):
            if e.find("parent") is None:   # a <joint> inside <transmission> names no links
                continue
            o = e.find("origin")
            T = np.eye(4)
            if o is not None:
                T[:3, :3] = rpy_matrix(*_floats(o.get("rpy"), 3))
                T[:3, 3] = _floats(o.get("xyz"), 3)
            a = e.find("axis")
            axis = np.asarray(_floats(a.get("xyz") if a is not None else None, 3, 0.0))
            if not axis.any():
                axis = np.array([1.0, 0.0, 0.0])   # the URDF default axis
            lim = e.find("limit")
            lo, hi = -math.inf, math.inf
            if lim is not None and e.get("type") in ("revolute", "prismatic"):
                lo, hi = float(lim.get("lower", 0.0)), float(lim.get("upper", 0.0))
            joints.append(Joint(e.get("name"), e.get("type"), e.find("parent").get("link"),
                                e.find("child").get("link"), T, axis / np.linalg.norm(axis), lo, hi))
        return cls(joints)

    @property
    def moving(self) -> list[Joint]:
        return [j for j in self.joints if j.type in MOVING]

    def link_frames(self, values: dict[str, np.ndarray], m: int | None = None) -> dict[str, np.ndarray]:
        """Joint name -> (M,) values => link name -> (M, 4, 4) world frames (root at identity)."""
        unknown = set(values) - {j.name for j in self.joints}
        if unknown:
            raise KeyError(f"no such joints: {sorted(unknown)}")
        if m is None:
            m = len(next(iter(values.values()))) if values else 1
        frames = {self.root: np.broadcast_to(np.eye(4), (m, 4, 4))}
        for j in self.joints:
            local = np.broadcast_to(j.origin, (m, 4, 4)).copy()
            q = values.get(j.name)
            if q is not None and j.type in MOVING:
                q = np.broadcast_to(np.asarray(q, np.float64), (m,))
                motion = np.broadcast_to(np.eye(4), (m, 4, 4)).copy()
                if j.type == "prismatic":
                    motion[:, :3, 3] = q[:, None] * j.axis
                else:
                    motion[:, :3, :3] = axis_angle_matrices(j.axis, q)
                local = local @ motion
            frames[j.child] = frames[j.parent] @ local
        return frames

    def points(self, spec, values: dict[str, np.ndarray], m: int | None = None) -> np.ndarray:
        """(M, K, 3) world positions of K points, each `(link, offset xyz in that link's frame)`."""
        frames = self.link_frames(values, m)
        out = [frames[link][:, :3, :3] @ np.asarray(off, np.float64) + frames[link][:, :3, 3]
               for link, off in spec]
        return np.stack(out, 1)
