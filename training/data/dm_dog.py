"""DeepMind's dog (dm_control's `suite/dog.xml`, Apache-2.0): a dog skeleton built from a
real dog's anatomy (spine, neck and tail vertebrae, scapulae, carpi, hocks), which no model
here trains on. The real-world proxy poses it within its own joint limits and reads it as
a user's 26-joint rig and as the built-in `quadruped17`.

`dm_dog_skeleton.json` beside this file holds the bodies (tree order), their offsets and
their hinge joints (unit axis, anchor, range in degrees), extracted from dm_control 1.0.52:

    python -m training.data.dm_dog path/to/dm_control/suite/dog.xml   # rewrites the json

Frame of the xml: x forward, y left, z up, metres; of the poses returned: y up, z forward,
x left (the training sources' frame). Numpy only.
"""
from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path

import numpy as np

from training.data.urdf import axis_angle_matrices

SKELETON = Path(__file__).with_name("dm_dog_skeleton.json")
_TO_Y_UP = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])  # (x fwd, y left, z up) -> ours

# Keypoints as (body, offset in its frame, metres): points on the skeleton a dog keypoint
# annotation would mark (eyes at the pupils, nose at the muzzle tip, paws at the pads).
POINTS = {
    "nose": ("skull", (0.10, 0.0, -0.03)),
    "left_eye": ("skull", (0.0215, 0.0275, 0.01)),
    "right_eye": ("skull", (0.0215, -0.0275, 0.01)),
    "head": ("skull", (0.0, 0.0, 0.0)),
    "neck_base": ("C_7", (0.0, 0.0, 0.0)),
    "chest": ("torso", (0.0, 0.0, 0.0)),
    "spine_mid": ("L_4", (0.0, 0.0, 0.0)),
    "tail_root": ("Ca_1", (0.0, 0.0, 0.0)),
    "tail_mid": ("Ca_11", (0.0, 0.0, 0.0)),
    "tail_tip": ("Ca_21", (0.0, 0.0, 0.0)),
    **{f"{side}_{name}": (f"{body}_{s}", offset)
       for side, s in (("left", "L"), ("right", "R"))
       for name, body, offset in (("shoulder", "upper_arm", (0, 0, 0)), ("elbow", "lower_arm", (0, 0, 0)),
                                  ("wrist", "hand", (0, 0, 0)), ("front_paw", "finger", (0.02, 0, -0.024)),
                                  ("hip", "upper_leg", (0, 0, 0)), ("knee", "lower_leg", (0, 0, 0)),
                                  ("hock", "foot", (0, 0, 0)), ("back_paw", "toe", (0.026, 0, -0.033)))},
}
# The user rig's bones (child -> parent)
PARENT = {"left_eye": "head", "right_eye": "head", "nose": "head", "head": "neck_base",
          "neck_base": "chest", "spine_mid": "chest", "tail_root": "spine_mid", "tail_mid": "tail_root",
          "tail_tip": "tail_mid",
          **{f"{s}_{j}": f"{s}_{p}" for s in ("left", "right")
             for j, p in (("elbow", "shoulder"), ("wrist", "elbow"), ("front_paw", "wrist"),
                          ("knee", "hip"), ("hock", "knee"), ("back_paw", "hock"))},
          **{f"{s}_shoulder": "chest" for s in ("left", "right")},
          **{f"{s}_hip": "tail_root" for s in ("left", "right")}}
# quadruped17 (AP-10K) joint -> our point
QUADRUPED17 = {"left_eye": "left_eye", "right_eye": "right_eye", "nose": "nose", "neck": "neck_base",
               "root_of_tail": "tail_root",
               **{f"{s}_{j}": f"{s}_{p}" for s in ("left", "right")
                  for j, p in (("shoulder", "shoulder"), ("elbow", "elbow"), ("front_paw", "front_paw"),
                               ("hip", "hip"), ("knee", "knee"), ("back_paw", "back_paw"))}}


# ------------------------------------------------------------------ the xml -> json
def _defaults(root: ET.Element) -> dict[str, dict]:
    """Joint attributes of each default class, inherited down the class tree."""
    out: dict[str, dict] = {}

    def walk(node: ET.Element, inherited: dict) -> None:
        joint = node.find("joint")
        attrs = {**inherited, **(joint.attrib if joint is not None else {})}
        out[node.get("class", "main")] = attrs
        for child in node.findall("default"):
            walk(child, attrs)

    for top in root.findall("default"):
        walk(top, {})
    return out


def _vec(text: str | None, default=(0.0, 0.0, 0.0)) -> list[float]:
    return [float(v) for v in text.split()] if text else list(default)


def extract(xml_path) -> dict:
    """The articulated bodies of dog.xml: [{name, parent, pos, joints: [{axis, anchor,
    range}]}] in tree order (root first); hinge joints only (the root's free joint is the
    view's business)."""
    root = ET.parse(xml_path).getroot()
    classes = _defaults(root)
    bodies: list[dict] = []

    def walk(body: ET.Element, parent: str | None) -> None:
        joints = []
        for j in body.findall("joint"):
            attrs = {**classes.get("main", {}), **classes.get(j.get("class", "main"), {}), **j.attrib}
            if attrs.get("type", "hinge") != "hinge":
                continue
            axis = np.array(_vec(attrs.get("axis"), (0, 0, 1)))
            joints.append({"name": attrs["name"], "axis": (axis / np.linalg.norm(axis)).round(6).tolist(),
                           "anchor": _vec(attrs.get("pos")), "range": _vec(attrs.get("range"), (0, 0))[:2]})
        bodies.append({"name": body.get("name"), "parent": parent, "pos": _vec(body.get("pos")),
                       "joints": joints})
        for child in body.findall("body"):
            walk(child, body.get("name"))

    walk(root.find("worldbody").find("body[@name='torso']"), None)
    return {"source": "dm_control 1.0.52, dm_control/suite/dog.xml (Apache-2.0)", "bodies": bodies}


# ------------------------------------------------------------------ posing
@lru_cache(maxsize=1)
def skeleton() -> dict:
    return json.loads(SKELETON.read_text())


def joint_ranges() -> np.ndarray:
    """(J, 2) radians, every hinge of `skeleton()` in tree order."""
    return np.radians([j["range"] for b in skeleton()["bodies"] for j in b["joints"]])


def forward(angles: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(M, J) hinge angles (radians, `joint_ranges` order) -> body name -> (origin (M, 3),
    rotation (M, 3, 3)) in the xml's frame, the torso at its rest place and orientation.
    Each hinge turns its body about the axis through its anchor (both in the body frame)."""
    m = len(angles)
    frames: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    k = 0
    for b in skeleton()["bodies"]:
        if b["parent"] is None:
            t, r = np.tile(np.array(b["pos"]), (m, 1)), np.tile(np.eye(3), (m, 1, 1))
        else:
            pt, pr = frames[b["parent"]]
            t, r = pt + pr @ np.array(b["pos"]), pr
        for j in b["joints"]:
            axis = np.array(j["axis"])
            rot = axis_angle_matrices(axis / np.linalg.norm(axis), angles[:, k])  # the json keeps 6 decimals
            anchor = np.array(j["anchor"])
            t = t + np.einsum("mij,mj->mi", r, anchor - rot @ anchor)
            r = r @ rot
            k += 1
        frames[b["name"]] = (t, r)
    return frames


def random_angles(m: int, rng: np.random.Generator, spread: float = 0.3) -> np.ndarray:
    """(m, J) hinge angles drawn around the rest pose (0): normal with std `spread` x half of
    each joint's range, clipped to the range."""
    lo, hi = joint_ranges().T
    return np.clip(rng.normal(size=(m, len(lo))) * spread * (hi - lo) / 2, lo, hi)


def keypoints(angles: np.ndarray, names=tuple(POINTS)) -> np.ndarray:
    """(M, J) angles -> (M, len(names), 3) keypoints, metres, y up / z forward / x left."""
    frames = forward(angles)
    out = []
    for name in names:
        body, offset = POINTS[name]
        t, r = frames[body]
        out.append(t + r @ np.asarray(offset, float))  # (M, 3)
    return np.stack(out, axis=1) @ _TO_Y_UP.T


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(__doc__)
        return 2
    sk = extract(args[0])
    SKELETON.write_text(json.dumps(sk, indent=1) + "\n")
    print(f"wrote {SKELETON}: {len(sk['bodies'])} bodies, {sum(len(b['joints']) for b in sk['bodies'])} hinges")
    return 0


if __name__ == "__main__":
    sys.exit(main())
