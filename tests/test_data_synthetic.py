"""Synthetic generators and registry: right N, finite, varied proportions, limits, held-out sets."""
import numpy as np
import pytest

from lfm3d_net.rigs import get_rig
from training.data import registry
from training.data.face import FaceSource, load_mean_face
from training.data.synthetic_animals import generate_birds, generate_quadrupeds
from training.data.synthetic_hand import FLEX_MAX, bend_angles, generate_hands
from training.data.synthetic_human import HumanVariantSource
from training.data.synthetic_objects import OBJECTS, object_source

from conftest import requires_shared_data

SYNTHETIC = ["hand21_synthetic", "quadruped17_synthetic", "bird15_synthetic",
             pytest.param("face68_synthetic", marks=requires_shared_data)] + [f"{r}_synthetic" for r in OBJECTS]


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


def test_animals_are_fast_and_finite():
    rng = np.random.default_rng(0)
    assert np.isfinite(generate_quadrupeds(2000, rng)).all()
    assert np.isfinite(generate_birds(2000, rng)).all()


def test_registry_holds_out_categories_and_a_rig():
    info = registry.SOURCE_INFO
    train = registry.TRAIN_SOURCES
    assert {"bird", "mug"} <= set(registry.HELD_OUT_CATEGORIES)
    assert not {info[n][0] for n in train} & set(registry.HELD_OUT_CATEGORIES)
    assert "panoptic15" not in {info[n][1] for n in train}
    assert len({info[n][0] for n in registry.SOURCES}) >= 10
    assert set(info) == set(registry.SOURCES)


@pytest.mark.parametrize("rig", list(OBJECTS))
def test_object_sides_match_geometry(rig):
    """Points the rig calls left (-1) lie at +x, right (+1) at -x (object frame)."""
    p = object_source(rig, count=50).poses("train")
    s = get_rig(rig).side_array()
    if (s != 0).any():
        assert (p[:, s == -1, 0] > 0).all() and (p[:, s == 1, 0] < 0).all()


@pytest.mark.parametrize("rig, fn", [("quadruped17", generate_quadrupeds), ("bird15", generate_birds)])
def test_animal_left_points_lie_on_the_left_on_average(rig, fn):
    """Body frame: the animal's left is +x, so side -1 points have larger mean x than side +1."""
    p = fn(500, np.random.default_rng(0))
    s = get_rig(rig).side_array()
    assert p[:, s == -1, 0].mean() > p[:, s == 1, 0].mean()
