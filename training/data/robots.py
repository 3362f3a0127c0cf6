"""Robots: arms and legged robots posed through the real kinematics of their URDFs.

The URDFs come with the pybullet wheel (`pybullet_data/`), or from `<data_dir>/urdf/` on
machines without it (same relative paths; only the .urdf text is read, `urdf.py` does the
forward kinematics). Keypoints are joint centres (link frame origins) plus tool / toe
points, the layouts a robot keypoint detector predicts (e.g. DREAM for arms).

- Arms (`franka_panda`, `kuka_iiwa`, `xarm6` rigs; category `robot_arm`): joint angles
  half uniform within the URDF limits, half around the robot's "ready" pose; poses that
  put a keypoint under the mounting surface are redrawn.
- Legged robots (`legged_robot17` rig, category `legged_robot`): Unitree A1, Aliengo,
  Laikago and MIT Mini Cheetah in stand / trot / crouch poses plus a share of random leg
  angles, the body pitched and rolled a little. One rig for the four (as one quadruped
  rig serves several species): they differ in proportions, not in topology.

Output frame as every source: y up, forward +z, the robot's left +x, metres.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from lfm3d_net.rigs import get_rig
from training.data.base import GeneratorSource
from training.data.urdf import UrdfTree

# URDF z-up, x-forward, y-left -> source frame (x left, y up, z forward)
_Z_UP = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])


def urdf_root(data_dir=None) -> Path:
    """`<data_dir>/urdf` if it exists, else the installed pybullet_data folder."""
    if data_dir and (Path(data_dir) / "urdf").is_dir():
        return Path(data_dir) / "urdf"
    try:
        import pybullet_data  # the data wheel comes with pybullet (requirements-dev.txt)
    except ImportError:
        raise FileNotFoundError(f"robot sources need the pybullet wheel or the URDFs in "
                                f"{data_dir or '<data_dir>'}/urdf/ (python -m training.data.robots "
                                f"DATA_DIR, on a machine with pybullet)") from None
    return Path(pybullet_data.getDataPath())


@lru_cache(maxsize=None)
def _tree(path: str) -> UrdfTree:
    return UrdfTree.read(path)


_O = (0.0, 0.0, 0.0)


# ----------------------------------------------------------------------------- arms
@dataclass(frozen=True)
class ArmSpec:
    urdf: str                       # path under the URDF root
    joints: tuple                   # arm joint names, base to tip
    ready: tuple                    # the maker's "ready" pose (rad), same order
    points: dict                    # rig keypoint name -> (link, offset in the link frame)
    fingers: tuple = ()             # prismatic finger joints: opened 1..4 cm each
    max_range: float = np.pi        # continuous / ±2π joints are drawn within ±this


ARMS = {   # keypoints by rig joint name (lfm3d_net.rigs) -> (link, offset in its frame, m)
    "franka_panda": ArmSpec(
        "franka_panda/panda.urdf",
        tuple(f"panda_joint{i}" for i in range(1, 8)),
        (0.0, -0.785, 0.0, -2.356, 0.0, 1.571, 0.785),
        {"base": ("panda_link0", _O), "shoulder": ("panda_link1", _O), "upper_arm": ("panda_link3", _O),
         "elbow": ("panda_link4", _O), "forearm": ("panda_link5", _O), "wrist": ("panda_link7", _O),
         "flange": ("panda_link8", _O), "finger_1_tip": ("panda_leftfinger", (0, 0, 0.045)),
         "finger_2_tip": ("panda_rightfinger", (0, 0, 0.045))},
        fingers=("panda_finger_joint1", "panda_finger_joint2")),
    "kuka_iiwa": ArmSpec(
        "kuka_iiwa/model.urdf",
        tuple(f"lbr_iiwa_joint_{i}" for i in range(1, 8)),
        (0.0, 0.5, 0.0, -1.2, 0.0, 0.9, 0.0),
        {"base": ("lbr_iiwa_link_0", _O), **{f"link_{i}": (f"lbr_iiwa_link_{i}", _O) for i in range(1, 8)},
         "tool": ("lbr_iiwa_link_7", (0, 0, 0.1))}),
    "xarm6": ArmSpec(
        "xarm/xarm6_robot.urdf",
        tuple(f"joint{i}" for i in range(1, 7)),
        (0.0, -0.3, -0.8, 0.0, 1.1, 0.0),
        {"base": ("link_base", _O), "shoulder": ("link1", _O), "elbow": ("link3", _O),
         "forearm": ("link4", _O), "wrist": ("link6", _O), "tool": ("link6", (0, 0, 0.1))}),
}
ARM_READY_STD = 0.6          # rad, spread of the joints around the ready pose
ARM_FLOOR = 0.02             # m: keypoints other than the base stay above the mount plane


def _arm_values(spec: ArmSpec, tree: UrdfTree, m: int, rng: np.random.Generator) -> dict:
    limits = {j.name: (max(j.lower, -spec.max_range), min(j.upper, spec.max_range)) for j in tree.moving}
    uniform = rng.random(m) < 0.5
    vals = {}
    for name, q0 in zip(spec.joints, spec.ready):
        lo, hi = limits[name]
        q = np.where(uniform, rng.uniform(lo, hi, m), rng.normal(q0, ARM_READY_STD, m))
        vals[name] = np.clip(q, lo, hi)
    for name in spec.fingers:
        vals[name] = rng.uniform(0.01, 0.04, m)
    return vals


def generate_arm(name: str, m: int, rng: np.random.Generator, root: Path) -> np.ndarray:
    """(m, K, 3) poses of arm `name` (ARMS), metres, source frame (see module doc)."""
    spec = ARMS[name]
    tree = _tree(str(root / spec.urdf))
    spec_pts = [spec.points[j] for j in get_rig(name).joints]
    out, have = [], 0
    while have < m:
        k = 2 * (m - have) + 8
        pts = tree.points(spec_pts, _arm_values(spec, tree, k, rng))
        ok = (pts[:, 1:, 2] > ARM_FLOOR).all(1)       # nothing through the table
        out.append(pts[ok])
        have += int(ok.sum())
    return (np.concatenate(out)[:m] @ _Z_UP.T).astype(np.float32)


# ----------------------------------------------------------------------------- legged robots
@dataclass(frozen=True)
class LeggedSpec:
    """Joint names per leg (abduction, hip pitch, knee) with `{leg}` for fr / fl / rr / rl
    in the URDF's spelling, and how the URDF's joint values map to the canonical angles:
    pitch = pitch0 + pitch_sign * swing (swing > 0: thigh rotated back from vertical),
    knee = knee0 + knee_sign * flex (flex > 0: shin folded forward, knees point back)."""
    urdf: str
    legs: dict                      # canonical leg (fr fl rr rl) -> URDF leg spelling
    abduct: str
    pitch: str
    knee: str
    trunk: str                      # body link (its frame origin is the trunk keypoint)
    hip: str                        # link names with {leg}: hip, thigh, knee, foot
    thigh: str
    shin: str
    foot: str
    pitch0: float = 0.0
    pitch_sign: float = 1.0
    knee0: float = 0.0
    knee_sign: float = -1.0
    z_up: bool = True               # URDF frame z-up / x-forward (else already y-up / z-forward)
    abduct_mirrored: bool = False   # right abduction axes already mirrored (else all point forward)


_UNITREE = dict(legs={"fr": "FR", "fl": "FL", "rr": "RR", "rl": "RL"}, abduct="{leg}_hip_joint",
                pitch="{leg}_upper_joint", knee="{leg}_lower_joint", trunk="trunk", hip="{leg}_hip",
                thigh="{leg}_upper", shin="{leg}_lower", foot="{leg}_toe")
LEGGED = {
    "a1": LeggedSpec("a1/a1.urdf", **_UNITREE),
    "aliengo": LeggedSpec("aliengo/aliengo.urdf", **_UNITREE),
    "mini_cheetah": LeggedSpec(
        "mini_cheetah/mini_cheetah.urdf", {"fr": "fr", "fl": "fl", "rr": "hr", "rl": "hl"},
        "torso_to_abduct_{leg}_j", "abduct_{leg}_to_thigh_{leg}_j", "thigh_{leg}_to_knee_{leg}_j",
        "body", "abduct_{leg}", "thigh_{leg}", "shank_{leg}", "toe_{leg}",
        pitch_sign=-1.0, knee_sign=1.0),
    # Laikago's zero pose has the thigh 0.6 rad back and the shin vertical.
    "laikago": LeggedSpec(
        "laikago/laikago_toes.urdf", {"fr": "FR", "fl": "FL", "rr": "RR", "rl": "RL"},
        "{leg}_hip_motor_2_chassis_joint", "{leg}_upper_leg_2_hip_motor_joint",
        "{leg}_lower_leg_2_upper_leg_joint", "chassis", "{leg}_hip_motor", "{leg}_upper_leg",
        "{leg}_lower_leg", "toe{leg}", pitch0=-0.6, knee0=0.6, z_up=False, abduct_mirrored=True),
}
LEG_NAMES = {"fl": "front_left", "fr": "front_right", "rl": "rear_left", "rr": "rear_right"}
LEG_PARTS = {"hip": "hip", "thigh": "thigh", "knee": "shin", "foot": "foot"}   # rig word -> spec field
LEGS = tuple(LEG_NAMES)       # the order of the (m, 4) leg angle arrays


def _leg_angles(m: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(m, 4) abduction, swing, flex per leg (LEGS order) for stand / trot / crouch / random."""
    mode = rng.choice(4, m, p=[0.3, 0.35, 0.15, 0.2])
    swing0 = np.select([mode == 2], [rng.uniform(0.9, 1.3, m)], rng.uniform(0.55, 0.95, m))
    flex0 = np.select([mode == 2], [rng.uniform(2.0, 2.5, m)], 2 * swing0 + rng.uniform(-0.15, 0.15, m))
    phase = rng.uniform(0, 2 * np.pi, m)[:, None] + np.array([0.0, np.pi, np.pi, 0.0])  # trot: diagonals
    trot = (mode == 1)[:, None]
    swing = swing0[:, None] + trot * 0.35 * np.sin(phase) + rng.normal(0, 0.05, (m, 4))
    flex = flex0[:, None] + trot * 0.5 * np.maximum(np.cos(phase), 0) + rng.normal(0, 0.05, (m, 4))
    abd = rng.normal(0, 0.08, (m, 4))
    rand = (mode == 3)[:, None]
    swing = np.where(rand, rng.uniform(-0.6, 1.8, (m, 4)), swing)
    flex = np.where(rand, rng.uniform(0.95, 2.6, (m, 4)), flex)
    abd = np.where(rand, rng.uniform(-0.5, 0.5, (m, 4)), abd)
    return abd, swing, np.clip(flex, 0.95, 2.6)   # inside every robot's knee range


def _rot(axis: int, a: np.ndarray) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    R = np.broadcast_to(np.eye(3), a.shape + (3, 3)).copy()
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    R[..., i, i], R[..., i, j], R[..., j, i], R[..., j, j] = c, -s, s, c
    return R


def generate_legged(robot: str, m: int, rng: np.random.Generator, root: Path) -> np.ndarray:
    """(m, 17, 3) `legged_robot17` poses of one robot (LEGGED), metres, source frame."""
    spec = LEGGED[robot]
    tree = _tree(str(root / spec.urdf))
    abd, swing, flex = _leg_angles(m, rng)
    vals = {}
    for k, g in enumerate(LEGS):
        leg = spec.legs[g]
        # abduction > 0 moves the foot outward: with every axis pointing forward, mirror the right
        sign = 1.0 if g in ("fl", "rl") or spec.abduct_mirrored else -1.0
        vals[spec.abduct.format(leg=leg)] = sign * abd[:, k]
        vals[spec.pitch.format(leg=leg)] = spec.pitch0 + spec.pitch_sign * swing[:, k]
        vals[spec.knee.format(leg=leg)] = spec.knee0 + spec.knee_sign * flex[:, k]
    pts = [(spec.trunk, _O)]
    for joint in get_rig("legged_robot17").joints[1:]:          # "<front|rear>_<left|right>_<part>"
        g = next(c for c, word in LEG_NAMES.items() if joint.startswith(word + "_"))
        part = LEG_PARTS[joint.removeprefix(LEG_NAMES[g] + "_")]
        pts.append((getattr(spec, part).format(leg=spec.legs[g]), _O))
    p = tree.points(pts, vals, m)
    if spec.z_up:
        p = p @ _Z_UP.T
    # body pitch (nose up/down) and roll, about the trunk
    R = _rot(0, rng.normal(0, 0.12, m)) @ _rot(2, rng.normal(0, 0.06, m))
    p = np.einsum("mij,mnj->mni", R, p - p[:, :1])
    return p.astype(np.float32)


def _mixed_legged(m: int, rng: np.random.Generator, root: Path) -> np.ndarray:
    which = rng.integers(0, len(LEGGED), m)
    out = np.empty((m, get_rig("legged_robot17").n, 3), np.float32)
    for k, robot in enumerate(LEGGED):
        idx = np.flatnonzero(which == k)
        if len(idx):
            out[idx] = generate_legged(robot, len(idx), rng, root)
    return out


# ----------------------------------------------------------------------------- sources
def arm_source(name: str, data_dir=None, count: int = 20000, seed: int = 0) -> GeneratorSource:
    root = urdf_root(data_dir)
    return GeneratorSource(f"{name}_urdf", "robot_arm", name,
                           lambda m, rng: generate_arm(name, m, rng, root), count, seed)


def legged_source(data_dir=None, count: int = 20000, seed: int = 0) -> GeneratorSource:
    root = urdf_root(data_dir)
    return GeneratorSource("legged_robot17_urdf", "legged_robot", "legged_robot17",
                           lambda m, rng: _mixed_legged(m, rng, root), count, seed)


def copy_urdfs(data_dir) -> list[Path]:
    """Copy the URDFs these sources read into `<data_dir>/urdf/` (for a machine without
    pybullet: `urdf_root(data_dir)` then finds them). Returns the written paths."""
    import pybullet_data
    src = Path(pybullet_data.getDataPath())
    out = []
    for rel in sorted({s.urdf for s in (*ARMS.values(), *LEGGED.values())}):
        dst = Path(data_dir) / "urdf" / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes((src / rel).read_bytes())
        out.append(dst)
    return out


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description="Copy the robot URDFs into DATA_DIR/urdf/ for a machine "
                                             "without the pybullet wheel.")
    ap.add_argument("data_dir")
    for path in copy_urdfs(ap.parse_args().data_dir):
        print(path)
