"""Human body variants: real mocap motion with varied proportions, on several rigs.

Bones of the 26-joint mocap are rescaled per sample by body-part groups (overall
height incl. children, legs, arms, torso, head, shoulder/hip width), then retargeted
to coco17 / h36m17 / panoptic15, or to coco_wholebody133 with a synthetic face
(face68) and hands (hand21) attached in the head and hand frames.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from lfm3d_net.rigs import MOCAP26_JOINTS, MOCAP26_PARENTS
from training.data.base import PoseSource
from training.data.face import DEFAULT_FACE, load_mean_face, vary_faces
from training.data.mocap_npz import DEFAULT_MOCAP, MocapNpzSource
from training.data.retarget import head_frame, retarget, to_coco17, to_feet6
from training.data.synthetic_hand import generate_hands

_GROUP_OF = {}
for _j in MOCAP26_JOINTS:
    _GROUP_OF[_j] = ("head" if _j in ("head", "l_eye", "r_eye") else
                     "width" if _j.endswith(("clavicle", "upperarm", "thigh")) else
                     "arm" if _j.endswith(("forearm", "hand", "mid1")) else
                     "leg" if _j.endswith(("calf", "foot", "toebase")) else "torso")
GROUPS = ("torso", "head", "width", "arm", "leg")


def vary_proportions(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(M, 26, 3) mocap -> (M, 26, 3) with per-sample bone-group scales (children to tall)."""
    m = p.shape[0]
    height = np.where(rng.random(m) < 0.2, rng.uniform(0.55, 0.8, m), rng.uniform(0.88, 1.15, m))
    child = np.clip((0.85 - height) / 0.3, 0, 1)                     # children: big heads, short legs
    g = {k: height * rng.uniform(0.9, 1.1, m) for k in GROUPS}
    g["head"] = g["head"] * (1 + 0.35 * child) / np.maximum(height, 1e-6) ** 0.3
    g["leg"] = g["leg"] * (1 - 0.1 * child)
    g["width"] = g["width"] * rng.uniform(0.85, 1.25, m)
    scale = np.stack([g[_GROUP_OF[j]] for j in MOCAP26_JOINTS], axis=1)  # (M, 26)
    out = p.copy()
    for i, par in enumerate(MOCAP26_PARENTS):                          # parents before children
        if par >= 0:
            out[:, i] = out[:, par] + scale[:, i, None] * (p[:, i] - p[:, par])
    return out


def _frame_matrix(x, y):
    """Orthonormal (M, 3, 3) with columns (x', y, z) from a y axis and a rough x axis."""
    y = y / np.linalg.norm(y, axis=-1, keepdims=True)
    x = x - np.sum(x * y, -1, keepdims=True) * y
    x = x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9)
    return np.stack([x, y, np.cross(x, y)], axis=-1)


def attach_wholebody(p: np.ndarray, rng: np.random.Generator, face_path=DEFAULT_FACE) -> np.ndarray:
    """(M, 26, 3) mocap -> (M, 133, 3) COCO-WholeBody with a synthetic face and hands."""
    m = p.shape[0]
    mid, left, up, fwd, k = head_frame(p)
    faces = vary_faces(load_mean_face(face_path), m, rng)         # local: x left, y up, z fwd
    faces = faces - faces[:, 36:48].mean(axis=1, keepdims=True)       # origin at the eyes
    R = np.stack([left, up, fwd], axis=-1)                            # (M, 3, 3)
    face = mid[:, None] + k[:, None] * np.einsum("mij,mnj->mni", R, faces)
    hands = []
    for s, mirror in (("l", -1.0), ("r", 1.0)):
        J = {n: i for i, n in enumerate(MOCAP26_JOINTS)}
        wrist, mid1 = p[:, J[f"{s}_hand"]], p[:, J[f"{s}_mid1"]]
        h = generate_hands(m, rng)
        h[..., 0] *= np.where(h[:, 1:2, 0] < 0, 1.0, -1.0) * mirror   # force thumb side per hand
        length = np.linalg.norm(mid1 - wrist, axis=-1) / np.maximum(np.linalg.norm(h[:, 9], axis=-1), 1e-6)
        twist = rng.uniform(-np.pi / 2, np.pi / 2, m)[:, None]
        rough_x = np.cos(twist) * left + np.sin(twist) * fwd
        Rh = _frame_matrix(rough_x, mid1 - wrist)
        hands.append(wrist[:, None] + length[:, None, None] * np.einsum("mij,mnj->mni", Rh, h))
    return np.concatenate([to_coco17(p), to_feet6(p), face, hands[0], hands[1]],
                          axis=1).astype(np.float32)


class HumanVariantSource(PoseSource):
    """CMU mocap (train/val by subject) with random proportions, on `rig`."""

    category = "person"

    def __init__(self, rig: str = "coco17", path=DEFAULT_MOCAP, copies: int = 2, seed: int = 0,
                 name: str | None = None):
        self.rig, self.copies, self.seed = rig, copies, seed
        self.mocap = MocapNpzSource(path, rig="mocap26")
        # The mean face travels in the same data dir as the mocap file.
        self.face_path = Path(path).with_name(DEFAULT_FACE.name)
        self.name = name or f"human_variants_{rig}"

    def _load(self, split: str) -> np.ndarray:
        rng = np.random.default_rng([self.seed, 0 if split == "train" else 1])
        base = self.mocap.poses(split)
        p = vary_proportions(np.concatenate([base] * self.copies), rng)
        return attach_wholebody(p, rng, self.face_path) if self.rig == "coco_wholebody133" else retarget(p, self.rig)
