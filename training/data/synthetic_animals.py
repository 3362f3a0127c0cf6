"""Synthetic quadrupeds (`quadruped17`, AP-10K order) and birds (`bird15`, CUB order).

Body frame: up +y, forward +z, the animal's left at +x (side -1), metres.
Quadrupeds: dog/cat/horse/cow-like proportions; standing, walking (gait phase,
leg swing within limits) or sitting (torso pitched up, hind legs folded); neck
pitch/yaw. Birds: standing, perched (crouched legs) or flying (spread, flapping
wings); body pitch, head turn.
"""
from __future__ import annotations

import numpy as np

from training.data.base import GeneratorSource

# species: body length, shoulder height, body width, neck length, head length (metres)
SPECIES = np.array([[0.70, 0.55, 0.22, 0.25, 0.22],    # dog
                    [0.45, 0.25, 0.14, 0.12, 0.10],    # cat
                    [1.60, 1.55, 0.45, 0.80, 0.55],    # horse
                    [1.80, 1.35, 0.60, 0.55, 0.50]])   # cow
LEG_SWING_MAX = np.deg2rad(35.0)        # upper leg swing either way from vertical
LEG_BEND_MAX = np.deg2rad(70.0)         # lower leg bend at elbow/knee


def _rot_x(a):
    c, s, o, i = np.cos(a), np.sin(a), np.zeros_like(a), np.ones_like(a)
    return np.stack([i, o, o, o, c, -s, o, s, c], -1).reshape(a.shape + (3, 3))


def _rot_y(a):
    c, s, o, i = np.cos(a), np.sin(a), np.zeros_like(a), np.ones_like(a)
    return np.stack([c, o, s, o, i, o, -s, o, c], -1).reshape(a.shape + (3, 3))


def _leg(top, length, swing, bend, sign):
    """Leg from `top` (m,3): upper at `swing` from vertical (forward +), lower bent by
    `sign * bend`. Returns (knee, paw), each (m, 3)."""
    up_dir = np.stack([np.zeros_like(swing), -np.cos(swing), np.sin(swing)], -1)
    a2 = swing + sign * bend
    lo_dir = np.stack([np.zeros_like(a2), -np.cos(a2), np.sin(a2)], -1)
    knee = top + 0.5 * length[:, None] * up_dir
    return knee, knee + 0.5 * length[:, None] * lo_dir


def generate_quadrupeds(m: int, rng: np.random.Generator) -> np.ndarray:
    """(m, 17, 3) quadruped poses, metres, body frame (see module doc)."""
    sp = SPECIES[rng.integers(0, len(SPECIES), m)] * rng.uniform(0.8, 1.2, (m, 5))
    L, H, W, NL, HL = sp.T
    mode = rng.choice(3, m, p=[0.35, 0.45, 0.2])                      # stand, walk, sit
    phase = rng.uniform(0, 2 * np.pi, m)
    walk = (mode == 1).astype(float)
    z = np.zeros(m)
    sh_l, sh_r = np.stack([W / 2, H, L / 2], -1), np.stack([-W / 2, H, L / 2], -1)
    hp_l, hp_r = np.stack([W / 2, H, -L / 2], -1), np.stack([-W / 2, H, -L / 2], -1)
    legs = []
    # Diagonal gait: left-front with right-hind. Front elbows bend back, hind knees forward.
    for top, ph, sign in ((sh_l, 0.0, -1), (sh_r, np.pi, -1), (hp_l, np.pi, 1), (hp_r, 0.0, 1)):
        swing = walk * LEG_SWING_MAX * 0.8 * np.sin(phase + ph) + rng.normal(0, 0.08, m)
        bend = np.clip(walk * LEG_BEND_MAX * 0.6 * np.maximum(np.cos(phase + ph), 0)
                       + rng.uniform(0, 0.3, m), 0, LEG_BEND_MAX)
        legs.append(_leg(top, H * 0.95, np.clip(swing, -LEG_SWING_MAX, LEG_SWING_MAX), bend, sign))
    neck_base = np.stack([z, H + 0.05 * H, L / 2 + 0.05 * L], -1)
    pitch = rng.uniform(np.deg2rad(10), np.deg2rad(70), m)           # neck up from horizontal
    yaw = rng.uniform(-0.6, 0.6, m)
    ndir = np.stack([np.sin(yaw) * np.cos(pitch), np.sin(pitch), np.cos(yaw) * np.cos(pitch)], -1)
    head = neck_base + NL[:, None] * ndir
    hpitch = pitch - rng.uniform(0.6, 1.4, m)                         # head points down-forward
    hdir = np.stack([np.sin(yaw) * np.cos(hpitch), np.sin(hpitch), np.cos(yaw) * np.cos(hpitch)], -1)
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
    return pts.astype(np.float32)


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


def quadruped_source(count: int = 20000, seed: int = 0) -> GeneratorSource:
    return GeneratorSource("quadruped17_synthetic", "quadruped", "quadruped17",
                           generate_quadrupeds, count, seed)


def bird_source(count: int = 20000, seed: int = 0) -> GeneratorSource:
    return GeneratorSource("bird15_synthetic", "bird", "bird15", generate_birds, count, seed)
