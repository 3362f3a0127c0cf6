"""Rigid objects as keypoints on parametric CAD-like shapes with random dimensions.

Object frame: up +y, front +z, the object's left at +x (side -1), natural units
(roughly metres). Keypoint orders match the rigs in `lfm3d_net.rigs`.
Articulated objects move their parts within real limits: bicycle and motorbike steering,
bicycle cranks, laptop hinges, monitor tilt. Sizes span each category (a child's bike to
a large one, a city bus to a lorry, a dinghy to a sailing yacht).
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


def _log_u(rng, m, lo, hi):
    return np.exp(rng.uniform(np.log(lo), np.log(hi), m))


def _about_axis(p, origin, axis, angle):
    """Rotate points p (m, k, 3) by `angle` (m,) radians about the unit `axis` (m, 3) through
    `origin` (m, 3) (Rodrigues)."""
    v = p - origin[:, None]
    a = axis[:, None]
    c, s = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    return origin[:, None] + v * c + np.cross(a, v) * s + a * (v * a).sum(-1, keepdims=True) * (1 - c)


def _steer(points, hub, rake, rng, max_angle):
    """Turn the steered parts (m, k, 3) about the steering axis through the front hub, leaning
    back by `rake` (m,) radians from vertical; angles mostly small, up to `max_angle`."""
    axis = _xyz(0 * rake, np.cos(rake), -np.sin(rake))
    angle = np.clip(rng.normal(0, max_angle / 3, rake.shape), -max_angle, max_angle)
    return _about_axis(points, hub, axis, angle)


def generate_bicycles(m, rng):
    """(m, 11, 3): hub ends front L R, rear L R; handle ends L R; pedals L R; head tube top,
    saddle front and back. Steering up to 0.6 rad; the cranks at any angle."""
    s = rng.uniform(.55, 1.1, m)                         # a child's bike .. a large frame
    wb, r, hw = 1.05 * s * _u(rng, m, .9, 1.12), s * _u(rng, m, .3, .36), _u(rng, m, .04, .06)
    zf, zr = wb / 2, -wb / 2
    rake = np.deg2rad(_u(rng, m, 15, 22))
    hub_f = _xyz(0, r, zf)
    head = hub_f + s[:, None] * _u(rng, m, .55, .7)[:, None] * _xyz(0 * s, np.cos(rake), -np.sin(rake))
    bar = head + s[:, None] * _xyz(0 * s, _u(rng, m, .03, .2), _u(rng, m, -.12, .03))
    hbw = s * _u(rng, m, .2, .3)
    steered = np.stack([hub_f + _xyz(hw, 0, 0), hub_f - _xyz(hw, 0, 0),
                        bar + _xyz(hbw, 0, 0), bar - _xyz(hbw, 0, 0)], 1)
    steered = _steer(steered, hub_f, rake, rng, 0.6)
    bb = _xyz(0, s * _u(rng, m, .26, .31), zr + s * _u(rng, m, .4, .46))
    crank, q, th = s * _u(rng, m, .16, .18), _u(rng, m, .08, .1), _u(rng, m, 0, 2 * np.pi)
    arm = _xyz(0, crank * np.cos(th), crank * np.sin(th))
    seat_tube = np.deg2rad(_u(rng, m, 70, 75))
    saddle = bb + (s * _u(rng, m, .6, .85))[:, None] * _xyz(0 * s, np.sin(seat_tube), -np.cos(seat_tube))
    return _pts(steered[:, 0], steered[:, 1], _xyz(hw, r, zr), _xyz(-hw, r, zr),
                steered[:, 2], steered[:, 3], bb + arm + _xyz(q, 0, 0), bb - arm - _xyz(q, 0, 0),
                head, saddle + _xyz(0, 0, .1 * s), saddle - _xyz(0, -.01 * s, .15 * s))


def generate_motorbikes(m, rng):
    """(m, 10, 3): hub ends front L R, rear L R; handle ends L R; headlight; head tube top
    (the fork crown); seat front and back. Steering up to 0.5 rad; scooters to tourers."""
    wb, r, hw = _u(rng, m, 1.25, 1.65), _u(rng, m, .25, .35), _u(rng, m, .06, .1)
    zf, zr = wb / 2, -wb / 2
    rake = np.deg2rad(_u(rng, m, 23, 32))
    hub_f = _xyz(0, r, zf)
    head = hub_f + _u(rng, m, .65, .9)[:, None] * _xyz(0 * r, np.cos(rake), -np.sin(rake))
    bar = head + _xyz(0, _u(rng, m, .02, .25), _u(rng, m, -.25, -.05))
    hbw = _u(rng, m, .3, .42)
    light = head + _xyz(0, -_u(rng, m, .05, .2), _u(rng, m, .08, .2))
    steered = np.stack([hub_f + _xyz(hw, 0, 0), hub_f - _xyz(hw, 0, 0),
                        bar + _xyz(hbw, 0, 0), bar - _xyz(hbw, 0, 0), light], 1)
    steered = _steer(steered, hub_f, rake, rng, 0.5)
    zs, hs = -wb * _u(rng, m, .05, .2), _u(rng, m, .7, .9)
    return _pts(steered[:, 0], steered[:, 1], _xyz(hw, r, zr), _xyz(-hw, r, zr),
                steered[:, 2], steered[:, 3], steered[:, 4], head,
                _xyz(0, hs, zs + _u(rng, m, .15, .3)), _xyz(0, hs + _u(rng, m, 0, .12), zs - _u(rng, m, .2, .4)))


def generate_sofas(m, rng):
    """(m, 12, 3): base corners FL FR BL BR, seat front L R, seat back L R (where the seat
    meets the backrest), backrest top L R, armrest front tops L R. Two- to four-seaters."""
    w, d = _u(rng, m, 1.2, 2.6), _u(rng, m, .75, 1.05)
    sh, bh, ah = _u(rng, m, .38, .5), _u(rng, m, .7, 1.05), _u(rng, m, .5, .7)
    aw, bd = _u(rng, m, .08, .25), _u(rng, m, .12, .3)
    x, z, xi = w / 2, d / 2, w / 2 - aw
    base = [_xyz(sx * x, 0, sz * z) for sz in (1, -1) for sx in (1, -1)]
    seat = [_xyz(sx * xi, sh, sz) for sz in (z, -z + bd) for sx in (1, -1)]
    back = [_xyz(sx * x, bh, -z + _u(rng, m, 0, .1)) for sx in (1, -1)]
    arms = [_xyz(sx * x, ah, z - _u(rng, m, 0, .05)) for sx in (1, -1)]
    return _pts(*base, *seat, *back, *arms)


def generate_buses(m, rng):
    """(m, 12, 3): body corners (front, rear) x (top, bottom) x (left, right), then hub ends
    of the front and rear axles L R. Minibuses to double-deckers and lorries."""
    L, W, H = _u(rng, m, 5.5, 14.0), _u(rng, m, 2.1, 2.6), _u(rng, m, 2.4, 4.4)
    clear, r = _u(rng, m, .25, .5), _u(rng, m, .4, .55)
    x = W / 2
    slope = _u(rng, m, 0, .5)                             # windscreen rake: front top set back
    ends = {"front": (L / 2 - slope, L / 2), "rear": (-L / 2, -L / 2)}   # z of the (top, bottom) corners
    corners = [_xyz(sx * x, y, z) for z_top, z_bottom in ends.values()
               for y, z in ((H, z_top), (clear, z_bottom)) for sx in (1, -1)]
    zf, zr = L / 2 - _u(rng, m, 1.0, 2.7), -L / 2 + _u(rng, m, 1.2, 3.5)
    wheels = [_xyz(sx * x * .95, r, za) for za in (zf, zr) for sx in (1, -1)]
    return _pts(*corners, *wheels)


def generate_boats(m, rng):
    """(m, 8, 3): bow (top of the stem), bow keel, gunwales at the beam L R, stern top
    corners L R, stern keel, top (cabin roof or mast head). Dinghies to yachts."""
    L = _log_u(rng, m, 3, 40)
    B, D = L * _u(rng, m, .25, .4), L * _u(rng, m, .08, .15)
    zb = L * _u(rng, m, -.1, .1)                          # where the beam is widest
    ts = _u(rng, m, .6, .95)                              # transom width / beam
    top = L * _log_u(rng, m, .08, 1.2)                    # cabin .. mast height
    return _pts(_xyz(0, D * _u(rng, m, 1.0, 1.3), L / 2), _xyz(0, 0, L / 2 - L * _u(rng, m, .05, .25)),
                _xyz(B / 2, D, zb), _xyz(-B / 2, D, zb), _xyz(ts * B / 2, D, -L / 2),
                _xyz(-ts * B / 2, D, -L / 2), _xyz(0, D * _u(rng, m, 0, .3), -L / 2),
                _xyz(0, D + top, L * _u(rng, m, -.2, .15)))


def generate_monitors(m, rng):
    """(m, 8, 3): screen corners TL TR BL BR, stand top (behind the screen), stand bottom,
    base front and back. Monitors to TVs; the screen tilts -0.1..0.35 rad about its stand."""
    W = _u(rng, m, .3, 1.6)
    H, hb = W * _u(rng, m, .5, .65), W * _u(rng, m, .04, .25)
    st = _xyz(0, hb + H * _u(rng, m, .3, .5), -W * _u(rng, m, .02, .06))
    screen = np.stack([_xyz(sx * W / 2, y, 0 * W) for y in (hb + H, hb) for sx in (1, -1)], 1)
    screen = _about_axis(screen, st, _xyz(1 + 0 * W, 0, 0), _u(rng, m, -.1, .35))
    return _pts(*screen.transpose(1, 0, 2), st, _xyz(0, 0, st[:, 2]),
                _xyz(0, 0, W * _u(rng, m, .06, .2)), _xyz(0, 0, -W * _u(rng, m, .08, .18)))


def generate_laptops(m, rng):
    """(m, 6, 3): base front corners L R, hinge L R, screen top corners L R; the lid opens
    40..140 degrees from closed."""
    W = _u(rng, m, .28, .4)
    D = W * _u(rng, m, .62, .75)
    Hs, a = D * _u(rng, m, .9, 1.0), np.deg2rad(_u(rng, m, 40, 140))
    lid = _xyz(0, Hs * np.sin(a), -D / 2 + Hs * np.cos(a))
    return _pts(*[_xyz(sx * W / 2, 0, D / 2) for sx in (1, -1)],
                *[_xyz(sx * W / 2, 0, -D / 2) for sx in (1, -1)],
                *[lid + _xyz(sx * W / 2, 0, 0) for sx in (1, -1)])


def generate_boxes(m, rng):
    """(m, 9, 3): centre, then corners (front, back) x (top, bottom) x (left, right). The
    longest side 0.2 .. 1.2 m, each other side 1/15 .. 1 of it (books, cereal boxes,
    parcels, cabinets; scale is not observable, proportions are what varies)."""
    ratio = _log_u(rng, 3 * m, 1 / 15, 1.0).reshape(m, 3)
    ratio[np.arange(m), rng.integers(0, 3, m)] = 1.0                 # one side is the longest
    w, h, d = (ratio * _u(rng, m, .2, 1.2)[:, None]).T / 2
    corners = [_xyz(sx * w, h + sy * h, sz * d) for sz in (1, -1) for sy in (1, -1) for sx in (1, -1)]
    return _pts(_xyz(0, h, 0), *corners)


def generate_shoes(m, rng):
    """(m, 7, 3): toe tip, heel bottom, sole's widest points at the ball L R, instep, collar
    front and back. Trainers to boots; left and right shoes (the big toe's side is longer)."""
    L = _u(rng, m, .15, .33)
    W = L * _u(rng, m, .33, .4)
    foot = rng.choice([-1.0, 1.0], m)                     # +1: a right shoe (big toe at +x)
    collar = L * _u(rng, m, .28, .8)                      # low trainer .. boot
    return _pts(_xyz(foot * W * .15, L * _u(rng, m, .02, .06), L / 2), _xyz(0, 0, -L / 2),
                _xyz(W / 2, L * .02, L * (.18 + .03 * foot)), _xyz(-W / 2, L * .02, L * (.18 - .03 * foot)),
                _xyz(0, L * _u(rng, m, .2, .3), L * _u(rng, m, .05, .15)),
                _xyz(0, collar * _u(rng, m, .8, .95), -L * _u(rng, m, .05, .15)),
                _xyz(0, collar, -L * _u(rng, m, .38, .45)))


def _jitter(p, rng):
    """Per-axis scale (+-3 %) and per-point noise (0.3 % of the extent): manufacturing variety."""
    s = rng.uniform(.97, 1.03, (p.shape[0], 1, 3))
    return (p * s + rng.normal(0, .003, p.shape) * np.ptp(p, axis=1, keepdims=True)).astype(np.float32)


OBJECTS = {"chair10": ("chair", generate_chairs), "table8": ("table", generate_tables),
           "car12": ("car", generate_cars), "aircraft10": ("aircraft", generate_aircraft),
           "bottle8": ("bottle", generate_bottles), "mug8": ("mug", generate_mugs),
           # v5
           "bicycle11": ("bicycle", generate_bicycles), "motorbike10": ("motorbike", generate_motorbikes),
           "sofa12": ("sofa", generate_sofas), "bus12": ("bus", generate_buses),
           "boat8": ("boat", generate_boats), "monitor8": ("monitor", generate_monitors),
           "laptop6": ("laptop", generate_laptops), "box9": ("box", generate_boxes),
           "shoe7": ("shoe", generate_shoes)}


def object_source(rig: str, count: int = 20000, seed: int = 0) -> GeneratorSource:
    category, fn = OBJECTS[rig]
    return GeneratorSource(f"{rig}_synthetic", category, rig,
                           lambda m, rng: _jitter(fn(m, rng), rng), count, seed)
