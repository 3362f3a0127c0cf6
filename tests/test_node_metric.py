"""Metric placement (lfm3d_net.metric): pure numpy, no ROS."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from conftest import requires_shared_data
from lfm3d_net import metric

ROOT = Path(__file__).resolve().parents[1]

K = np.array([500.0, 0, 320, 0, 500.0, 240, 0, 0, 1])


def _project(points_m):
    """Pinhole projection of (N, 3) metres to (N, 2) pixels with K."""
    fx, fy, cx, cy = 500.0, 500.0, 320.0, 240.0
    return np.stack([fx * points_m[:, 0] / points_m[:, 2] + cx,
                     fy * points_m[:, 1] / points_m[:, 2] + cy], axis=-1)


def test_extent_is_largest_pairwise_distance_of_valid_points():
    pts = np.array([[[0, 0, 0], [3, 4, 0], [100, 0, 0]]], float)
    mask = np.array([[True, True, False]])
    assert metric.extent(pts, mask)[0] == pytest.approx(5.0)
    assert metric.extent(pts)[0] == pytest.approx(100.0)


def test_extent_ignores_nan_at_masked_points():
    pts = np.array([[[0, 0, 0], [0, 2, 0], [np.nan, np.nan, np.nan]]])
    assert metric.extent(pts, np.array([[True, True, False]]))[0] == pytest.approx(2.0)


def test_place_metric_recovers_depth_and_position_of_a_distant_rod():
    # A 1.7 m vertical rod 5 m in front of the camera, 0.5 m right: far enough that
    # weak perspective is accurate (the rod's depth range is 0), so recovery is exact
    # up to float error.
    rod_m = np.array([[0.5, -0.85, 5.0], [0.5, 0.0, 5.0], [0.5, 0.85, 5.0]])
    uv = _project(rod_m)
    center = uv.mean(axis=0)
    rel_px = np.concatenate([uv - center, np.zeros((3, 1))], axis=1)  # root-relative, pixels
    placed, depth, m_per_px = metric.place_metric(rel_px[None], center[None],
                                                  np.ones((1, 3), bool), K, 1.7)
    assert depth[0] == pytest.approx(5.0, rel=1e-9)
    assert m_per_px[0] == pytest.approx(5.0 / 500.0, rel=1e-9)
    np.testing.assert_allclose(placed[0], rod_m, atol=1e-9)


def test_place_metric_extent_matches_the_size_prior():
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(2, 17, 3)) * 40.0
    mask = np.ones((2, 17), bool)
    placed, depth, _ = metric.place_metric(pts, np.array([[300.0, 200], [10, 400]]), mask, K,
                                           np.array([1.7, 0.19]))
    np.testing.assert_allclose(metric.extent(placed, mask), [1.7, 0.19], rtol=1e-9)
    assert (depth > 0).all()


def test_place_metric_gives_nan_for_degenerate_instance_not_inf():
    pts = np.zeros((1, 3, 3))
    placed, depth, _ = metric.place_metric(pts, np.zeros((1, 2)), np.ones((1, 3), bool), K, 1.0)
    assert np.isnan(depth[0]) and np.isnan(placed).all()


@pytest.mark.parametrize("bad_k", [np.zeros(9), np.ones(8), np.array([np.nan] * 9)])
def test_invalid_camera_matrix_raises_value_error(bad_k):
    with pytest.raises(ValueError, match="camera matrix"):
        metric.place_metric(np.ones((1, 3, 3)), np.zeros((1, 2)), np.ones((1, 3), bool), bad_k, 1.0)


def test_size_prior_lookup_is_case_insensitive_with_default():
    assert metric.size_prior("Person") == pytest.approx(1.7)
    assert metric.size_prior("unicorn", default=2.5) == 2.5
    assert metric.size_prior("hand", {"hand": 0.2}) == 0.2
    with pytest.raises(ValueError, match="size prior"):
        metric.size_prior("hand", {"hand": -1.0})


def test_every_builtin_category_has_a_size_prior():
    from lfm3d_net.rigs import BUILTIN_RIGS, get_rig
    missing = sorted({get_rig(r).category for r in BUILTIN_RIGS} - set(metric.DEFAULT_SIZE_PRIORS))
    assert not missing, f"categories without a size prior (metric.DEFAULT_SIZE_PRIORS, config/lift.yaml): {missing}"


def test_keypoint_extent_prior_is_the_stature_times_the_rigs_fraction():
    # A 1.70 m person seen as COCO-17 keypoints spans eyes to ankles, ~1.57 m.
    assert metric.keypoint_extent_prior("person", "coco17") == pytest.approx(1.70 * 0.925)
    assert metric.keypoint_extent_prior("person", "") == pytest.approx(1.70)
    assert metric.keypoint_extent_prior("hand", "hand21") == pytest.approx(0.19)   # not listed: 1.0
    assert metric.keypoint_extent_prior("person", "coco17", {"person": 1.80}) == pytest.approx(1.80 * 0.925)


def test_place_metric_gives_nan_not_a_depth_for_non_finite_points():
    pts = np.full((1, 3, 3), 1e200)
    pts[0, 0] = -1e200                                    # extent overflows to inf
    _, depth, _ = metric.place_metric(pts, np.zeros((1, 2)), np.ones((1, 3), bool), K, 1.0)
    assert np.isnan(depth[0])


def _cmu_extent_fractions():
    """Median keypoint extent / 1.75 m of the CMU rig, per calibrated rig (chunked: N x N)."""
    from conftest import SHARED_DATA
    retarget = pytest.importorskip("training.data.retarget")
    poses = np.load(SHARED_DATA / "cmu_iclone_mocap.npz")["positions"]
    rigs = {name: retarget.RETARGET[name] for name in ("coco17", "mocap26", "h36m17", "panoptic15")}
    try:
        from training.data.synthetic_human import attach_wholebody
        rigs["coco_wholebody133"] = lambda p: attach_wholebody(p, np.random.default_rng(0))
    except ImportError:  # the wholebody builder is training code; the others are enough
        pass
    try:  # the detector layouts, built as examples/detector_rigs_on_mocap.py builds them
        spec = importlib.util.spec_from_file_location("detector_rigs", ROOT / "examples/detector_rigs_on_mocap.py")
        example = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(example)
        for rig in ("body25", "mediapipe_pose33"):
            rigs[rig] = lambda p, rig=rig: example.detector_points(np.asarray(p, np.float64))[rig]
    except ImportError:  # it needs onnxruntime and the training code, as the wholebody one does
        pass
    out = {}
    for name, convert in rigs.items():
        frames = poses[::4] if name == "coco_wholebody133" else poses
        ext = np.concatenate([metric.extent(np.asarray(convert(frames[i:i + 200]), np.float64))
                              for i in range(0, len(frames), 200)])
        out[name] = float(np.median(ext)) / 1.75
    return out


@requires_shared_data
def test_rig_extent_fractions_are_the_cmu_mocap_medians():
    measured = _cmu_extent_fractions()
    for rig, fraction in measured.items():
        assert metric.RIG_EXTENT_FRACTION[rig] == pytest.approx(fraction, abs=0.01), rig
