"""Procedural rigs: deterministic, varied, valid (connected, symmetric rest pose, honest
sides), plausible samples, and usable as registry / mixture sources."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lfm3d_net.rigs import get_rig
from training.data import registry
from training.data.procedural import (BONE_JITTER, N_RANGE, PROPORTIONS, SCALE, creature_rig,
                                      object_rig, procedural_source, rest_pose)

RIG = {"creature": creature_rig, "object": object_rig}
K = range(registry.PROCEDURAL_RIGS)


def _components(n, edges) -> int:
    parent = list(range(n))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i
    for a, b in edges:
        parent[find(a)] = find(b)
    return len({find(i) for i in range(n)})


def _mirror_index(rest, sides):
    """For each side -1 point the index of its side +1 mirror (x -> -x) in the rest pose."""
    out = {}
    for i in np.flatnonzero(sides == -1):
        d = np.linalg.norm(rest - rest[i] * [-1, 1, 1], axis=1)
        j = int(np.argmin(np.where(sides == 1, d, np.inf)))
        assert d[j] < 1e-6, f"point {i} has no mirror"
        out[i] = j
    return out


@pytest.mark.parametrize("kind", RIG)
def test_same_k_gives_the_same_rig_and_poses(kind):
    (r1, f1), (r2, f2) = RIG[kind](5), RIG[kind](5)
    assert r1 == r2
    np.testing.assert_array_equal(f1(20, np.random.default_rng(3)), f2(20, np.random.default_rng(3)))
    assert not np.array_equal(f1(20, np.random.default_rng(3)), f1(20, np.random.default_rng(4)))
    assert r1 != RIG[kind](6)[0]


@pytest.mark.parametrize("kind, min_distinct", [("creature", 12), ("object", 8)])
def test_rigs_vary_in_size_and_topology(kind, min_distinct):
    rigs = [RIG[kind](k)[0] for k in K]
    n = [r.n for r in rigs]
    assert len(set(n)) >= min_distinct and len({len(r.edges) for r in rigs}) >= min_distinct
    assert N_RANGE[kind][0] <= min(n) and max(n) <= N_RANGE[kind][1]
    assert len({(r.edges, r.sides) for r in rigs}) >= 0.8 * len(rigs)  # mostly distinct graphs


@pytest.mark.parametrize("kind", RIG)
@pytest.mark.parametrize("k", K)
def test_rig_is_valid_symmetric_and_samples_are_sane(kind, k):
    rig, fn = RIG[kind](k)
    assert rig.name == f"proc_{kind}_{k:02d}" and rig.category == f"procedural_{kind}"
    assert N_RANGE[kind][0] <= rig.n <= N_RANGE[kind][1]
    assert _components(rig.n, rig.edges) == 1
    if kind == "creature":
        assert len(rig.edges) == rig.n - 1                            # a kinematic tree
    s = rig.side_array()
    assert set(np.unique(s)) <= {-1.0, 0.0, 1.0} and (s == -1).sum() == (s == 1).sum()
    rest = rest_pose(kind, k)
    assert rest.shape == (rig.n, 3) and np.isfinite(rest).all()
    _mirror_index(rest, s)
    assert (rest[s == -1, 0] > 0).all() and (rest[s == 1, 0] < 0).all()
    d = np.linalg.norm(rest[:, None] - rest[None], axis=-1) + np.eye(rig.n) * 1e9
    assert d.min() > 0.01 * np.ptp(rest, axis=0).max()
    p = fn(64, np.random.default_rng(k))
    assert p.shape == (64, rig.n, 3) and p.dtype == np.float32 and np.isfinite(p).all()
    sv = np.linalg.svd(p - p.mean(1, keepdims=True), compute_uv=False)
    assert (sv[:, 1] > 1e-3 * sv[:, 0]).all()                         # never collinear


@pytest.mark.parametrize("k", K)
def test_creature_bones_stay_within_the_jitter_bounds(k):
    rig, fn = creature_rig(k)
    e = rig.edge_array()
    rest = rest_pose("creature", k)
    p = fn(200, np.random.default_rng(0)).astype(np.float64)
    ratio = np.linalg.norm(p[:, e[:, 0]] - p[:, e[:, 1]], axis=-1) / np.linalg.norm(
        rest[e[:, 0]] - rest[e[:, 1]], axis=-1)                        # (M, E)
    lo, hi = PROPORTIONS[0] * (1 - BONE_JITTER), PROPORTIONS[1] * (1 + BONE_JITTER)
    tol = 1e-4                                                         # float32 poses
    assert (ratio >= SCALE[0] * lo - tol).all() and (ratio <= SCALE[1] * hi + tol).all()
    assert (ratio.max(1) / ratio.min(1) <= hi / lo + tol).all()       # within one sample
    assert (ratio.std(0) / ratio.mean(0)).min() > 0.05                # and really varied


def test_creature_limbs_pose_left_and_right_independently():
    checked = 0
    for k in K:
        rig, fn = creature_rig(k)
        s = rig.side_array()
        mirror = _mirror_index(rest_pose("creature", k), s)
        limbs = [(i, j) for i, j in mirror.items() if "limb" in rig.joints[i]]
        if not limbs:
            continue
        p = fn(100, np.random.default_rng(1))
        left, right = np.array(limbs).T
        diff = np.abs(p[:, left] * [-1, 1, 1] - p[:, right]).max(axis=(1, 2))
        assert (diff > 1e-3 * np.ptp(p, axis=1).max(1)).mean() > 0.9, rig.name
        # mirror bones keep equal lengths (shared jitter), so the body stays bilateral
        parent = np.zeros(rig.n, int)
        parent[rig.edge_array()[:, 1]] = rig.edge_array()[:, 0]       # edges are (parent, child)
        bl = lambda j: np.linalg.norm(p[:, j] - p[:, parent[j]], axis=-1)  # noqa: E731
        np.testing.assert_allclose(bl(left), bl(right), rtol=1e-4)
        checked += 1
    assert checked >= 30


@pytest.mark.parametrize("k", K)
def test_object_sides_match_geometry_and_dims_vary(k):
    rig, fn = object_rig(k)
    p = fn(200, np.random.default_rng(0))
    s = rig.side_array()
    if (s != 0).any():
        assert (p[:, s == -1, 0] > 0).all() and (p[:, s == 1, 0] < 0).all()
    ext = np.ptp(p, axis=1).max(1)
    assert ext.max() / ext.min() > 1.3 and 0.02 < ext.min() and ext.max() < 12.0


def test_procedural_source_registers_its_rig_and_yields_poses():
    src = procedural_source("object", 7, count=30, seed=2)
    again = procedural_source("object", 7)                             # re-registering is fine
    assert (src.name, src.category, src.rig) == ("procedural_object_07", "procedural_object", "proc_object_07")
    assert get_rig(src.rig) == object_rig(7)[0] and again.rig == src.rig
    p = src.poses("train")
    assert p.shape == (30, get_rig(src.rig).n, 3)
    np.testing.assert_array_equal(p, src.poses("train"))
    assert src.poses("val").shape[0] == 3
    with pytest.raises(ValueError, match="kind"):
        procedural_source("plant", 0)


def test_registry_lists_procedural_training_sources_without_building_them():
    proc, last = registry.PROCEDURAL_SOURCES, registry.PROCEDURAL_RIGS - 1
    assert len(proc) == 2 * registry.PROCEDURAL_RIGS
    assert proc[0] == "procedural_creature_00" and proc[-1] == f"procedural_object_{last:02d}"
    assert set(proc) <= set(registry.TRAIN_SOURCES) and set(proc) <= set(registry.SOURCE_INFO)
    assert set(registry.NAMED_SOURCES) == set(registry.SOURCES) - set(proc) - set(registry.LAYOUT_SOURCES)
    assert "hand21_synthetic" in registry.NAMED_SOURCES
    for name in ("procedural_creature_00", "procedural_object_13"):
        src = registry.SOURCES[name](count=10)
        assert (src.category, src.rig) == registry.SOURCE_INFO[name]
    # a fresh import knows every source's rig but has registered (and generated) nothing
    code = ("import lfm3d_net.rigs as r, training.data.registry as g; "
            "assert not [n for n in r.RIGS if n.startswith('proc_')]; "
            "assert g.SOURCE_INFO['procedural_creature_07'] == ('procedural_creature', 'proc_creature_07')")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])


def test_make_source_and_mixture_draw_procedural_batches():
    torch = pytest.importorskip("torch")
    from training.config import TrainConfig, build_mixture, make_source
    from training.data.mixture import PoseMixture
    src = procedural_source("creature", 3, count=50)
    b = PoseMixture([src]).batch(8, torch.Generator().manual_seed(0))
    assert b["keypoints"].shape == (8, get_rig(src.rig).n, 2) and b["category"] == "procedural_creature"
    cfg = TrainConfig()
    assert make_source("procedural_object_03", cfg).rig == "proc_object_03"
    mix = build_mixture(["procedural_creature_01", "procedural_object_02"], {}, "val", cfg)
    g = torch.Generator().manual_seed(1)
    for _ in range(4):
        b = mix.batch(4, g)
        assert b["keypoints"].shape == (4, get_rig(b["rig"]).n, 2) and torch.isfinite(b["target"]).all()


def test_any_procedural_rig_number_names_a_source_beyond_the_listed_48():
    from training.config import TrainConfig, make_source
    src = registry.source_factory("procedural_creature_1234")(count=5)
    assert (src.name, src.rig, src.category) == ("procedural_creature_1234", "proc_creature_1234",
                                                 "procedural_creature")
    assert src.poses("train").shape == (5, get_rig(src.rig).n, 3)
    for bad in ("procedural_creature_7", "procedural_plant_00", "procedural_object_00x", "nope"):
        assert not registry.is_source(bad), bad
        with pytest.raises(KeyError):
            registry.source_factory(bad)
    assert make_source("procedural_object_500", TrainConfig()).rig == "proc_object_500"


def test_procedural_rigs_setting_widens_the_default_training_sources_only():
    from training.config import TrainConfig, load_config, resolve_sources
    assert TrainConfig().procedural_rigs == registry.PROCEDURAL_RIGS, "config default drifted from the registry"
    named = [n for n in registry.TRAIN_SOURCES if n not in registry.PROCEDURAL_SOURCES]
    assert resolve_sources([]) == list(registry.TRAIN_SOURCES)
    assert resolve_sources([], registry.PROCEDURAL_RIGS) == list(registry.TRAIN_SOURCES)
    wide = resolve_sources([], 120)
    assert wide[:len(named)] == named and len(wide) == len(named) + 240
    assert "procedural_creature_119" in wide and "procedural_object_119" in wide
    assert resolve_sources([], 0) == named
    assert resolve_sources(["hand21_synthetic"], 500) == ["hand21_synthetic"]   # explicit lists win
    with pytest.raises(ValueError, match="unknown data source"):
        resolve_sources(["procedural_creature_5"])
    with pytest.raises(ValueError, match=">= 0"):
        registry.procedural_names(-1)
    cfg = load_config(Path(__file__).resolve().parents[1] / "training/configs/small_v12.yaml")
    assert cfg.procedural_rigs == 3000
