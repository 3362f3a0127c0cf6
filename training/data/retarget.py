"""Map the 26-joint mocap rig (`mocap26`) to other human rigs.

Joints the mocap rig lacks (nose, ears, head top, feet points) are placed from a
head frame built from head, neck and the two eyes. Offsets are in metres for an
adult of about 1.75 m and scale with the head size (eye distance), so bone-length
variants stay consistent.
"""
from __future__ import annotations

import numpy as np

from lfm3d_net.rigs import MOCAP26_JOINTS, MOCAP26_PARENTS

J = {name: i for i, name in enumerate(MOCAP26_JOINTS)}
_EYE_DIST = 0.064  # metres: eye distance of the mocap rig; the unit of head offsets


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def head_frame(p: np.ndarray):
    """Head frame of (M, 26, 3) poses -> (eyes_mid (M,3), left, up, forward (M,3) unit, k (M,1)).

    `left` points to the subject's left, `forward` out of the face; k = eye distance / 6.4 cm.
    """
    le, re = p[:, J["l_eye"]], p[:, J["r_eye"]]
    mid = 0.5 * (le + re)
    up = _unit(p[:, J["head"]] - p[:, J["neck"]])
    fwd = _unit(np.cross(le - re, up))            # left x up = forward (y-up, right-handed)
    left = np.cross(up, fwd)
    k = np.linalg.norm(le - re, axis=-1, keepdims=True) / _EYE_DIST
    return mid, left, up, fwd, k


def face_points(p: np.ndarray) -> dict[str, np.ndarray]:
    """Nose, ears and head top from the head frame; each (M, 3)."""
    mid, left, up, fwd, k = head_frame(p)
    return {
        "nose": mid + k * (0.035 * fwd - 0.035 * up),
        "left_ear": mid + k * (0.075 * left - 0.085 * fwd - 0.01 * up),
        "right_ear": mid + k * (-0.075 * left - 0.085 * fwd - 0.01 * up),
        "head_top": mid + k * (0.11 * up - 0.03 * fwd),
    }


def foot_points(p: np.ndarray, side: str) -> dict[str, np.ndarray]:
    """Big toe, small toe and heel of one foot (`side` "l" or "r"); each (M, 3)."""
    ankle, toe = p[:, J[f"{side}_foot"]], p[:, J[f"{side}_toebase"]]
    knee = p[:, J[f"{side}_calf"]]
    fwd = toe - ankle
    leg_up = _unit(knee - ankle)
    lat = _unit(np.cross(leg_up, fwd))            # towards the subject's left
    out = 1.0 if side == "l" else -1.0            # little toe is on the outside
    heel = ankle - 0.35 * fwd - 0.06 * leg_up
    return {"big_toe": toe + 0.45 * fwd - out * 0.025 * lat,
            "small_toe": toe + 0.25 * fwd + out * 0.03 * lat,
            "heel": heel}


def to_coco17(p: np.ndarray) -> np.ndarray:
    """(M, 26, 3) mocap -> (M, 17, 3) COCO body."""
    f = face_points(p)
    cols = [f["nose"], p[:, J["l_eye"]], p[:, J["r_eye"]], f["left_ear"], f["right_ear"]]
    for a in ("upperarm", "forearm", "hand", "thigh", "calf", "foot"):
        cols += [p[:, J[f"l_{a}"]], p[:, J[f"r_{a}"]]]
    order = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
    return np.stack([cols[i] for i in order], axis=1).astype(np.float32)


def to_h36m17(p: np.ndarray) -> np.ndarray:
    """(M, 26, 3) mocap -> (M, 17, 3) Human3.6M 17-joint order."""
    f = face_points(p)
    thorax = 0.5 * (p[:, J["l_upperarm"]] + p[:, J["r_upperarm"]])
    pelvis = p[:, J["hip"]]
    spine = 0.5 * (pelvis + thorax)
    neck_nose = 0.5 * (f["nose"] + p[:, J["head"]])
    g = lambda n: p[:, J[n]]  # noqa: E731
    cols = [pelvis, g("r_thigh"), g("r_calf"), g("r_foot"), g("l_thigh"), g("l_calf"),
            g("l_foot"), spine, thorax, neck_nose, f["head_top"], g("l_upperarm"),
            g("l_forearm"), g("l_hand"), g("r_upperarm"), g("r_forearm"), g("r_hand")]
    return np.stack(cols, axis=1).astype(np.float32)


def to_panoptic15(p: np.ndarray) -> np.ndarray:
    """(M, 26, 3) mocap -> (M, 15, 3) CMU Panoptic 15-joint order."""
    f = face_points(p)
    neck = 0.5 * (p[:, J["l_upperarm"]] + p[:, J["r_upperarm"]])
    g = lambda n: p[:, J[n]]  # noqa: E731
    cols = [neck, f["nose"], g("hip")]
    for s in ("l", "r"):
        cols += [g(f"{s}_upperarm"), g(f"{s}_forearm"), g(f"{s}_hand"), g(f"{s}_thigh"),
                 g(f"{s}_calf"), g(f"{s}_foot")]
    return np.stack(cols, axis=1).astype(np.float32)


def to_feet6(p: np.ndarray) -> np.ndarray:
    """(M, 26, 3) mocap -> (M, 6, 3) COCO-WholeBody feet (left big, small, heel, right ...)."""
    lf, rf = foot_points(p, "l"), foot_points(p, "r")
    cols = [lf["big_toe"], lf["small_toe"], lf["heel"], rf["big_toe"], rf["small_toe"], rf["heel"]]
    return np.stack(cols, axis=1).astype(np.float32)


# Every human point we can derive: the mocap rig, the face points and the feet (the superset
# that random user layouts pick from, `layouts.py`); parents as indices, -1 = root.
HUMAN36_JOINTS = MOCAP26_JOINTS + ("nose", "left_ear", "right_ear", "head_top",
                                   "left_big_toe", "left_small_toe", "left_heel",
                                   "right_big_toe", "right_small_toe", "right_heel")
HUMAN36_PARENTS = tuple(MOCAP26_PARENTS) + (J["head"],) * 4 + (J["l_foot"],) * 3 + (J["r_foot"],) * 3


def to_human36(p: np.ndarray) -> np.ndarray:
    """(M, 26, 3) mocap -> (M, 36, 3) `HUMAN36_JOINTS`."""
    f = face_points(p)
    cols = [f["nose"], f["left_ear"], f["right_ear"], f["head_top"]]
    return np.concatenate([p, np.stack(cols, axis=1), to_feet6(p)], axis=1).astype(np.float32)


RETARGET = {"mocap26": lambda p: np.asarray(p, np.float32), "coco17": to_coco17,
            "h36m17": to_h36m17, "panoptic15": to_panoptic15, "human36": to_human36}


def retarget(p: np.ndarray, rig: str) -> np.ndarray:
    """(M, 26, 3) mocap -> (M, N, 3) poses of `rig` (one of RETARGET)."""
    if rig not in RETARGET:
        raise ValueError(f"cannot derive rig {rig!r} from mocap26; choose from {sorted(RETARGET)}")
    return RETARGET[rig](p)
