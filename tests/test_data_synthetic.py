"""Synthetic generators and registry: right N, finite, varied proportions, limits, held-out sets."""
import numpy as np
import pytest

from lfm3d_net.rigs import get_rig
from training.data import registry
from training.data.face import FaceSource, load_mean_face
from training.data.synthetic_animals import (WILD_SPECIES, generate_bats, generate_bipeds, generate_birds,
                                             generate_fish, generate_insects, generate_quadrupeds,
                                             generate_reptiles, generate_wild_quadrupeds)
from training.data.synthetic_hand import FLEX_MAX, bend_angles, generate_hands
from training.data.synthetic_human import HumanVariantSource
from training.data.synthetic_objects import OBJECTS, object_source

from conftest import requires_shared_data

SYNTHETIC = ["hand21_synthetic", "quadruped17_synthetic", "bird15_synthetic", "quadruped17_wild",
             "fish14_synthetic", "insect17_synthetic", "reptile18_synthetic", "bat16_synthetic",
             "biped17_synthetic", pytest.param("face68_synthetic", marks=requires_shared_data)] + [f"{r}_synthetic" for r in OBJECTS]
ANIMALS = [("quadruped17", generate_quadrupeds), ("quadruped17", generate_wild_quadrupeds),
           ("bird15", generate_birds), ("fish14", generate_fish), ("insect17", generate_insects),
           ("reptile18", generate_reptiles), ("bat16", generate_bats), ("biped17", generate_bipeds)]


@pytest.mark.parametrize("name", SYNTHETIC)
def test_generator_gives_rig_shape_finite_and_seeded(name):
    factory = registry.SOURCES[name]
    src = factory() if name == "face68_synthetic" else factory(count=200, seed=3)
    if name == "face68_synthetic":
        src.count = 200
    a, b = src.poses("train"), src.poses("train")
    assert a.shape[1:] == (get_rig(src.rig).n, 3) and np.isfinite(a).all()
    np.testing.assert_array_equal(a, b)                    # same seed, same poses
    assert not np.allclose(a[:20], src.poses("val")[:20])  # val is a different stream


@pytest.mark.parametrize("name", SYNTHETIC)
def test_bone_lengths_vary_plausibly(name):
    factory = registry.SOURCES[name]
    src = factory() if name == "face68_synthetic" else factory(count=300)
    if name == "face68_synthetic":
        src.count = 300
    p = src.poses("train")
    e = get_rig(src.rig).edge_array()
    length = np.linalg.norm(p[:, e[:, 0]] - p[:, e[:, 1]], axis=-1)    # (M, E)
    rel = length.std(0) / np.maximum(length.mean(0), 1e-9)
    # Varied (not one template) yet not absurd: mean relative spread 2 %..100 %.
    assert 0.02 < rel.mean() < 1.0


def test_hand_joint_limits_respected():
    h = generate_hands(5000, np.random.default_rng(0))
    a = bend_angles(h)
    # Unsigned bend at the 2nd/3rd joints never exceeds the flexion limit (1e-4 rad: float32).
    assert (a <= FLEX_MAX[None, :, 1:] + 1e-4).all()
    assert (a > np.deg2rad(60)).mean() > 0.05             # and grasps really bend


def test_hand_sizes_span_children_to_large_adults():
    h = generate_hands(2000, np.random.default_rng(1))
    wrist_to_middle = np.linalg.norm(h[:, 9] - h[:, 0], axis=-1)
    assert wrist_to_middle.min() < 0.075 and wrist_to_middle.max() > 0.105


@requires_shared_data
def test_face_is_y_up_facing_plus_z_with_left_at_plus_x():
    f = load_mean_face()
    assert f[27, 1] > f[8, 1]              # nose bridge above chin
    assert f[30, 2] > f[0, 2]              # nose tip in front of the jaw
    assert f[45, 0] > 0 > f[36, 0]         # subject's left eye corner at +x
    assert np.linalg.norm(f[36] - f[45]) == pytest.approx(0.09, rel=1e-3)


@requires_shared_data
def test_face_expressions_open_jaw_downwards():
    mean = load_mean_face()
    faces = FaceSource(count=500).poses("train")
    assert (faces[:, 8, 1] < mean[8, 1] - 0.01).mean() > 0.2     # some jaws open by > 1 cm


@requires_shared_data
@pytest.mark.parametrize("rig", ["coco17", "h36m17", "panoptic15", "coco_wholebody133"])
def test_human_variants_have_rig_shape_and_varied_height(rig):
    p = HumanVariantSource(rig, copies=1).poses("val")
    assert p.shape[1:] == (get_rig(rig).n, 3) and np.isfinite(p).all()
    height = np.ptp(p[..., 1], axis=1)
    assert height.min() < 1.3 and height.max() > 1.7        # children and tall adults


@requires_shared_data
def test_wholebody_hands_start_at_the_wrists():
    p = HumanVariantSource("coco_wholebody133", copies=1).poses("val")[:50]
    np.testing.assert_allclose(p[:, 91], p[:, 9], atol=1e-5)
    np.testing.assert_allclose(p[:, 112], p[:, 10], atol=1e-5)


@pytest.mark.parametrize("rig, fn", ANIMALS)
def test_animals_are_finite_and_not_degenerate(rig, fn):
    p = fn(2000, np.random.default_rng(0))
    assert p.shape == (2000, get_rig(rig).n, 3) and np.isfinite(p).all()
    d = np.linalg.norm(p[:, :, None] - p[:, None], axis=-1) + np.eye(p.shape[1]) * 1e9
    extent = np.ptp(p, axis=1).max(-1)
    assert (d.min(axis=(1, 2)) > 1e-4 * extent).mean() > 0.99, "keypoints on top of each other"


def test_quadruped_data_is_unchanged_by_the_wild_modes():
    """generate_quadrupeds shares its code with the wild species: its draws (the v1-v4
    training data) must not move. Values recorded from the generator before the change."""
    p = generate_quadrupeds(3000, np.random.default_rng(5))
    np.testing.assert_allclose(p[0, :3], [[-0.27098, 2.04558, 1.72566], [-0.51922, 2.04558, 1.60887],
                                          [-0.54011, 1.88499, 1.97547]], atol=1e-5)
    np.testing.assert_allclose(p[1234, 7], [0.12846, 0.12462, 0.19491], atol=1e-5)


def test_wild_quadrupeds_lie_graze_and_span_mouse_to_giraffe():
    p = generate_wild_quadrupeds(4000, np.random.default_rng(0))
    leg = np.linalg.norm(p[:, 5] - p[:, 6], axis=-1) + np.linalg.norm(p[:, 6] - p[:, 7], axis=-1)
    shoulder = p[:, 5, 1] - np.minimum(p[:, 7, 1], p[:, 13, 1])     # shoulder above the lowest paw
    assert (shoulder < 0.5 * leg).mean() > 0.08, "some lie down (shoulders low over their paws)"
    assert (p[:, 2, 1] < p[:, 5, 1] - 0.3 * leg).mean() > 0.08, "some graze (nose well below the shoulders)"
    size = np.ptp(p, axis=1).max(-1)
    assert size.min() < 0.3 < 3.0 < size.max()
    assert len(WILD_SPECIES) >= 8


def test_fish_bend_both_ways_and_fins_come_in_pairs():
    p = generate_fish(2000, np.random.default_rng(0))
    tail_x = p[:, 11, 0] / np.ptp(p[..., 2], axis=1)                 # tail base offset / length
    assert (tail_x > 0.05).mean() > 0.1 and (tail_x < -0.05).mean() > 0.1
    assert (p[:, 12, 1] > p[:, 11, 1]).all() and (p[:, 13, 1] < p[:, 11, 1]).all()   # tail fin lobes
    assert (p[:, 7, 1] > p[:, 9, 1]).all()                           # dorsal above pelvic


def test_insects_and_reptiles_keep_left_limbs_on_the_left():
    """Sprawled legs never cross the midline: every side -1 point at +x, +1 at -x."""
    for rig, fn in (("insect17", generate_insects), ("reptile18", generate_reptiles)):
        p = fn(2000, np.random.default_rng(1))
        s = get_rig(rig).side_array()
        assert (p[:, s == -1, 0] > 0).all() and (p[:, s == 1, 0] < 0).all(), rig


def test_reptile_limbs_sprawl_sideways():
    p = generate_reptiles(2000, np.random.default_rng(2))
    root, elbow = p[:, 6], p[:, 7]                                   # front-left shoulder, elbow
    out = np.abs(elbow[:, 0] - root[:, 0])
    assert np.median(out) > 0.5 * np.median(np.linalg.norm(elbow - root, axis=-1))


def test_registry_holds_out_categories_and_a_rig():
    info = registry.SOURCE_INFO
    train = registry.TRAIN_SOURCES
    assert {"bird", "mug"} <= set(registry.HELD_OUT_CATEGORIES)
    assert not {info[n][0] for n in train} & set(registry.HELD_OUT_CATEGORIES)
    assert "panoptic15" not in {info[n][1] for n in train}
    assert len({info[n][0] for n in registry.SOURCES}) >= 10
    assert set(info) == set(registry.SOURCES)


def test_source_sets_keep_an_old_config_on_its_data():
    v4 = registry.train_sources(1000, "v4")
    assert "franka_panda_urdf" in v4 and "fish14_synthetic" not in v4 and "sofa12_synthetic" not in v4
    assert sum(n.startswith("procedural_") for n in v4) == 2000
    assert set(registry.SOURCE_SETS["v2"]) < set(registry.SOURCE_SETS["v4"]) < set(registry.SOURCE_SETS["v12"])
    every = registry.train_sources(None)
    assert {"fish14_synthetic", "quadruped17_wild", "box9_synthetic"} <= set(every)
    v5 = registry.train_sources(3000, "v5")      # v5-v7's data: everything before the bats and bipeds
    assert "sofa12_synthetic" in v5 and sum(n.startswith("procedural_") for n in v5) == 6000
    v12 = registry.train_sources(3000, "v12")   # v8-v12's: the bats and bipeds added
    assert set(v12) - set(v5) == {"bat16_synthetic", "biped17_synthetic"}
    # today's default: DeepMimic held out for the real-world proxy, realistic people and layouts in
    now = registry.train_sources(3000)
    assert set(v12) - set(now) == {"deepmimic"}
    assert set(now) - set(v12) == set(registry.LAYOUT_SOURCES) | {
        "human_realistic_coco17", "human_realistic_h36m17", "human_realistic_coco_wholebody133"}
    with pytest.raises(ValueError, match="unknown source_set 'v9'"):
        registry.train_sources(None, "v9")


def test_people_sets_for_scratch_arms_are_people_and_never_deepmimic():
    sets = {k: set(registry.train_sources(0, k))
            for k in ("people", "people_realistic", "people_layouts", "people_realworld")}
    assert sets["people"] < sets["people_realistic"] < sets["people_realworld"]
    assert sets["people"] < sets["people_layouts"] < sets["people_realworld"]
    assert sets["people_realworld"] == sets["people_realistic"] | sets["people_layouts"]
    for name, names in sets.items():
        assert {registry.SOURCE_INFO[n][0] for n in names} == {"person"}, name
        assert not names & set(registry.HELD_OUT_SOURCES), f"{name} trains on a held-out source"


@pytest.mark.parametrize("rig", list(OBJECTS))
def test_object_sides_match_geometry(rig):
    """Points the rig calls left (-1) lie at +x, right (+1) at -x (object frame)."""
    p = object_source(rig, count=50).poses("train")
    s = get_rig(rig).side_array()
    if (s != 0).any():
        assert (p[:, s == -1, 0] > 0).all() and (p[:, s == 1, 0] < 0).all()


@pytest.mark.parametrize("rig", [r for r in OBJECTS if get_rig(r).front_array().any()])
def test_object_fronts_match_geometry(rig):
    """Points the rig calls front (+1) lie ahead (+z) of its back (-1) points, on average."""
    p = object_source(rig, count=200).poses("train")
    f = get_rig(rig).front_array()
    assert (p[:, f == 1, 2].mean(1) > p[:, f == -1, 2].mean(1)).mean() > 0.97


def test_steering_turns_handlebar_and_front_wheel_together():
    from training.data.synthetic_objects import generate_bicycles, generate_motorbikes
    for fn in (generate_bicycles, generate_motorbikes):
        p = fn(2000, np.random.default_rng(0))
        hub, bar = p[:, 0] - p[:, 1], p[:, 4] - p[:, 5]                # left minus right ends
        yaw = lambda v: np.arctan2(-v[:, 2], v[:, 0])  # noqa: E731  (0 = straight ahead)
        assert np.abs(yaw(hub)).max() > 0.3                          # it does steer
        np.testing.assert_allclose(yaw(hub), yaw(bar), atol=0.08)     # both about one axis
        if fn is generate_bicycles:                                  # cranks: pedals opposite
            np.testing.assert_allclose((p[:, 6] + p[:, 7])[:, 0], 0, atol=0.05)


def test_laptop_lids_open_within_limits():
    from training.data.synthetic_objects import generate_laptops
    p = generate_laptops(2000, np.random.default_rng(0))
    base, lid = p[:, 0] - p[:, 2], p[:, 4] - p[:, 2]                 # from the left hinge
    cos = (base * lid).sum(-1) / np.linalg.norm(base, axis=-1) / np.linalg.norm(lid, axis=-1)
    angle = np.degrees(np.arccos(np.clip(cos, -1, 1)))
    assert angle.min() > 35 and angle.max() < 145 and np.ptp(angle) > 80


@pytest.mark.parametrize("rig, fn", [(r, f) for r, f in ANIMALS if r not in ("insect17", "reptile18")])
def test_animal_left_points_lie_on_the_left_on_average(rig, fn):
    """Body frame: the animal's left is +x, so side -1 points have larger mean x than side +1."""
    p = fn(500, np.random.default_rng(0))
    s = get_rig(rig).side_array()
    assert p[:, s == -1, 0].mean() > p[:, s == 1, 0].mean()


def test_bats_fly_with_spread_wings_and_hang_head_down():
    p = generate_bats(3000, np.random.default_rng(4))
    body = np.linalg.norm(p[:, 5] - p[:, 4], axis=-1)                # chest to rump
    span = np.abs(p[:, 8, 0] - p[:, 13, 0]) / body                   # wing tip to wing tip, in x
    hanging = p[:, [10, 15], 1].min(1) > p[:, 0, 1] + 0.5 * body      # both feet well above the nose
    assert 0.15 < hanging.mean() < 0.45, hanging.mean()              # ~30 % hang
    assert np.median(span[~hanging]) > 2 * np.median(span[hanging])  # fliers spread, hangers fold
    assert (span > 3).mean() > 0.3                                   # a real wingspan, 3+ bodies


def test_bipeds_stand_on_their_feet_with_the_tail_behind():
    p = generate_bipeds(3000, np.random.default_rng(5))
    hips, feet = p[:, 4], p[:, [11, 16]]
    assert (feet[..., 1] < hips[:, None, 1]).all()                   # feet below the hips
    assert (p[:, 6, 2] < hips[:, 2]).all() and (p[:, 0, 2] > hips[:, 2]).all()   # tail behind, snout ahead
    leg = np.linalg.norm(p[:, 9] - p[:, 11], axis=-1)                # left knee to foot
    # opposite phase when walking: the feet are apart in z in a good share of the poses
    assert (np.abs(feet[:, 0, 2] - feet[:, 1, 2]) > 0.3 * leg).mean() > 0.2
