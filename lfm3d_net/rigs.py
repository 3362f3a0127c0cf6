"""Rig registry: named keypoint layouts (joints, edges, per-keypoint sides and fronts).

A rig says what each keypoint index means, which pairs are connected (bones or
drawing edges), which side of the subject each keypoint lies on
(sides: -1 = the subject's left, 0 = centre or no intrinsic side, +1 = the subject's right)
and whether it lies towards the subject's front or back end
(fronts: +1 = front, e.g. a nose, headlights; -1 = back, e.g. a tail, taillights; 0 = neither
or unknown). Object rigs use the object's own front (+z) and up (+y); an object with no
intrinsic front has all sides and fronts 0 (a bottle) or a conventional front (a table).

Why fronts: sides alone cannot tell an object that is symmetric both left/right and
front/back (a table, nearly a car) from its depth mirror in an orthographic view, where
the mirror is the same object with its front and back swapped. Like sides, fronts are
generic per-keypoint attributes, not per-rig identities, so the model stays
correspondence-free.

Numpy only (runs on a Jetson without torch).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Rig", "RIGS", "get_rig", "register_rig", "load_rigs_yaml"]


@dataclass(frozen=True)
class Rig:
    """A keypoint layout. Construction validates everything (ValueError on bad input)."""

    name: str
    category: str                            # person, hand, face, quadruped, bird, chair, ...
    joints: tuple[str, ...]                  # (N,) keypoint names, unique
    edges: tuple[tuple[int, int], ...]       # (E, 2) undirected index pairs
    sides: tuple[int, ...]                   # (N,) -1 subject's left, 0 centre, +1 right
    fronts: tuple[int, ...] = ()             # (N,) +1 front end, 0 neither / unknown, -1 back; () = all 0

    def __post_init__(self) -> None:
        where = f"rig {self.name!r}"
        if not self.name or not isinstance(self.name, str):
            raise ValueError(f"{where}: name must be a non-empty string")
        if len(set(self.joints)) != len(self.joints):
            dup = sorted({j for j in self.joints if self.joints.count(j) > 1})
            raise ValueError(f"{where}: duplicate joint names {dup}")
        if len(self.sides) != len(self.joints):
            raise ValueError(f"{where}: {len(self.sides)} sides for {len(self.joints)} joints")
        bad = [s for s in self.sides if s not in (-1, 0, 1)]
        if bad:
            raise ValueError(f"{where}: sides must be -1, 0 or +1, got {bad[:5]}")
        if not self.fronts:
            object.__setattr__(self, "fronts", (0,) * len(self.joints))
        if len(self.fronts) != len(self.joints):
            raise ValueError(f"{where}: {len(self.fronts)} fronts for {len(self.joints)} joints")
        bad = [f for f in self.fronts if f not in (-1, 0, 1)]
        if bad:
            raise ValueError(f"{where}: fronts must be -1, 0 or +1, got {bad[:5]}")
        seen = set()
        for e, (a, b) in enumerate(self.edges):
            if not (0 <= a < self.n and 0 <= b < self.n):
                raise ValueError(f"{where}: edge {e} ({a}, {b}) out of range for N={self.n}")
            if a == b:
                raise ValueError(f"{where}: edge {e} is a self-loop ({a}, {b})")
            key = (min(a, b), max(a, b))
            if key in seen:
                raise ValueError(f"{where}: duplicate edge {e} ({a}, {b})")
            seen.add(key)

    @property
    def n(self) -> int:
        """Number of keypoints N."""
        return len(self.joints)

    def edge_array(self) -> np.ndarray:
        """(E, 2) int64 edge index pairs."""
        return np.asarray(self.edges, dtype=np.int64).reshape(-1, 2)

    def side_array(self) -> np.ndarray:
        """(N,) float32 sides in {-1, 0, +1}."""
        return np.asarray(self.sides, dtype=np.float32)

    def front_array(self) -> np.ndarray:
        """(N,) float32 fronts in {-1, 0, +1}."""
        return np.asarray(self.fronts, dtype=np.float32)

    def index(self, joint: str) -> int:
        """Index of a joint by name (ValueError if unknown)."""
        try:
            return self.joints.index(joint)
        except ValueError:
            raise ValueError(f"rig {self.name!r} has no joint {joint!r}") from None


RIGS: dict[str, Rig] = {}


def register_rig(rig: Rig, overwrite: bool = False) -> Rig:
    """Add a rig to `RIGS`. Re-registering a different rig under a taken name needs overwrite."""
    if not isinstance(rig, Rig):
        raise ValueError(f"register_rig expects a Rig, got {type(rig).__name__}")
    if rig.name in RIGS and RIGS[rig.name] != rig and not overwrite:
        raise ValueError(f"rig name {rig.name!r} is already registered with a different layout")
    RIGS[rig.name] = rig
    return rig


def get_rig(name: str) -> Rig:
    """Look up a rig by name; KeyError lists the known names."""
    try:
        return RIGS[name]
    except KeyError:
        raise KeyError(f"unknown rig {name!r}; known rigs: {sorted(RIGS)}") from None


def load_rigs_yaml(path, register: bool = True) -> list[Rig]:
    """Read user rigs from YAML (format: config/rigs_example.yaml) and register them.

    Top-level key `rigs`: a list of mappings with `name`, `category`, `joints`,
    `edges` (list of index pairs, or of joint-name pairs) and optional `sides` and
    `fronts`; left out, they come from the joint names as for the built-in rigs
    (`left_*` / `l_*` -> -1, `right_*` / `r_*` -> +1; `nose`, `front`, ... -> +1, `tail`,
    `back`, ... -> -1; else 0): without sides a symmetric subject lifts near flat. Returns
    the rigs in file order.
    """
    import yaml  # lazy: only user-rig loading needs PyYAML

    with open(path) as f:
        doc = yaml.safe_load(f) or {}
    entries = doc.get("rigs") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a top-level 'rigs:' list")
    out = []
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or "name" not in e or "joints" not in e:
            raise ValueError(f"{path}: rigs[{i}] needs at least 'name' and 'joints'")
        joints = tuple(str(j) for j in e["joints"])
        edges = []
        for k, pair in enumerate(e.get("edges") or []):
            if len(pair) != 2:
                raise ValueError(f"{path}: rigs[{i}].edges[{k}] is not a pair: {pair}")
            edges.append(tuple(joints.index(p) if isinstance(p, str) and p in joints
                               else _as_index(p, path, i, k) for p in pair))
        sides = tuple(int(s) for s in e["sides"]) if e.get("sides") else tuple(map(_side_of, joints))
        fronts = tuple(int(f) for f in e["fronts"]) if e.get("fronts") else tuple(map(_front_of, joints))
        rig = Rig(str(e["name"]), str(e.get("category", "")), joints, tuple(edges), sides, fronts)
        out.append(register_rig(rig, overwrite=True) if register else rig)
    return out


def _as_index(p, path, i, k) -> int:
    if isinstance(p, bool) or not isinstance(p, int):
        raise ValueError(f"{path}: rigs[{i}].edges[{k}] has unknown joint {p!r}")
    return p


# ---------------------------------------------------------------- built-in rigs
def _side_of(name: str) -> int:
    """Side from a joint name: left_* / *_left / l_* -> -1, right_* / r_* -> +1, else 0."""
    tokens = name.lower().replace("-", "_").split("_")
    if "left" in tokens or tokens[0] == "l":
        return -1
    if "right" in tokens or tokens[0] == "r":
        return 1
    return 0


# Joint-name words of the subject's front / back end (see the module doc).
_FRONT_WORDS = {"front", "nose", "beak", "headlight", "toe", "toebase"}
_BACK_WORDS = {"back", "rear", "tail", "taillight", "heel", "handle"}


def _front_of(name: str) -> int:
    """Front from a joint name: *front* / nose / beak / headlight / toe -> +1;
    *back* / rear / tail / taillight / heel / handle -> -1; else 0."""
    tokens = set(name.lower().replace("-", "_").split("_"))
    if tokens & _FRONT_WORDS:
        return 1
    if tokens & _BACK_WORDS:
        return -1
    return 0


def _chain(*idx: int) -> list[tuple[int, int]]:
    return list(zip(idx[:-1], idx[1:]))


def _from_parents(parents) -> list[tuple[int, int]]:
    return [(p, i) for i, p in enumerate(parents) if p >= 0]


def _make(name, category, joints, edges, sides=None, fronts=None) -> Rig:
    joints = tuple(joints)
    sides = tuple(sides) if sides is not None else tuple(_side_of(j) for j in joints)
    fronts = tuple(fronts) if fronts is not None else tuple(_front_of(j) for j in joints)
    return register_rig(Rig(name, category, joints, tuple(map(tuple, edges)), sides, fronts))


_COCO17 = ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
           "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
           "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")
_COCO17_EDGES = [(15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6),
                 (5, 7), (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4),
                 (3, 5), (4, 6)]
_make("coco17", "person", _COCO17, _COCO17_EDGES)

_make("h36m17", "person",
      ("pelvis", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee",
       "left_ankle", "spine", "thorax", "neck_nose", "head", "left_shoulder", "left_elbow",
       "left_wrist", "right_shoulder", "right_elbow", "right_wrist"),
      _from_parents([-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15]))

# The CC_Base rig of /work/shared/data/cmu_iclone_mocap.npz (names without "CC_Base_").
MOCAP26_JOINTS = ("hip", "waist", "spine01", "spine02", "neck", "head", "l_eye", "r_eye",
                  "l_clavicle", "l_upperarm", "l_forearm", "l_hand", "l_mid1",
                  "r_clavicle", "r_upperarm", "r_forearm", "r_hand", "r_mid1",
                  "l_thigh", "l_calf", "l_foot", "l_toebase",
                  "r_thigh", "r_calf", "r_foot", "r_toebase")
MOCAP26_PARENTS = (-1, 0, 1, 2, 3, 4, 5, 5, 3, 8, 9, 10, 11, 3, 13, 14, 15, 16,
                   0, 18, 19, 20, 0, 22, 23, 24)
_make("mocap26", "person", MOCAP26_JOINTS, _from_parents(MOCAP26_PARENTS))

# DeepMimic humanoid (pybullet_data/humanoid/humanoid.urdf); head = top of the head sphere's centre.
DEEPMIMIC15_JOINTS = ("root", "neck", "head", "right_hip", "right_knee", "right_ankle",
                      "right_shoulder", "right_elbow", "right_wrist", "left_hip", "left_knee",
                      "left_ankle", "left_shoulder", "left_elbow", "left_wrist")
DEEPMIMIC15_PARENTS = (-1, 0, 1, 0, 3, 4, 1, 6, 7, 0, 9, 10, 1, 12, 13)
_make("deepmimic15", "person", DEEPMIMIC15_JOINTS, _from_parents(DEEPMIMIC15_PARENTS))

# CMU Panoptic 15-joint body (panoptic-toolbox order).
_make("panoptic15", "person",
      ("neck", "nose", "body_center", "left_shoulder", "left_elbow", "left_wrist", "left_hip",
       "left_knee", "left_ankle", "right_shoulder", "right_elbow", "right_wrist", "right_hip",
       "right_knee", "right_ankle"),
      [(0, 1), (0, 3), (3, 4), (4, 5), (0, 2), (2, 6), (6, 7), (7, 8), (2, 12), (12, 13),
       (13, 14), (0, 9), (9, 10), (10, 11)])

# Hand: wrist + 4 per finger (MediaPipe / OpenPose order). A hand has no intrinsic side.
_FINGERS = {"thumb": ("cmc", "mcp", "ip", "tip"), "index": ("mcp", "pip", "dip", "tip"),
            "middle": ("mcp", "pip", "dip", "tip"), "ring": ("mcp", "pip", "dip", "tip"),
            "pinky": ("mcp", "pip", "dip", "tip")}
HAND21_JOINTS = ("wrist",) + tuple(f"{f}_{p}" for f, ps in _FINGERS.items() for p in ps)
HAND21_EDGES = [e for f in range(5) for e in _chain(0, 1 + 4 * f, 2 + 4 * f, 3 + 4 * f, 4 + 4 * f)]
_make("hand21", "hand", HAND21_JOINTS, HAND21_EDGES, [0] * 21)

# Face: iBUG-68. Sides by the subject's left/right (17-21 = subject's right brow).
_FACE_GROUPS = (("jaw", 17), ("right_brow", 5), ("left_brow", 5), ("nose_bridge", 4),
                ("nose_lower", 5), ("right_eye", 6), ("left_eye", 6), ("outer_lip", 12),
                ("inner_lip", 8))
FACE68_JOINTS = tuple(f"{g}_{i}" for g, n in _FACE_GROUPS for i in range(n))
FACE68_SIDES = ([1] * 8 + [0] + [-1] * 8 + [1] * 5 + [-1] * 5 + [0] * 4 + [1, 1, 0, -1, -1]
                + [1] * 6 + [-1] * 6 + [1, 1, 1, 0, -1, -1, -1, -1, -1, 0, 1, 1]
                + [1, 1, 0, -1, -1, -1, 0, 1])
FACE68_EDGES = (_chain(*range(0, 17)) + _chain(*range(17, 22)) + _chain(*range(22, 27))
                + _chain(*range(27, 31)) + _chain(*range(31, 36)) + [(30, 33)]
                + _chain(*range(36, 42), 36) + _chain(*range(42, 48), 42)
                + _chain(*range(48, 60), 48) + _chain(*range(60, 68), 60))
_make("face68", "face", FACE68_JOINTS, FACE68_EDGES, FACE68_SIDES)

# COCO-WholeBody: 17 body + 6 feet + 68 face + 21 left hand + 21 right hand.
_FEET = ("left_big_toe", "left_small_toe", "left_heel", "right_big_toe", "right_small_toe",
         "right_heel")
_WB_FEET_EDGES = [(15, 17), (15, 18), (15, 19), (16, 20), (16, 21), (16, 22)]
_make("coco_wholebody133", "person",
      _COCO17 + _FEET + tuple(f"face_{j}" for j in FACE68_JOINTS)
      + tuple(f"left_hand_{j}" for j in HAND21_JOINTS)
      + tuple(f"right_hand_{j}" for j in HAND21_JOINTS),
      _COCO17_EDGES + _WB_FEET_EDGES + [(a + 23, b + 23) for a, b in FACE68_EDGES]
      + [(a + 91, b + 91) for a, b in HAND21_EDGES] + [(a + 112, b + 112) for a, b in HAND21_EDGES]
      + [(9, 91), (10, 112), (0, 23 + 30)],  # wrists to hands, nose to face nose tip
      [_side_of(j) for j in _COCO17 + _FEET] + FACE68_SIDES + [-1] * 21 + [1] * 21)

# Detector layouts (not in training: inference rigs for lfm3d_net.adapters; the model is
# correspondence-free, so these lift like any unseen rig). Sides are the subject's, as in
# both detectors' own joint names; fronts from the names (nose, toes +1; heels -1).
# OpenPose BODY_25: COCO's 17 points re-ordered plus neck, mid-hip and six foot points. Edges:
# coco17's, neck to shoulders and nose, mid-hip to hips, ankle to each foot point (as
# coco_wholebody133), not OpenPose's drawing pairs: the trained rigs' kind of graph lifts the
# COCO joints with 72 mm PA-MPJPE, OpenPose's pairs 85 mm (examples/detector_rigs_on_mocap.py).
_make("body25", "person",
      ("nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder",
       "left_elbow", "left_wrist", "mid_hip", "right_hip", "right_knee", "right_ankle",
       "left_hip", "left_knee", "left_ankle", "right_eye", "left_eye", "right_ear", "left_ear",
       "left_big_toe", "left_small_toe", "left_heel", "right_big_toe", "right_small_toe",
       "right_heel"),
      [(14, 13), (13, 12), (11, 10), (10, 9), (12, 9), (5, 12), (2, 9), (5, 2), (5, 6), (2, 3),
       (6, 7), (3, 4), (16, 15), (0, 16), (0, 15), (16, 18), (15, 17), (18, 5), (17, 2),
       (1, 2), (1, 5), (1, 0), (8, 9), (8, 12),
       (14, 19), (14, 20), (14, 21), (11, 22), (11, 23), (11, 24)])
# MediaPipe Pose (BlazePose) 33 landmarks. Edges: mp.solutions.pose.POSE_CONNECTIONS, which
# leave the head, the mouth and the body apart, plus ear-shoulder (as coco17) and mouth-nose, so
# the network's local graph is one skeleton as in the trained rigs. foot_index is the toe tip
# (front), which its name does not say.
_MP_POSE33 = ("nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner",
              "right_eye", "right_eye_outer", "left_ear", "right_ear", "mouth_left",
              "mouth_right", *(f"{side}_{part}" for part in
                               ("shoulder", "elbow", "wrist", "pinky", "index", "thumb", "hip",
                                "knee", "ankle", "heel", "foot_index")
                               for side in ("left", "right")))
_make("mediapipe_pose33", "person", _MP_POSE33,
      [(0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10), (11, 12),
       (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19), (12, 14), (14, 16), (16, 18),
       (16, 20), (16, 22), (18, 20), (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27),
       (26, 28), (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
       (7, 11), (8, 12), (0, 9), (0, 10)],
      fronts=[1 if j.endswith("foot_index") else _front_of(j) for j in _MP_POSE33])

# Animals: AP-10K order; CUB-200 part order.
_make("quadruped17", "quadruped",
      ("left_eye", "right_eye", "nose", "neck", "root_of_tail", "left_shoulder", "left_elbow",
       "left_front_paw", "right_shoulder", "right_elbow", "right_front_paw", "left_hip",
       "left_knee", "left_back_paw", "right_hip", "right_knee", "right_back_paw"),
      [(0, 1), (0, 2), (1, 2), (2, 3), (3, 4), (3, 5), (5, 6), (6, 7), (3, 8), (8, 9), (9, 10),
       (4, 11), (11, 12), (12, 13), (4, 14), (14, 15), (15, 16)])
_make("bird15", "bird",
      ("back", "beak", "belly", "breast", "crown", "forehead", "left_eye", "left_leg",
       "left_wing", "nape", "right_eye", "right_leg", "right_wing", "tail", "throat"),
      [(1, 5), (5, 4), (4, 9), (9, 0), (0, 13), (1, 14), (14, 3), (3, 2), (2, 13), (5, 6),
       (5, 10), (0, 8), (0, 12), (2, 7), (2, 11)],
      fronts=[0, 1] + [0] * 11 + [-1, 0])  # beak front, tail back ("back" here is the dorsal side)
# Animals beyond mammals and birds (v5): body frame as above (up +y, forward +z, left +x).
# A fish: the lateral-line body bends side to side; fins by their base points.
_make("fish14", "fish",
      ("snout", "left_eye", "right_eye", "left_gill", "right_gill", "left_pectoral_fin",
       "right_pectoral_fin", "dorsal_fin_start", "dorsal_fin_end", "pelvic_fin", "anal_fin",
       "tail_base", "tail_fin_top", "tail_fin_bottom"),
      [(0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6), (1, 7), (2, 7), (3, 9), (4, 9), (7, 8),
       (9, 10), (8, 11), (10, 11), (11, 12), (11, 13), (12, 13)],
      fronts=[1, 1, 1] + [0] * 8 + [-1, -1, -1])
# Six-legged arthropods: head, thorax, abdomen; per leg the knee (femur-tibia joint) and foot.
_INSECT_LEGS = tuple(f"{pair}_{side}_{part}" for pair in ("front", "middle", "rear")
                     for side in ("left", "right") for part in ("knee", "foot"))
_make("insect17", "insect",
      ("head", "thorax", "abdomen_tip", "left_antenna_tip", "right_antenna_tip") + _INSECT_LEGS,
      [(0, 1), (1, 2), (0, 3), (0, 4)] + [e for i in range(5, 17, 2) for e in ((1, i), (i, i + 1))],
      fronts=[1, 0, -1, 1, 1] + [1] * 4 + [0] * 4 + [-1] * 4)
# Sprawling quadrupeds (lizards, crocodiles, salamanders): limbs leave the body sideways.
_make("reptile18", "reptile",
      ("snout", "head", "shoulders", "hips", "tail_middle", "tail_tip",
       *(f"{end}_{side}_{part}" for end, parts in (("front", ("shoulder", "elbow", "foot")),
                                                 ("rear", ("hip", "knee", "foot")))
         for side in ("left", "right") for part in parts)),
      _chain(0, 1, 2, 3, 4, 5) + [(2, 6), (6, 7), (7, 8), (2, 9), (9, 10), (10, 11),
                                  (3, 12), (12, 13), (13, 14), (3, 15), (15, 16), (16, 17)],
      fronts=[1, 1, 0, 0, -1, -1] + [1] * 6 + [-1] * 6)

# Near the held-out bird (v8): winged and two-legged animals, same body frame.
# A bat: the wing tip is the third finger's, the trailing edge the fifth's; nose front, rump and feet back.
_make("bat16", "bat",
      ("nose", "crown", "left_ear", "right_ear", "chest", "rump",
       *(f"{side}_{part}" for side in ("left", "right")
         for part in ("elbow", "wrist", "wing_tip", "wing_trailing_edge", "foot"))),
      _chain(0, 1, 4, 5) + [(1, 2), (1, 3)]
      + [e for o in (6, 11) for e in [(4, o), (o, o + 1), (o + 1, o + 2), (o + 1, o + 3),
                                      (o + 3, o + 4), (5, o + 4)]],
      fronts=[1, 0, 0, 0, 0, -1] + [0, 0, 0, 0, -1] * 2)
# Tailed bipeds (theropods, kangaroos): small arms at the chest, digitigrade legs.
_make("biped17", "biped",
      ("snout", "head", "neck", "chest", "hips", "tail_middle", "tail_tip",
       *(f"{side}_{part}" for side in ("left", "right")
         for part in ("elbow", "hand", "knee", "ankle", "foot"))),
      _chain(0, 1, 2, 3, 4, 5, 6)
      + [e for o in (7, 12) for e in [(3, o), (o, o + 1), (4, o + 2), (o + 2, o + 3), (o + 3, o + 4)]],
      fronts=[1, 1, 1, 0, 0, -1, -1] + [1, 1, 0, 0, 0] * 2)

# Rigid objects. Object frame: up +y, front +z, so the object's left is +x (like a person
# facing +z) -> side -1.
_make("chair10", "chair",
      ("leg_front_left", "leg_front_right", "leg_back_left", "leg_back_right",
       "seat_front_left", "seat_front_right", "seat_back_left", "seat_back_right",
       "back_top_left", "back_top_right"),
      [(0, 4), (1, 5), (2, 6), (3, 7), (4, 5), (5, 7), (7, 6), (6, 4), (6, 8), (7, 9), (8, 9)])
# A table has no intrinsic front; one long edge is named "front" so the corners have sides,
# in the hope of breaking the tie between a rectangle and its depth mirror. The shipped
# model was trained with these sides; they did not help it (training/results/small_v2/).
_make("table8", "table",
      ("leg_front_left", "leg_front_right", "leg_back_right", "leg_back_left",
       "top_front_left", "top_front_right", "top_back_right", "top_back_left"),
      [(0, 4), (1, 5), (2, 6), (3, 7), (4, 5), (5, 6), (6, 7), (7, 4)])
_make("car12", "car",
      ("wheel_front_left", "wheel_front_right", "wheel_rear_left", "wheel_rear_right",
       "headlight_left", "headlight_right", "taillight_left", "taillight_right",
       "roof_front_left", "roof_front_right", "roof_rear_left", "roof_rear_right"),
      [(0, 1), (2, 3), (0, 2), (1, 3), (4, 5), (6, 7), (4, 6), (5, 7), (0, 4), (1, 5), (2, 6),
       (3, 7), (8, 9), (10, 11), (8, 10), (9, 11), (4, 8), (5, 9), (6, 10), (7, 11)])
_make("aircraft10", "aircraft",
      ("nose", "cockpit", "wing_root_left", "wing_root_right", "wing_tip_left", "wing_tip_right",
       "tail", "fin_top", "stabilizer_tip_left", "stabilizer_tip_right"),
      [(0, 1), (1, 2), (1, 3), (2, 3), (2, 4), (3, 5), (2, 6), (3, 6), (6, 7), (6, 8), (6, 9)])
# A bottle has no front: its points are named a/b around the axis, sides 0.
_make("bottle8", "bottle",
      ("cap_top", "neck_a", "neck_b", "shoulder_a", "shoulder_b", "base_a", "base_b",
       "base_center"),
      [(0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7), (6, 7), (1, 2), (5, 6)], [0] * 8)
# A mug's handle is its back (-z), so it has a left and right.
_make("mug8", "mug",
      ("rim_front", "rim_left", "rim_right", "base_front", "base_left", "base_right",
       "handle_top", "handle_bottom"),
      [(0, 1), (0, 2), (0, 3), (1, 4), (2, 5), (3, 4), (3, 5), (1, 6), (2, 6), (6, 7),
       (4, 7), (5, 7)])
# v5 objects: PASCAL3D+ / Objectron categories. Wheels are hub ends, left and right.
_make("bicycle11", "bicycle",
      ("wheel_front_left", "wheel_front_right", "wheel_rear_left", "wheel_rear_right",
       "handle_left", "handle_right", "pedal_left", "pedal_right", "head_tube", "seat_front",
       "seat_back"),
      [(0, 1), (2, 3), (0, 8), (1, 8), (4, 8), (5, 8), (4, 5), (8, 9), (9, 10), (6, 7),
       (6, 10), (7, 10), (2, 6), (3, 7), (2, 10), (3, 10)],
      fronts=[1, 1, -1, -1, 1, 1, 0, 0, 1, 0, -1])
_make("motorbike10", "motorbike",
      ("wheel_front_left", "wheel_front_right", "wheel_rear_left", "wheel_rear_right",
       "handle_left", "handle_right", "headlight", "head_tube", "seat_front", "seat_back"),
      [(0, 1), (2, 3), (0, 7), (1, 7), (4, 7), (5, 7), (4, 5), (6, 7), (7, 8), (8, 9), (2, 9),
       (3, 9), (0, 6), (1, 6)],
      fronts=[1, 1, -1, -1, 1, 1, 1, 1, 0, -1])
_make("sofa12", "sofa",
      ("base_front_left", "base_front_right", "base_back_left", "base_back_right",
       "seat_front_left", "seat_front_right", "seat_back_left", "seat_back_right",
       "back_top_left", "back_top_right", "arm_front_left", "arm_front_right"),
      [(0, 1), (2, 3), (0, 2), (1, 3), (0, 4), (1, 5), (4, 5), (6, 7), (4, 6), (5, 7), (2, 8),
       (3, 9), (6, 8), (7, 9), (8, 9), (0, 10), (1, 11), (10, 8), (11, 9)])
# Buses and trucks: the body's corners and the wheels (hub ends at the body sides).
_BUS_CORNERS = tuple(f"body_{fr}_{tb}_{side}" for fr in ("front", "rear")
                     for tb in ("top", "bottom") for side in ("left", "right"))
_BOX_EDGES = [(0, 1), (2, 3), (4, 5), (6, 7), (0, 2), (1, 3), (4, 6), (5, 7), (0, 4), (1, 5),
              (2, 6), (3, 7)]            # corners ordered (front, rear) x (top, bottom) x (left, right)
_make("bus12", "bus",
      _BUS_CORNERS + ("wheel_front_left", "wheel_front_right", "wheel_rear_left", "wheel_rear_right"),
      _BOX_EDGES + [(2, 8), (3, 9), (6, 10), (7, 11), (8, 9), (10, 11)])
_make("boat8", "boat",
      ("bow", "bow_keel", "gunwale_left", "gunwale_right", "stern_left", "stern_right",
       "stern_keel", "top"),
      [(0, 1), (0, 2), (0, 3), (2, 4), (3, 5), (4, 5), (4, 6), (5, 6), (1, 6), (2, 7), (3, 7)],
      fronts=[1, 1, 0, 0, -1, -1, -1, 0])
# TV / monitor: the screen faces +z; its stand is behind it.
_make("monitor8", "monitor",
      ("screen_top_left", "screen_top_right", "screen_bottom_left", "screen_bottom_right",
       "stand_top", "stand_bottom", "base_front", "base_back"),
      [(0, 1), (2, 3), (0, 2), (1, 3), (2, 4), (3, 4), (4, 5), (5, 6), (5, 7)],
      fronts=[1, 1, 1, 1, -1, 0, 1, -1])
# A laptop opens about its hinge; the screen's top edge is its back when open.
_make("laptop6", "laptop",
      ("base_front_left", "base_front_right", "hinge_left", "hinge_right", "screen_top_left",
       "screen_top_right"),
      [(0, 1), (0, 2), (1, 3), (2, 3), (2, 4), (3, 5), (4, 5)],
      fronts=[1, 1, -1, -1, -1, -1])
# A 3D bounding box as Objectron-style detectors give it: the centre and 8 corners, with the
# object's front face at +z (any boxy object: cereal box, book, cabinet, fridge, parcel).
_make("box9", "box",
      ("centre",) + tuple(f"{fb}_{tb}_{side}" for fb in ("front", "back")
                          for tb in ("top", "bottom") for side in ("left", "right")),
      [(a + 1, b + 1) for a, b in _BOX_EDGES])
# One shoe: the sole's widest points at the ball of the foot are its left and right.
_make("shoe7", "shoe",
      ("toe_tip", "heel_bottom", "ball_left", "ball_right", "instep", "collar_front",
       "collar_back"),
      [(0, 2), (0, 3), (2, 1), (3, 1), (0, 4), (4, 5), (5, 6), (6, 1), (2, 4), (3, 4)],
      fronts=[1, -1, 0, 0, 1, 0, -1])

# Robots (joint centres of their URDFs, as robot keypoint detectors such as DREAM predict
# them; training/data/robots.py poses them). Arms have no left/right or front/back.
_make("franka_panda", "robot_arm",
      ("base", "shoulder", "upper_arm", "elbow", "forearm", "wrist", "flange", "finger_1_tip",
       "finger_2_tip"), _chain(*range(7)) + [(6, 7), (6, 8)])
_make("kuka_iiwa", "robot_arm", ("base", *(f"link_{i}" for i in range(1, 8)), "tool"), _chain(*range(9)))
_make("xarm6", "robot_arm", ("base", "shoulder", "elbow", "forearm", "wrist", "tool"), _chain(*range(6)))
# Legged robots (Unitree A1 / Aliengo / Laikago, MIT Mini Cheetah): trunk centre, then per
# leg the abduction joint (hip), the hip pitch joint (thigh), knee and foot.
_make("legged_robot17", "legged_robot",
      ("trunk", *(f"{leg}_{part}" for leg in ("front_left", "front_right", "rear_left", "rear_right")
                  for part in ("hip", "thigh", "knee", "foot"))),
      [e for i in range(1, 17, 4) for e in [(0, i)] + _chain(i, i + 1, i + 2, i + 3)])

BUILTIN_RIGS = tuple(RIGS)
