"""Synthetic animals: quadrupeds (`quadruped17`, AP-10K order), birds (`bird15`, CUB
order), fish (`fish14`), insects (`insect17`), sprawling reptiles (`reptile18`), bats
(`bat16`) and tailed bipeds (`biped17`: theropod dinosaurs, kangaroos).

Body frame: up +y, forward +z, the animal's left at +x (side -1), metres.
Quadrupeds: dog/cat/horse/cow-like proportions; standing, walking (gait phase,
leg swing within limits) or sitting (torso pitched up, hind legs folded); neck
pitch/yaw. The "wild" quadrupeds add giraffe- to mouse-like species and lying,
galloping and grazing. Birds: standing, perched (crouched legs) or flying (spread,
flapping wings); body pitch, head turn. Fish bend side to side (a swimming wave and
turns); insects walk a tripod gait on sprawled legs; reptiles walk diagonal pairs
with their limbs leaving the body sideways and the spine and tail curving. Bats fly, hang
or crawl; bipeds stand, walk, run or hop on digitigrade legs with a counterweight tail.
"""
from __future__ import annotations

import numpy as np

from training.data.base import GeneratorSource
from training.data.synthetic_objects import _log_u

# species: body length, shoulder height, body width, neck length, head length (metres)
SPECIES = np.array([[0.70, 0.55, 0.22, 0.25, 0.22],    # dog
                    [0.45, 0.25, 0.14, 0.12, 0.10],    # cat
                    [1.60, 1.55, 0.45, 0.80, 0.55],    # horse
                    [1.80, 1.35, 0.60, 0.55, 0.50]])   # cow
# "Wild" species for quadruped17_wild, same columns: AP-10K has ~50 mammal species.
WILD_SPECIES = np.array([[1.80, 2.00, 0.50, 1.90, 0.60],    # giraffe
                         [2.60, 2.50, 1.20, 0.50, 1.00],    # elephant (head + trunk)
                         [1.50, 0.95, 0.70, 0.35, 0.40],    # bear
                         [1.10, 0.55, 0.40, 0.20, 0.35],    # pig
                         [1.00, 0.70, 0.35, 0.35, 0.28],    # sheep / goat
                         [1.30, 1.00, 0.30, 0.65, 0.35],    # deer / antelope
                         [1.80, 0.95, 0.45, 0.45, 0.35],    # lion / tiger
                         [0.20, 0.07, 0.07, 0.04, 0.05],    # rat / squirrel
                         [3.00, 1.50, 1.30, 0.40, 0.70]])   # rhino / hippo
LEG_SWING_MAX = np.deg2rad(35.0)        # upper leg swing either way from vertical
LEG_BEND_MAX = np.deg2rad(70.0)         # lower leg bend at elbow/knee
GALLOP_SWING_MAX = np.deg2rad(55.0)     # a gallop's stride reaches further
STAND, WALK, SIT, LIE, GALLOP, GRAZE = range(6)   # quadruped modes


def _rot_x(a):
    c, s, o, i = np.cos(a), np.sin(a), np.zeros_like(a), np.ones_like(a)
    return np.stack([i, o, o, o, c, -s, o, s, c], -1).reshape(a.shape + (3, 3))


def _rot_y(a):
    c, s, o, i = np.cos(a), np.sin(a), np.zeros_like(a), np.ones_like(a)
    return np.stack([c, o, s, o, i, o, -s, o, c], -1).reshape(a.shape + (3, 3))


def _forward(yaw, pitch):
    """Unit directions (..., 3) at heading `yaw` (0 = +z, positive towards +x) and `pitch` up."""
    return np.stack([np.sin(yaw) * np.cos(pitch), np.sin(pitch), np.cos(yaw) * np.cos(pitch)], -1)


def _leg(top, length, swing, bend, sign):
    """Leg from `top` (m,3): upper at `swing` from vertical (forward +), lower bent by
    `sign * bend`. Returns (knee, paw), each (m, 3)."""
    up_dir = np.stack([np.zeros_like(swing), -np.cos(swing), np.sin(swing)], -1)
    a2 = swing + sign * bend
    lo_dir = np.stack([np.zeros_like(a2), -np.cos(a2), np.sin(a2)], -1)
    knee = top + 0.5 * length[:, None] * up_dir
    return knee, knee + 0.5 * length[:, None] * lo_dir


def generate_quadrupeds(m: int, rng: np.random.Generator) -> np.ndarray:
    """(m, 17, 3) quadruped poses, metres, body frame (see module doc): dog, cat, horse, cow;
    standing, walking or sitting."""
    return _quadrupeds(m, rng, SPECIES, (0.35, 0.45, 0.2))


def generate_wild_quadrupeds(m: int, rng: np.random.Generator) -> np.ndarray:
    """(m, 17, 3) quadrupeds of WILD_SPECIES, standing, walking, sitting, lying, galloping
    or grazing (head down)."""
    return _quadrupeds(m, rng, WILD_SPECIES, (0.2, 0.25, 0.1, 0.15, 0.15, 0.15))


def _quadrupeds(m: int, rng: np.random.Generator, species: np.ndarray, mode_p) -> np.ndarray:
    """(m, 17, 3) poses of `species` rows in modes STAND, WALK, SIT[, LIE, GALLOP, GRAZE]
    drawn with probabilities `mode_p`. (Random draws of the three first modes come in the
    same order whatever the modes, so generate_quadrupeds' data never changes.)"""
    sp = species[rng.integers(0, len(species), m)] * rng.uniform(0.8, 1.2, (m, 5))
    L, H, W, NL, HL = sp.T
    mode = rng.choice(len(mode_p), m, p=list(mode_p))
    phase = rng.uniform(0, 2 * np.pi, m)
    walk, gallop = (mode == WALK).astype(float), mode == GALLOP
    z = np.zeros(m)
    sh_l, sh_r = np.stack([W / 2, H, L / 2], -1), np.stack([-W / 2, H, L / 2], -1)
    hp_l, hp_r = np.stack([W / 2, H, -L / 2], -1), np.stack([-W / 2, H, -L / 2], -1)
    legs = []
    # Walk, a diagonal gait: left-front with right-hind. Gallop: the front legs together, the
    # hind legs together, half a stride later. Front elbows bend back, hind knees forward.
    for top, ph_walk, ph_gallop, sign in ((sh_l, 0.0, 0.0, -1), (sh_r, np.pi, 0.3, -1),
                                          (hp_l, np.pi, np.pi, 1), (hp_r, 0.0, np.pi + 0.3, 1)):
        ph = np.where(gallop, ph_gallop, ph_walk)
        amp = np.where(gallop, GALLOP_SWING_MAX * 0.85, walk * LEG_SWING_MAX * 0.8)
        swing = amp * np.sin(phase + ph) + rng.normal(0, 0.08, m)
        bend_amp = np.where(gallop, LEG_BEND_MAX * 0.9, walk * LEG_BEND_MAX * 0.6)
        bend = np.clip(bend_amp * np.maximum(np.cos(phase + ph), 0) + rng.uniform(0, 0.3, m), 0, LEG_BEND_MAX)
        limit = np.where(gallop, GALLOP_SWING_MAX, LEG_SWING_MAX)
        legs.append(_leg(top, H * 0.95, np.clip(swing, -limit, limit), bend, sign))
    neck_base = np.stack([z, H + 0.05 * H, L / 2 + 0.05 * L], -1)
    pitch = rng.uniform(np.deg2rad(10), np.deg2rad(70), m)           # neck up from horizontal
    yaw = rng.uniform(-0.6, 0.6, m)
    graze = mode == GRAZE
    if graze.any():                                                  # neck down to the ground
        pitch[graze] = rng.uniform(-1.1, -0.4, graze.sum())
    ndir = _forward(yaw, pitch)
    head = neck_base + NL[:, None] * ndir
    hpitch = pitch - rng.uniform(0.6, 1.4, m)                         # head points down-forward
    hpitch[graze] = np.maximum(hpitch[graze], -1.5)                   # not past vertical
    hdir = _forward(yaw, hpitch)
    nose = head + HL[:, None] * hdir
    lat = np.stack([np.cos(yaw), z, -np.sin(yaw)], -1)                # animal's left, head frame
    eyes = head + 0.35 * HL[:, None] * hdir + 0.1 * HL[:, None] * np.stack([z, np.ones(m), z], -1)
    tail = np.stack([z, H * 1.02, -L / 2 - 0.05 * L], -1)
    (le, lfp), (re, rfp), (lk, lbp), (rk, rbp) = legs
    pts = np.stack([eyes + 0.25 * HL[:, None] * lat, eyes - 0.25 * HL[:, None] * lat, nose,
                    neck_base, tail, sh_l, le, lfp, sh_r, re, rfp, hp_l, lk, lbp, hp_r, rk, rbp], 1)
    # Sitting: pitch everything but the hind legs up about the hip axis, fold hind legs.
    sit = mode == 2
    if sit.any():
        hip = np.stack([z, H, -L / 2], -1)[sit][:, None]
        R = _rot_x(-rng.uniform(0.5, 0.9, sit.sum()))                  # nose goes up
        front = [0, 1, 2, 3, 5, 6, 7, 8, 9, 10]
        pts[np.ix_(sit, front)] = hip + np.einsum("mij,mnj->mni", R, pts[np.ix_(sit, front)] - hip)
        for top_i, knee_i, paw_i in ((11, 12, 13), (14, 15, 16)):
            top = pts[sit, top_i]
            Hs = H[sit]
            pts[sit, knee_i] = top + np.stack([0 * Hs, -0.2 * Hs, 0.4 * Hs], -1)
            pts[sit, paw_i] = top + np.stack([0 * Hs, -0.45 * Hs, 0.05 * Hs], -1)
        # front legs reach back to the ground: keep them vertical under the shoulders
        for top_i, knee_i, paw_i in ((5, 6, 7), (8, 9, 10)):
            top = pts[sit, top_i]
            drop = top[:, 1:2] - pts[sit, 13, 1:2]
            pts[sit, knee_i] = top - np.concatenate([0 * drop, 0.5 * drop, 0 * drop], 1)
            pts[sit, paw_i] = top - np.concatenate([0 * drop, drop, 0 * drop], 1)
    lie = mode == LIE
    if lie.any():
        pts[lie] = _lying(pts[lie], H[lie], W[lie], rng)
    return pts.astype(np.float32)


def _lying(pts: np.ndarray, H: np.ndarray, W: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Lower standing quadruped poses (k, 17, 3) to lying on the belly: the shoulders at
    25-45 % of shoulder height H (k,), the forelegs stretched forward on the ground, the
    hind legs folded under the body, knees out by body width W (k,) at most."""
    k = len(H)
    pts = pts.copy()
    pts[..., 1] -= (H * rng.uniform(0.55, 0.75, k))[:, None]
    seg = 0.475 * H                                                  # each leg segment (_leg)
    for top_i, knee_i, paw_i, front in ((5, 6, 7, True), (8, 9, 10, True),
                                        (11, 12, 13, False), (14, 15, 16, False)):
        top = pts[:, top_i]
        h = top[:, 1]                                                # its height above ground
        out = np.sign(top[:, 0]) * W * rng.uniform(0.0, 0.3, k)      # knees / elbows splay out
        if front:   # elbow on the ground just behind the shoulder, forearm forward along it
            back = np.sqrt(np.maximum(seg ** 2 - (0.95 * h) ** 2, 0))
            knee = top + np.stack([out, -0.95 * h, -back], -1)
            paw = knee + np.stack([0 * h, 0 * h, seg * rng.uniform(0.8, 1.0, k)], -1)
        else:       # knee forward beside the belly, the foot back under the hip
            knee = top + np.stack([out, -0.8 * h, 0.6 * seg], -1)
            paw = knee + np.stack([0 * h, -0.15 * h, -0.9 * seg], -1)
        pts[:, knee_i], pts[:, paw_i] = knee, paw
    return pts


def generate_birds(m: int, rng: np.random.Generator) -> np.ndarray:
    """(m, 15, 3) bird poses (CUB parts), metres, body frame (see module doc)."""
    L = rng.uniform(0.1, 0.6, m)                                      # body length
    r = L[:, None] * rng.uniform(0.18, 0.3, (m, 1))                   # body radius
    k = lambda *v: np.stack(v, -1)  # noqa: E731
    z, one = np.zeros(m), np.ones(m)
    mode = rng.choice(3, m, p=[0.4, 0.3, 0.3])                        # stand, perch, fly
    R0 = r[:, 0]
    body = {"back": k(z, R0, -0.1 * L), "belly": k(z, -R0, -0.05 * L),
            "breast": k(z, 0.1 * R0, 0.35 * L), "tail": k(z, 0.1 * R0, -0.75 * L)}
    tail_lift = rng.uniform(-0.2, 0.4, m)
    body["tail"][:, 1] += tail_lift * L
    neck = k(z, 0.5 * R0, 0.45 * L) + (0.1 + 0.15 * rng.random(m))[:, None] * L[:, None] * k(z, one, 0.3 * one)
    hs = 0.45 * R0                                                     # head radius
    yaw, hp = rng.uniform(-1.2, 1.2, m), rng.uniform(-0.4, 0.4, m)
    f = k(np.sin(yaw) * np.cos(hp), np.sin(hp), np.cos(yaw) * np.cos(hp))
    left = k(np.cos(yaw), z, -np.sin(yaw))
    upv = np.cross(f, left)
    bill = rng.uniform(0.5, 2.5, m) * hs
    head = {"crown": neck + hs[:, None] * upv, "forehead": neck + hs[:, None] * (0.6 * upv + 0.8 * f),
            "beak": neck + (hs + bill)[:, None] * f, "nape": neck + hs[:, None] * (0.5 * upv - 0.85 * f),
            "throat": neck + hs[:, None] * (-0.8 * upv + 0.4 * f),
            "left_eye": neck + hs[:, None] * (0.3 * upv + 0.4 * f + 0.85 * left),
            "right_eye": neck + hs[:, None] * (0.3 * upv + 0.4 * f - 0.85 * left)}
    legl = np.where(mode == 1, 0.4, 1.0) * rng.uniform(0.3, 1.0, m) * L
    legs = {s: k(sg * 0.5 * R0, -R0 - np.where(mode == 2, 0.3, 1.0) * legl, 0.05 * L)
            for s, sg in (("left_leg", 1.0), ("right_leg", -1.0))}
    span = rng.uniform(0.6, 1.0, m) * 1.5 * L
    flap = rng.uniform(-0.8, 1.0, m)
    folded = lambda sg: k(sg * 1.05 * R0, 0.3 * R0, -0.15 * L)  # noqa: E731
    spread = lambda sg: k(sg * 0.5 * span * np.cos(flap), 0.5 * span * np.sin(flap) + 0.3 * R0, -0.05 * L)  # noqa: E731
    fly = (mode == 2)[:, None]
    wings = {"left_wing": np.where(fly, spread(1.0), folded(1.0)),
             "right_wing": np.where(fly, spread(-1.0), folded(-1.0))}
    parts = {**body, **head, **legs, **wings}
    order = ("back", "beak", "belly", "breast", "crown", "forehead", "left_eye", "left_leg",
             "left_wing", "nape", "right_eye", "right_leg", "right_wing", "tail", "throat")
    pts = np.stack([parts[n] for n in order], 1)
    pitch = np.where(mode == 2, rng.uniform(-0.2, 0.2, m), rng.uniform(-0.2, 0.8, m))
    return np.einsum("mij,mnj->mni", _rot_x(-pitch), pts).astype(np.float32)


def _bend_chain(angles: np.ndarray, step: float) -> np.ndarray:
    """Points of a planar (x-z) chain going -z at heading 0, bending towards +x for positive
    tangent `angles` (m, S) radians, `step` apart: (m, S, 3), the first at the origin."""
    t = np.stack([np.sin(angles), np.zeros_like(angles), -np.cos(angles)], -1)
    pts = np.cumsum(t * step, axis=1)
    return np.concatenate([np.zeros_like(pts[:, :1]), pts[:, :-1]], axis=1)


def _at(chain: np.ndarray, s) -> np.ndarray:
    """Linear interpolation of chain points (m, S, 3) at fraction s in [0, 1] (scalar or (m,))."""
    m, S = chain.shape[:2]
    f = np.broadcast_to(np.asarray(s, float) * (S - 1), (m,))
    i = np.clip(np.floor(f).astype(int), 0, S - 2)
    w = (f - i)[:, None]
    rows = np.arange(m)
    return chain[rows, i] * (1 - w) + chain[rows, i + 1] * w


def generate_fish(m: int, rng: np.random.Generator) -> np.ndarray:
    """(m, 14, 3) fish (fish14 order), body frame: snout at the origin pointing +z, the
    body bending side to side (a swimming wave plus a turn); eel-like to deep-bodied."""
    S = 41
    L = _log_u(rng, m, 0.05, 1.5)                                    # snout to tail fin edge
    depth, width = L * rng.uniform(0.12, 0.5, m), L * rng.uniform(0.06, 0.18, m)
    s = np.linspace(0, 1, S)[None]
    amp, turn = rng.uniform(0, 0.5, (m, 1)), rng.normal(0, 0.5, (m, 1))
    wave = rng.uniform(0.6, 1.3, (m, 1))
    angle = turn * s ** 2 + amp * s ** 2 * np.sin(2 * np.pi * wave * s + rng.uniform(0, 2 * np.pi, (m, 1)))
    spine = _bend_chain(angle, 1.0 / (S - 1)) * L[:, None, None]
    lateral = np.stack([np.cos(angle), np.zeros_like(angle), np.sin(angle)], -1)   # fish's left
    up = np.array([0.0, 1.0, 0.0])
    tail = rng.uniform(0.12, 0.25, m)                                # tail fin length / L
    prof = lambda f: np.maximum(np.sin(np.pi * np.clip(f / (1 - tail), 0, 1)) ** 0.6, 0.12)  # noqa: E731
    half_d = lambda f: 0.5 * depth * prof(f)                          # noqa: E731
    half_w = lambda f: 0.5 * width * prof(f)                          # noqa: E731

    def body(f, v, w):  # point at fraction f, v half-depths up, w half-widths to the left
        return _at(spine, f) + (v * half_d(f))[:, None] * up + (w * half_w(f))[:, None] * _at(lateral, f)

    se = rng.uniform(0.05, 0.1, m)
    sg = se + rng.uniform(0.08, 0.14, m)
    fin = L * rng.uniform(0.0, 0.08, m) / np.maximum(half_w(sg + 0.03), 1e-9)    # pectoral spread
    sd = rng.uniform(0.25, 0.45, m)
    sa = rng.uniform(0.55, 0.72, m)
    caudal = rng.uniform(0.3, 0.7, m) * depth                       # tail fin half-height
    edge = _at(spine, np.ones(m))
    parts = [_at(spine, np.zeros(m)) + (rng.uniform(-0.1, 0.1, m) * depth)[:, None] * up,
             body(se, 0.4, 0.8), body(se, 0.4, -0.8), body(sg, 0.0, 1.0), body(sg, 0.0, -1.0),
             body(sg + 0.03, -0.4, 1.0 + fin), body(sg + 0.03, -0.4, -1.0 - fin),
             body(sd, 1.0, 0.0), body(np.minimum(sd + rng.uniform(0.1, 0.35, m), 0.8), 1.0, 0.0),
             body(rng.uniform(0.3, 0.45, m), -1.0, 0.0), body(sa, -1.0, 0.0),
             _at(spine, 1 - tail), edge + caudal[:, None] * up, edge - caudal[:, None] * up]
    return np.stack(parts, 1).astype(np.float32)


def _dir(side, az, el):
    """Unit limb directions (m, 3): `side` +1 towards the animal's left (+x), -1 right;
    azimuth `az` forward (+z) from straight out sideways, elevation `el` up, radians."""
    return np.stack([side * np.cos(el) * np.cos(az), np.sin(el), np.cos(el) * np.sin(az)], -1)


def generate_insects(m: int, rng: np.random.Generator) -> np.ndarray:
    """(m, 17, 3) six-legged arthropods (insect17 order): ants, beetles, cockroaches, stick
    insects; thorax at the origin. Tripod gait (front and rear leg of one side with the
    middle leg of the other), sprawled legs, antennae anywhere ahead."""
    size = _log_u(rng, m, 0.005, 0.08)
    one = np.ones(m)
    head = np.stack([0 * one, rng.uniform(-0.05, 0.1, m), rng.uniform(0.15, 0.3, m)], -1)
    abdomen = np.stack([0 * one, rng.uniform(-0.15, 0.2, m), -rng.uniform(0.35, 0.9, m)], -1)
    pts = [head, 0 * head, abdomen]
    ant = rng.uniform(0.1, 1.2, m)
    for side in (1.0, -1.0):
        pts.append(head + ant[:, None] * _dir(side, rng.uniform(0.7, 1.45, m), rng.uniform(-0.3, 0.9, m)))
    femur = rng.uniform(0.2, 0.55, m)
    phase = rng.uniform(0, 2 * np.pi, m)
    stride = rng.uniform(0.1, 0.4, m)
    for pair, (z0, az0, scale) in enumerate(((0.08, 0.8, 0.9), (0.0, 0.0, 1.0), (-0.08, -0.8, 1.25))):
        for side in (1.0, -1.0):
            group = (pair + (side < 0)) % 2                          # the two tripods
            az = az0 + stride * np.sin(phase + np.pi * group) + rng.normal(0, 0.1, m)
            f = femur * scale * rng.uniform(0.9, 1.15, m)
            root = np.stack([side * 0.04 * one, 0 * one, z0 * one], -1)
            knee = root + f[:, None] * _dir(side, az, rng.uniform(0.1, 0.9, m))
            foot = knee + (f * rng.uniform(0.8, 1.4, m))[:, None] * _dir(
                side, az + rng.uniform(-0.2, 0.2, m), -rng.uniform(0.5, 1.4, m))
            pts += [knee, foot]
    return (np.stack(pts, 1) * size[:, None, None]).astype(np.float32)


def generate_reptiles(m: int, rng: np.random.Generator) -> np.ndarray:
    """(m, 18, 3) sprawling quadrupeds (reptile18 order): lizards, geckos, crocodiles,
    salamanders; shoulders at the origin, trunk along -z. The neck and tail bend sideways,
    upper limbs leave the body sideways (sprawl) or somewhat below it (a crocodile's high
    walk), lower limbs reach down; diagonal pairs step together."""
    size = _log_u(rng, m, 0.05, 2.0)                                 # shoulders to hips
    one = np.ones(m)
    bend = rng.normal(0, 0.3, (m, 3))                                # neck, tail root, tail middle
    shoulders = np.zeros((m, 3))
    hips = shoulders - _forward(0 * one, rng.uniform(-0.1, 0.1, m))
    head = shoulders + rng.uniform(0.1, 0.35, m)[:, None] * _forward(bend[:, 0], rng.uniform(-0.1, 0.5, m))
    snout = head + rng.uniform(0.15, 0.35, m)[:, None] * _forward(bend[:, 0] + rng.normal(0, 0.3, m),
                                                             rng.uniform(-0.3, 0.3, m))
    tail = rng.uniform(0.8, 2.5, m) / 2
    droop = rng.uniform(-0.1, 0.3, m)
    tail_mid = hips - tail[:, None] * _forward(-bend[:, 1], -droop)
    tail_tip = tail_mid - tail[:, None] * _forward(-bend[:, 1] - 1.5 * bend[:, 2], -1.5 * droop)
    pts = [snout, head, shoulders, hips, tail_mid, tail_tip]
    width, upper = rng.uniform(0.12, 0.2, m), rng.uniform(0.15, 0.35, m)
    high = rng.uniform(0, 1, m) < 0.3                                 # high walk: limbs under
    phase = rng.uniform(0, 2 * np.pi, m)
    for root_pt, az0, scale, ph in ((shoulders, 0.3, 1.0, 0.0), (hips, -0.3, 1.2, np.pi)):
        for side in (1.0, -1.0):
            az = az0 + 0.5 * np.sin(phase + ph + (side < 0) * np.pi) + rng.normal(0, 0.1, m)
            el_up = np.where(high, rng.uniform(-0.9, -0.4, m), rng.uniform(-0.4, 0.2, m))
            u = upper * scale * rng.uniform(0.9, 1.1, m)
            root = root_pt + np.stack([side * width, 0 * one, 0 * one], -1)
            elbow = root + u[:, None] * _dir(side, az, el_up)
            foot = elbow + (u * rng.uniform(0.8, 1.2, m))[:, None] * _dir(
                side, az + rng.uniform(-0.3, 0.3, m), -rng.uniform(1.0, 1.5, m))
            pts += [root, elbow, foot]
    return (np.stack(pts, 1) * size[:, None, None]).astype(np.float32)


def generate_bats(m: int, rng: np.random.Generator) -> np.ndarray:
    """(m, 16, 3) bats (bat16 order), chest at the origin: small insect bats to flying foxes,
    flying (wings spread in a flap, folding on the upstroke), hanging upside down by the feet
    with the wings folded, or crawling on wrists and feet. Forearm and the third finger carry
    the wing tip, the fifth finger its trailing edge, the membrane reaching the ankles."""
    L = _log_u(rng, m, 0.04, 0.3)                                    # chest to rump
    one, z = np.ones(m), np.zeros(m)
    mode = rng.choice(3, m, p=[0.5, 0.3, 0.2])                       # fly, hang, crawl
    fly = mode == 0
    rump = -L[:, None] * _forward(z, rng.uniform(-0.15, 0.15, m))
    yaw, hp = rng.uniform(-0.8, 0.8, m), rng.uniform(-0.5, 0.4, m)
    head = 0.35 * L[:, None] * _forward(0.3 * yaw, 0.2 * one)
    face = _forward(yaw, hp)
    nose = head + (rng.uniform(0.15, 0.45, m) * L)[:, None] * face   # flying foxes: long snouts
    up = np.array([0.0, 1.0, 0.0])
    crown = head + (0.15 * L)[:, None] * up
    ear = rng.uniform(0.1, 0.45, m) * L                              # up to long-eared bats
    pts = [nose, crown, *(head + ear[:, None] * _dir(side, -0.3 * one, rng.uniform(0.7, 1.3, m))
                          for side in (1.0, -1.0)), np.zeros((m, 3)), rump]
    hum, fore = L * rng.uniform(0.35, 0.5, m), L * rng.uniform(0.75, 1.05, m)
    d3, d5 = L * rng.uniform(0.9, 1.3, m), L * rng.uniform(0.6, 0.9, m)
    flap = rng.uniform(-0.7, 0.9, m)                                 # wing elevation
    fold = np.clip(rng.uniform(-0.5, 1.0, m), 0, 1) * (flap > 0)    # upstroke folds the wing
    wing = lambda spread, folded: np.where(fly[:, None], spread, folded)  # noqa: E731  (m, 3) directions
    for side in (1.0, -1.0):
        shoulder = np.stack([side * 0.12 * L, 0.05 * L, 0.05 * L], -1)
        elbow = shoulder + hum[:, None] * wing(_dir(side, -0.5 - 0.4 * fold, flap), _dir(side, -1.3, -0.5 * one))
        wrist = elbow + fore[:, None] * wing(_dir(side, 0.4 - 0.9 * fold, flap), _dir(side, 1.2, -0.3 * one))
        tip = wrist + d3[:, None] * wing(_dir(side, -0.1 - 1.2 * fold, flap - 0.1 * fold),
                                         _dir(side, -1.45, -0.8 * one))
        trail = wrist + d5[:, None] * wing(_dir(side, -1.1 - 0.4 * fold, flap), _dir(side, -1.4, -1.1 * one))
        knee = rump + np.stack([side * 0.15 * L, -0.05 * L, -0.1 * L], -1)
        foot = knee + (0.35 * L)[:, None] * _dir(side, -1.2 * one, rng.uniform(-0.6, 0.3, m))
        pts += [elbow, wrist, tip, trail, foot]
    pts = np.stack(pts, 1)
    # hanging: nose straight down, feet up; crawling: body low, head up a little
    pitch = np.select([mode == 1, mode == 2], [-np.pi / 2 + rng.uniform(-0.3, 0.3, m),
                                               rng.uniform(-0.1, 0.3, m)], rng.uniform(-0.3, 0.3, m))
    return (np.einsum("mij,mnj->mni", _rot_x(-pitch), pts)).astype(np.float32)


# bipeds with a tail: torso (hips to chest), leg (thigh + shin + metatarsus), tail, neck, head,
# arm lengths (metres), and the torso pitch range up from horizontal when standing
BIPED_SPECIES = {"theropod": (np.array([1.2, 2.0, 2.4, 0.8, 0.9, 0.35]), (-0.1, 0.3)),
                 "raptor": (np.array([0.5, 0.8, 1.0, 0.35, 0.25, 0.3]), (-0.1, 0.35)),
                 "kangaroo": (np.array([0.55, 0.9, 0.85, 0.15, 0.22, 0.35]), (0.6, 1.25))}


def generate_bipeds(m: int, rng: np.random.Generator) -> np.ndarray:
    """(m, 17, 3) tailed bipeds (biped17 order), hips at the origin: theropod dinosaurs large and
    small, standing, walking or running (legs in opposite phase), and kangaroos, hopping (legs
    together, the torso leaning forward) or upright resting on the tail.
    Digitigrade legs: the knee forward, the ankle back, the foot forward again."""
    names = list(BIPED_SPECIES)
    kind = rng.integers(0, len(names), m)
    dims = np.stack([BIPED_SPECIES[names[k]][0] for k in kind]) * rng.uniform(0.8, 1.2, (m, 6))
    dims *= _log_u(rng, m, 0.3, 3.0)[:, None]                         # small to giant forms
    T, leg, tail, neck_l, head_l, arm = dims.T
    lo, hi = np.array([BIPED_SPECIES[names[k]][1] for k in kind]).T
    roo = kind == names.index("kangaroo")
    hop = roo & (rng.random(m) < 0.6)                                # kangaroos stand or hop
    move = np.where(roo, 2 * hop, rng.choice(3, m, p=[0.3, 0.5, 0.2]))  # 0 stand, 1 walk, 2 run / hop
    pitch = np.where(move == 2, lo + rng.uniform(-0.3, 0.1, m) * (hi - lo), rng.uniform(lo, hi))
    pitch = np.where(hop, rng.uniform(0.1, 0.5, m), pitch)
    z = np.zeros(m)
    hips = np.zeros((m, 3))
    chest = T[:, None] * _forward(z, pitch)
    neck_yaw = rng.uniform(-0.4, 0.4, m)
    neck = chest + neck_l[:, None] * _forward(neck_yaw, np.clip(pitch + rng.uniform(-0.2, 0.8, m), -0.3, 1.4))
    yaw = rng.uniform(-0.7, 0.7, m)
    head = neck + (0.4 * head_l)[:, None] * _forward(yaw, rng.uniform(-0.6, 0.3, m))
    snout = head + (0.6 * head_l)[:, None] * _forward(yaw + rng.normal(0, 0.1, m), rng.uniform(-0.5, 0.2, m))
    swish = rng.normal(0, 0.3, m)
    droop = np.where(roo & (move == 0), rng.uniform(0.4, 0.7, m), rng.uniform(-0.15, 0.25, m))
    tail_mid = hips - (0.5 * tail)[:, None] * _forward(-swish, pitch - droop)
    tail_tip = tail_mid - (0.5 * tail)[:, None] * _forward(-1.6 * swish, pitch - 1.8 * droop)
    pts = [snout, head, neck, chest, hips, tail_mid, tail_tip]
    phase = rng.uniform(0, 2 * np.pi, m)
    amp = np.select([move == 1, move == 2], [0.45, 0.8], 0.05)
    for side in (1.0, -1.0):
        shoulder = chest + np.stack([side * 0.15 * T, -0.1 * T, z], -1)
        elbow = shoulder + (0.5 * arm)[:, None] * _dir(side, rng.uniform(0.3, 1.4, m), rng.uniform(-1.2, 0.0, m))
        hand = elbow + (0.5 * arm)[:, None] * _dir(side, rng.uniform(0.8, 1.5, m), rng.uniform(-0.6, 0.4, m))
        # legs in opposite phase when walking or running, together when hopping
        swing = amp * np.sin(phase + np.where(hop, 0.0, (side < 0) * np.pi)) + rng.normal(0, 0.05, m)
        crouch = rng.uniform(0.0, 0.5, m) + 0.5 * (roo & (move == 0))
        hip = hips + np.stack([side * 0.2 * T, z, z], -1)
        a1 = swing + 0.4 + 0.5 * crouch                               # thigh: knee forward
        knee = hip + (0.4 * leg)[:, None] * np.stack([z, -np.cos(a1), np.sin(a1)], -1)
        a2 = a1 - 0.9 - 1.0 * crouch                                  # shin: ankle back
        ankle = knee + (0.4 * leg)[:, None] * np.stack([z, -np.cos(a2), np.sin(a2)], -1)
        a3 = np.where(roo, 1.35, 0.5) + 0.3 * crouch + 0.3 * swing    # foot forward, flat for kangaroos
        foot = ankle + (np.where(roo, 0.35, 0.25) * leg)[:, None] * np.stack([z, -np.cos(a3), np.sin(a3)], -1)
        pts += [elbow, hand, knee, ankle, foot]
    return np.stack(pts, 1).astype(np.float32)


def quadruped_source(count: int = 20000, seed: int = 0) -> GeneratorSource:
    return GeneratorSource("quadruped17_synthetic", "quadruped", "quadruped17",
                           generate_quadrupeds, count, seed)


def bird_source(count: int = 20000, seed: int = 0) -> GeneratorSource:
    return GeneratorSource("bird15_synthetic", "bird", "bird15", generate_birds, count, seed)


def wild_quadruped_source(count: int = 20000, seed: int = 0) -> GeneratorSource:
    return GeneratorSource("quadruped17_wild", "quadruped", "quadruped17",
                           generate_wild_quadrupeds, count, seed)


def fish_source(count: int = 20000, seed: int = 0) -> GeneratorSource:
    return GeneratorSource("fish14_synthetic", "fish", "fish14", generate_fish, count, seed)


def insect_source(count: int = 20000, seed: int = 0) -> GeneratorSource:
    return GeneratorSource("insect17_synthetic", "insect", "insect17", generate_insects, count, seed)


def reptile_source(count: int = 20000, seed: int = 0) -> GeneratorSource:
    return GeneratorSource("reptile18_synthetic", "reptile", "reptile18", generate_reptiles, count, seed)


def bat_source(count: int = 20000, seed: int = 0) -> GeneratorSource:
    return GeneratorSource("bat16_synthetic", "bat", "bat16", generate_bats, count, seed)


def biped_source(count: int = 20000, seed: int = 0) -> GeneratorSource:
    return GeneratorSource("biped17_synthetic", "biped", "biped17", generate_bipeds, count, seed)
