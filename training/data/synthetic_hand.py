"""Synthetic hands (`hand21`): a kinematic chain with per-finger joint limits.

Local frame: wrist at the origin, fingers along +y, palm facing +z, thumb towards -x
(a right hand); left hands are mirrored in x. Poses are natural grasps: one grasp
level per hand plus per-finger variation, finger spread, size 0.7-1.2 x adult.
"""
from __future__ import annotations

import numpy as np

from training.data.base import GeneratorSource

# Adult right hand, metres. Finger bases (MCP; thumb CMC) relative to the wrist.
_BASES = np.array([[-0.022, 0.025, 0.008], [-0.022, 0.090, 0.0], [0.000, 0.093, 0.0],
                   [0.018, 0.088, 0.0], [0.034, 0.078, 0.0]])
_SEGMENTS = np.array([[0.040, 0.032, 0.030], [0.045, 0.025, 0.020], [0.048, 0.029, 0.021],
                      [0.045, 0.027, 0.020], [0.035, 0.020, 0.018]])   # (5 fingers, 3 bones)
_SPLAY = np.deg2rad([-45.0, -8.0, 0.0, 7.0, 15.0])    # rest direction in the palm plane
# Flexion limits (rad) per finger for the 3 joints (MCP, PIP, DIP; thumb: CMC, MCP, IP).
FLEX_MIN = np.deg2rad([[-10, -10, -15], [-20, 0, -5], [-20, 0, -5], [-20, 0, -5], [-25, 0, -5]])
FLEX_MAX = np.deg2rad([[50, 60, 80], [90, 110, 80], [90, 110, 80], [90, 110, 80], [90, 110, 80]])
SPREAD_MAX = np.deg2rad(15.0)                        # abduction about the rest direction


def generate_hands(m: int, rng: np.random.Generator) -> np.ndarray:
    """(m, 21, 3) hands in metres, wrist-origin local frame (see module doc)."""
    grasp = rng.beta(1.2, 1.5, size=(m, 1, 1))                       # 0 open .. 1 fist
    frac = np.clip(grasp + rng.normal(0, 0.15, size=(m, 5, 3)), 0, 1)
    flex = FLEX_MIN + frac * (FLEX_MAX - FLEX_MIN)                    # (m, 5, 3)
    spread = _SPLAY + rng.uniform(-1, 1, size=(m, 5)) * SPREAD_MAX * (1 - grasp[..., 0])
    size = rng.uniform(0.7, 1.2, size=(m, 1, 1)) * rng.uniform(0.93, 1.07, size=(m, 5, 1))
    # Each finger bends in the plane spanned by its rest direction d and a bend normal n.
    d = np.stack([np.sin(spread), np.cos(spread), np.zeros_like(spread)], -1)   # (m, 5, 3)
    n = np.broadcast_to(np.array([0.0, 0.0, 1.0]), d.shape).copy()
    # Thumb: points out of the palm and curls across it (towards +x and +z).
    d[:, 0] = d[:, 0] * 0.85 + np.array([0.0, 0.0, 0.5])
    d[:, 0] /= np.linalg.norm(d[:, 0], axis=-1, keepdims=True)
    n0 = np.array([0.7, 0.0, 0.7]) - (d[:, 0] @ np.array([0.7, 0.0, 0.7]))[:, None] * d[:, 0]
    n[:, 0] = n0 / np.linalg.norm(n0, axis=-1, keepdims=True)
    theta = np.cumsum(flex, axis=-1)                                  # (m, 5, 3)
    dirs = np.cos(theta)[..., None] * d[:, :, None] + np.sin(theta)[..., None] * n[:, :, None]
    bones = dirs * (_SEGMENTS * size)[..., None]                      # (m, 5, 3, 3)
    base = _BASES * size                                              # (m, 5, 3)
    joints = base[:, :, None] + np.concatenate([np.zeros_like(bones[:, :, :1]),
                                                np.cumsum(bones, axis=2)], axis=2)  # (m,5,4,3)
    hands = np.concatenate([np.zeros((m, 1, 3)), joints.reshape(m, 20, 3)], axis=1)
    left = rng.random(m) < 0.5
    hands[left, :, 0] *= -1.0
    return hands.astype(np.float32)


def bend_angles(hands: np.ndarray) -> np.ndarray:
    """(M, 21, 3) -> (M, 5, 2) unsigned bend angles (rad) at the 2nd and 3rd finger joints."""
    f = hands[:, 1:].reshape(-1, 5, 4, 3)
    v = np.diff(f, axis=2)                                            # (M, 5, 3, 3) bones
    v = v / np.linalg.norm(v, axis=-1, keepdims=True)
    cos = np.sum(v[:, :, 1:] * v[:, :, :-1], axis=-1)
    return np.arccos(np.clip(cos, -1, 1))


def hand_source(count: int = 20000, seed: int = 0) -> GeneratorSource:
    return GeneratorSource("hand21_synthetic", "hand", "hand21", generate_hands, count, seed)
