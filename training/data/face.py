"""Faces: the iBUG-68 mean face + synthetic identity/expression variation -> `face68`.

The mean shape (`face68_meanshape.npz`, from insightface's `meanshape_68.pkl`) is stored
with x to image right, y down, z towards the camera: a left-handed frame. Flipping y
gives the y-up right-handed world frame, with the face looking along +z and the
subject's left at +x (as for the mocap people). Scaled to metres (outer eye corners
9 cm apart).
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from training.data.base import PoseSource
from training.data.mocap_npz import DEFAULT_DATA_DIR

DEFAULT_FACE = DEFAULT_DATA_DIR / "face68_meanshape.npz"
METRES_PER_UNIT = 0.09 / 0.763          # outer eye-corner distance 0.763 units ~ 9 cm

_JAW_MOVING = np.r_[3:14, 55:60, 65:68]  # chin, lower lip
_CORNERS = np.array([48, 54, 60, 64])
_BROWS = np.r_[17:27]
_UPPER_LIDS, _LOWER_LIDS = np.array([37, 38, 43, 44]), np.array([41, 40, 47, 46])


def load_mean_face(path=DEFAULT_FACE) -> np.ndarray:
    """(68, 3) mean face in metres, y-up world frame, centred. Reads .npz or insightface .pkl."""
    path = Path(path)
    if path.suffix == ".pkl":   # only the trusted sdist file; the npz is preferred
        with open(path, "rb") as f:
            lm = np.asarray(pickle.load(f), dtype=np.float32).reshape(-1, 3)
    else:
        with np.load(path) as d:
            lm = d["positions"].reshape(-1, 3).astype(np.float32)
    if lm.shape != (68, 3):
        raise ValueError(f"{path}: expected 68 3D landmarks, got {lm.shape}")
    lm = lm * np.array([1.0, -1.0, 1.0], np.float32)   # y-down -> y-up (see module doc)
    lm = lm - lm.mean(axis=0)
    return (lm * METRES_PER_UNIT).astype(np.float32)


def vary_faces(mean: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    """(68, 3) mean face -> (m, 68, 3) faces with random identity and expression, metres.

    Identity: width/length/depth scales (+-12 %), per-landmark jitter (1.5 mm).
    Expression: jaw open (0-0.35 rad), smile, brow raise, eye closure, per face.
    """
    f = np.repeat(mean[None].astype(np.float64), m, axis=0)         # (m, 68, 3)
    u = lambda lo, hi: rng.uniform(lo, hi, size=(m, 1))  # noqa: E731
    # Jaw opens by rotating chin and lower lip about an axis near the ears (+x axis).
    ang = u(0.0, 0.35) * (rng.random((m, 1)) < 0.7)
    pivot = np.array([0.0, 0.01, -0.04])
    rel = f[:, _JAW_MOVING] - pivot
    c, s = np.cos(ang), np.sin(ang)
    y, z = rel[..., 1], rel[..., 2]
    f[:, _JAW_MOVING, 1] = pivot[1] + c * y - s * z    # chin goes down and back
    f[:, _JAW_MOVING, 2] = pivot[2] + s * y + c * z
    # Smile: mouth corners up and outwards.
    smile = u(-0.3, 1.0).clip(0) * 0.006
    f[:, _CORNERS, 1] += smile
    f[:, _CORNERS, 0] += smile * np.sign(f[:, _CORNERS, 0])
    f[:, _BROWS, 1] += u(-0.003, 0.008)                               # brow raise / frown
    close = u(-0.5, 1.0).clip(0, 1)                                   # eye closure 0..1
    f[:, _UPPER_LIDS] += close[..., None] * (f[:, _LOWER_LIDS] - f[:, _UPPER_LIDS])
    scale = rng.uniform(0.88, 1.12, size=(m, 1, 3))                  # face width/length/depth
    f = f * scale + rng.normal(0.0, 0.0015, size=f.shape)
    return f.astype(np.float32)


class FaceSource(PoseSource):
    """Synthetic faces around the real mean face; train/val differ by seed."""

    category, rig = "face", "face68"

    def __init__(self, path=DEFAULT_FACE, count: int = 20000, seed: int = 0,
                 name: str = "face68_synthetic"):
        self.path, self.count, self.seed, self.name = Path(path), count, seed, name

    def _load(self, split: str) -> np.ndarray:
        rng = np.random.default_rng([self.seed, 0 if split == "train" else 1])
        n = self.count if split == "train" else max(self.count // 10, 1)
        return vary_faces(load_mean_face(self.path), n, rng)
