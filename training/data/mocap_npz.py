"""Real mocap in the shared-data npz format (`cmu_iclone_mocap.npz`), split by subject.

Format: `positions` (F, 26, 3) metres y-up, `parents`, `joint_names`, `clip_ids` (F,),
`clip_names`. Clip names are "<subject>_<clip>" ("007_03"). The same motion is
retargeted to coco17 / h36m17 / panoptic15 (see `retarget.py`).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from lfm3d_net.rigs import MOCAP26_JOINTS
from training.data.base import PoseSource
from training.data.retarget import retarget

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[3] / "shared" / "data"
DEFAULT_MOCAP = DEFAULT_DATA_DIR / "cmu_iclone_mocap.npz"
DEFAULT_VAL_SUBJECTS = ("007",)   # CMU subject 7: 12 clips held out of training


def load_mocap_npz(path) -> tuple[np.ndarray, np.ndarray]:
    """Read a shared-format mocap npz -> (positions (F, 26, 3) float32, clip name per frame (F,)).

    Cached per path (sources of several rigs share one read); do not modify the arrays.
    """
    return _load_cached(str(Path(path).resolve()))


@lru_cache(maxsize=4)
def _load_cached(path: str) -> tuple[np.ndarray, np.ndarray]:
    path = Path(path)
    if not path.exists():
        raise ValueError(f"mocap file not found: {path} (pass data_dir / path explicitly)")
    with np.load(path) as d:
        missing = {"positions", "joint_names", "clip_ids", "clip_names"} - set(d.files)
        if missing:
            raise ValueError(f"{path}: missing keys {sorted(missing)}")
        names = tuple(str(n).replace("CC_Base_", "").lower().replace("necktwist01", "neck")
                      for n in d["joint_names"])
        if names != MOCAP26_JOINTS:
            raise ValueError(f"{path}: joint names {names} do not match the mocap26 rig")
        clips = np.asarray(d["clip_names"]).astype(str)[d["clip_ids"]]
        return d["positions"].astype(np.float32), clips


def subject_of(clip: str) -> str:
    """"007_03" -> "007"."""
    return clip.split("_")[0]


class MocapNpzSource(PoseSource):
    """Shared-format mocap, optionally retargeted; val = frames of `val_subjects`."""

    category = "person"

    def __init__(self, path=DEFAULT_MOCAP, rig: str = "mocap26",
                 val_subjects=DEFAULT_VAL_SUBJECTS, name: str | None = None):
        self.path, self.rig = Path(path), rig
        self.val_subjects = tuple(val_subjects)
        self.name = name or f"cmu_mocap_{rig}"

    def clips(self, split: str) -> list[str]:
        """Clip names in `split` (no clip is in both)."""
        _, clips = load_mocap_npz(self.path)
        is_val = lambda c: subject_of(c) in self.val_subjects  # noqa: E731
        return sorted({c for c in clips if is_val(c) == (split == "val")})

    def _load(self, split: str) -> np.ndarray:
        pos, clips = load_mocap_npz(self.path)
        val = np.isin(np.char.partition(clips, "_")[:, 0], self.val_subjects)
        keep = val if split == "val" else ~val
        if not keep.any():
            raise ValueError(f"{self.name}: split {split!r} is empty (val_subjects={self.val_subjects})")
        return retarget(pos[keep], self.rig)
