"""The real-world proxy's held-out people: real motion on skeletons the model never trains on.

Our in-distribution validation (CMU subject 7 on the CC_Base rig, retargeted like the
training data) is optimistic: a user's person has other proportions, and their detector
or mocap system puts the hip, shoulder, neck and head points elsewhere. These sets keep
what a user meets:

- `deepmimic`: the DeepMimic humanoid (pybullet wheel): real motion on its own skeleton
  (a physics character, 1.62 m), never trained on (registry.HELD_OUT_REAL). Read as the
  built-in `h36m17` and `coco17` (face points from its head sphere, as a detector would
  place them) and as a user rig of its own 15 joints.
- `cmu_s7`: CMU subject 7 (never trained on) re-proportioned to three fixed builds and
  with another system's joint definitions (`OTHER_DEFINITIONS`), read as `h36m17`, `coco17`
  and a user's 21-joint full-body rig with hands, toes and spine points; and the same motion
  on DeepMind's CMU humanoid (dm_control), a skeleton with proportions and joint definitions
  that none of our builds or augmentations chose.
- `dm_dog`: DeepMind's dog (dm_control, `dm_dog.py`), an anatomical dog skeleton no model
  trains on, in poses drawn within its own joint limits (its anatomy and a user's rig are
  real; the poses are not real motion), read as a user's 26-joint rig and as `quadruped17`.

Every set is (poses (M, N, 3) metres y-up, clip name per pose (M,), rig). Rigs given as
`Rig` objects are user rigs: the proxy passes their edges, sides and fronts, not a name.
Numpy only.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lfm3d_net.rigs import MOCAP26_JOINTS, MOCAP26_PARENTS, Rig, _front_of, _side_of, get_rig
from training.data import dm_dog
from training.data.deepmimic import DeepMimicSource, forward_kinematics, head_pose
from training.data.mocap_npz import DEFAULT_MOCAP, load_mocap_npz, subject_of
from training.data.retarget import J, to_coco17, to_h36m17
from training.data.synthetic_human import PART_OF, body_frame, frame_axes, move_points, scale_bones, side_sign

HELD_OUT_SUBJECT = "007"      # mocap_npz.DEFAULT_VAL_SUBJECTS: never in a training split


@dataclass(frozen=True)
class HeldOutSet:
    """One proxy row's data: who (`person`: the subject, a person or not) seen through which
    `input`, (M, N, 3) metres y-up, (M,) clip names, the rig (a user rig when `user_rig`),
    whether the model gets edges and sides (False = keypoints only), and where the poses come
    from (`motion`)."""

    person: str
    input: str
    poses: np.ndarray
    clips: np.ndarray
    rig: Rig
    user_rig: bool = False
    structure: bool = True
    motion: str = "real"

    @property
    def name(self) -> str:
        return f"{self.person}, {self.input}"


# ------------------------------------------------------------------ DeepMimic humanoid
def _dm_face(frames: np.ndarray) -> dict[str, np.ndarray]:
    """Nose, eyes, ears and head top of DeepMimic frames from the head sphere (F, 3) each:
    a detector's face points sit on the head's surface, 10-11 cm from its centre."""
    c, R = head_pose(frames)
    f, u, r = R[..., 0], R[..., 1], R[..., 2]
    return {"nose": c + 0.10 * f - 0.02 * u, "left_eye": c + 0.08 * f + 0.03 * u - 0.032 * r,
            "right_eye": c + 0.08 * f + 0.03 * u + 0.032 * r, "left_ear": c - 0.075 * r - 0.01 * f,
            "right_ear": c + 0.075 * r - 0.01 * f, "head_top": c + 0.105 * u}


def deepmimic_sets(motion_dir=None) -> list[HeldOutSet]:
    """The DeepMimic humanoid's every clip as h36m17, coco17 and its own 15-joint user rig."""
    src = DeepMimicSource(motion_dir)
    frames, clips = src.frames(src.clips("train") + src.clips("val"))
    p = forward_kinematics(frames)                            # (F, 15, 3) deepmimic15 order
    face = _dm_face(frames)
    g = {n: p[:, i] for i, n in enumerate(get_rig("deepmimic15").joints)}
    shoulders = 0.5 * (g["left_shoulder"] + g["right_shoulder"])
    h36m = [g["root"], g["right_hip"], g["right_knee"], g["right_ankle"], g["left_hip"],
            g["left_knee"], g["left_ankle"], 0.5 * (g["root"] + g["neck"]), g["neck"],
            0.5 * (shoulders + face["nose"]), face["head_top"]] + [
        g[f"{s}_{j}"] for s in ("left", "right") for j in ("shoulder", "elbow", "wrist")]
    coco = [face[k] for k in ("nose", "left_eye", "right_eye", "left_ear", "right_ear")] + [
        g[f"{s}_{j}"] for j in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")
        for s in ("left", "right")]
    own = get_rig("deepmimic15")
    user = Rig("user_deepmimic15", "person", own.joints, own.edges, own.sides, own.fronts)
    who = "DeepMimic humanoid"
    return [HeldOutSet(who, "`h36m17`", np.stack(h36m, 1), clips, get_rig("h36m17")),
            HeldOutSet(who, "`coco17`", np.stack(coco, 1), clips, get_rig("coco17")),
            HeldOutSet(who, "its own 15 joints as a user rig", p, clips, user, True)]


# ------------------------------------------------------------------ CMU subject 7, other skeletons
# Three builds (bone factors by body part, on the 1.75 m rig): a 1.58 m woman with narrow
# shoulders and wide hips, a 1.90 m long-legged man, a stocky 1.68 m man with short arms.
BUILDS = (
    {"torso": 0.9, "head": 0.97, "shoulders": 0.82, "hips": 1.08, "arm": 0.88, "leg": 0.91},
    {"torso": 1.05, "head": 1.02, "shoulders": 1.08, "hips": 0.98, "arm": 1.1, "leg": 1.13},
    {"torso": 1.0, "head": 1.0, "shoulders": 1.15, "hips": 1.1, "arm": 0.9, "leg": 0.93},
)
# Another system's joint definitions, (outwards, up, forwards) metres: hip joint centres lower
# and wider, shoulder points on the acromion, a higher neck (C7 vs the skull base), the head
# point at the skull's centre, wrist and ankle points on the bony landmarks.
OTHER_DEFINITIONS = {
    "hip": (0.0, -0.03, 0.02), "l_thigh": (0.025, -0.045, 0.01), "r_thigh": (0.025, -0.045, 0.01),
    "l_upperarm": (0.01, 0.035, -0.01), "r_upperarm": (0.01, 0.035, -0.01),
    "neck": (0.0, 0.03, -0.02), "head": (0.0, 0.05, 0.0),
    "l_hand": (0.01, 0.0, 0.01), "r_hand": (0.01, 0.0, 0.01),
    "l_foot": (0.015, -0.01, -0.01), "r_foot": (0.015, -0.01, -0.01),
    "l_toebase": (0.0, -0.01, 0.03), "r_toebase": (0.0, -0.01, 0.03),
}


def other_skeletons(p26: np.ndarray) -> np.ndarray:
    """(M, 26, 3) CMU poses -> the same motion on the three BUILDS in turn (pose i on build
    i mod 3), with OTHER_DEFINITIONS."""
    scale = np.array([[b[PART_OF[n]] for n in MOCAP26_JOINTS] for b in BUILDS])   # (3, 26)
    p = scale_bones(p26, scale[np.arange(len(p26)) % len(BUILDS)])
    return move_points(p, OTHER_DEFINITIONS)


# DeepMind's CMU humanoid (dm_control 1.0.52, locomotion/walkers/assets/humanoid_CMU_V2020.xml,
# Apache-2.0): a skeleton someone else built from the CMU ASF files, 1.6 m, with its own joint
# definitions (hip centres 9 cm below and 5 cm in front of the pelvis point, a long neck-to-head
# bone, shoulders 9 cm above the neck base). Nothing in training is built from it. Bone lengths
# (m) of the bone into each MOCAP26 joint, the pelvis-to-neck-base spine, and the hip and shoulder
# points as (outwards, up, forwards) offsets from the pelvis and the neck base:
DM_CMU_BONES = {"head": 0.2206, **{f"{s}_{j}": v for s in "lr" for j, v in (
    ("calf", 0.404945), ("foot", 0.415693), ("toebase", 0.15802),
    ("forearm", 0.276843), ("hand", 0.181536), ("mid1", 0.0907676))}}
DM_CMU_SPINE = 0.3411
DM_CMU_HIP = (0.101937, -0.0918074, 0.0494461)
DM_CMU_SHOULDER = (0.18, 0.09, 0.0107141)
_SPINE = ("waist", "spine01", "spine02", "neck")


def on_dm_cmu_skeleton(p26: np.ndarray) -> np.ndarray:
    """(M, 26, 3) CMU poses -> the same motion on DeepMind's CMU humanoid: every bone keeps its
    direction, takes that skeleton's length (the spine scaled as one), and the hip and shoulder
    points sit at its offsets in the pelvis and chest frames; other bones keep their length."""
    spine = sum(np.linalg.norm(p26[:, J[n]] - p26[:, MOCAP26_PARENTS[J[n]]], axis=-1) for n in _SPINE)
    pelvis = body_frame(p26)
    # the chest: up along spine02 -> neck, left across the clavicles
    chest = frame_axes(p26[:, J["l_clavicle"]] - p26[:, J["r_clavicle"]], p26[:, J["neck"]] - p26[:, J["spine02"]])
    out = p26.astype(np.float64).copy()
    for i, (name, par) in enumerate(zip(MOCAP26_JOINTS, MOCAP26_PARENTS)):   # parents first
        if par < 0:
            continue
        bone = p26[:, i] - p26[:, par]
        if name[2:] in ("thigh", "upperarm"):
            frame, o = (pelvis, DM_CMU_HIP) if name[2:] == "thigh" else (chest, DM_CMU_SHOULDER)
            base = out[:, J["hip"]] if name[2:] == "thigh" else out[:, J["neck"]]
            out[:, i] = base + side_sign(name) * o[0] * frame[0] + o[1] * frame[1] + o[2] * frame[2]
        elif name[2:] == "clavicle":           # the clavicle starts at the neck base there
            out[:, i] = out[:, J["neck"]]
        elif name in _SPINE:
            out[:, i] = out[:, par] + bone * (DM_CMU_SPINE / spine)[:, None]
        elif name in DM_CMU_BONES:
            out[:, i] = out[:, par] + bone * (DM_CMU_BONES[name] / np.linalg.norm(bone, axis=-1))[:, None]
        else:
            out[:, i] = out[:, par] + bone
    return out.astype(np.float32)


# A user's full-body rig: spine points, hands (middle-finger base) and toes, own names/order.
FULLBODY21 = ("pelvis", "spine_mid", "chest", "neck", "head",
              *(f"{s}_{j}" for s in ("left", "right")
                for j in ("shoulder", "elbow", "wrist", "hand", "hip", "knee", "ankle", "toe")))
_FULLBODY21_FROM = ("hip", "waist", "spine02", "neck", "head",
                    *(f"{s}_{j}" for s in ("l", "r")
                      for j in ("upperarm", "forearm", "hand", "mid1", "thigh", "calf", "foot", "toebase")))

def _user_rig(name: str, category: str, joints: tuple, parent: dict) -> Rig:
    """A user rig of named joints: an edge from each joint to its `parent` (child -> parent
    names), sides and fronts from the names."""
    idx = {n: i for i, n in enumerate(joints)}
    edges = tuple((idx[parent[n]], idx[n]) for n in joints if n in parent)
    return Rig(name, category, joints, edges, tuple(map(_side_of, joints)), tuple(map(_front_of, joints)))


def fullbody21_rig() -> Rig:
    """The user rig FULLBODY21: edges along the body, sides and fronts from the names."""
    parent = {"spine_mid": "pelvis", "chest": "spine_mid", "neck": "chest", "head": "neck"}
    for s in ("left", "right"):
        parent.update({f"{s}_shoulder": "chest", f"{s}_elbow": f"{s}_shoulder",
                       f"{s}_wrist": f"{s}_elbow", f"{s}_hand": f"{s}_wrist", f"{s}_hip": "pelvis",
                       f"{s}_knee": f"{s}_hip", f"{s}_ankle": f"{s}_knee", f"{s}_toe": f"{s}_ankle"})
    return _user_rig("user_fullbody21", "person", FULLBODY21, parent)


def _cmu_rows(who: str, p: np.ndarray, clips: np.ndarray, alone: bool) -> list[HeldOutSet]:
    """(M, 26, 3) poses as h36m17, coco17, the full-body user rig (and its keypoints alone)."""
    full = p[:, [J[n] for n in _FULLBODY21_FROM]]
    user = fullbody21_rig()
    rows = [HeldOutSet(who, "`h36m17`", to_h36m17(p), clips, get_rig("h36m17")),
            HeldOutSet(who, "`coco17`", to_coco17(p), clips, get_rig("coco17")),
            HeldOutSet(who, "a 21-joint full-body user rig", full, clips, user, True)]
    return rows + [HeldOutSet(who, "the same 21 keypoints alone", full, clips, user, True, False)] * alone


def cmu_sets(path=DEFAULT_MOCAP) -> list[HeldOutSet]:
    """CMU subject 7 on other skeletons (our three builds with another system's definitions)
    as h36m17, coco17, the full-body user rig and that rig's keypoints alone (no edges, sides
    or fronts); then on DeepMind's CMU humanoid as the first three."""
    pos, clips = load_mocap_npz(path)
    keep = np.array([subject_of(c) == HELD_OUT_SUBJECT for c in clips])
    s7, clips = pos[keep], clips[keep]
    return (_cmu_rows("CMU subject 7, other skeletons", other_skeletons(s7), clips, True)
            + _cmu_rows("CMU subject 7, DeepMind's CMU humanoid", on_dm_cmu_skeleton(s7), clips, False))


DOG_POSES, DOG_GROUP = 2000, 20   # poses drawn, and poses per bootstrap group
# Std of the drawn joint angles, as a fraction of each joint's half range. The dog's errors
# depend on it (v12 PA, user rig / quadruped17: 75 / 38 mm at rest, 78 / 43 at 0.1, 87 / 53 at
# 0.2, 97 / 66 at 0.3; `python -m bench.realworld --dog-spread S`). At 0.2 most poses look
# natural: steps, crouches, turned heads.
DOG_SPREAD = 0.2


def dog26_rig() -> Rig:
    """A user's 26-joint dog rig (`dm_dog.POINTS`): edges along the body, sides and fronts
    from the names."""
    return _user_rig("user_dog26", "quadruped", tuple(dm_dog.POINTS), dm_dog.PARENT)


def dm_dog_sets(seed: int = 0, spread: float = DOG_SPREAD) -> list[HeldOutSet]:
    """DeepMind's dog in DOG_POSES poses drawn within its joint limits (`dm_dog.random_angles`
    with `spread`), as the user rig and as quadruped17. The poses are independent draws: their
    'clips' are groups of DOG_GROUP, so the intervals resample poses."""
    p = dm_dog.keypoints(dm_dog.random_angles(DOG_POSES, np.random.default_rng(seed), spread))
    groups = np.array([f"draw_{i // DOG_GROUP:03d}" for i in range(DOG_POSES)])
    q17 = get_rig("quadruped17")
    idx = {n: i for i, n in enumerate(dm_dog.POINTS)}
    as_q17 = p[:, [idx[dm_dog.QUADRUPED17[n]] for n in q17.joints]]
    who, drawn = "DeepMind's dog", "drawn within its joint limits"
    return [HeldOutSet(who, "a 26-joint user rig", p.astype(np.float32), groups, dog26_rig(), True,
                       motion=drawn),
            HeldOutSet(who, "`quadruped17`", as_q17.astype(np.float32), groups, q17, motion=drawn)]


def held_out_sets(data_dir=None, dog_spread: float = DOG_SPREAD) -> list[HeldOutSet]:
    """Every proxy set: DeepMimic's, CMU subject 7's, then DeepMind's dog. `data_dir`: the
    shared npz files, and the DeepMimic clips in its `deepmimic_motions/` if there (else the
    pybullet wheel's)."""
    dog = dm_dog_sets(spread=dog_spread)
    if not data_dir:
        return deepmimic_sets() + cmu_sets() + dog
    motions = Path(data_dir) / "deepmimic_motions"
    return (deepmimic_sets(motions if motions.is_dir() else None)
            + cmu_sets(Path(data_dir) / DEFAULT_MOCAP.name) + dog)
