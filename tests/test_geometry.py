"""Closed-form checks of lfm3d_net.geometry (float64 unless stated)."""

import numpy as np
import pytest

from lfm3d_net.geometry import (
    align_to_camera,
    apply_similarity,
    normalize_2d,
    rms_radius,
    similarity_procrustes,
)


def random_rotations(rng, B):
    """(B, 3, 3) proper rotations from QR of Gaussian matrices."""
    q, r = np.linalg.qr(rng.normal(size=(B, 3, 3)))
    q = q * np.sign(np.diagonal(r, axis1=1, axis2=2))[:, None, :]
    q[np.linalg.det(q) < 0, :, 0] *= -1
    return q


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def anisotropic_shapes(rng, B, N):
    """Shapes with unequal spread per axis, so a wrong rotation cannot hide."""
    return rng.normal(size=(B, N, 3)) * np.array([1.0, 2.0, 0.5])


def test_normalize_2d_matches_contract_formula(rng):
    kp = rng.uniform(0, 640, size=(3, 9, 2))
    mask = rng.random((3, 9)) > 0.3
    mask[:, :3] = True
    normed, center, scale = normalize_2d(kp, mask)
    w = mask[..., None]
    c = (w * kp).sum(1) / np.maximum(mask.sum(1), 1)[:, None]
    s = np.maximum(np.abs(np.where(w, kp - c[:, None], 0)).max(axis=(1, 2)), 1e-6)
    np.testing.assert_allclose(center, c, rtol=1e-12)
    np.testing.assert_allclose(scale, s, rtol=1e-12)
    np.testing.assert_allclose(normed, w * (kp - c[:, None]) / s[:, None, None], atol=1e-12)
    assert np.abs(normed).max() <= 1.0 + 1e-12


def test_normalize_2d_ignores_nan_at_masked_points_and_keeps_float32(rng):
    kp = rng.uniform(0, 100, size=(2, 5, 2)).astype(np.float32)
    mask = np.ones((2, 5), bool)
    mask[0, 4] = False
    ref = normalize_2d(kp, mask)
    kp[0, 4] = np.nan
    out = normalize_2d(kp, mask)
    for a, b in zip(ref, out):
        np.testing.assert_array_equal(a, b)
    assert out[0].dtype == np.float32 and np.isfinite(out[0]).all()


def test_normalize_2d_all_points_equal_gives_zeros_not_nan():
    normed, _, scale = normalize_2d(np.full((1, 4, 2), 7.0), np.ones((1, 4), bool))
    assert np.all(normed == 0) and scale[0] == pytest.approx(1e-6)


def test_procrustes_recovers_known_similarity(rng):
    B, N = 8, 17
    src = anisotropic_shapes(rng, B, N)
    R0, s0, t0 = random_rotations(rng, B), rng.uniform(0.2, 5, B), rng.normal(size=(B, 3)) * 10
    R, s, t = similarity_procrustes(src, apply_similarity(src, R0, s0, t0))
    # exact data, float64: only rounding error remains
    np.testing.assert_allclose(R, R0, atol=1e-6)
    np.testing.assert_allclose(s, s0, rtol=1e-6)
    np.testing.assert_allclose(t, t0, atol=1e-6)


def test_procrustes_never_returns_a_reflection(rng):
    B, N = 16, 10
    src = anisotropic_shapes(rng, B, N)
    mirror = src * np.array([1.0, 1.0, -1.0])  # best orthogonal fit is a reflection
    R, s, _ = similarity_procrustes(src, mirror)
    np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=1e-9)
    assert np.all(s > 0)


def test_procrustes_masked_garbage_does_not_change_result(rng):
    B, N = 4, 12
    src = anisotropic_shapes(rng, B, N)
    dst = apply_similarity(src, random_rotations(rng, B), np.full(B, 2.0), np.ones((B, 3)))
    dst += rng.normal(size=dst.shape) * 0.05
    mask = rng.random((B, N)) > 0.3
    mask[:, :4] = True
    ref = similarity_procrustes(src, dst, mask)
    src2, dst2 = src.copy(), dst.copy()
    src2[~mask] = 1e9
    dst2[~mask] = np.nan
    out = similarity_procrustes(src2, dst2, mask)
    for a, b in zip(ref, out):
        np.testing.assert_allclose(a, b, atol=1e-9)  # masked values never enter the sums


@pytest.mark.parametrize("n_valid", [0, 1, 2])
def test_procrustes_degenerate_inputs_stay_finite_and_proper(rng, n_valid):
    src = rng.normal(size=(2, 6, 3))
    src[1] = 3.0  # all points equal
    mask = np.zeros((2, 6), bool)
    mask[0, :n_valid] = True
    mask[1] = True
    R, s, t = similarity_procrustes(src, rng.normal(size=(2, 6, 3)), mask)
    assert np.isfinite(R).all() and np.isfinite(s).all() and np.isfinite(t).all()
    np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=1e-9)
    np.testing.assert_allclose(R[1], np.eye(3))  # no information: identity, unit scale
    assert s[1] == 1.0


def test_align_to_camera_recovers_rotation_and_scale_from_orthographic_projection(rng):
    B, N = 8, 17
    shape = anisotropic_shapes(rng, B, N)
    R0, s0 = random_rotations(rng, B), rng.uniform(50, 300, B)
    kp = s0[:, None, None] * (shape @ R0.transpose(0, 2, 1))[..., :2] + rng.uniform(0, 500, (B, 1, 2))
    R, s = align_to_camera(shape, kp)
    # exact projection: the closed form is exact up to the 1e-12 regulariser
    np.testing.assert_allclose(R, R0, atol=1e-6)
    np.testing.assert_allclose(s, s0, rtol=1e-6)


def test_align_to_camera_is_proper_and_ignores_masked_garbage(rng):
    B, N = 6, 15
    shape = anisotropic_shapes(rng, B, N)
    kp = (shape @ random_rotations(rng, B).transpose(0, 2, 1))[..., :2] * 80
    kp += rng.normal(size=kp.shape) * 4
    mask = rng.random((B, N)) > 0.3
    mask[:, :4] = True
    R, s = align_to_camera(shape, kp, mask)
    np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=1e-9)
    np.testing.assert_allclose(R @ R.transpose(0, 2, 1), np.broadcast_to(np.eye(3), R.shape), atol=1e-9)
    kp2, shape2 = kp.copy(), shape.copy()
    kp2[~mask], shape2[~mask] = np.inf, -1e9
    R2, s2 = align_to_camera(shape2, kp2, mask)
    np.testing.assert_allclose(R2, R, atol=1e-9)
    np.testing.assert_allclose(s2, s, rtol=1e-9)


def test_align_to_camera_refinement_never_increases_the_reprojection_error(rng):
    B, N = 32, 17
    shape = anisotropic_shapes(rng, B, N)
    kp = (shape @ random_rotations(rng, B).transpose(0, 2, 1))[..., :2] * 100
    kp += rng.normal(size=kp.shape) * 15  # heavy noise so the steps matter

    def cost(iterations):
        R, s = align_to_camera(shape, kp, iterations=iterations)
        c = shape - shape.mean(1, keepdims=True)
        proj = s[:, None, None] * (c @ R.transpose(0, 2, 1))[..., :2]
        return ((proj - (kp - kp.mean(1, keepdims=True))) ** 2).sum(axis=(1, 2))

    c0, c1, c2 = cost(0), cost(1), cost(2)
    assert np.all(c1 <= c0 * (1 + 1e-9)) and np.all(c2 <= c1 * (1 + 1e-9))  # rounding slack


def test_align_to_camera_degenerate_shape_is_finite(rng):
    shape = np.zeros((2, 5, 3))
    shape[1, :, 0] = np.arange(5)  # collinear
    R, s = align_to_camera(shape, rng.normal(size=(2, 5, 2)))
    assert np.isfinite(R).all() and np.isfinite(s).all()
    np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=1e-9)


def test_align_to_camera_keeps_float32():
    R, s = align_to_camera(np.random.rand(1, 5, 3).astype(np.float32), np.random.rand(1, 5, 2))
    assert R.dtype == np.float32 and s.dtype == np.float32


def test_rms_radius_of_known_points():
    x = np.array([[[1.0, 0, 0], [-1, 0, 0], [0, 2, 0], [0, -2, 0], [99, 99, 99]]])
    mask = np.array([[True, True, True, True, False]])
    # distances from the centroid 0: 1, 1, 2, 2 -> sqrt((1+1+4+4)/4)
    assert rms_radius(x, mask)[0] == pytest.approx(np.sqrt(2.5))


def test_wrong_shapes_raise_value_error():
    with pytest.raises(ValueError, match=r"\(B, N, 3\)"):
        similarity_procrustes(np.zeros((2, 5, 2)), np.zeros((2, 5, 2)))
    with pytest.raises(ValueError, match="mask"):
        normalize_2d(np.zeros((2, 5, 2)), np.ones((2, 4), bool))


# -- the fast paths of align_to_camera (Horn polar factor, one-instance Python floats) ----

def _svd_proper_polar(H):
    """Reference: U diag(1, 1, d) V^T with d = det(U V^T), the closest proper rotation."""
    U, _, Vt = np.linalg.svd(H)
    U[:, :, 2] *= np.where(np.linalg.det(U @ Vt) < 0, -1.0, 1.0)[:, None]
    return U @ Vt


def test_proper_polar_equals_the_svd_form(rng):
    from lfm3d_net.geometry import _proper_polar

    H = rng.normal(size=(500, 3, 3)) * rng.uniform(1e-3, 1e5, (500, 1, 1))
    R = _proper_polar(H)
    np.testing.assert_allclose(R, _svd_proper_polar(H), atol=1e-10)
    np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=1e-12)
    A = rng.normal(size=(500, 2, 3))  # [A; 0]: the closed-form step of align_to_camera
    np.testing.assert_allclose(_proper_polar(A),
                               _svd_proper_polar(np.concatenate([A, 0 * A[:, :1]], 1)), atol=1e-10)


def test_rows_polar_one_matches_the_batched_polar(rng):
    from lfm3d_net.geometry import _proper_polar, _rows_polar_one

    for i in range(300):
        A = rng.normal(size=(2, 3)) * 10.0 ** rng.uniform(-150, 150)
        if i % 3 == 0:  # near rank 1 (down to the fallback to the eigh form)
            A[1] = A[0] * rng.normal() + rng.normal(size=3) * np.abs(A).max() * 10.0 ** -(i % 12)
        R = np.array(_rows_polar_one([tuple(A[0]), tuple(A[1])]))
        np.testing.assert_allclose(R, _proper_polar(A[None])[0], atol=1e-7)
        assert np.linalg.det(R) == pytest.approx(1.0, abs=1e-9)


def _fit_cases(rng):
    """(shape (1, N, 3), kp (1, N, 2), mask (1, N)) instances, the degenerate ones included."""
    for _ in range(100):
        n = int(rng.integers(5, 40))
        shape = anisotropic_shapes(rng, 1, n) * 10.0 ** rng.uniform(-3, 3)
        kp = rng.normal(size=(1, n, 2)) * rng.uniform(1, 300) + rng.uniform(0, 500, (1, 1, 2))
        mask = rng.random((1, n)) > 0.3
        mask[:, :5] = True
        yield shape, kp, mask
    line = np.zeros((1, 6, 3))
    line[0, :, 0] = np.arange(6)
    for shape in (np.zeros((1, 6, 3)), np.full((1, 6, 3), 3.0), line, line * 1e-100,
                  rng.normal(size=(1, 6, 3)) * 1e-150, rng.normal(size=(1, 6, 3)) * 1e150):
        yield shape, rng.normal(size=(1, 6, 2)), np.ones((1, 6), bool)


@pytest.mark.parametrize("iterations", [0, 1, 2])
def test_one_instance_fast_path_equals_the_batched_path(rng, iterations):
    from lfm3d_net.geometry import fit_camera

    other = anisotropic_shapes(rng, 1, 40), rng.normal(size=(1, 40, 2)), np.ones((1, 40), bool)
    for shape, kp, mask in _fit_cases(rng):
        n = shape.shape[1]
        R1, s1, X1, mu1 = fit_camera(shape, kp, mask, iterations)  # B == 1: Python floats
        batch = [np.concatenate([a, b[:, :n]]) for a, b in zip((shape, kp, mask), other)]
        Rb, sb, Xb, mub = fit_camera(*batch, iterations)  # B == 2: numpy
        np.testing.assert_array_equal(X1[0], Xb[0])
        np.testing.assert_allclose(s1[0], sb[0], rtol=1e-8)
        # the camera-aligned points (a collinear shape leaves R free about its line)
        p1, pb = (s[0] * X[0, :, :3] @ R[0].T for R, s, X in ((R1, s1, X1), (Rb, sb, Xb)))
        np.testing.assert_allclose(p1, pb, atol=1e-8 * np.abs(pb).max())
        if np.linalg.matrix_rank(X1[0, :, :3]) == 3:
            np.testing.assert_allclose(R1[0], Rb[0], atol=1e-8)
        np.testing.assert_array_equal(mu1[0], mub[0])
        assert np.linalg.det(R1[0]) == pytest.approx(1.0, abs=1e-9)


def test_fit_camera_returns_the_centred_points(rng):
    from lfm3d_net.geometry import fit_camera

    shape, kp = anisotropic_shapes(rng, 3, 9), rng.normal(size=(3, 9, 2))
    mask = rng.random((3, 9)) > 0.3
    mask[:, :3] = True
    shape[~mask] = np.nan  # masked garbage stays out
    R, s, X, mu = fit_camera(shape, kp, mask)
    R2, s2 = align_to_camera(shape, kp, mask)
    np.testing.assert_allclose(R, R2, atol=1e-12)
    np.testing.assert_allclose(s, s2, rtol=1e-12)
    w = mask[..., None]
    want_mu = np.where(w, np.concatenate([shape, kp], -1), 0).sum(1) / mask.sum(1)[:, None]
    np.testing.assert_allclose(mu, want_mu, rtol=1e-12)
    want_x = np.where(w, np.concatenate([shape, kp], -1) - want_mu[:, None], 0)
    np.testing.assert_allclose(X, want_x, atol=1e-12)


def test_mirror_average_keeps_the_direct_depth_mode_and_averages_within_it():
    from lfm3d_net.geometry import mirror_average, mirror_x
    rng = np.random.default_rng(5)
    a = rng.normal(size=(2, 6, 3))
    a -= a.mean(1, keepdims=True)
    noise = 0.01 * rng.normal(size=a.shape)
    # instance 0: the mirror's lift agrees; instance 1: it chose the other depth mode
    b = mirror_x(a + noise)
    b[1] = mirror_x((a[1] + noise[1]) * [1, 1, -1])
    out = mirror_average(a, b)
    np.testing.assert_allclose(out, a + noise / 2, atol=1e-12)   # never the flattened average
    same = mirror_average(a, mirror_x(a))
    np.testing.assert_allclose(same, a, atol=1e-12)


def test_nearer_depth_mode_undoes_a_depth_mirror_whatever_the_scale():
    from lfm3d_net.geometry import depth_mirror, nearer_depth_mode
    rng = np.random.default_rng(11)
    ref = rng.normal(size=(4, 13, 3))
    ref -= ref.mean(1, keepdims=True)
    moved = ref + 0.05 * rng.normal(size=ref.shape)  # the next frame: a little motion
    moved[[1, 3]] = depth_mirror(moved[[1, 3]])       # two came out in the other depth mode
    moved *= np.array([1.0, 3.0, 0.2, 7.0])[:, None, None]  # and at other sizes
    chosen, flipped = nearer_depth_mode(moved, ref)
    assert flipped.tolist() == [False, True, False, True]
    assert np.all(np.einsum("bn,bn->b", chosen[..., 2], ref[..., 2]) > 0)
    np.testing.assert_array_equal(chosen[..., :2], moved[..., :2])  # x, y are never touched
    np.testing.assert_array_equal(depth_mirror(depth_mirror(moved)), moved)
