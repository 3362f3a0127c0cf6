"""The demo scene: real mocap people and a face, seen by a moving virtual camera (numpy only).

lfm3d_ros/demo_source.py publishes it as `keypoints_2d` + `camera_info`. The 3D
keypoints are real motion capture (CMU mocap on the iClone rig, `mocap26`, from
../shared/data when present, else a small clip bundled in lfm3d_ros/demo_data/) and the
iBUG-68 mean face (`face68`), projected through a pinhole camera that orbits the scene;
a little 2D noise is added.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

BUNDLED = Path(__file__).resolve().parent / "demo_data" / "demo_clips.npz"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
FACE_METRES = 0.09 / 0.763   # face68 mean shape: outer eye corners 0.763 units ~ 9 cm apart
FACE_ID = 100
MALFORMED_KINDS = ("length_mismatch", "non_finite", "too_few_points", "bad_edges", "unknown_rig")


def default_data_path() -> Path:
    """../shared/data/cmu_iclone_mocap.npz next to the repo if present, else the bundled clip."""
    shared = SHARED / "cmu_iclone_mocap.npz"
    return shared if shared.is_file() else BUNDLED


@dataclass
class CameraModel:
    """Pinhole intrinsics of the virtual camera (pixels)."""

    width: int = 640
    height: int = 480
    focal: float = 500.0

    def k(self) -> np.ndarray:
        """(3, 3) camera matrix."""
        return np.array([[self.focal, 0, self.width / 2], [0, self.focal, self.height / 2], [0, 0, 1]])


def look_at(eye: np.ndarray, target: np.ndarray, up=(0.0, 1.0, 0.0)) -> np.ndarray:
    """(3, 3) world->camera rotation of an optical frame (x right, y down, z forward)."""
    z = target - eye
    z = z / np.linalg.norm(z)
    x = np.cross(z, np.asarray(up))
    x = x / np.linalg.norm(x)
    y = np.cross(z, x)
    return np.stack([x, y, z])


def load_people(path: Path, people: int, frames_per_clip: int = 300) -> list[np.ndarray]:
    """`people` motion tracks (T, 26, 3) metres, y up, each walking in place from its own clip."""
    data = np.load(path)
    pos, clip_ids = data["positions"], data["clip_ids"]
    clips = np.unique(clip_ids)
    tracks = []
    for i in range(people):
        frames = pos[clip_ids == clips[(i * 7) % len(clips)]][:frames_per_clip].astype(np.float64)
        root = frames[:, :1, :].copy()
        root[..., 1] = 0.0                      # keep height, remove the walk across the room
        tracks.append(frames - root)
    return tracks


def load_face(path: Path) -> np.ndarray:
    """(68, 3) mean face in metres, face frame x right, y down, z towards the viewer."""
    if path.name == BUNDLED.name:
        shape = np.load(path)["face68"]
    else:
        shape = np.load(path.with_name("face68_meanshape.npz"))["positions"][0]
    return np.asarray(shape, np.float64) * FACE_METRES


class DemoScene:
    """People on a ring of slots + a face near the camera; `frame(t)` gives 2D instances."""

    def __init__(self, data_path: Path | None = None, people: int = 3, include_face: bool = True,
                 camera: CameraModel | None = None, noise_px: float = 0.5, seed: int = 0):
        path = Path(data_path) if data_path else default_data_path()
        self.tracks = load_people(path, people)
        self.face = load_face(path) if include_face else None
        self.camera = camera or CameraModel()
        self.noise_px = noise_px
        self.rng = np.random.default_rng(seed)
        self.slots = [np.array([1.6 * (i - (people - 1) / 2), 0.0, 0.6 * (i % 2)]) for i in range(people)]

    def camera_pose(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """(R world->camera (3, 3), eye (3,)): a slow half orbit 6 m out, 1.6 m high."""
        angle = 0.5 * np.sin(2 * np.pi * t / 20.0)
        eye = np.array([6.0 * np.sin(angle), 1.6, 6.0 * np.cos(angle)])
        return look_at(eye, np.array([0.0, 0.9, 0.0])), eye

    def project(self, cam_points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 3) camera-frame metres -> (uv (N, 2) pixels, in-view (N,) bool)."""
        z = cam_points[:, 2]
        safe = np.where(z > 1e-3, z, np.nan)
        uv = self.camera.k()[:2, :2] @ (cam_points[:, :2] / safe[:, None]).T
        uv = uv.T + self.camera.k()[:2, 2]
        inside = (z > 1e-3) & (uv[:, 0] >= 0) & (uv[:, 0] < self.camera.width) \
            & (uv[:, 1] >= 0) & (uv[:, 1] < self.camera.height)
        return uv, inside

    def frame(self, t: float) -> list[dict]:
        """Instances at time t (s): dicts of instance_id, category, rig, uv (N, 2), confidence (N,)."""
        rot, eye = self.camera_pose(t)
        out = []
        for i, (track, slot) in enumerate(zip(self.tracks, self.slots)):
            world = track[int(t * 30) % len(track)] + slot                # (26, 3)
            out.append(self._instance(i, "person", "mocap26", (world - eye) @ rot.T))
        if self.face is not None:
            yaw = 0.4 * np.sin(2 * np.pi * t / 4.0)
            c, s = np.cos(yaw), np.sin(yaw)
            turned = self.face @ np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]).T
            # Face frame z points at the viewer; camera z points away: flip z, place 1.2 m out.
            cam = turned * np.array([1.0, 1.0, -1.0]) + np.array([0.0, -0.3, 1.2])
            out.append(self._instance(FACE_ID, "face", "face68", cam))
        return out

    def _instance(self, iid: int, category: str, rig: str, cam_points: np.ndarray) -> dict:
        uv, inside = self.project(cam_points)
        uv = uv + self.rng.normal(scale=self.noise_px, size=uv.shape)
        conf = np.where(inside, 0.9, 0.0).astype(np.float32)
        uv = np.where(inside[:, None], uv, 0.0).astype(np.float32)
        return {"instance_id": iid, "category": category, "rig": rig, "uv": uv, "confidence": conf}


def malformed(kind: str, n: int = 17) -> dict:
    """An instance that the lifter must reject for `kind` (one of MALFORMED_KINDS)."""
    uv = np.random.default_rng(1).uniform(100, 300, (n, 2)).astype(np.float32)
    inst = {"instance_id": 999, "category": "person", "rig": "", "uv": uv,
            "confidence": np.ones(n, np.float32), "edges": []}
    if kind == "length_mismatch":
        inst["confidence"] = np.ones(n - 2, np.float32)
    elif kind == "non_finite":
        inst["uv"][3, 0] = np.inf
    elif kind == "too_few_points":
        inst["confidence"][2:] = 0.0
    elif kind == "bad_edges":
        inst["edges"] = [0, n + 5]
    elif kind == "unknown_rig":
        inst["rig"] = "no_such_rig"
    else:
        raise ValueError(f"unknown malformed kind {kind!r}; choose from {MALFORMED_KINDS}")
    return inst
