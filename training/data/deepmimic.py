"""DeepMimic motion clips shipped in the pybullet wheel -> `deepmimic15` poses.

Each clip (`pybullet_data/data/motions/humanoid3d_<name>.txt`, JSON) has frames of 44
numbers: duration, root position (3, metres, y-up), root quaternion, then per joint a
local quaternion (w, x, y, z) or, for knees and elbows, one angle about local z (rad).
Forward kinematics uses the link offsets of `pybullet_data/humanoid/humanoid.urdf`
(hard-coded below), times the 0.25 global scale pybullet loads that humanoid with.
Split by clip.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from training.data.base import PoseSource

URDF_SCALE = 0.25
# joint: (parent, offset from parent joint in the parent's frame, urdf units)
_LINKS = {
    "chest": ("root", (0.0, 0.944604, 0.0)),
    "neck": ("chest", (0.0, 0.895576, 0.0)),
    "right_hip": ("root", (0.0, 0.0, 0.339548)),
    "right_knee": ("right_hip", (0.0, -1.686184, 0.0)),
    "right_ankle": ("right_knee", (0.0, -1.639480, 0.0)),
    "right_shoulder": ("chest", (-0.096200, 0.974000, 0.732440)),
    "right_elbow": ("right_shoulder", (0.0, -1.099152, 0.0)),
    "right_wrist": ("right_elbow", (0.0, -1.035788, 0.0)),
    "left_hip": ("root", (0.0, 0.0, -0.339548)),
    "left_knee": ("left_hip", (0.0, -1.686184, 0.0)),
    "left_ankle": ("left_knee", (0.0, -1.639480, 0.0)),
    "left_shoulder": ("chest", (-0.096200, 0.974000, -0.732440)),
    "left_elbow": ("left_shoulder", (0.0, -1.099152, 0.0)),
    "left_wrist": ("left_elbow", (0.0, -1.035788, 0.0)),
    "head": ("neck", (0.0, 0.700000, 0.0)),   # centre of the head sphere
}
# Order of rotations in a frame after the root: (joint, dof) with dof 4 = quaternion, 1 = angle.
_FRAME_DOFS = (("chest", 4), ("neck", 4), ("right_hip", 4), ("right_knee", 1),
               ("right_ankle", 4), ("right_shoulder", 4), ("right_elbow", 1),
               ("left_hip", 4), ("left_knee", 1), ("left_ankle", 4), ("left_shoulder", 4),
               ("left_elbow", 1))
_OUT = ("root", "neck", "head", "right_hip", "right_knee", "right_ankle", "right_shoulder",
        "right_elbow", "right_wrist", "left_hip", "left_knee", "left_ankle", "left_shoulder",
        "left_elbow", "left_wrist")   # == lfm3d_net.rigs.DEEPMIMIC15_JOINTS
DEFAULT_VAL_CLIPS = ("dance_b", "spinkick", "getup_faceup")


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """(..., 4) quaternions (w, x, y, z), any norm -> (..., 3, 3) rotation matrices."""
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack([
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
    ], axis=-1).reshape(q.shape[:-1] + (3, 3))


def _z_rotation(a: np.ndarray) -> np.ndarray:
    c, s, o, i = np.cos(a), np.sin(a), np.zeros_like(a), np.ones_like(a)
    return np.stack([c, -s, o, s, c, o, o, o, i], axis=-1).reshape(a.shape + (3, 3))


def forward_kinematics(frames: np.ndarray) -> np.ndarray:
    """(F, 44) DeepMimic frames -> (F, 15, 3) deepmimic15 joint positions, metres, y-up."""
    pos, _ = _kinematics(frames)
    return np.stack([pos[j] for j in _OUT], axis=1).astype(np.float32)


def head_pose(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(F, 44) frames -> the head sphere's centre (F, 3) metres and its link frame (F, 3, 3),
    whose columns are the humanoid's forward (+x), up (+y) and right (+z) axes."""
    pos, rot = _kinematics(frames)
    return pos["head"].astype(np.float32), rot["head"].astype(np.float32)


def _kinematics(frames: np.ndarray) -> tuple[dict, dict]:
    """Positions (F, 3) and world rotations (F, 3, 3) of every link, by name."""
    frames = np.asarray(frames, dtype=np.float64)
    if frames.ndim != 2 or frames.shape[1] != 44:
        raise ValueError(f"DeepMimic frames must be (F, 44), got {frames.shape}")
    pos = {"root": frames[:, 1:4]}
    rot = {"root": quat_to_matrix(frames[:, 4:8])}
    local, c = {}, 8
    for joint, dof in _FRAME_DOFS:
        local[joint] = quat_to_matrix(frames[:, c:c + 4]) if dof == 4 else _z_rotation(frames[:, c])
        c += dof
    for joint, (parent, offset) in _LINKS.items():   # parents come before children
        off = URDF_SCALE * np.asarray(offset)
        pos[joint] = pos[parent] + np.einsum("fij,j->fi", rot[parent], off)
        rot[joint] = rot[parent] @ local[joint] if joint in local else rot[parent]
    return pos, rot


def default_motion_dir() -> Path:
    """The motions folder of the installed pybullet_data package."""
    import pybullet_data  # the data wheel comes with pybullet

    return Path(pybullet_data.getDataPath()) / "data" / "motions"


def load_clip(path) -> np.ndarray:
    """One DeepMimic motion file -> (F, 44) frames."""
    with open(path) as f:
        frames = np.asarray(json.load(f)["Frames"], dtype=np.float64)
    if frames.ndim != 2 or frames.shape[1] != 44:
        raise ValueError(f"{path}: expected humanoid frames of 44 values, got {frames.shape}")
    return frames


class DeepMimicSource(PoseSource):
    """All `humanoid3d_*.txt` clips; val = `val_clips` (by clip name, e.g. "walk")."""

    category, rig = "person", "deepmimic15"

    def __init__(self, motion_dir=None, val_clips=DEFAULT_VAL_CLIPS, name: str = "deepmimic"):
        self.motion_dir = Path(motion_dir) if motion_dir else default_motion_dir()
        self.val_clips, self.name = tuple(val_clips), name

    def clips(self, split: str) -> list[str]:
        """Clip names (file stem without "humanoid3d_") in `split`."""
        names = sorted(p.stem.removeprefix("humanoid3d_")
                       for p in self.motion_dir.glob("humanoid3d_*.txt"))
        return [n for n in names if (n in self.val_clips) == (split == "val")]

    def frames(self, clips: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The named clips' (F, 44) frames and each frame's clip name (F,)."""
        parts = [load_clip(self.motion_dir / f"humanoid3d_{c}.txt") for c in clips]
        names = np.concatenate([[c] * len(p) for c, p in zip(clips, parts)]) if parts else np.array([])
        return (np.concatenate(parts) if parts else np.zeros((0, 44))), names

    def _load(self, split: str) -> np.ndarray:
        clips = self.clips(split)
        if not clips:
            raise ValueError(f"{self.name}: no clips for split {split!r} in {self.motion_dir}")
        return forward_kinematics(self.frames(clips)[0])
