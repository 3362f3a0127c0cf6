"""The real-world proxy and the data that looks like the real world (issue 28): user-style
layouts, realistic human variants, the held-out sets and the proxy's metrics."""
import numpy as np
import pytest

from lfm3d_net.rigs import MOCAP26_JOINTS, get_rig
from training.data import registry
from training.data.layouts import make_layout, parents_from_edges
from training.data.retarget import HUMAN36_JOINTS, HUMAN36_PARENTS
from training.data.synthetic_human import (DEFINITIONS, TORSO, body_frame, move_points, scale_bones,
                                           vary_definitions, vary_proportions)

from conftest import requires_shared_data

J = {n: i for i, n in enumerate(MOCAP26_JOINTS)}


def _standing(m: int = 4) -> np.ndarray:
    """(m, 26, 3) a mirror-symmetric pose of the mocap rig (y up, facing +z, left +x)."""
    p = np.zeros((26, 3))
    for i, name in enumerate(MOCAP26_JOINTS):
        if name.startswith("r_"):
            continue
        p[i] = [0.1 + 0.02 * i if name.startswith("l_") else 0.0, 0.5 + 0.03 * i, 0.01 * (i % 3)]
        if name.startswith("l_"):
            p[J["r_" + name[2:]]] = p[i] * [-1.0, 1.0, 1.0]
    p[J["l_thigh"], 1] = p[J["r_thigh"], 1] = 1.0
    p[J["l_thigh"], 2] = p[J["r_thigh"], 2] = 0.0
    p[J["hip"]], p[J["neck"]] = [0, 1.0, 0], [0, 1.0 + TORSO, 0]
    return np.repeat(p[None], m, axis=0)


def _mirror(p: np.ndarray) -> np.ndarray:
    """Swap left/right joints and negate x."""
    swap = [J[("r_" + n[2:]) if n.startswith("l_") else ("l_" + n[2:]) if n.startswith("r_") else n]
            for n in MOCAP26_JOINTS]
    return p[:, swap] * np.array([-1.0, 1.0, 1.0])


# ------------------------------------------------------------------ layouts
def test_layout_points_are_base_joints_or_points_on_their_bones():
    layout = make_layout("t_layout", "person", HUMAN36_JOINTS, HUMAN36_PARENTS, k=5)
    base = np.random.default_rng(1).normal(size=(7, len(HUMAN36_JOINTS), 3))
    pts = layout.points(base)
    assert pts.shape == (7, layout.rig.n, 3)
    for i, name in enumerate(layout.rig.joints):
        a, b, t = layout.a[i], layout.b[i], layout.t[i]
        if "_bone" in name:
            assert HUMAN36_PARENTS[b] == a and 0.25 <= t <= 0.75, name
        else:
            assert a == b == HUMAN36_JOINTS.index(name) and t == 0
        np.testing.assert_allclose(pts[:, i], (1 - t) * base[:, a] + t * base[:, b], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("k", range(12))
def test_layouts_are_connected_trees_with_sides_from_their_joints(k):
    rig = make_layout("t_layout", "person", HUMAN36_JOINTS, HUMAN36_PARENTS, k=k).rig
    assert 8 <= rig.n <= 30 and len(rig.edges) == rig.n - 1, "a tree over the kept points"
    parents_from_edges(rig.n, rig.edges)                       # raises if not connected
    for name, side in zip(rig.joints, rig.sides):
        if name.startswith(("l_", "left_")):
            assert side == -1, name
        if name.startswith(("r_", "right_")):
            assert side == 1, name


def test_a_dropped_joint_links_its_children_to_the_nearest_kept_ancestor():
    joints, parents = ("root", "knee", "ankle", "toe"), (-1, 0, 1, 2)
    for k in range(40):
        lay = make_layout("t_chain", "x", joints, parents, k, n_range=(3, 3), max_inserted=0)
        kept = [joints.index(j) for j in lay.rig.joints]
        want = {(kept.index(max(p for p in kept if p < v)), kept.index(v)) for v in kept if v != min(kept)}
        assert set(lay.rig.edges) == want, (lay.rig.joints, lay.rig.edges)


def test_same_k_same_layout_and_different_k_differ():
    a = make_layout("t1", "person", HUMAN36_JOINTS, HUMAN36_PARENTS, k=3).rig
    b = make_layout("t1", "person", HUMAN36_JOINTS, HUMAN36_PARENTS, k=3).rig
    c = make_layout("t1", "person", HUMAN36_JOINTS, HUMAN36_PARENTS, k=4).rig
    assert a == b and a != c


def test_parents_from_edges_refuses_a_disconnected_rig():
    assert parents_from_edges(3, [(0, 1), (1, 2)], root=1) == [1, -1, 1]
    with pytest.raises(ValueError, match=r"\[2\] are not connected"):
        parents_from_edges(3, [(0, 1)])


def test_quadruped_layouts_are_training_sources_counted_apart():
    src = registry.SOURCES["quadruped_layout_03"]()
    assert (src.category, src.rig) == registry.SOURCE_INFO["quadruped_layout_03"]
    p = src.poses("val")
    assert p.shape[1:] == (get_rig(src.rig).n, 3) and np.isfinite(p).all()
    assert set(registry.LAYOUT_SOURCES) <= set(registry.TRAIN_SOURCES)
    assert not set(registry.LAYOUT_SOURCES) & set(registry.NAMED_SOURCES)


def test_animal_layouts_are_training_sources_that_arm_a_never_had():
    src = registry.SOURCES["animal_layout_05"]()
    assert (src.category, src.rig) == registry.SOURCE_INFO["animal_layout_05"]
    p = src.poses("val")
    assert p.shape[1:] == (get_rig(src.rig).n, 3) and np.isfinite(p).all()
    animal = {n for n in registry.LAYOUT_SOURCES if n.startswith("animal_layout_")}
    assert len(animal) == registry.ANIMAL_LAYOUTS and animal <= set(registry.TRAIN_SOURCES)
    assert not animal & set(registry.SOURCE_SETS["realworld_a"]), "arm A's config keeps its data"


def test_anatomy_keeps_the_17_points_and_bends_the_legs_the_right_way():
    from training.data.quadruped_anatomy import JOINTS, add_anatomy
    from training.data.synthetic_animals import generate_quadrupeds
    rng = np.random.default_rng(0)
    p17 = generate_quadrupeds(200, rng)
    p = add_anatomy(p17, rng)
    assert p.shape == (200, len(JOINTS), 3) and np.isfinite(p).all()
    np.testing.assert_array_equal(p[:, :17], p17)
    at = {n: p[:, i] for i, n in enumerate(JOINTS)}
    fwd = (at["left_shoulder"] + at["right_shoulder"] - at["left_hip"] - at["right_hip"]) / 2
    ahead = lambda a, b: np.einsum("md,md->m", a - b, fwd)  # noqa: E731  (> 0: a ahead of b)

    def off_line(point, top, end):  # point's offset from the line top-end along fwd, where
        d = (end - top) / np.linalg.norm(end - top, axis=-1, keepdims=True)  # that is defined
        v = point - top
        across = np.abs(np.einsum("md,md->m", d, fwd / np.linalg.norm(fwd, axis=-1, keepdims=True))) < 0.9
        return np.einsum("md,md->m", v - np.einsum("md,md->m", v, d)[:, None] * d, fwd)[across]
    for s in ("left", "right"):
        assert np.all(off_line(at[f"{s}_hock"], at[f"{s}_knee"], at[f"{s}_back_paw"]) <= 1e-6), \
            "a hock sits behind its leg's line"
        assert np.all(off_line(at[f"{s}_carpus"], at[f"{s}_elbow"], at[f"{s}_front_paw"]) >= -1e-6), \
            "a carpus at or ahead of it"
    assert np.all(ahead(at["tail_tip"], at["root_of_tail"]) < 0), "the tail trails"
    assert np.all(ahead(at["head"], at["neck"]) > ahead(at["withers"], at["neck"])), "head ahead of withers"


def test_quadruped28_is_a_tree_whose_sides_and_fronts_come_from_the_names():
    from training.data.quadruped_anatomy import PARENTS
    r = get_rig("quadruped28")
    assert r.n == 28 and len(r.edges) == 27 and sum(p < 0 for p in PARENTS) == 1
    side, front = dict(zip(r.joints, r.sides)), dict(zip(r.joints, r.fronts))
    assert side["left_hock"] == -1 and side["right_carpus"] == 1 and side["mid_back"] == 0
    assert front["tail_tip"] == -1 and front["nose"] == 1 and front["withers"] == 0


# ------------------------------------------------------------------ realistic people
def test_definitions_move_mirrored_points_mirrored_and_keep_the_eyes():
    p = _standing()
    p = np.concatenate([p, _mirror(p)])                   # a pose and its mirror image
    rng = np.random.default_rng(3)
    offsets = {name: rng.uniform(-0.03, 0.03, 3) for name in ("l_thigh", "r_thigh", "neck")}
    offsets["r_thigh"] = offsets["l_thigh"]                # one definition for both hips
    out = move_points(p, offsets)
    np.testing.assert_allclose(_mirror(out[:4]), out[4:], atol=1e-5)
    moved = vary_definitions(p, np.random.default_rng(0))
    np.testing.assert_allclose(moved[:, [J["l_eye"], J["r_eye"]]], p[:, [J["l_eye"], J["r_eye"]]], atol=1e-6)
    assert {n[2:] if n[:2] in ("l_", "r_") else n for n in MOCAP26_JOINTS} - set(DEFINITIONS) == {"eye"}


def test_an_outwards_offset_moves_a_left_point_to_the_subjects_left():
    p = _standing(1)
    left, up, fwd = body_frame(p)
    np.testing.assert_allclose([left[0], up[0]], [[1, 0, 0], [0, 1, 0]], atol=1e-9)
    np.testing.assert_allclose(fwd[0], [0, 0, 1], atol=1e-9)
    out = move_points(p, {"l_thigh": (0.02, 0.0, 0.0), "r_thigh": (0.02, 0.0, 0.0)})
    np.testing.assert_allclose(out[0, J["l_thigh"]] - p[0, J["l_thigh"]], [0.02, 0, 0], atol=1e-6)
    np.testing.assert_allclose(out[0, J["r_thigh"]] - p[0, J["r_thigh"]], [-0.02, 0, 0], atol=1e-6)


def test_scale_bones_scales_each_bone_and_carries_the_children():
    p = _standing(1)
    f = np.ones(26)
    f[J["l_forearm"]] = 2.0
    out = scale_bones(p, f)
    bone = lambda x, c: x[0, J[c]] - x[0, MOCAP26_PARENTS_OF[c]]  # noqa: E731
    np.testing.assert_allclose(bone(out, "l_forearm"), 2 * bone(p, "l_forearm"), atol=1e-6)
    np.testing.assert_allclose(bone(out, "l_hand"), bone(p, "l_hand"), atol=1e-6)


MOCAP26_PARENTS_OF = {n: HUMAN36_PARENTS[i] for i, n in enumerate(MOCAP26_JOINTS)}


def test_realistic_builds_leave_the_plain_variants_random_stream_alone():
    p = _standing(50)
    plain = vary_proportions(p, np.random.default_rng(9))
    again = vary_proportions(p, np.random.default_rng(9))
    built = vary_proportions(p, np.random.default_rng(9), realistic=True)
    np.testing.assert_array_equal(plain, again)
    assert not np.allclose(plain, built)
    width = lambda x, a, b: np.linalg.norm(x[:, J[a]] - x[:, J[b]], axis=-1)  # noqa: E731
    ratio = width(built, "l_upperarm", "r_upperarm") / width(built, "l_thigh", "r_thigh")
    assert np.ptp(ratio) > 0.1, "builds vary shoulder against hip width"


# ------------------------------------------------------------------ the proxy
def test_random_views_are_rotations_and_the_2d_is_the_camera_xy():
    from bench.realworld import random_views
    poses = np.random.default_rng(0).normal(size=(200, 9, 3))
    kp, cam = random_views(poses, seed=1)
    centred = poses - poses.mean(1, keepdims=True)
    np.testing.assert_allclose(np.linalg.norm(cam, axis=-1), np.linalg.norm(centred, axis=-1), atol=1e-9)
    np.testing.assert_allclose(kp, 1000 * cam[..., :2] + 640, rtol=1e-5, atol=1e-2)


def test_an_upright_subject_stays_upright_in_the_camera_frame():
    from bench.realworld import random_views
    p = np.zeros((100, 2, 3))
    p[:, 1, 1] = 1.0                                   # head above feet (world y up)
    _, cam = random_views(p, seed=0)
    assert (cam[:, 1, 1] < cam[:, 0, 1]).all(), "image y points down (REP 103 optical)"


def test_clip_interval_is_zero_wide_for_a_constant_and_covers_the_mean():
    from bench.realworld import clip_interval
    clips = np.repeat(np.arange(10), 5)
    assert clip_interval(np.full(50, 3.0), clips) == (3.0, 3.0)
    v = np.random.default_rng(0).normal(size=50) + np.repeat(np.arange(10.0), 5)
    lo, hi = clip_interval(v, clips)
    assert lo < v.mean() < hi and hi - lo > 1.0, "clip-level spread makes a wide interval"


def test_paired_table_calls_a_row_better_only_when_the_interval_excludes_zero():
    from bench.realworld import paired_table
    clips = np.repeat(np.arange(8), 4)
    noise = np.random.default_rng(0).normal(size=32)
    a = [{"name": "r", "clips": clips, "pa": 50 + noise, "camera": 60 + noise}]
    b = [{"name": "r", "clips": clips, "pa": 48 + noise, "camera": 60 + noise[::-1]}]
    row = paired_table(a, b).splitlines()[-1]
    assert "PA better" in row and "camera level" in row, row


@requires_shared_data
def test_held_out_sets_are_real_skeletons_never_trained_on():
    from training.data.realworld import HELD_OUT_SUBJECT, held_out_sets
    sets = held_out_sets()
    assert "deepmimic" in registry.HELD_OUT_SOURCES and "deepmimic" not in registry.TRAIN_SOURCES
    from training.data.mocap_npz import DEFAULT_VAL_SUBJECTS
    assert HELD_OUT_SUBJECT in DEFAULT_VAL_SUBJECTS, "the CMU set must be a subject no split trains on"
    for s in sets:
        assert s.poses.shape[1:] == (s.rig.n, 3) and np.isfinite(s.poses).all(), s.name
        assert len(set(s.clips)) >= 10, f"{s.name}: intervals resample clips"
        height = np.ptp(s.poses[..., 1], axis=1).max()
        tall = (0.4, 1.0) if s.person == "DeepMind's dog" else (1.4, 2.2)
        assert tall[0] < height < tall[1], f"{s.name}: metres, the subject's height ({height:.2f})"
        assert (s.motion == "real") == (s.person != "DeepMind's dog"), s.name
    assert {s.rig.name for s in sets if not s.user_rig} == {"h36m17", "coco17", "quadruped17"}


@requires_shared_data
def test_proxy_runs_through_the_public_lifter_and_beats_the_flat_floor_with_a_rig():
    from bench.realworld import evaluate
    from training.data.realworld import cmu_sets
    s = [s for s in cmu_sets() if s.rig.name == "h36m17"][0]
    (row,) = evaluate(None, [type(s)(s.person, s.input, s.poses[::10], s.clips[::10], s.rig)], threads=1)
    assert row["pa"].mean() < 0.6 * row["flat"].mean(), "the shipped model must beat depth 0"
    assert row["camera"].mean() > row["pa"].mean(), "no rotation fitted: worse than PA on the whole"


@requires_shared_data
def test_the_committed_proxy_rows_are_what_the_benchmark_prints():
    """training/results/realworld/v12_proxy.json (the README's people rows) is the shipped model's
    proxy run: same sets, same views, same means (to 0.05 mm: CPUs differ in the last bits)."""
    import json
    from pathlib import Path
    from bench.realworld import evaluate, summary
    from training.data.realworld import held_out_sets
    committed = json.loads((Path(__file__).resolve().parents[1]
                            / "training/results/realworld/v12_proxy.json").read_text())
    now = summary(evaluate(None, held_out_sets(), seed=committed["view_seed"], threads=1))
    assert [r["name"] for r in now] == [r["name"] for r in committed["rows"]]
    for a, b in zip(now, committed["rows"]):
        for key in ("pa", "camera", "flat"):
            assert abs(a[key] - b[key]) < 0.05, (a["name"], key, a[key], b[key])


@requires_shared_data
def test_flip_average_flag_pairs_the_model_with_its_own_flip_averaged_lift(monkeypatch, capsys):
    import bench.realworld as bench
    import training.data.realworld as realworld
    s = [s for s in realworld.cmu_sets() if s.rig.name == "h36m17"][0]
    few = type(s)(s.person, s.input, s.poses[::20], s.clips[::20], s.rig)
    monkeypatch.setattr(realworld, "held_out_sets", lambda *args: [few])
    assert bench.main(["--flip-average", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "## shipped model flip-averaged\n" in out
    assert "## shipped model flip-averaged minus shipped model (paired, same views)" in out
    paired = out.split("(paired, same views)")[1].strip().splitlines()
    assert len(paired) == 3 and paired[-1].startswith(f"| {few.name} |"), paired
    with pytest.raises(SystemExit):
        bench.main(["--flip-average", "--model", "a.onnx", "--model", "b.onnx"])


@requires_shared_data
def test_dm_cmu_skeleton_has_its_bone_lengths_and_offsets_and_keeps_bone_directions():
    from lfm3d_net.rigs import MOCAP26_PARENTS
    from training.data.mocap_npz import DEFAULT_MOCAP, load_mocap_npz
    from training.data.realworld import DM_CMU_BONES, DM_CMU_HIP, DM_CMU_SPINE, on_dm_cmu_skeleton
    p, _ = load_mocap_npz(DEFAULT_MOCAP)
    p = p[::50]
    q = on_dm_cmu_skeleton(p)
    j = {n: i for i, n in enumerate(MOCAP26_JOINTS)}
    bone = lambda x, n: x[:, j[n]] - x[:, MOCAP26_PARENTS[j[n]]]  # noqa: E731
    for name, length in DM_CMU_BONES.items():
        assert np.allclose(np.linalg.norm(bone(q, name), axis=-1), length, atol=1e-5), name
        cos = np.sum(bone(q, name) * bone(p, name), -1) / np.linalg.norm(bone(p, name), axis=-1) / length
        assert cos.min() > 0.9999, f"{name}: the bone must keep its direction"
    spine = sum(np.linalg.norm(bone(q, n), axis=-1) for n in ("waist", "spine01", "spine02", "neck"))
    assert np.allclose(spine, DM_CMU_SPINE, atol=1e-5)
    left, up, fwd = body_frame(p)
    hip = q[:, j["l_thigh"]] - q[:, j["hip"]]
    got = np.stack([np.sum(hip * a, -1) for a in (left, up, fwd)], -1)
    assert np.allclose(got, DM_CMU_HIP, atol=1e-5), "the left hip sits at its offset in the pelvis frame"
    tall = lambda x: np.median(np.ptp(x[..., 1], axis=1))  # noqa: E731
    assert tall(q) < 0.95 * tall(p), "a 1.6 m skeleton, shorter than the 1.75 m CMU rig"


def test_clip_table_gives_each_models_mean_per_clip():
    from bench.realworld import clip_table
    clips = np.array(["walk", "walk", "roll"])
    a = [{"name": "set", "clips": clips, "pa": np.array([10.0, 20.0, 90.0])}]
    b = [{"name": "set", "clips": clips, "pa": np.array([12.0, 12.0, 60.0])}]
    lines = clip_table([a, b], ["m1", "m2"]).splitlines()
    assert lines[0] == "### set" and "| m1 | m2 |" in lines[2]
    assert "| roll | 1 | 90.0 | 60.0 |" in lines and "| walk | 2 | 15.0 | 12.0 |" in lines


def test_clip_views_show_every_frame_of_a_clip_from_one_camera():
    from bench.realworld import random_views
    poses = np.random.default_rng(2).normal(size=(6, 5, 3))
    poses[:] = poses[0]                                   # one pose, six frames
    clips = np.array(["a", "a", "a", "b", "b", "b"])
    _, cam = random_views(poses, seed=3, clips=clips)
    np.testing.assert_allclose(cam[1:3], cam[[0, 0]])     # same clip, same view
    assert not np.allclose(cam[3], cam[0])                # another clip, another view


def test_along_clips_keeps_each_frame_in_its_previous_frames_depth_mode_and_restarts_per_clip():
    from bench.realworld import along_clips
    from lfm3d_net.geometry import depth_mirror
    rng = np.random.default_rng(4)
    shape = rng.normal(size=(1, 9, 3))
    frames = np.repeat(shape, 6, axis=0) + 0.01 * rng.normal(size=(6, 9, 3))
    frames[[2, 4, 5]] = depth_mirror(frames[[2, 4, 5]])  # a network flipping between modes
    clips = np.array(["a"] * 4 + ["b"] * 2)
    kept = along_clips(frames, clips)
    z = np.einsum("mn,n->m", kept[..., 2], shape[0, :, 2])
    assert (z[:4] > 0).all(), "clip a keeps its first frame's mode"
    assert (z[4:] < 0).all(), "clip b starts again from its own first frame (mirrored here)"


@requires_shared_data
def test_mirror_flag_scores_keypoints_alone_three_ways(monkeypatch, capsys):
    import bench.realworld as bench
    import training.data.realworld as realworld
    import dataclasses
    alone = [s for s in realworld.cmu_sets() if not s.structure][0]
    few = dataclasses.replace(alone, poses=alone.poses[::20], clips=alone.clips[::20])
    monkeypatch.setattr(realworld, "held_out_sets", lambda *args: [few])
    assert bench.main(["--mirror", "--threads", "1"]) == 0
    out = capsys.readouterr().out.split("depth mirror of keypoints alone")[1]
    row = [line for line in out.splitlines() if line.startswith(f"| {few.name} |")]
    assert len(row) == 1, out
    pa = [float(c.split("/")[0].split("[")[0]) for c in row[0].split("|")[2:5]]
    assert pa[1] <= pa[0] + 1e-9 and pa[1] <= pa[2] + 1e-9, f"the per-pose better mode cannot lose: {pa}"


def test_dm_dog_rest_pose_stands_symmetric_on_its_paws():
    from training.data import dm_dog
    names = list(dm_dog.POINTS)
    p = dm_dog.keypoints(np.zeros((1, len(dm_dog.joint_ranges()))))[0]
    paws = [names.index(f"{s}_{w}_paw") for s in ("left", "right") for w in ("front", "back")]
    assert np.all(p[paws, 1] < 0.02) and p[:, 1].min() > -0.01, "paws on the ground (y up)"
    assert p[names.index("nose"), 2] > p[names.index("tail_tip"), 2], "facing +z"
    for n in names:
        if n.startswith("left_"):
            np.testing.assert_allclose(p[names.index("right_" + n[5:])] * [-1, 1, 1], p[names.index(n)],
                                       atol=1e-6, err_msg=n)


def test_dm_dog_poses_keep_every_bone_length_and_stay_within_the_joint_limits():
    from training.data import dm_dog
    lo, hi = dm_dog.joint_ranges().T
    a = dm_dog.random_angles(50, np.random.default_rng(0), spread=0.5)
    assert np.all(a >= lo) and np.all(a <= hi)
    rest, posed = dm_dog.forward(np.zeros((1, len(lo)))), dm_dog.forward(a)
    for b in dm_dog.skeleton()["bodies"]:
        if b["parent"] is None:
            continue
        length = lambda f: np.linalg.norm(f[b["name"]][0] - f[b["parent"]][0], axis=-1)  # noqa: E731
        # a hinge turns about its anchor, so a bone with an off-origin anchor may stretch a
        # little; the body itself stays rigid: its rotation is a rotation
        r = posed[b["name"]][1]
        np.testing.assert_allclose(r @ r.transpose(0, 2, 1), np.broadcast_to(np.eye(3), r.shape), atol=1e-9)
        if all(not any(j["anchor"]) for j in b["joints"]):
            np.testing.assert_allclose(length(posed), length(rest)[0], atol=1e-9, err_msg=b["name"])


def test_dog26_rig_is_a_tree_with_sides_and_fronts_from_its_names():
    from training.data.layouts import parents_from_edges
    from training.data.realworld import dog26_rig
    rig = dog26_rig()
    assert rig.n == 26 and len(rig.edges) == 25
    parents_from_edges(rig.n, rig.edge_array())   # raises unless one connected tree
    side = dict(zip(rig.joints, rig.sides))
    front = dict(zip(rig.joints, rig.fronts))
    assert side["left_hock"] == -1 and side["right_eye"] == 1 and side["spine_mid"] == 0
    assert front["nose"] == 1 and front["tail_tip"] == -1 and front["spine_mid"] == 0
