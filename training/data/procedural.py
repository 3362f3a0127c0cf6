"""Procedural random rigs: articulated "creatures" and rigid CAD-like "objects".

Why: the named sources cover a handful of categories, so the lifter learns those shapes
and transfers badly to categories it never saw. These generators draw many random
*topologies* from an integer seed k, so training sees generic priors instead:
bilaterally symmetric articulated bodies (spine, head, limb pairs, tail) and mirror-
symmetric rigid assemblies (boxes, cylinders, cones, plates, legs, handles).

Frame as in the other synthetic sources: up +y, front +z, the subject's left at +x
(side -1), right at -x (side +1), metres-ish. Every rig is mirror-symmetric about x = 0
in its rest pose (so sides are honest); sampled poses are not (left and right limbs
move independently). The same k always gives the same rig.

`creature_rig(k)` / `object_rig(k)` -> (Rig, fn) with fn(m, rng) -> (m, N, 3) float32;
`procedural_source(kind, k)` registers the rig and wraps fn as a GeneratorSource.
Numpy only.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np

from lfm3d_net.rigs import Rig, register_rig
from training.data.base import GeneratorSource
from training.data.synthetic_objects import _jitter, _xyz

KINDS = ("creature", "object")
_SEED = {"creature": 0x3DF1, "object": 0x0B7E}     # independent rng streams per kind
N_RANGE = {"creature": (5, 30), "object": (4, 24)}
MIN_GAP = 0.02            # rest pose: min pairwise distance / extent (rigs below are redrawn)
BONE_JITTER = 0.2         # creatures: per-sample bone length factor 1 +- this (mirror bones share it)
PROPORTIONS = (0.75, 1.33)  # creatures: per-sample factor per body part (spine, neck, each limb pair...)
SCALE = (0.3, 3.0)        # creatures: per-sample global scale, log-uniform
DIM_RANGE = (0.6, 1.6)    # objects: per-sample factor per primitive dimension
MIRROR = np.array([-1.0, 1.0, 1.0])                  # x -> -x

Pose = Callable[[int, np.random.Generator], np.ndarray]


def rig_name(kind: str, k: int) -> str:
    """Rig name of procedural rig k of `kind` (known without building the rig)."""
    return f"proc_{kind}_{k:02d}"


def source_name(kind: str, k: int) -> str:
    """Registry source name of procedural rig k of `kind` (k < 100 with two digits)."""
    return f"procedural_{kind}_{k:02d}"


def category(kind: str) -> str:
    """Category of the rigs of `kind`."""
    return f"procedural_{kind}"


# ------------------------------------------------------------------ shared helpers
def _rot(axis: int, a: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) by angles `a` (...) radians about axis 0=x, 1=y, 2=z."""
    c, s = np.cos(a), np.sin(a)
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    r = np.zeros(a.shape + (3, 3))
    r[..., axis, axis] = 1.0
    r[..., i, i], r[..., j, j], r[..., i, j], r[..., j, i] = c, c, -s, s
    return r


def _min_gap(p: np.ndarray) -> float:
    """Min pairwise distance of (N, 3) points relative to their extent (max ptp over axes)."""
    d = np.linalg.norm(p[:, None] - p[None], axis=-1) + np.eye(len(p)) * 1e30
    return float(d.min() / max(np.ptp(p, axis=0).max(), 1e-30))


def _flat(p: np.ndarray) -> bool:
    """True if (N, 3) points are (nearly) collinear."""
    sv = np.linalg.svd(p - p.mean(0), compute_uv=False)
    return bool(sv[1] < 1e-3 * sv[0])


def _acceptable(kind: str, rest: np.ndarray) -> bool:
    """Whether a drawn rig's (N, 3) rest pose is kept: N within N_RANGE[kind], no two points
    closer than MIN_GAP of the extent, not collinear (else the rig is redrawn)."""
    lo, hi = N_RANGE[kind]
    return lo <= len(rest) <= hi and _min_gap(rest) > MIN_GAP and not _flat(rest)


def _unit(*v) -> np.ndarray:
    """The unit vector along v."""
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


# ------------------------------------------------------------------ creatures
# Limb types: length (x spine length), segment count range, rest direction of the LEFT limb.
LIMB_TYPES = {"leg": ((0.5, 1.2), (1, 3), (0.0, -1.0, 0.0)),
              "arm": ((0.4, 1.0), (1, 3), (0.3, -1.0, 0.0)),
              "wing": ((0.8, 1.6), (1, 3), (1.0, 0.15, -0.1)),
              "fin": ((0.15, 0.45), (1, 2), (1.0, -0.4, -0.4))}
LIMB_P = {"leg": 0.5, "arm": 0.2, "wing": 0.2, "fin": 0.1}
# Joint-angle limits (rad) of a LEFT limb; local axes x: swing back (+) / forward (-) of a
# hanging limb, y: twist / wing sweep back (+), z: out / wing up (+). Inner joints bend
# about `axis` within `bend` (sign per rig). Right limbs use the mirrored rotation.
LIMB_ANGLES = {"leg": dict(x=(-0.7, 0.7), y=(-0.3, 0.3), z=(-0.1, 0.35), bend=(0.0, 1.6), axis=0),
               "arm": dict(x=(-1.6, 0.8), y=(-0.8, 0.8), z=(0.0, 1.3), bend=(0.0, 2.2), axis=0),
               "wing": dict(x=(-0.3, 0.3), y=(-0.3, 1.3), z=(-0.7, 1.2), bend=(0.0, 2.4), axis=1),
               "fin": dict(x=(-0.5, 0.5), y=(-0.5, 0.5), z=(-0.5, 0.5), bend=(0.0, 0.6), axis=1)}
_GROUPS = ("spine", "neck", "head", "girdle", "tail", "app")   # then one group per limb pair


@dataclass(frozen=True, eq=False)
class _Limb:
    type: str
    bend: tuple            # bend sign per inner joint
    left: tuple            # joint indices: girdle root, then segment ends
    right: tuple


@dataclass(frozen=True, eq=False)
class _Body:
    """A creature topology: joints in parent-before-child order, rest bone vectors."""
    names: tuple
    parents: np.ndarray    # (N,) int, -1 for the root
    offsets: np.ndarray    # (N, 3) rest bone vector parent -> joint, metres
    sides: np.ndarray      # (N,) int
    roles: np.ndarray      # (N,) str: root spine neck head rigid tail app girdle limb
    groups: np.ndarray     # (N,) int proportion group of the bone into each joint
    twins: np.ndarray      # (N,) int jitter id (mirror joints share one)
    limbs: tuple           # of _Limb


class _Tree:
    """Builder of a _Body."""

    def __init__(self):
        self.rows: list[tuple] = []

    def add(self, name, parent, offset, role, group, side=0) -> int:
        self.rows.append((name, parent, np.asarray(offset, float), role, group, side))
        return len(self.rows) - 1

    def pair(self, name, parent_l, parent_r, offset, role, group) -> tuple[int, int]:
        """Add a left joint (+x, `offset`) and its mirror on the right."""
        offset = np.asarray(offset, float)
        return (self.add(f"l_{name}", parent_l, offset, role, group, -1),
                self.add(f"r_{name}", parent_r, offset * MIRROR, role, group, 1))

    def build(self, limbs) -> _Body:
        names, parents, offs, roles, groups, sides = zip(*self.rows)
        keys = [n[2:] if s else n for n, s in zip(names, sides)]
        twin = {k: i for i, k in enumerate(dict.fromkeys(keys))}
        return _Body(names, np.array(parents), np.stack(offs), np.array(sides), np.array(roles),
                     np.array([_GROUPS.index(g) if g in _GROUPS else len(_GROUPS) + int(g[4:])
                               for g in groups]), np.array([twin[k] for k in keys]), tuple(limbs))


def _fk(parents, offsets, angles, scale) -> np.ndarray:
    """Forward kinematics -> (m, N, 3) positions, root at the origin.

    parents (N,), offsets (N, 3) rest bone vectors (parent -> joint), scale (m, N) bone
    length factors, angles (m, N, 3) local x/y/z rotations (rad) of each joint's incoming
    bone and everything below it, composed Rx @ Rz @ Ry (twist, then out, then swing)."""
    q = _rot(0, angles[..., 0]) @ _rot(2, angles[..., 2]) @ _rot(1, angles[..., 1])
    m, n = scale.shape
    rg, pos = np.empty((m, n, 3, 3)), np.zeros((m, n, 3))
    for j, p in enumerate(parents):
        rg[:, j] = q[:, j] if p < 0 else rg[:, p] @ q[:, j]
        if p >= 0:
            pos[:, j] = pos[:, p] + (rg[:, j] @ offsets[j]) * scale[:, j, None]
    return pos


def _rest(body: _Body) -> np.ndarray:
    """(N, 3) rest pose: all angles 0, bone factors 1."""
    n = len(body.names)
    return _fk(body.parents, body.offsets, np.zeros((1, n, 3)), np.ones((1, n)))[0]


def _draw_head(t, rng, top, upright, ls, force_pair) -> int:
    """Neck chain (0-2 joints), head and its extras (snout, eye/ear pair) from spine joint `top`."""
    q = rng.uniform(0.0, 0.5) if upright else rng.uniform(0.2, 1.1)   # neck tilt
    ndir = np.array([0, np.cos(q), np.sin(q)]) if upright else np.array([0, np.sin(q), np.cos(q)])
    parent = top
    for i in range(rng.integers(0, 3)):
        parent = t.add(f"neck{i}", parent, ndir * rng.uniform(0.1, 0.3) * ls, "neck", "neck")
    head = t.add("head", parent, ndir * rng.uniform(0.1, 0.25) * ls, "head", "neck")
    hs = rng.uniform(0.12, 0.25) * ls                                       # head size
    if rng.random() < 0.6:
        t.add("snout", head, hs * np.array([0, -rng.uniform(0, 0.3), rng.uniform(0.8, 2.5)]),
              "rigid", "head")
    if force_pair or rng.random() < 0.6:
        if rng.random() < 0.7:
            off, name = hs * np.array([rng.uniform(.4, .7), rng.uniform(.1, .4), rng.uniform(.2, .6)]), "eye"
        else:
            off, name = hs * np.array([rng.uniform(.4, .7), rng.uniform(.6, 1.), -rng.uniform(0, .3)]), "ear"
        t.pair(name, head, head, off, "rigid", "head")
    return head


def _draw_limb(t, rng, i, root, dorsal, width, ls) -> _Limb:
    """One bilateral limb pair on spine joint `root`: a girdle joint and 1-3 segments a side."""
    kind = rng.choice(list(LIMB_P), p=list(LIMB_P.values()))
    (l0, l1), (s0, s1), d = LIMB_TYPES[kind]
    nseg = int(rng.integers(s0, s1 + 1))
    seg = rng.uniform(0.6, 1.4, nseg)
    seg *= rng.uniform(l0, l1) * ls / seg.sum()
    lift = {"wing": rng.uniform(0.2, 0.6), "fin": 0.0}.get(kind, -rng.uniform(0.0, 0.5))
    gw = width * rng.uniform(0.8, 1.3)
    left, right = t.pair(f"limb{i}_0", root, root, gw * (np.array([1.0, 0, 0]) + lift * dorsal),
                         "girdle", "girdle")
    chain_l, chain_r = [left], [right]
    for j in range(nseg):
        a, b = t.pair(f"limb{i}_{j + 1}", chain_l[-1], chain_r[-1], seg[j] * _unit(*d), "limb",
                      f"limb{i}")
        chain_l.append(a)
        chain_r.append(b)
    bend = {"arm": -1, "wing": 1}.get(kind)
    signs = tuple(int(bend or rng.choice((-1, 1))) for _ in range(nseg - 1))
    return _Limb(str(kind), signs, tuple(chain_l), tuple(chain_r))


def _draw_body(rng: np.random.Generator) -> _Body:
    """One random creature topology with rest geometry (spine length 0.4-1 m)."""
    t = _Tree()
    upright = rng.random() < 0.25                        # spine along +y (biped-like)
    along, dorsal = (np.array([0, 1.0, 0]), np.array([0, 0, -1.0])) if upright else \
        (np.array([0, 0, 1.0]), np.array([0, 1.0, 0]))
    ls = rng.uniform(0.4, 1.0)
    ns = int(rng.integers(2, 7))
    seg = rng.uniform(0.6, 1.4, ns - 1)
    seg *= ls / seg.sum()
    spine = [t.add("spine0", -1, np.zeros(3), "root", "spine")]
    for j in range(1, ns):
        spine.append(t.add(f"spine{j}", spine[-1], seg[j - 1] * along, "spine", "spine"))
    npairs = int(rng.integers(0, min(3, ns) + 1))
    head = None
    if npairs == 0 or rng.random() < 0.8:
        head = _draw_head(t, rng, spine[-1], upright, ls, force_pair=npairs == 0)
    if rng.random() < 0.6:
        tdir = _unit(0, -rng.uniform(0.3, 1.0), -1) if upright else _unit(0, rng.uniform(-.3, .4), -1)
        parent = spine[0]
        for i in range(rng.integers(1, 5)):
            parent = t.add(f"tail{i}", parent, tdir * rng.uniform(0.1, 0.35) * ls, "tail", "tail")
    width = rng.uniform(0.08, 0.25) * ls
    roots = sorted(rng.choice(ns, npairs, replace=False))
    limbs = [_draw_limb(t, rng, i, spine[r], dorsal, width, ls) for i, r in enumerate(roots)]
    if rng.random() < 0.25:                              # an unpaired horn or dorsal fin
        on_head = head is not None and rng.random() < 0.5
        parent = head if on_head else spine[rng.integers(ns)]
        up = np.array([0, 1.0, 0.6]) if on_head else dorsal
        name = "horn" if on_head else "fin"
        parent = t.add(f"{name}0", parent, up * rng.uniform(0.1, 0.3) * ls, "app", "app")
        if rng.random() < 0.5:
            t.add(f"{name}1", parent, (up - 0.5 * along) * rng.uniform(0.05, 0.15) * ls, "app", "app")
    return t.build(limbs)


def _limb_angles(limb: _Limb, i: int, m: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Semantic (left-limb) angles (m, S+1, 3) for the left and right chains, drawn
    independently; some samples walk (legs, opposite phase) or flap together (wings)."""
    spec = LIMB_ANGLES[limb.type]
    u = lambda lo, hi, *s: rng.uniform(lo, hi, (m,) + s)  # noqa: E731

    def one():
        a = np.zeros((m, len(limb.left), 3))
        a[:, 0] = u(-0.1, 0.1, 3)                                     # girdle shrug
        a[:, 1] = np.stack([u(*spec[c]) for c in "xyz"], -1)
        for j, sign in enumerate(limb.bend):
            a[:, j + 2] = rng.normal(0, 0.05, (m, 3))
            a[:, j + 2, spec["axis"]] = sign * u(*spec["bend"])
        return a

    left, right = one(), one()
    if limb.type == "leg":
        walk, phase, amp = rng.random(m) < 0.35, u(0, 2 * np.pi), u(0.2, 0.6)
        for s, a in enumerate((left, right)):
            w = phase + np.pi * (s + i)
            a[walk, 1, 0] = (amp * np.sin(w) + rng.normal(0, 0.05, m))[walk]
            for j, sign in enumerate(limb.bend):
                a[walk, j + 2, 0] = (sign * (1.2 * np.maximum(np.cos(w), 0) + u(0, 0.2)))[walk]
    elif limb.type == "wing":
        fly, flap, sweep = rng.random(m) < 0.4, u(*spec["z"]), u(-0.3, 0.5)
        for a in (left, right):
            a[fly, 1, 2] = (flap + rng.normal(0, 0.08, m))[fly]
            a[fly, 1, 1] = (sweep + rng.normal(0, 0.08, m))[fly]
    return left, right


def _creature_angles(body: _Body, m: int, rng) -> np.ndarray:
    """(m, N, 3) local joint angles (rad): body pitch, mild spine bend/twist, neck and head
    turns, tail curl/wag, limb swings and bends; right-side angles mirrored."""
    a = np.zeros((m, len(body.names), 3))
    u = lambda lo, hi, *s: rng.uniform(lo, hi, (m,) + s)  # noqa: E731
    r = body.roles
    a[:, 0, 0], a[:, 0, 2] = u(-0.25, 0.25), u(-0.1, 0.1)        # root: body pitch, roll
    sp, nk, hd, tl, ap = (np.flatnonzero(r == x) for x in ("spine", "neck", "head", "tail", "app"))
    a[:, sp, 0] = u(-0.15, 0.15)[:, None] + rng.normal(0, 0.05, (m, len(sp)))
    a[:, sp, 1] = u(-0.2, 0.2)[:, None] + rng.normal(0, 0.05, (m, len(sp)))
    a[:, sp, 2] = u(-0.08, 0.08, len(sp))
    a[:, nk, :2] = u(-0.5, 0.5, len(nk), 2)
    a[:, hd] = np.stack([u(-0.5, 0.5, len(hd)), u(-0.8, 0.8, len(hd)), u(-0.25, 0.25, len(hd))], -1)
    a[:, tl, 0] = u(-0.5, 0.5)[:, None] + rng.normal(0, 0.1, (m, len(tl)))   # curl
    a[:, tl, 1] = u(-0.4, 0.4)[:, None] + rng.normal(0, 0.1, (m, len(tl)))   # wag
    a[:, ap] = u(-0.15, 0.15, len(ap), 3)
    for i, limb in enumerate(body.limbs):
        a[:, list(limb.left)], a[:, list(limb.right)] = _limb_angles(limb, i, m, rng)
    a[:, body.sides == 1, 1:] *= -1                              # mirror: y and z rotations flip
    return a


def _bone_scales(body: _Body, m: int, rng) -> np.ndarray:
    """(m, N) bone length factors: global scale x part proportions x per-bone jitter."""
    scale = np.exp(rng.uniform(*np.log(SCALE), (m, 1)))
    parts = rng.uniform(*PROPORTIONS, (m, body.groups.max() + 1))[:, body.groups]
    jitter = rng.uniform(1 - BONE_JITTER, 1 + BONE_JITTER, (m, body.twins.max() + 1))[:, body.twins]
    return scale * parts * jitter


def _fronts(rest: np.ndarray) -> tuple[int, ...]:
    """Per-joint fronts of a rest pose (N, 3): +1 in the front part along z, -1 in the back
    part, 0 within 10 % of the z extent of the middle (Rig.fronts)."""
    z = rest[:, 2]
    zc, dead = 0.5 * (z.max() + z.min()), 0.1 * np.ptp(z) + 1e-9
    return tuple(int(f) for f in np.where(z > zc + dead, 1, np.where(z < zc - dead, -1, 0)))


@lru_cache(maxsize=None)
def _creature(k: int) -> tuple[_Body, Rig, np.ndarray]:
    rng = np.random.default_rng([_SEED["creature"], k])
    while True:
        body = _draw_body(rng)
        rest = _rest(body)
        if _acceptable("creature", rest):
            break
    edges = tuple((int(p), j) for j, p in enumerate(body.parents) if p >= 0)
    rig = Rig(rig_name("creature", k), category("creature"), body.names, edges,
              tuple(int(s) for s in body.sides), _fronts(rest))
    return body, rig, rest


def creature_rig(k: int) -> tuple[Rig, Pose]:
    """Random articulated creature number k (deterministic): its Rig and a pose sampler
    fn(m, rng) -> (m, N, 3) float32 (metres-ish, body frame; see module doc)."""
    body = _creature(k)[0]

    def fn(m: int, rng: np.random.Generator) -> np.ndarray:
        pos = _fk(body.parents, body.offsets, _creature_angles(body, m, rng), _bone_scales(body, m, rng))
        return pos.astype(np.float32)
    return _creature(k)[1], fn


# ------------------------------------------------------------------ objects
# A part: kind, role (body / support / top / handle), rest dims (metres), options.
@dataclass(frozen=True, eq=False)
class _Part:
    kind: str
    role: str
    dims: dict
    opts: dict


_UNIT4 = np.array([[1, 0], [0, 1], [-1, 0], [0, -1]], float)      # (cos, sin) at 0/90/180/270 deg
_DIAG4 = np.sqrt(0.5) * np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]])
_RING4 = [(0, 1), (1, 2), (2, 3), (3, 0)]


def _height(part: _Part, d: dict):
    return 0.0 if part.kind == "plate" and part.opts["orient"] == "h" else d["h"]


def _halfsize(part: _Part, d: dict, t: float):
    """Half width (x) and half depth (z) of a body part at relative height t in [0, 1]."""
    k, o = part.kind, part.opts
    if k in ("box", "slab"):
        return d["w"], d["d"]
    if k == "plate":
        return d.get("w", 0.0), (0.0 if o["orient"] == "v" else d["d"])
    if k == "cyl":
        rt, rb = d.get("rt", d.get("r")), d.get("rb", d.get("r"))
        r = rb + (rt - rb) * t
        return r, r
    f = t if o["inverted"] else 1 - t                            # cone / pyramid
    return (d["r"] * f, d["r"] * f) if o["base"] == "round" else (d["w"] * f, d["d"] * f)


def _base(part: _Part, d: dict, y, z0):
    """Base outline of a cone/pyramid at height y -> points."""
    if part.opts["base"] == "round":
        return [_xyz(d["r"] * c, y, z0 + d["r"] * s) for c, s in _UNIT4]
    if part.opts["base"] == "square":
        return [_xyz(sx * d["w"], y, z0 + sz * d["d"]) for sx, sz in ((1, 1), (-1, 1), (-1, -1), (1, -1))]
    return [_xyz(0.0, y, z0 + d["d"]), _xyz(d["w"], y, z0 - d["d"]), _xyz(-d["w"], y, z0 - d["d"])]


def _shape_points(part: _Part, d: dict, y0, z0):
    """Points (list of (m, 3) or (3,)) and edges of a box/slab/cyl/cone/plate standing at y0."""
    k, o = part.kind, part.opts
    if k in ("box", "slab", "plate") and not (k == "plate" and o["orient"] != "h"):
        w, dd = d["w"], d["d"]
        ys = (y0,) if k == "plate" else (y0 + d["h"], y0) if k == "box" else (y0 + d["h"],)
        pts = [_xyz(sx * w, y, z0 + sz * dd) for y in ys for sx, sz in ((1, 1), (-1, 1), (-1, -1), (1, -1))]
        edges = _RING4 + ([(a + 4, b + 4) for a, b in _RING4] + [(i, i + 4) for i in range(4)]
                          if k == "box" else [])
        return pts, edges
    if k == "plate":                                             # vertical: front-facing or mid-plane
        hw = (d["w"], 0.0) if o["orient"] == "v" else (0.0, d["d"])
        pts = [_xyz(s * hw[0], y, z0 + s * hw[1]) for y in (y0, y0 + d["h"]) for s in (1, -1)]
        return pts, [(0, 1), (1, 3), (3, 2), (2, 0)]
    if k == "cyl":
        rt, rb = d.get("rt", d.get("r")), d.get("rb", d.get("r"))
        cs = _DIAG4 if o["rot45"] else _UNIT4
        pts = [_xyz(r * c, y, z0 + r * s) for y, r in ((y0 + d["h"], rt), (y0, rb)) for c, s in cs]
        edges = _RING4 + [(a + 4, b + 4) for a, b in _RING4] + [(i, i + 4) for i in range(4)]
        if o["centres"]:
            pts += [_xyz(0.0, y0 + d["h"], z0), _xyz(0.0, y0, z0)]
            edges += [(8, i) for i in range(4)] + [(9, i + 4) for i in range(4)]
        return pts, edges
    base_y, apex_y = (y0 + d["h"], y0) if o["inverted"] else (y0, y0 + d["h"])
    base = _base(part, d, base_y, z0)
    nb = len(base)
    pts = [_xyz(0.0, apex_y, z0)] + base
    edges = [(0, i + 1) for i in range(nb)] + [(i + 1, (i + 1) % nb + 1) for i in range(nb)]
    if o.get("centre"):
        pts.append(_xyz(0.0, base_y, z0))
        edges += [(nb + 1, i + 1) for i in range(nb)]
    return pts, edges


def _support_points(part: _Part, d: dict, body: _Part, db: dict):
    """Legs (2 or 4: top, foot) or a post under the body; tops at the leg height."""
    h = d["h"]
    if part.kind == "post":
        return [_xyz(0.0, h, 0.0), _xyz(0.0, 0.0, 0.0)], [(0, 1)]
    w, dd = _halfsize(body, db, 0.0)
    o = part.opts
    corners = ((1, 1), (-1, 1), (-1, -1), (1, -1)) if o["n"] == 4 else \
        (((1, 0), (-1, 0)) if o["along"] == "x" else ((0, 1), (0, -1)))
    pts = []
    for sx, sz in corners:
        x, z = sx * w * o["inset"], sz * dd * o["inset"]
        pts += [_xyz(x, h, z), _xyz(x * (1 + o["splay"]), 0.0, z * (1 + o["splay"]))]
    return pts, [(2 * i, 2 * i + 1) for i in range(len(corners))]


def _handle_points(part: _Part, d: dict, body: _Part, db: dict, y0):
    """Handle at the back (2-3 points, mid-plane), a side pair, or a carry arc over the top.
    Returns points, edges, and the local indices to attach to the body."""
    o, reach, hb = part.opts, d["reach"], _height(body, db)
    ya, yb = y0 + o["ta"] * hb, y0 + o["tb"] * hb
    (wa, da), (wb, dbk) = _halfsize(body, db, o["ta"]), _halfsize(body, db, o["tb"])
    if part.kind == "back" and o["n"] == 3:
        pts = [_xyz(0.0, ya, -da), _xyz(0.0, (ya + yb) / 2, -(da + dbk) / 2 - reach), _xyz(0.0, yb, -dbk)]
        return pts, [(0, 1), (1, 2)], [0, 2]
    if part.kind == "back":
        return [_xyz(0.0, ya, -da - reach), _xyz(0.0, yb, -dbk - reach)], [(0, 1)], [0, 1]
    if part.kind == "sides":
        pts = [_xyz(s * (w + reach), y, 0.0) for s in (1, -1) for w, y in ((wa, ya), (wb, yb))]
        return pts, [(0, 1), (2, 3)], [0, 1, 2, 3]
    top, wt = y0 + hb, _halfsize(body, db, 1.0)[0]               # carry arc
    pts = [_xyz(0.0, top + reach, 0.0)]
    if not o["shoulders"]:
        return pts, [], [0]
    pts += [_xyz(s * 0.7 * wt, top + 0.7 * reach, 0.0) for s in (1, -1)]
    return pts, [(0, 1), (0, 2)], [1, 2]


def _assemble(parts: tuple, dims: list, m: int):
    """Place the parts (body first) for dims (per part: name -> (m,) or scalar).
    Returns points (m, N, 3), internal edges, and per part (role, global index range, attach)."""
    body, db = parts[0], dims[0]
    sup = next((i for i, p in enumerate(parts) if p.role == "support"), None)
    y0 = dims[sup]["h"] if sup is not None else 0.0
    pts, edges, layout = [], [], []
    for p, d in zip(parts, dims):
        attach = None
        if p.role == "body":
            q, e = _shape_points(p, d, y0, 0.0)
        elif p.role == "support":
            q, e = _support_points(p, d, body, db)
        elif p.role == "top":
            hd = _halfsize(body, db, 1.0)[1]
            q, e = _shape_points(p, d, y0 + _height(body, db), p.opts["zf"] * hd)
        else:
            q, e, attach = _handle_points(p, d, body, db, y0)
        off = len(pts)
        edges += [(a + off, b + off) for a, b in e]
        layout.append((p.role, range(off, off + len(q)), attach))
        pts += q
    return np.stack([np.broadcast_to(q, (m, 3)) for q in pts], 1), edges, layout


def _attach_edges(rest: np.ndarray, layout) -> list[tuple[int, int]]:
    """Join each part to the body: its attach points (support: highest, top: lowest,
    handle: given) to the nearest body point(s) in the rest pose (ties all kept)."""
    body = np.array(layout[0][1])
    out = []
    for role, idx, attach in layout[1:]:
        idx = np.array(idx)
        y = rest[idx, 1]
        if role == "support":
            a = idx[np.isclose(y, y.max())]
        elif role == "top":
            a = idx[np.isclose(y, y.min())]
        else:
            a = idx[attach]
        for i in a:
            dist = np.linalg.norm(rest[body] - rest[i], axis=1)
            out += [(int(b), int(i)) for b in body[dist <= dist.min() * (1 + 1e-6)]]
    return out


def _draw_shape(rng, s: float, role: str, kinds, fit=None) -> _Part:
    """A box/slab/cyl/cone/plate of characteristic size s; a top part fits within `fit`
    (the body's top half width/depth)."""
    kind = str(rng.choice(kinds))
    u = lambda lo, hi: s * rng.uniform(lo, hi)  # noqa: E731
    wf, df = (lambda: u(.4, 1.2), lambda: u(.4, 1.2)) if fit is None else \
        (lambda: fit[0] * rng.uniform(.3, .85), lambda: fit[1] * rng.uniform(.3, .85))
    opts = {"zf": 0.0 if rng.random() < 0.6 else -rng.uniform(0.2, 0.6)} if role == "top" else {}
    if kind in ("box", "slab"):
        dims = dict(w=wf(), d=df(), h=u(.3, 2.0) if kind == "box" else u(.05, .3))
    elif kind == "cyl":
        r = lambda: min(wf(), df())  # noqa: E731
        dims = dict(rt=r(), rb=r(), h=u(.3, 3.0)) if rng.random() < 0.4 else dict(r=r(), h=u(.3, 3.0))
        opts.update(rot45=rng.random() < 0.3, centres=rng.random() < 0.4)
    elif kind == "cone":
        base = str(rng.choice(("round", "square", "tri")))
        dims = dict(r=min(wf(), df()), h=u(.3, 2.0)) if base == "round" else dict(w=wf(), d=df(), h=u(.3, 2.0))
        opts.update(base=base, inverted=role == "body" and rng.random() < 0.25,
                    centre=base == "round" and rng.random() < 0.3)
    else:                                                        # plate
        orient = "v" if role == "top" else str(rng.choice(("h", "v", "mid"), p=[.5, .3, .2]))
        dims = dict(w=wf(), d=df()) if orient == "h" else \
            dict(w=wf(), h=u(.5, 2.0)) if orient == "v" else dict(d=df(), h=u(.5, 2.0))
        opts["orient"] = orient
        if role == "top":                                        # a backrest / panel at the back
            dims["w"] = fit[0] * rng.uniform(0.6, 0.95)
            opts["zf"] = -rng.uniform(0.7, 0.95)
    return _Part(kind, role, dims, opts)


def _draw_support(rng, s: float, body: _Part) -> _Part:
    w, d = _halfsize(body, body.dims, 0.0)
    if rng.random() < 0.25 or (w == 0 and d == 0):
        return _Part("post", "support", dict(h=s * rng.uniform(0.8, 3.0)), {})
    n = 4 if w > 0 and d > 0 and rng.random() < 0.7 else 2
    opts = dict(n=n, along="x" if w > 0 else "z", inset=rng.uniform(0.6, 0.95),
                splay=rng.uniform(0.0, 0.3) if rng.random() < 0.5 else 0.0)
    return _Part("legs", "support", dict(h=s * rng.uniform(0.5, 2.5)), opts)


def _draw_handle(rng, s: float, arc_ok: bool) -> _Part:
    kinds, p = (("back", "sides", "arc"), [.5, .3, .2]) if arc_ok else (("back", "sides"), [.6, .4])
    kind = str(rng.choice(kinds, p=p))
    opts = dict(ta=rng.uniform(0.1, 0.4), tb=rng.uniform(0.6, 0.9), n=int(rng.choice((2, 3))),
                shoulders=rng.random() < 0.6)
    return _Part(kind, "handle", dict(reach=s * rng.uniform(0.15, 0.6)), opts)


def _draw_assembly(rng: np.random.Generator) -> tuple:
    """1-3 parts: a body, plus some of a support (legs/post), a top part and a handle."""
    s = np.exp(rng.uniform(np.log(0.04), np.log(0.8)))          # characteristic size, metres
    body = _draw_shape(rng, s, "body", ("box", "slab", "cyl", "cone", "plate"))
    toppable = body.kind in ("box", "slab", "cyl") or body.opts.get("orient") == "h" \
        or body.opts.get("inverted", False)
    options = ["support"] * (not body.opts.get("inverted", False)) + ["top"] * toppable \
        + ["handle"] * (body.kind in ("box", "cyl"))
    n_extra = min(int(rng.choice(3, p=[.25, .4, .35])), len(options))   # options is never empty
    extra = set(rng.choice(options, n_extra, replace=False))
    parts = [body]
    if "support" in extra:
        parts.append(_draw_support(rng, s, body))
    if "top" in extra:
        fit = _halfsize(body, body.dims, 1.0)
        parts.append(_draw_shape(rng, s, "top", ("box", "slab", "cyl", "cone", "plate"), fit))
    if "handle" in extra:
        parts.append(_draw_handle(rng, s, arc_ok="top" not in extra))
    return tuple(parts)


@lru_cache(maxsize=None)
def _object(k: int) -> tuple[tuple, Rig, np.ndarray]:
    rng = np.random.default_rng([_SEED["object"], k])
    while True:
        parts = _draw_assembly(rng)
        p, edges, layout = _assemble(parts, [q.dims for q in parts], 1)
        rest = p[0]
        if _acceptable("object", rest):
            break
    edges = tuple(dict.fromkeys(tuple(e) for e in edges + _attach_edges(rest, layout)))
    tol = 1e-9 * np.ptp(rest, axis=0).max()
    sides = np.where(rest[:, 0] > tol, -1, np.where(rest[:, 0] < -tol, 1, 0))
    fronts = np.asarray(_fronts(rest))
    if rng.random() < 0.25:                                      # no intrinsic front
        sides[:] = 0
        fronts[:] = 0
    names = tuple(f"{q.kind}{i}_{j}" for i, (q, (_, idx, _)) in enumerate(zip(parts, layout))
                  for j in range(len(idx)))
    rig = Rig(rig_name("object", k), category("object"), names, edges, tuple(int(s) for s in sides),
              tuple(int(f) for f in fronts))
    return parts, rig, rest


def object_rig(k: int) -> tuple[Rig, Pose]:
    """Random rigid CAD-like assembly number k (deterministic): its Rig and a sampler
    fn(m, rng) -> (m, N, 3) float32 (metres; each dimension x0.6-1.6 per sample, 0.3 %
    point noise)."""
    parts = _object(k)[0]

    def fn(m: int, rng: np.random.Generator) -> np.ndarray:
        dims = [{n: v * rng.uniform(*DIM_RANGE, m) for n, v in q.dims.items()} for q in parts]
        return _jitter(_assemble(parts, dims, m)[0], rng)
    return _object(k)[1], fn


# ------------------------------------------------------------------ sources
def rest_pose(kind: str, k: int) -> np.ndarray:
    """(N, 3) float64 rest pose of procedural rig k (mirror-symmetric about x = 0)."""
    return ({"creature": _creature, "object": _object}[kind](k)[2]).copy()


def procedural_source(kind: str, k: int, count: int = 4000, seed: int = 0) -> GeneratorSource:
    """GeneratorSource `source_name(kind, k)` for kind in KINDS; registers the rig."""
    if kind not in KINDS:
        raise ValueError(f"procedural kind must be one of {KINDS}, got {kind!r}")
    rig, fn = (creature_rig if kind == "creature" else object_rig)(k)
    register_rig(rig, overwrite=False)
    return GeneratorSource(source_name(kind, k), rig.category, rig.name, fn, count, seed)
