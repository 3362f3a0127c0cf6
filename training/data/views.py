"""Random cameras: 3D poses -> model inputs (2D keypoints, mask, adjacency, sides) + targets.

Runs on any torch device. Random numbers come from the given `torch.Generator` (on its
own device, usually the CPU) and are moved to the poses' device, so results depend
only on the seed. World frame: y up. Camera frame (REP 103 optical): x right, y down,
z forward; at azimuth 0 and elevation 0 the camera looks at the subject's front
(+z world) from in front of it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from lfm3d_net.rigs import Rig, get_rig

try:  # the numpy twin defines k; keep one value for training and runtime
    from lfm3d_net.graph import DEFAULT_KNN
except ImportError:  # pragma: no cover - graph.py being written in parallel
    DEFAULT_KNN = 8


@dataclass
class ViewConfig:
    p_perspective: float = 0.5              # probability of a perspective (vs orthographic) camera
    azimuth_deg: tuple = (-180.0, 180.0)    # camera azimuth about world up: full circle
    elevation_deg: tuple = (-30.0, 60.0)    # camera above (+) / below (-) the subject
    roll_deg: tuple = (-20.0, 20.0)         # camera roll about its optical axis
    distance: tuple = (1.5, 8.0)            # perspective: camera distance in units of the pose's max radius
    image_size: tuple = (20.0, 1000.0)      # 2D instance size (max extent), log-uniform, pixel-like units
    image_offset: float = 2000.0            # 2D offset uniform in [0, this) on both axes
    noise_std: float = 0.01                 # 2D noise std as a fraction of the instance's 2D size
    p_missing: float = 0.15                 # max per-point missing probability (per sample uniform 0..this)
    min_visible: int = 3                    # never fewer visible points than this (or N if smaller)
    p_edge_dropout: float = 0.3             # probability of replacing rig edges by kNN adjacency
    p_sides_dropout: float = 0.2            # probability of sides set to 0 ("unknown sides")
    p_fronts_dropout: float = 0.3           # probability of fronts set to 0 ("unknown fronts")
    p_any_orientation: float = 0.0          # probability of turning the subject by a uniformly random
                                            # rotation first: lying, upside down (0 draws nothing)
    knn: int = DEFAULT_KNN                  # k of the kNN adjacency


def _uniform(lo, hi, n, gen, device):
    return (lo + (hi - lo) * torch.rand(n, generator=gen, device=gen.device)).to(device)


def rotation_matrices(azimuth, elevation, roll):
    """(B,) radians each -> (B, 3, 3) world(y-up) -> camera(y-down, z-forward) rotations."""
    def rot(axis, a):
        c, s = torch.cos(a), torch.sin(a)
        o, i = torch.zeros_like(a), torch.ones_like(a)
        if axis == "y":
            m = [c, o, s, o, i, o, -s, o, c]
        elif axis == "x":
            m = [i, o, o, o, c, -s, o, s, c]
        else:
            m = [c, -s, o, s, c, o, o, o, i]
        return torch.stack(m, -1).reshape(a.shape + (3, 3))
    flip = torch.diag(torch.tensor([1.0, -1.0, -1.0], dtype=azimuth.dtype, device=azimuth.device))
    # Turn the subject (azimuth), look down from above (elevation > 0), roll the camera.
    return rot("z", roll) @ rot("x", elevation) @ flip @ rot("y", azimuth)


def random_rotations(b: int, generator: torch.Generator) -> torch.Tensor:
    """(b, 3, 3) rotations uniform over SO(3) (normalised Gaussian quaternions), on the
    generator's device."""
    w, x, y, z = torch.nn.functional.normalize(
        torch.randn((b, 4), generator=generator, device=generator.device), dim=-1).unbind(-1)
    return torch.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
                        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
                        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
                       -1).reshape(b, 3, 3)


def knn_adjacency_torch(kp: torch.Tensor, mask: torch.Tensor, k: int) -> torch.Tensor:
    """Torch twin of `lfm3d_net.graph.knn_adjacency`: (B,N,2), (B,N) -> (B,N,N) bool.

    Each visible point links to its k nearest visible points (Euclidean 2D), the result
    is symmetrised and self-loops are set for every point (also masked ones).
    """
    b, n, _ = kp.shape
    eye = torch.eye(n, dtype=torch.bool, device=kp.device).expand(b, n, n)
    adj = eye.clone()
    kk = min(k, n - 1)
    if kk > 0:
        d = torch.cdist(kp.float(), kp.float())
        valid = mask[:, :, None] & mask[:, None, :] & ~eye
        d = d.masked_fill(~valid, float("inf"))
        vals, idx = torch.topk(d, kk, dim=-1, largest=False)
        nbr = torch.zeros_like(adj).scatter_(-1, idx, torch.isfinite(vals))
        adj = adj | nbr | nbr.transpose(1, 2)
    return adj


def edge_adjacency_torch(edges: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Torch twin of `adjacency_from_edges` per row: (E,2), (B,N) -> (B,N,N) bool;
    edges touching a masked point are dropped, self-loops always set."""
    b, n = mask.shape
    a = torch.zeros(n, n, dtype=torch.bool, device=mask.device)
    if edges.numel():
        a[edges[:, 0], edges[:, 1]] = True
        a[edges[:, 1], edges[:, 0]] = True
    adj = a[None] & mask[:, :, None] & mask[:, None, :]
    return adj | torch.eye(n, dtype=torch.bool, device=mask.device)


def render_views(poses: torch.Tensor, rig, cfg: ViewConfig, generator: torch.Generator) -> dict:
    """Random views of (B, N, 3) world poses of `rig` (name or Rig).

    Returns a dict of tensors on the poses' device:
      keypoints (B,N,2) float32 pixel-like units (x right, y down; random scale/offset;
        zeros at missing points), mask (B,N) bool, sides (B,N) and fronts (B,N) float32,
      adjacency (B,N,N) bool (rig edges, or kNN when dropped / the rig has none),
      target (B,N,3) float32 camera frame, centred on the visible points' centroid.
    """
    rig = get_rig(rig) if not isinstance(rig, Rig) else rig
    if poses.ndim != 3 or poses.shape[1:] != (rig.n, 3):
        raise ValueError(f"render_views: poses must be (B, {rig.n}, 3) for rig {rig.name}, "
                         f"got {tuple(poses.shape)}")
    dev, g = poses.device, generator
    b, n = poses.shape[:2]
    u = lambda lo, hi, *s: _uniform(lo, hi, s or (b,), g, dev)  # noqa: E731
    x = poses.float() - poses.float().mean(dim=1, keepdim=True)
    if cfg.p_any_orientation > 0:   # drawn only when asked: older configs keep their data
        turned = x @ random_rotations(b, g).to(dev).transpose(1, 2)
        x = torch.where((u(0, 1) < cfg.p_any_orientation)[:, None, None], turned, x)
    deg = math.pi / 180
    R = rotation_matrices(u(*cfg.azimuth_deg) * deg, u(*cfg.elevation_deg) * deg,
                          u(*cfg.roll_deg) * deg)
    cam = torch.einsum("bij,bnj->bni", R, x)                               # (B, N, 3)
    radius = cam.norm(dim=-1).amax(dim=1).clamp_min(1e-9)                   # (B,)
    persp = u(0, 1) < cfg.p_perspective
    depth = u(*cfg.distance) * radius                                       # (B,)
    z = cam[..., 2] + depth[:, None]
    proj = torch.where(persp[:, None, None], cam[..., :2] * (depth[:, None] / z)[..., None],
                       cam[..., :2])                                        # (B, N, 2)
    # Missing points: per-sample rate, at least min_visible kept.
    rate = u(0, cfg.p_missing)
    mask = u(0, 1, b, n) >= rate[:, None]
    few = mask.sum(1) < min(cfg.min_visible, n)
    mask = mask | few[:, None]
    # 2D size -> noise, then a random pixel scale and offset.
    m = mask[..., None]
    c2 = (proj * m).sum(1) / m.sum(1).clamp_min(1)
    size = ((proj - c2[:, None]).abs() * m).amax(dim=(1, 2)).clamp_min(1e-9)  # (B,)
    proj = proj + cfg.noise_std * size[:, None, None] * torch.randn(
        (b, n, 2), generator=g, device=g.device).to(dev)
    lo, hi = math.log(cfg.image_size[0]), math.log(cfg.image_size[1])
    pix = torch.exp(u(lo, hi)) / size
    kp = proj * pix[:, None, None] + u(0, cfg.image_offset, b, 1, 2)
    kp = kp * m
    # Target: the true camera-frame points, centred on the visible centroid.
    c3 = (cam * m).sum(1) / m.sum(1).clamp_min(1)
    target = cam - c3[:, None]
    # Adjacency: rig edges, or kNN in 2D for dropped / edge-less rigs.
    edges = torch.as_tensor(rig.edge_array(), device=dev)
    use_knn = (u(0, 1) < cfg.p_edge_dropout) | (edges.numel() == 0)
    adj = torch.where(use_knn[:, None, None], knn_adjacency_torch(kp, mask, cfg.knn),
                      edge_adjacency_torch(edges, mask))
    sides = torch.as_tensor(rig.side_array(), device=dev).expand(b, n)
    sides = sides * (u(0, 1) >= cfg.p_sides_dropout)[:, None]
    fronts = torch.as_tensor(rig.front_array(), device=dev).expand(b, n)
    fronts = fronts * (u(0, 1) >= cfg.p_fronts_dropout)[:, None]
    return {"keypoints": kp.float(), "mask": mask, "sides": sides.float().contiguous(),
            "fronts": fronts.float().contiguous(), "adjacency": adj, "target": target.float()}
