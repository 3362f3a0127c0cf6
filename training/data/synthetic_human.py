"""Human body variants: real mocap motion with varied proportions, on several rigs.

Bones of the 26-joint mocap are rescaled per sample by body-part groups (overall
height incl. children, legs, arms, torso, head, shoulder/hip width), then retargeted
to coco17 / h36m17 / panoptic15, or to coco_wholebody133 with a synthetic face
(face68) and hands (hand21) attached in the head and hand frames.

With `realistic=True` two things a real user's skeleton differs by are added: builds
(shoulder against hip width, left/right limb asymmetry) and joint *definitions*: where
another mocap system or a 2D detector puts the hip, shoulder, neck, head, wrist or toe
point differs from this one rig's by a few cm (`vary_definitions`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from lfm3d_net.rigs import MOCAP26_JOINTS, MOCAP26_PARENTS
from training.data.base import PoseSource
from training.data.face import DEFAULT_FACE, load_mean_face, vary_faces
from training.data.mocap_npz import DEFAULT_MOCAP, MocapNpzSource
from training.data.retarget import J, head_frame, retarget, to_coco17, to_feet6
from training.data.synthetic_hand import generate_hands

# The body part whose bone-length factor moves each mocap joint (the bone into it).
PART_OF = {j: ("head" if j in ("head", "l_eye", "r_eye") else
               "shoulders" if j.endswith(("clavicle", "upperarm")) else
               "hips" if j.endswith("thigh") else
               "arm" if j.endswith(("forearm", "hand", "mid1")) else
               "leg" if j.endswith(("calf", "foot", "toebase")) else "torso")
           for j in MOCAP26_JOINTS}
# The plain variants scale shoulder and hip width together.
_GROUP_OF = {j: "width" if p in ("shoulders", "hips") else p for j, p in PART_OF.items()}
GROUPS = ("torso", "head", "width", "arm", "leg")


def vary_proportions(p: np.ndarray, rng: np.random.Generator, realistic: bool = False) -> np.ndarray:
    """(M, 26, 3) mocap -> (M, 26, 3) with per-sample bone-group scales (children to tall);
    `realistic` adds builds and left/right asymmetry (`_build_factors`)."""
    m = p.shape[0]
    height = np.where(rng.random(m) < 0.2, rng.uniform(0.55, 0.8, m), rng.uniform(0.88, 1.15, m))
    child = np.clip((0.85 - height) / 0.3, 0, 1)                     # children: big heads, short legs
    g = {k: height * rng.uniform(0.9, 1.1, m) for k in GROUPS}
    g["head"] = g["head"] * (1 + 0.35 * child) / np.maximum(height, 1e-6) ** 0.3
    g["leg"] = g["leg"] * (1 - 0.1 * child)
    g["width"] = g["width"] * rng.uniform(0.85, 1.25, m)
    scale = np.stack([g[_GROUP_OF[j]] for j in MOCAP26_JOINTS], axis=1)  # (M, 26)
    if realistic:  # drawn after the groups, so the plain variants keep their random stream
        scale = scale * _build_factors(m, rng)
    return scale_bones(p, scale)


def scale_bones(p: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """(M, 26, 3) mocap, (M, 26) or (26,) factors -> (M, 26, 3) with the bone into each joint
    scaled by its factor (the root's is unused), children following their parents."""
    scale = np.broadcast_to(scale, p.shape[:2])
    out = p.copy()
    for i, par in enumerate(MOCAP26_PARENTS):                          # parents before children
        if par >= 0:
            out[:, i] = out[:, par] + scale[:, i, None] * (p[:, i] - p[:, par])
    return out


BUILD = 0.08        # shoulder width up and hip width down by up to this (and the reverse)
ASYMMETRY = 0.03    # sd of a left or right limb bone's own length factor (clipped at 3 sd)


def _build_factors(m: int, rng: np.random.Generator) -> np.ndarray:
    """(M, 26) bone factors: a build from narrow-shouldered and wide-hipped to the reverse
    (the sexes differ most there), and each limb bone of each side its own length."""
    build = rng.uniform(-1.0, 1.0, m)
    f = np.ones((m, len(MOCAP26_JOINTS)))
    for j, name in enumerate(MOCAP26_JOINTS):
        if PART_OF[name] == "shoulders":
            f[:, j] *= 1 + BUILD * build
        elif PART_OF[name] == "hips":
            f[:, j] *= 1 - BUILD * build
        if side_sign(name):
            f[:, j] *= 1 + np.clip(rng.normal(0.0, ASYMMETRY, m), -3 * ASYMMETRY, 3 * ASYMMETRY)
    return f


# Joint definitions: per-sample offsets of a point from where this rig puts it, in metres for
# a torso of TORSO m, in the body frame as (outwards, up, forwards) ranges; "outwards" is
# towards the point's own side (mirrored left/right, centre points have none). E.g. a hip
# joint centre vs the greater trochanter, the humeral head vs the acromion, C7 vs the skull base.
TORSO = 0.53        # hip-to-neck length of the mocap rig
DEFINITIONS = {
    "hip": ((0, 0), (-0.06, 0.06), (-0.04, 0.03)),
    "waist": ((0, 0), (-0.04, 0.04), (-0.04, 0.04)),
    "spine01": ((0, 0), (-0.04, 0.04), (-0.04, 0.04)),
    "spine02": ((0, 0), (-0.04, 0.04), (-0.04, 0.04)),
    "neck": ((0, 0), (-0.05, 0.05), (-0.03, 0.04)),
    "head": ((0, 0), (-0.04, 0.08), (-0.03, 0.05)),
    "clavicle": ((-0.03, 0.03), (-0.03, 0.03), (-0.03, 0.03)),
    "upperarm": ((-0.03, 0.03), (-0.02, 0.05), (-0.03, 0.03)),
    "forearm": ((-0.015, 0.015), (-0.015, 0.015), (-0.015, 0.015)),
    "hand": ((-0.02, 0.02), (-0.02, 0.02), (-0.02, 0.02)),
    "mid1": ((-0.03, 0.03), (-0.03, 0.03), (-0.03, 0.03)),
    "thigh": ((-0.03, 0.04), (-0.06, 0.03), (-0.03, 0.03)),
    "calf": ((-0.015, 0.015), (-0.015, 0.015), (-0.015, 0.015)),
    "foot": ((-0.015, 0.015), (-0.02, 0.03), (-0.03, 0.02)),
    "toebase": ((-0.02, 0.02), (-0.02, 0.02), (-0.02, 0.05)),
}
POINT_JITTER = 0.006   # sd (metres, same torso) of each point's own offset, left and right apart


def side_sign(name: str) -> float:
    """+1 for a left mocap joint (`l_...`), -1 for a right one, 0 for a centre joint."""
    return {"l_": 1.0, "r_": -1.0}.get(name[:2], 0.0)


def frame_axes(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Orthonormal axes (x', y', x' cross y'), each (M, 3), from a y axis and a rough x axis
    (x' is x less its y part). With x = left and y = up the third is forward (y-up,
    right-handed). Zero vectors stay zero."""
    y = y / np.maximum(np.linalg.norm(y, axis=-1, keepdims=True), 1e-9)
    x = x - np.sum(x * y, -1, keepdims=True) * y
    x = x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9)
    return x, y, np.cross(x, y)


def body_frame(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(M, 26, 3) mocap -> the subject's (left, up, forward) unit axes, each (M, 3): up along
    hip -> neck, left across the hip joints."""
    return frame_axes(p[:, J["l_thigh"]] - p[:, J["r_thigh"]], p[:, J["neck"]] - p[:, J["hip"]])


def vary_definitions(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(M, 26, 3) mocap -> (M, 26, 3) with each point moved as another joint definition would
    put it (`DEFINITIONS`, one draw per sample and joint kind, mirrored left/right), plus a
    small offset of its own (`POINT_JITTER`). The eyes stay: the head frame hangs on them."""
    m = p.shape[0]
    draws = {kind: np.stack([rng.uniform(lo, hi, m) for lo, hi in ranges], axis=-1)
             for kind, ranges in DEFINITIONS.items()}                         # (M, 3) each
    own = {name: rng.normal(0.0, POINT_JITTER, (m, 3)) for name in MOCAP26_JOINTS}
    return move_points(p, {name: draws[kind] + own[name] for name, kind in _KIND.items()})


# joint name -> its DEFINITIONS kind (the name without its side prefix)
_KIND = {n: (n[2:] if side_sign(n) else n) for n in MOCAP26_JOINTS}
_KIND = {n: k for n, k in _KIND.items() if k in DEFINITIONS}


def move_points(p: np.ndarray, offsets: dict) -> np.ndarray:
    """(M, 26, 3) mocap -> (M, 26, 3) with the named points moved by (outwards, up, forwards)
    offsets ((M, 3) or (3,), metres for a torso of TORSO m) in each sample's body frame;
    outwards is towards the point's own side (none for centre points)."""
    left, up, fwd = body_frame(p)
    size = (np.linalg.norm(p[:, J["neck"]] - p[:, J["hip"]], axis=-1) / TORSO)[:, None]
    out = p.copy()
    for name, o in offsets.items():
        o = np.broadcast_to(np.asarray(o, dtype=np.float64), (p.shape[0], 3))
        out[:, J[name]] += size * (side_sign(name) * o[:, :1] * left + o[:, 1:2] * up + o[:, 2:3] * fwd)
    return out.astype(np.float32)


def _frame_matrix(x, y):
    """Orthonormal (M, 3, 3) with columns (x', y, z) from a y axis and a rough x axis."""
    return np.stack(frame_axes(x, y), axis=-1)


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
    """CMU mocap (train/val by subject) with random proportions, on `rig`; `realistic` adds
    builds, asymmetry and joint-definition offsets (the module doc)."""

    category = "person"

    def __init__(self, rig: str = "coco17", path=DEFAULT_MOCAP, copies: int = 2, seed: int = 0,
                 name: str | None = None, realistic: bool = False):
        self.rig, self.copies, self.seed, self.realistic = rig, copies, seed, realistic
        self.mocap = MocapNpzSource(path, rig="mocap26")
        # The mean face travels in the same data dir as the mocap file.
        self.face_path = Path(path).with_name(DEFAULT_FACE.name)
        self.name = name or f"human_variants_{rig}"

    def _load(self, split: str) -> np.ndarray:
        rng = np.random.default_rng([self.seed, 0 if split == "train" else 1])
        base = self.mocap.poses(split)
        p = vary_proportions(np.concatenate([base] * self.copies), rng, self.realistic)
        if self.realistic:
            p = vary_definitions(p, rng)
        return attach_wholebody(p, rng, self.face_path) if self.rig == "coco_wholebody133" else retarget(p, self.rig)
