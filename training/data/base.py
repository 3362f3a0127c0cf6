"""The one base class every pose source derives from."""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from lfm3d_net.rigs import get_rig

SPLITS = ("train", "val")


class PoseSource(ABC):
    """A source of 3D poses of one rig.

    Attributes:
        name: source name (registry key).
        category: object category (person, hand, face, quadruped, ...).
        rig: a name in `lfm3d_net.rigs.RIGS`.
    `poses(split)` returns `(M, N, 3)` float32 in a y-up world frame (metres for
    people/animals, natural units for objects). Real data is split by subject or
    clip, never by frame; synthetic data by seed.
    """

    name: str = ""
    category: str = ""
    rig: str = ""

    @abstractmethod
    def _load(self, split: str) -> np.ndarray:
        """Return the raw (M, N, 3) poses of `split` (already validated split name)."""

    def poses(self, split: str = "train") -> np.ndarray:
        """(M, N, 3) float32 poses of `split` in {"train", "val"}, checked against the rig."""
        if split not in SPLITS:
            raise ValueError(f"{self.name}: split must be one of {SPLITS}, got {split!r}")
        return check_poses(self._load(split), self.rig, where=f"{self.name}[{split}]")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, rig={self.rig!r})"


def check_poses(poses, rig: str, where: str) -> np.ndarray:
    """Validate `(M, N, 3)` poses for `rig`: right N, finite, non-empty. Returns float32."""
    p = np.asarray(poses, dtype=np.float32)
    n = get_rig(rig).n
    if p.ndim != 3 or p.shape[1:] != (n, 3):
        raise ValueError(f"{where}: expected (M, {n}, 3) poses for rig {rig!r}, got {p.shape}")
    if p.shape[0] == 0:
        raise ValueError(f"{where}: no poses")
    if not np.isfinite(p).all():
        bad = int((~np.isfinite(p)).any(axis=(1, 2)).sum())
        raise ValueError(f"{where}: {bad} poses contain NaN/inf")
    return p


class GeneratorSource(PoseSource):
    """A synthetic source from a seeded generator `fn(m, rng) -> (m, N, 3)`.

    Train and val draw from independent streams of the same seed, so they never
    share a sample; val is `count // 10` poses.
    """

    def __init__(self, name: str, category: str, rig: str, fn, count: int = 20000, seed: int = 0):
        self.name, self.category, self.rig = name, category, rig
        self.fn, self.count, self.seed = fn, count, seed

    def _load(self, split: str) -> np.ndarray:
        rng = np.random.default_rng([self.seed, 0 if split == "train" else 1])
        m = self.count if split == "train" else max(self.count // 10, 1)
        return self.fn(m, rng)
