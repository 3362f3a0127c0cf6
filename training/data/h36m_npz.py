"""Human3.6M-style npz (VideoPose3D `data_3d_h36m.npz`) -> `h36m17` poses.

Format: `positions_3d` is a pickled dict `{subject: {action: (F, 17 or 32, 3)}}` in
metres, z-up world (as in Human3.6M). 32-joint arrays are reduced to the 17 standard
joints. The world is turned to y-up. Split by subject (default val: S9, S11).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from training.data.base import PoseSource

H36M32_TO_17 = [0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27]
DEFAULT_VAL_SUBJECTS = ("S9", "S11")
# z-up (x, y, z) -> y-up (x, z, -y): a proper rotation of -90 deg about x.
Z_UP_TO_Y_UP = np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]], np.float32)


def load_h36m_npz(path) -> dict[str, dict[str, np.ndarray]]:
    """Read the npz -> {subject: {action: (F, 17, 3) float32, y-up}}."""
    # allow_pickle: this format stores a dict object; only load files you trust.
    with np.load(path, allow_pickle=True) as d:
        if "positions_3d" not in d.files:
            raise ValueError(f"{path}: no 'positions_3d' key (expected VideoPose3D format)")
        data = d["positions_3d"].item()
    out = {}
    for subj, actions in data.items():
        out[subj] = {}
        for act, arr in actions.items():
            a = np.asarray(arr, np.float32)
            if a.ndim != 3 or a.shape[1] not in (17, 32) or a.shape[2] != 3:
                raise ValueError(f"{path}: {subj}/{act} has shape {a.shape}, want (F, 17|32, 3)")
            if a.shape[1] == 32:
                a = a[:, H36M32_TO_17]
            out[subj][act] = a @ Z_UP_TO_Y_UP.T
    return out


class H36mNpzSource(PoseSource):
    """Human3.6M 3D poses; val = `val_subjects`."""

    category, rig = "person", "h36m17"

    def __init__(self, path, val_subjects=DEFAULT_VAL_SUBJECTS, name: str = "h36m"):
        self.path, self.val_subjects, self.name = Path(path), tuple(val_subjects), name

    def _load(self, split: str) -> np.ndarray:
        data = load_h36m_npz(self.path)
        arrs = [a for s, acts in sorted(data.items()) if (s in self.val_subjects) == (split == "val")
                for _, a in sorted(acts.items())]
        if not arrs:
            raise ValueError(f"{self.name}: no subjects for split {split!r} in {self.path}")
        return np.concatenate(arrs)
