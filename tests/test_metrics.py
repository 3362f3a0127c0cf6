"""lfm3d_net.metrics on closed-form cases."""

import numpy as np
import pytest

from lfm3d_net.geometry import apply_similarity
from lfm3d_net.metrics import mpjpe, n_mpjpe, pa_mpjpe


def rotation_z(angle):
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])


@pytest.fixture
def gt():
    return np.random.default_rng(0).normal(size=(3, 10, 3))


def test_mpjpe_is_translation_invariant_and_exact_for_a_known_offset(gt):
    pred = gt + np.array([5.0, -2, 1])  # centroid alignment removes a global shift
    np.testing.assert_allclose(mpjpe(pred, gt), 0, atol=1e-12)
    pred = gt.copy()
    pred[:, 0] += [2.0, 0, 0]  # one joint off by 2: centred errors are known in closed form
    n = gt.shape[1]
    per_joint = np.array([2 * (n - 1) / n] + [2 / n] * (n - 1))
    np.testing.assert_allclose(mpjpe(pred, gt), per_joint.mean(), rtol=1e-12)


def test_pa_mpjpe_removes_rotation_scale_translation_but_mpjpe_does_not(gt):
    R = np.broadcast_to(rotation_z(0.7), (3, 3, 3))
    pred = apply_similarity(gt, R, np.full(3, 2.5), np.ones((3, 3)))
    np.testing.assert_allclose(pa_mpjpe(pred, gt), 0, atol=1e-9)
    assert np.all(mpjpe(pred, gt) > 0.1)


def test_n_mpjpe_removes_scale_only(gt):
    np.testing.assert_allclose(n_mpjpe(3.0 * gt, gt), 0, atol=1e-12)
    R = np.broadcast_to(rotation_z(0.7), (3, 3, 3))
    assert np.all(n_mpjpe(apply_similarity(gt, R, np.ones(3)), gt) > 0.1)


def test_errors_are_in_input_units(gt):
    rng = np.random.default_rng(1)
    pred = gt + rng.normal(size=gt.shape) * 0.1
    for metric in (mpjpe, n_mpjpe, pa_mpjpe):  # metres -> millimetres multiplies by 1000
        np.testing.assert_allclose(metric(pred * 1000, gt * 1000), metric(pred, gt) * 1000, rtol=1e-9)
        assert np.all(metric(pred, gt) > 0.05)  # real noise of std 0.1 per axis is seen


def test_masked_points_are_ignored(gt):
    mask = np.ones(gt.shape[:2], bool)
    mask[:, -2:] = False
    pred = gt + 0.01
    pred[:, -2:] = np.nan
    for metric in (mpjpe, n_mpjpe, pa_mpjpe):
        out = metric(pred, gt, mask)
        assert out.shape == (3,) and np.isfinite(out).all()


def test_instance_without_valid_points_gives_nan(gt):
    mask = np.ones(gt.shape[:2], bool)
    mask[1] = False
    out = mpjpe(gt, gt, mask)
    assert np.isnan(out[1]) and np.all(out[[0, 2]] == 0)


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match=r"\(B, N, 3\)"):
        mpjpe(np.zeros((2, 5, 2)), np.zeros((2, 5, 2)))
    with pytest.raises(ValueError, match="gt must have the shape"):
        pa_mpjpe(np.zeros((2, 5, 3)), np.zeros((2, 4, 3)))
    with pytest.raises(ValueError, match="mask"):
        n_mpjpe(np.zeros((2, 5, 3)), np.zeros((2, 5, 3)), np.ones((5,), bool))
