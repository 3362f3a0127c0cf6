"""Rigid objects as keypoints on parametric CAD-like shapes with random dimensions.

Object frame: up +y, front +z, the object's left at +x (side -1), natural units
(roughly metres). Keypoint orders match the rigs in `lfm3d_net.rigs`.
"""
from __future__ import annotations

import numpy as np

from training.data.base import GeneratorSource


def _u(rng, m, lo, hi):
    return rng.uniform(lo, hi, m)


def _pts(*cols):
    """Stack per-point (m, 3) arrays (constant points broadcast) -> (m, n, 3) float32."""
    m = max(c.shape[0] for c in cols if c.ndim == 2)
    return np.stack([np.broadcast_to(c, (m, 3)) for c in cols], axis=1).astype(np.float32)


def _xyz(x, y, z):
    return np.stack(np.broadcast_arrays(x, y, z), -1)


def generate_chairs(m, rng):
    """(m, 10, 3): legs FL FR BL BR, seat FL FR BL BR, back top L R."""
    w, d, h, bh = _u(rng, m, .35, .6), _u(rng, m, .35, .6), _u(rng, m, .35, .55), _u(rng, m, .25, .7)
    tilt = _u(rng, m, 0, .25) * d                        # backrest leans back
    splay = _u(rng, m, 0, .06)                           # legs splay out
    x, z = w / 2, d / 2
    legs = [_xyz(sx * (x + splay), 0, sz * (z + splay)) for sz in (1, -1) for sx in (1, -1)]
    seat = [_xyz(sx * x, h, sz * z) for sz in (1, -1) for sx in (1, -1)]
    back = [_xyz(sx * x, h + bh, -z - tilt) for sx in (1, -1)]
    return _pts(*legs, *seat, *back)


def generate_tables(m, rng):
    """(m, 8, 3): leg feet, then top corners: front-left (+x +z), front-right, back-right,
    back-left (counter-clockwise seen from above; front = the +z edge)."""
    w, d, h = _u(rng, m, .5, 2.0), _u(rng, m, .5, 1.2), _u(rng, m, .4, 1.1)
    inset = _u(rng, m, 0, .1)
    c = [(1, 1), (-1, 1), (-1, -1), (1, -1)]
    legs = [_xyz(sx * (w / 2 - inset), 0, sz * (d / 2 - inset)) for sx, sz in c]
    top = [_xyz(sx * w / 2, h, sz * d / 2) for sx, sz in c]
    return _pts(*legs, *top)


def generate_cars(m, rng):
    """(m, 12, 3): wheels FL FR RL RR, headlights L R, taillights L R, roof FL FR RL RR."""
    L, W, H = _u(rng, m, 3.5, 5.2), _u(rng, m, 1.6, 2.0), _u(rng, m, 1.3, 1.9)
    wb = L * _u(rng, m, .55, .65)                         # wheelbase
    r = _u(rng, m, .3, .4)
    x = W / 2
    wheels = [_xyz(sx * x * .9, r, sz * wb / 2) for sz in (1, -1) for sx in (1, -1)]
    lh = _u(rng, m, .6, .9)
    lights = [_xyz(sx * x * .75, lh, sz * L / 2) for sz in (1, -1) for sx in (1, -1)]
    rf, rr = _u(rng, m, .0, .25) * L, -_u(rng, m, .1, .45) * L    # roof front / rear z
    roof = [_xyz(sx * x * .8, H, rz) for rz in (rf, rr) for sx in (1, -1)]
    return _pts(*wheels, *lights, *roof)


def generate_aircraft(m, rng):
    """(m, 10, 3): nose, cockpit, wing roots L R, wing tips L R, tail, fin top, stabiliser tips L R."""
    L = _u(rng, m, 8, 70)
    span = L * _u(rng, m, .7, 1.3)
    wz = L * _u(rng, m, -.05, .15)                        # wing position along the fuselage
    sweep = _u(rng, m, 0, .6) * span / 2
    dihedral = _u(rng, m, -.05, .1) * span / 2
    fus = L * _u(rng, m, .05, .08)
    nose, tail = _xyz(0, 0, L / 2), _xyz(0, 0, -L / 2)
    cockpit = _xyz(0, fus, L * .4)
    roots = [_xyz(s * fus, 0, wz) for s in (1, -1)]
    tips = [_xyz(s * span / 2, dihedral, wz - sweep) for s in (1, -1)]
    fin = _xyz(0, L * _u(rng, m, .12, .2), -L / 2 - L * .02)
    stab = [_xyz(s * span * _u(rng, m, .15, .25), 0, -L * .45) for s in (1, -1)]
    return _pts(nose, cockpit, *roots, *tips, tail, fin, *stab)


def generate_bottles(m, rng):
    """(m, 8, 3): cap top, neck a b, shoulder a b, base a b, base centre (a/b at +-x)."""
    H, R = _u(rng, m, .15, .4), _u(rng, m, .025, .06)
    rn = R * _u(rng, m, .25, .5)
    sh = H * _u(rng, m, .5, .8)
    return _pts(_xyz(0, H, 0), _xyz(rn, H * .9, 0), _xyz(-rn, H * .9, 0), _xyz(R, sh, 0),
                _xyz(-R, sh, 0), _xyz(R, 0, 0), _xyz(-R, 0, 0), _xyz(0, 0, 0))


def generate_mugs(m, rng):
    """(m, 8, 3): rim front L R, base front L R, handle top bottom (handle at the back, -z)."""
    H, R = _u(rng, m, .07, .14), _u(rng, m, .035, .055)
    taper = _u(rng, m, .8, 1.05)                          # base radius / rim radius
    reach = _u(rng, m, .02, .04)
    return _pts(_xyz(0, H, R), _xyz(R, H, 0), _xyz(-R, H, 0), _xyz(0, 0, R * taper),
                _xyz(R * taper, 0, 0), _xyz(-R * taper, 0, 0),
                _xyz(0, H * .85, -R - reach), _xyz(0, H * .2, -R * taper - reach))


def _jitter(p, rng):
    """Per-axis scale (+-3 %) and per-point noise (0.3 % of the extent): manufacturing variety."""
    s = rng.uniform(.97, 1.03, (p.shape[0], 1, 3))
    return (p * s + rng.normal(0, .003, p.shape) * np.ptp(p, axis=1, keepdims=True)).astype(np.float32)


OBJECTS = {"chair10": ("chair", generate_chairs), "table8": ("table", generate_tables),
           "car12": ("car", generate_cars), "aircraft10": ("aircraft", generate_aircraft),
           "bottle8": ("bottle", generate_bottles), "mug8": ("mug", generate_mugs)}


def object_source(rig: str, count: int = 20000, seed: int = 0) -> GeneratorSource:
    category, fn = OBJECTS[rig]
    return GeneratorSource(f"{rig}_synthetic", category, rig,
                           lambda m, rng: _jitter(fn(m, rng), rng), count, seed)
