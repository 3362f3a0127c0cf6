"""AMASS npz with precomputed SMPL joints -> `h36m17` poses.

An AMASS file holds SMPL(-H/-X) parameters: `poses` (F, 156), `betas`, `trans`, and
`mocap_framerate`. Turning them into joint positions needs the SMPL body model files
(licensed separately, not shipped), so this loader only accepts files that already
carry joint positions: a `joints` array (F, 22 or 24, 3) in metres, z-up as AMASS
(run the SMPL forward pass yourself, e.g. `smplx` with the model files, and save
`joints` into the npz). Joints are mapped to the Human3.6M 17-joint order. One file
is one clip; split by file.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from training.data.base import PoseSource
from training.data.h36m_npz import Z_UP_TO_Y_UP

# SMPL joints: 0 pelvis, 1 l_hip, 2 r_hip, 3 spine1, 4 l_knee, 5 r_knee, 6 spine2,
# 7 l_ankle, 8 r_ankle, 9 spine3, 10 l_foot, 11 r_foot, 12 neck, 13 l_collar,
# 14 r_collar, 15 head, 16 l_shoulder, 17 r_shoulder, 18 l_elbow, 19 r_elbow,
# 20 l_wrist, 21 r_wrist (22, 23 hands). H3.6M-17 order from them; thorax = neck,
# neck/nose and head top both approximated by the SMPL head joint offsets.
SMPL_TO_H36M = [0, 2, 5, 8, 1, 4, 7, 6, 12, 15, 15, 16, 18, 20, 17, 19, 21]


def load_amass_joints(path) -> np.ndarray:
    """(F, 17, 3) float32 h36m17-order poses, y-up metres, from an AMASS npz with `joints`."""
    with np.load(path) as d:
        if "joints" not in d.files:
            have = ", ".join(sorted(d.files))
            raise ValueError(
                f"{path}: no 'joints' array (has: {have}). AMASS stores SMPL parameters "
                "(poses, betas, trans); skinning them needs the SMPL/SMPL-H model files, which "
                "lfm3d does not ship. Run the SMPL forward pass (e.g. the smplx package with "
                "your licensed model files) and save the (F, 22 or 24, 3) joint positions as "
                "'joints' in the npz.")
        j = np.asarray(d["joints"], np.float32)
    if j.ndim != 3 or j.shape[1] not in (22, 24) or j.shape[2] != 3:
        raise ValueError(f"{path}: 'joints' must be (F, 22 or 24, 3), got {j.shape}")
    p = j[:, SMPL_TO_H36M] @ Z_UP_TO_Y_UP.T
    # Head top: extend neck->head by half its length; neck/nose: between neck and head.
    neck, head = p[:, 8].copy(), p[:, 9].copy()
    p[:, 9] = neck + 0.6 * (head - neck)
    p[:, 10] = head + 0.8 * (head - neck)
    return p


class AmassNpzSource(PoseSource):
    """A folder (or list) of AMASS npz clips with precomputed joints; split by file."""

    category, rig = "person", "h36m17"

    def __init__(self, paths, val_every: int = 10, name: str = "amass"):
        paths = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
        files = []
        for p in paths:
            files += sorted(p.rglob("*.npz")) if p.is_dir() else [p]
        self.files, self.val_every, self.name = files, val_every, name

    def split_files(self, split: str) -> list[Path]:
        """Every `val_every`-th file (sorted) is val; clips never straddle splits."""
        return [f for i, f in enumerate(self.files) if (i % self.val_every == self.val_every - 1)
                == (split == "val")]

    def _load(self, split: str) -> np.ndarray:
        files = self.split_files(split)
        if not files:
            raise ValueError(f"{self.name}: no files for split {split!r}")
        return np.concatenate([load_amass_joints(f) for f in files])
