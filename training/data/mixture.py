"""Weighted multi-source batches: each batch comes from one (source, rig), views on the device."""
from __future__ import annotations

import numpy as np
import torch

from lfm3d_net.rigs import get_rig
from training.data.base import PoseSource
from training.data.views import ViewConfig, render_views


class PoseMixture:
    """Draw batches from `sources` chosen by `weights`; one source (so one N) per batch.

    3D pose pools are generated/loaded once per source (numpy, CPU) and moved to a
    device on first use, so training is not CPU-bound; views are rendered per batch.
    """

    def __init__(self, sources: list[PoseSource], weights=None, split: str = "train",
                 view_cfg: ViewConfig | None = None):
        if not sources:
            raise ValueError("PoseMixture needs at least one source")
        w = np.ones(len(sources)) if weights is None else np.asarray(weights, dtype=np.float64)
        if w.shape != (len(sources),) or (w < 0).any() or w.sum() <= 0:
            raise ValueError(f"weights must be {len(sources)} non-negative numbers with a positive sum, got {weights}")
        self.sources, self.split = list(sources), split
        self.probs = torch.as_tensor(w / w.sum(), dtype=torch.float64)
        self.view_cfg = view_cfg or ViewConfig()
        self._pools: dict[tuple[int, str], torch.Tensor] = {}

    def pool(self, i: int, device) -> torch.Tensor:
        """(M, N, 3) float32 poses of source i on `device` (cached)."""
        key = (i, str(torch.device(device)))
        if key not in self._pools:
            cpu = next((p for (j, d), p in self._pools.items() if j == i), None)
            if cpu is None:
                cpu = torch.from_numpy(self.sources[i].poses(self.split))
            self._pools[key] = cpu.to(device)
        return self._pools[key]

    def batch(self, batch_size: int, generator: torch.Generator, device="cpu") -> dict:
        """One batch: keypoints, mask, adjacency, sides, fronts, target (tensors on `device`),
        plus `category`, `rig`, `source` (str)."""
        i = int(torch.multinomial(self.probs, 1, generator=generator))
        src = self.sources[i]
        pool = self.pool(i, device)
        idx = torch.randint(0, pool.shape[0], (batch_size,), generator=generator).to(pool.device)
        out = render_views(pool[idx], get_rig(src.rig), self.view_cfg, generator)
        out.update(category=src.category, rig=src.rig, source=src.name)
        return out


def pad_collate(batches: list[dict]) -> dict:
    """Concatenate view dicts of different N: pad to the max N (mask False, adjacency
    self-loops only, zeros elsewhere). Non-tensor fields become lists per sample."""
    n = max(b["keypoints"].shape[1] for b in batches)
    out: dict = {}
    for key in ("keypoints", "mask", "sides", "fronts", "target"):
        parts = []
        for b in batches:
            t = b[key]
            pad = [0, 0] * (t.ndim - 2) + [0, n - t.shape[1]]
            parts.append(torch.nn.functional.pad(t, pad))
        out[key] = torch.cat(parts)
    adj = []
    for b in batches:
        a = b["adjacency"]
        k = a.shape[1]
        full = torch.eye(n, dtype=torch.bool, device=a.device).repeat(a.shape[0], 1, 1)
        full[:, :k, :k] = a
        adj.append(full)
    out["adjacency"] = torch.cat(adj)
    for key in ("category", "rig", "source"):
        out[key] = [b.get(key) for b in batches for _ in range(b["keypoints"].shape[0])]
    return out
