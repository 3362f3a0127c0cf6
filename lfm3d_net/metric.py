"""Metric placement: put a root-relative lifted skeleton at metric depth in the camera frame.

The Lifter returns camera-aligned points that are root-relative and in the input's pixel
units (an orthographic fit). With the camera intrinsics and a known real size of the
object (a *size prior*: a person is about 1.7 m tall), a weak-perspective camera gives

    metres_per_pixel = metric_size / pixel_size         # pixel_size: 3D extent in pixels
    z                = f * metres_per_pixel              # = f * metric_size / pixel_size
    (X, Y)           = ((u - cx) * z / fx, (v - cy) * z / fy)   # back-projected 2D centroid

and the metric skeleton is `points * metres_per_pixel + (X, Y, z)`, in the camera's
optical frame (REP 103: x right, y down, z forward), metres.

The *extent* is the largest distance between two valid points (rotation invariant). A size
prior is what people quote (a person's stature), but a rig's keypoints span less: COCO-17
runs from the eyes to the ankles, about 0.92 of the stature. `keypoint_extent_prior` scales
the category's prior by the rig's measured fraction (`RIG_EXTENT_FRACTION`), so a 1.70 m
person lifted with coco17 is placed as 1.57 m of keypoints, not 1.70 m (4-8 % too far).
The extent still depends on the pose (a crouch spans less than a stride): the fractions are
medians over varied motion, and a person far from such poses is placed proportionally off.
Lens distortion is ignored: keypoints are assumed rectified or the distortion small.
"""

from __future__ import annotations

import numpy as np

# Typical largest dimension of each category, metres. Conservative, commonly quoted sizes;
# override per deployment (the node reads them from its `size_prior.*` parameters).
DEFAULT_SIZE_PRIORS: dict[str, float] = {
    "person": 1.70,     # standing height
    "hand": 0.19,       # wrist to middle fingertip
    "face": 0.20,       # chin to forehead / ear to ear
    "quadruped": 1.00,  # dog-sized animal, nose to tail
    "bird": 0.25,
    "chair": 0.90,
    "table": 1.20,
    "car": 4.50,
    "aircraft": 30.0,
    "bottle": 0.25,
    "mug": 0.12,
    "robot_arm": 0.85,     # largest keypoint extent of posed Panda / iiwa / xArm 6 arms (median)
    "legged_robot": 0.70,  # A1 / Aliengo / Laikago / Mini Cheetah, standing to trotting (median)
    "fish": 0.30,
    "insect": 0.03,
    "reptile": 0.50,       # lizard-sized; a crocodile is ~4 m
    "bicycle": 1.75,
    "motorbike": 2.10,
    "sofa": 2.00,
    "bus": 12.0,
    "boat": 8.00,
    "monitor": 0.70,
    "laptop": 0.35,
    "box": 0.50,           # no typical size: set it for your boxes
    "shoe": 0.28,
    "bat": 0.35,           # wingspan of a common bat; flying foxes reach 1.5 m
    "biped": 1.80,         # kangaroo standing height; theropods range from 0.5 to 12 m long
}
DEFAULT_UNKNOWN_SIZE = 1.0  # metres; used for a category with no prior

# Keypoint extent of a rig as a fraction of its category's size prior (the stature for people):
# medians over the 11,813 frames of ../shared/data/cmu_iclone_mocap.npz (one 1.75 m rig, real
# motion: walking, running, jumping, climbing, dance), each rig's points derived as in
# training/data (tests/test_node_metric.py re-measures them where the data is present).
# Rigs not listed count as 1.0: their category's prior is taken as their keypoint extent.
RIG_EXTENT_FRACTION: dict[str, float] = {
    "coco17": 0.925,             # eyes / ears to ankles
    "mocap26": 0.939,            # head joint to toe bases
    "h36m17": 0.979,             # head top to ankles
    "panoptic15": 0.895,         # nose to ankles
    "coco_wholebody133": 0.978,  # face, finger tips and toes
    "body25": 0.964,             # OpenPose: eyes / ears to heels and toes
    "mediapipe_pose33": 0.968,   # MediaPipe Pose: eyes / ears to heels and toes, hands
}


def size_prior(category: str, priors: dict[str, float] | None = None,
               default: float = DEFAULT_UNKNOWN_SIZE) -> float:
    """Size prior in metres for `category` (case-insensitive), else `default`."""
    table = DEFAULT_SIZE_PRIORS if priors is None else priors
    value = table.get((category or "").strip().lower(), default)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"size prior for category {category!r} must be > 0 metres, got {value}")
    return float(value)


def keypoint_extent_prior(category: str, rig: str = "", priors: dict[str, float] | None = None,
                          default: float = DEFAULT_UNKNOWN_SIZE) -> float:
    """Metres the keypoints of `rig` span for an object of `category`: the size prior times
    the rig's RIG_EXTENT_FRACTION (1.0 for rigs not listed)."""
    return size_prior(category, priors, default) * RIG_EXTENT_FRACTION.get(rig or "", 1.0)


def extent(points: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Largest pairwise distance between valid points.

    points: (B, N, 3) any units; mask: (B, N) bool, True = valid (default: all valid).
    Returns (B,) in the points' units; 0 where fewer than 2 points are valid.
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 3 or points.shape[-1] != 3:
        raise ValueError(f"extent: points must be (B, N, 3), got {points.shape}")
    mask = np.ones(points.shape[:2], bool) if mask is None else np.asarray(mask, bool)
    if mask.shape != points.shape[:2]:
        raise ValueError(f"extent: mask {mask.shape} does not match points {points.shape[:2]}")
    clean = np.where(mask[..., None], points, 0.0)          # NaNs at masked points -> 0
    diff = clean[:, :, None, :] - clean[:, None, :, :]      # (B, N, N, 3)
    dist = np.linalg.norm(diff, axis=-1)                     # (B, N, N)
    pair = mask[:, :, None] & mask[:, None, :]               # (B, N, N)
    return np.where(pair, dist, 0.0).max(axis=(1, 2), initial=0.0)


def intrinsics_from_k(k: np.ndarray) -> tuple[float, float, float, float]:
    """(fx, fy, cx, cy) from a row-major 3x3 camera matrix (CameraInfo.k, 9 values)."""
    k = np.asarray(k, dtype=np.float64).reshape(-1)
    if k.size != 9:
        raise ValueError(f"camera matrix must have 9 values, got {k.size}")
    fx, fy, cx, cy = k[0], k[4], k[2], k[5]
    if not (np.isfinite([fx, fy, cx, cy]).all() and fx > 0 and fy > 0):
        raise ValueError(f"camera matrix has invalid intrinsics fx={fx} fy={fy} cx={cx} cy={cy}")
    return float(fx), float(fy), float(cx), float(cy)


def place_metric(points: np.ndarray, center: np.ndarray, mask: np.ndarray,
                 k: np.ndarray, metric_size: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Place root-relative pixel-unit skeletons at metric depth in the camera frame.

    points:      (B, N, 3) root-relative, camera-aligned, input pixel units (Lifter .points)
    center:      (B, 2) pixels, the 2D centroid the points are relative to (Lifter .center)
    mask:        (B, N) bool, True = valid point
    k:           (9,) or (3, 3) camera matrix, pixels
    metric_size: (B,) or scalar, metres: the real keypoint extent of each object
                 (`keypoint_extent_prior`)
    Returns (points_m (B, N, 3) metres in the camera optical frame,
             depth (B,) metres, metres_per_pixel (B,)).
    Instances whose extent is zero or not finite (fewer than 2 distinct valid points, or
    corrupt points) get NaN: never a depth of 0, inf or a sign flip.
    """
    points = np.asarray(points, dtype=np.float64)
    center = np.asarray(center, dtype=np.float64)
    b = points.shape[0]
    if center.shape != (b, 2):
        raise ValueError(f"place_metric: center must be ({b}, 2), got {center.shape}")
    size = np.broadcast_to(np.asarray(metric_size, dtype=np.float64), (b,))
    if not (np.isfinite(size).all() and (size > 0).all()):
        raise ValueError(f"place_metric: metric_size must be finite and > 0, got {size}")
    fx, fy, cx, cy = intrinsics_from_k(k)
    f = 0.5 * (fx + fy)  # isotropic scale: keeps the 3D shape undistorted

    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # corrupt -> NaN below
        pixel_size = extent(points, mask)                               # (B,)
        ok = np.isfinite(pixel_size) & (pixel_size > 0)
        m_per_px = np.where(ok, size / pixel_size, np.nan)              # (B,)
    depth = f * m_per_px                                                # (B,)
    x = (center[:, 0] - cx) * depth / fx
    y = (center[:, 1] - cy) * depth / fy
    offset = np.stack([x, y, depth], axis=-1)                           # (B, 3)
    placed = points * m_per_px[:, None, None] + offset[:, None, :]      # (B, N, 3)
    return placed, depth, m_per_px
