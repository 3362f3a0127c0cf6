"""Random keypoint layouts of a known body: what a user's own rig looks like.

A user's rig names some of a body's joints, perhaps points between them (spine segments,
a mid-forearm marker), in its own order, joined by its own edges. Layout k of a base
skeleton (joints + parent tree) keeps a random subset of its joints plus a few points on
random bones, and joins each kept point to its nearest kept ancestor. The same (seed, k)
always gives the same layout. Sides and fronts come from the base joints; a point on a
bone takes its bone's. Numpy only.

    layout = make_layout("layout_person_03", "person", HUMAN36_JOINTS, HUMAN36_PARENTS, k=3)
    layout.points(poses36)          # (M, 36, 3) -> (M, N, 3)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lfm3d_net.rigs import Rig, _front_of, _side_of, register_rig
from training.data.base import PoseSource

N_RANGE = (8, 30)     # points per layout (at most the base's joints + inserted points)
MAX_INSERTED = 4      # points on bones per layout: 0..this
T_RANGE = (0.25, 0.75)  # where on its bone an inserted point sits (0 = parent joint)


@dataclass(frozen=True)
class Layout:
    """A layout's rig and how its points come from the base joints: point i lies at
    (1 - t[i]) * base[a[i]] + t[i] * base[b[i]] (a == b, t == 0 for a base joint)."""

    rig: Rig
    a: np.ndarray      # (N,) int
    b: np.ndarray      # (N,) int
    t: np.ndarray      # (N,) float

    def points(self, base: np.ndarray) -> np.ndarray:
        """(M, B, 3) poses of the base skeleton -> (M, N, 3) float32 poses of this layout."""
        t = self.t[None, :, None]
        return ((1 - t) * base[:, self.a] + t * base[:, self.b]).astype(np.float32)


def make_layout(name: str, category: str, joints, parents, k: int, seed: int = 0,
                n_range: tuple[int, int] = N_RANGE, max_inserted: int = MAX_INSERTED) -> Layout:
    """Layout k of a base skeleton: `joints` (B,) names, `parents` (B,) indices (-1 = root,
    parents before children not required). Sides/fronts from the joint names (rigs.py)."""
    rng = np.random.default_rng([seed, k])
    joints, parents = tuple(joints), list(parents)
    base_n = len(joints)
    bones = [j for j in range(base_n) if parents[j] >= 0]
    inserted = rng.choice(bones, int(rng.integers(0, max_inserted + 1)), replace=False)
    # Tree over base joints + inserted points; point m on bone (parent(b), b) becomes b's parent.
    par = parents[:]
    a, b, t = list(range(base_n)), list(range(base_n)), [0.0] * base_n
    for child in inserted:
        par.append(par[child])
        par[child] = len(par) - 1
        a.append(parents[child])
        b.append(int(child))
        t.append(float(rng.uniform(*T_RANGE)))
    total = len(par)
    n = int(rng.integers(min(n_range[0], total), min(n_range[1], total) + 1))
    kept = [int(i) for i in sorted(rng.choice(total, n, replace=False))]
    where = {v: i for i, v in enumerate(kept)}
    edges, tops = [], []
    for v in kept:
        u = par[v]
        while u >= 0 and u not in where:
            u = par[u]
        (edges.append((where[u], where[v])) if u >= 0 else tops.append(where[v]))
    edges += [(tops[0], w) for w in tops[1:]]      # parts with no kept ancestor: joined at one
    names, sides, fronts = [], [], []
    for v in kept:
        if v < base_n:
            names.append(joints[v])
            sides.append(_side_of(joints[v]))
            fronts.append(_front_of(joints[v]))
        else:
            ja, jb = joints[a[v]], joints[b[v]]
            sa, sb, fa, fb = _side_of(ja), _side_of(jb), _front_of(ja), _front_of(jb)
            names.append(f"{jb}_bone{round(100 * t[v])}")
            sides.append(sb if sa in (0, sb) else 0)
            fronts.append(fb if fa == fb else 0)
    rig = Rig(name, category, tuple(names), tuple(edges), tuple(sides), tuple(fronts))
    idx = np.asarray(kept)
    return Layout(rig, np.asarray(a)[idx], np.asarray(b)[idx], np.asarray(t, np.float64)[idx])


def parents_from_edges(n: int, edges, root: int = 0) -> list[int]:
    """A parent tree (breadth-first from `root`) over a connected rig's edges; (N,) indices."""
    nbrs: dict[int, list[int]] = {i: [] for i in range(n)}
    for u, v in edges:
        nbrs[u].append(v)
        nbrs[v].append(u)
    par, queue = [-2] * n, [root]
    par[root] = -1
    for u in queue:
        for v in sorted(nbrs[u]):
            if par[v] == -2:
                par[v] = u
                queue.append(v)
    if -2 in par:
        raise ValueError(f"parents_from_edges: joints {[i for i, p in enumerate(par) if p == -2]} "
                         f"are not connected to joint {root}")
    return par


class LayoutSource(PoseSource):
    """The poses of a base source seen through one layout (the layout's rig is registered)."""

    def __init__(self, name: str, layout: Layout, base: PoseSource):
        self.name, self.layout, self.base = name, layout, base
        self.rig, self.category = layout.rig.name, layout.rig.category
        register_rig(layout.rig)

    def _load(self, split: str) -> np.ndarray:
        return self.layout.points(self.base.poses(split))
