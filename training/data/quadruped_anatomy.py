"""Quadrupeds with the points a user's own animal rig names beyond AP-10K's 17: the head,
the spine (withers, mid-back, croup), the chest, a tail chain, and the carpus and hock that
make a real leg three segments, not two.

No source had them, and a dog rig with them lifts at twice the error of `quadruped17` on the
real-world proxy's dog (training/results/realworld/README.md). The 17 points are the
synthetic and wild quadrupeds' (synthetic_animals.py, unchanged); the others are placed from
them in the body's own frame (forward = hips to shoulders, up = forward x left), with random
build, tail carriage and joint angles:

- head: behind the eyes on the muzzle line; withers / croup: above the shoulder / hip
  midpoints; mid-back: between them, arched or sagging; chest: below and ahead of the
  shoulders;
- tail: two segments from the tail root, carried down 10-63 deg and turned up to 35 deg
  sideways, the tip bent -11..23 deg further;
- carpus: near the front paw, a little ahead of the forearm's line; hock: 55-65 % down the
  hind leg, behind its line (the hind leg's backward angle); with a leg along the body
  (lying, sitting) the carpus rises and the hock drops instead.

The rig `quadruped28` (registered here, training only: no user names it) is the superset the
animal layouts draw user-style rigs from (registry.py). Numpy only.
"""
from __future__ import annotations

import numpy as np

from lfm3d_net.rigs import Rig, _front_of, _from_parents, _side_of, get_rig, register_rig
from training.data.base import GeneratorSource
from training.data.retarget import _unit
from training.data.synthetic_animals import SPECIES, WILD_SPECIES, _quadrupeds
from training.data.synthetic_objects import _about_axis

Q17 = get_rig("quadruped17").joints
EXTRA = ("head", "withers", "mid_back", "croup", "chest", "tail_mid", "tail_tip",
         "left_carpus", "right_carpus", "left_hock", "right_hock")
JOINTS = Q17 + EXTRA
_I = {n: i for i, n in enumerate(JOINTS)}
_PARENT = {"withers": "neck", "mid_back": "withers", "croup": "mid_back", "root_of_tail": "croup",
           "tail_mid": "root_of_tail", "tail_tip": "tail_mid", "head": "neck", "nose": "head",
           "left_eye": "head", "right_eye": "head", "chest": "withers",
           **{f"{s}_{c}": f"{s}_{p}" for s in ("left", "right")
              for c, p in (("elbow", "shoulder"), ("carpus", "elbow"), ("front_paw", "carpus"),
                           ("knee", "hip"), ("hock", "knee"), ("back_paw", "hock"))},
           **{f"{s}_shoulder": "withers" for s in ("left", "right")},
           **{f"{s}_hip": "croup" for s in ("left", "right")}}
PARENTS = tuple(_I[_PARENT[n]] if n in _PARENT else -1 for n in JOINTS)   # root: neck
register_rig(Rig("quadruped28", "quadruped", JOINTS, tuple(_from_parents(PARENTS)),
                 tuple(map(_side_of, JOINTS)), tuple(map(_front_of, JOINTS))))


def _turn(v: np.ndarray, axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotate vectors v (m, 3) about unit axes (m, 3) by angles (m,)."""
    return _about_axis(v[:, None], np.zeros_like(v), axis, angle)[:, 0]


def _bend_point(top: np.ndarray, end: np.ndarray, along: np.ndarray, out: np.ndarray,
                toward: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """A point `along` (m,) of the way from top to end, pushed `out` (m,) x the segment's
    length away from its line, towards `toward` (m, 3) made perpendicular to the segment
    (`fallback` where toward runs along it)."""
    seg = end - top
    d = _unit(seg)
    perp = toward - np.sum(toward * d, -1, keepdims=True) * d
    weak = np.linalg.norm(perp, axis=-1) < 0.2
    alt = fallback - np.sum(fallback * d, -1, keepdims=True) * d
    perp = _unit(np.where(weak[:, None], alt, perp))
    return top + along[:, None] * seg + (out * np.linalg.norm(seg, axis=-1))[:, None] * perp


def add_anatomy(p17: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(m, 17, 3) quadruped17 poses (body frame, metres) -> (m, 28, 3) `JOINTS` poses: the 17
    unchanged, the EXTRA points placed from them."""
    m = len(p17)
    P = {n: p17[:, i].astype(np.float64) for i, n in enumerate(Q17)}
    shoulders = (P["left_shoulder"] + P["right_shoulder"]) / 2
    hips = (P["left_hip"] + P["right_hip"]) / 2
    fwd = _unit(shoulders - hips)
    left = _unit(P["left_shoulder"] - P["right_shoulder"] + P["left_hip"] - P["right_hip"])
    left = _unit(left - np.sum(left * fwd, -1, keepdims=True) * fwd)
    up = np.cross(fwd, left)
    body = np.linalg.norm(shoulders - hips, axis=-1)[:, None]
    leg = (np.linalg.norm(P["left_elbow"] - P["left_shoulder"], axis=-1)
           + np.linalg.norm(P["left_front_paw"] - P["left_elbow"], axis=-1))[:, None]
    u = lambda lo, hi: rng.uniform(lo, hi, (m, 1))  # noqa: E731
    eyes = (P["left_eye"] + P["right_eye"]) / 2
    x = {"head": eyes - u(0.4, 0.6) * (P["nose"] - eyes),
         "withers": shoulders + u(0.08, 0.16) * leg * up,
         "croup": hips + u(0.05, 0.12) * leg * up}
    x["mid_back"] = (x["withers"] + x["croup"]) / 2 + rng.normal(0, 0.03, (m, 1)) * body * up
    x["chest"] = shoulders - u(0.2, 0.35) * leg * up + u(0.0, 0.12) * body * fwd
    # tail: backwards, carried down (about the left axis) and turned sideways (about up)
    tail_len = u(0.25, 0.8) * body
    d1 = _turn(_turn(-fwd, left, -rng.uniform(0.17, 1.1, m)), up, rng.uniform(-0.6, 0.6, m))
    d2 = _turn(d1, left, -rng.uniform(-0.2, 0.4, m))     # the tip: at most 86 deg down, still trailing
    x["tail_mid"] = P["root_of_tail"] + 0.5 * tail_len * d1
    x["tail_tip"] = x["tail_mid"] + 0.5 * tail_len * d2
    for s in ("left", "right"):
        x[f"{s}_carpus"] = _bend_point(P[f"{s}_elbow"], P[f"{s}_front_paw"], rng.uniform(0.78, 0.88, m),
                                       rng.uniform(0.0, 0.08, m), fwd, up)
        x[f"{s}_hock"] = _bend_point(P[f"{s}_knee"], P[f"{s}_back_paw"], rng.uniform(0.55, 0.65, m),
                                     rng.uniform(0.08, 0.2, m), -fwd, -up)
    return np.concatenate([p17, np.stack([x[n] for n in EXTRA], 1).astype(p17.dtype)], axis=1)


def generate_anatomical_quadrupeds(m: int, rng: np.random.Generator) -> np.ndarray:
    """(m, 28, 3) quadrupeds of the domestic and wild species in every mode, with anatomy."""
    species = np.concatenate([SPECIES, WILD_SPECIES])
    return add_anatomy(_quadrupeds(m, rng, species, (0.2, 0.3, 0.1, 0.15, 0.1, 0.15)), rng)


def anatomical_quadruped_source(count: int = 8000, seed: int = 0) -> GeneratorSource:
    return GeneratorSource("quadruped28_anatomy", "quadruped", "quadruped28",
                           generate_anatomical_quadrupeds, count, seed)
