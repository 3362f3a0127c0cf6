"""H3WB / COCO-WholeBody 3D json -> `coco_wholebody133` poses.

Format (H3WB `*_3Dpose_*.json`): a dict `{sample_id: {"keypoints_3d": {"0": {"x","y","z"},
..., "132": {...}}, ...}}`, or a list of such sample dicts. Coordinates are in the
camera frame (y down, z forward), usually millimetres; they are turned to y-up metres
(`unit_scale`, default 1/1000). H3WB gives no subject ids, so the split is by sample-id
hash (deterministic); samples from one video still may fall on both sides: use
`val_ids` when you know the clips.
"""
from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np

from training.data.base import PoseSource

N_WHOLEBODY = 133


def _sample_pose(sample: dict, where: str) -> np.ndarray:
    kp = sample.get("keypoints_3d")
    if not isinstance(kp, dict) or len(kp) != N_WHOLEBODY:
        n = len(kp) if isinstance(kp, dict) else type(kp).__name__
        raise ValueError(f"{where}: 'keypoints_3d' must map 133 indices to x/y/z, got {n}")
    try:
        return np.array([[kp[str(i)][c] for c in "xyz"] for i in range(N_WHOLEBODY)], np.float32)
    except (KeyError, TypeError) as e:
        raise ValueError(f"{where}: bad keypoint entry ({e})") from None


def load_h3wb_json(path, unit_scale: float = 1e-3) -> tuple[list[str], np.ndarray]:
    """Read -> (sample ids, (M, 133, 3) float32, y-up, metres with the default scale)."""
    with open(path) as f:
        doc = json.load(f)
    items = doc.items() if isinstance(doc, dict) else enumerate(doc)
    ids, poses = [], []
    for sid, sample in items:
        ids.append(str(sid))
        poses.append(_sample_pose(sample, f"{path}[{sid}]"))
    if not poses:
        raise ValueError(f"{path}: no samples")
    p = np.stack(poses) * unit_scale
    p[..., 1] *= -1.0   # camera y-down -> y-up
    p[..., 2] *= -1.0   # keep the frame right-handed (rotation of 180 deg about x)
    return ids, p


def is_val_id(sample_id: str, val_fraction: float) -> bool:
    """Deterministic hash split of one sample id."""
    return (zlib.crc32(sample_id.encode()) % 1000) < val_fraction * 1000


class H3wbJsonSource(PoseSource):
    """H3WB whole-body 3D poses; val by explicit `val_ids` or by id hash."""

    category, rig = "person", "coco_wholebody133"

    def __init__(self, path, val_ids=None, val_fraction: float = 0.1, unit_scale: float = 1e-3,
                 name: str = "h3wb"):
        self.path, self.name = Path(path), name
        self.val_ids = None if val_ids is None else {str(i) for i in val_ids}
        self.val_fraction, self.unit_scale = val_fraction, unit_scale

    def _load(self, split: str) -> np.ndarray:
        ids, p = load_h3wb_json(self.path, self.unit_scale)
        val = np.array([(i in self.val_ids) if self.val_ids is not None
                        else is_val_id(i, self.val_fraction) for i in ids])
        keep = val if split == "val" else ~val
        if not keep.any():
            raise ValueError(f"{self.name}: split {split!r} is empty")
        return p[keep]
