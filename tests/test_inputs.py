"""lfm3d_net.inputs: padding, and validation errors that name the culprit."""

import numpy as np
import pytest

from lfm3d_net.inputs import validate_and_pad


def points(n, seed=0):
    return np.random.default_rng(seed).uniform(0, 640, (n, 2))


def test_single_instance_is_batched_and_flagged_for_squeeze():
    out = validate_and_pad(points(17))
    assert out.keypoints.shape == (1, 17, 2) and out.keypoints.dtype == np.float32
    assert out.squeeze and out.mask.all() and out.edges is None
    assert out.sides.shape == (1, 17) and not out.sides.any()


def test_ragged_list_is_padded_with_mask_false_on_padding():
    out = validate_and_pad([points(5), points(3, 1), points(4, 2)])
    assert out.keypoints.shape == (3, 5, 2) and not out.squeeze
    np.testing.assert_array_equal(out.lengths, [5, 3, 4])
    np.testing.assert_array_equal(
        out.mask, [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 1, 1, 1, 0]]
    )
    np.testing.assert_allclose(out.keypoints[1, :3], points(3, 1).astype(np.float32))
    assert not out.keypoints[~out.mask].any()


def test_ragged_masks_and_sides_follow_their_instances():
    out = validate_and_pad(
        [points(4), points(3)],
        mask=[np.array([1, 1, 1, 0], bool), np.ones(3, bool)],
        sides=[np.array([1, -1, 0, 1]), np.array([0, 1, -1])],
    )
    np.testing.assert_array_equal(out.mask, [[1, 1, 1, 0], [1, 1, 1, 0]])
    np.testing.assert_array_equal(out.sides, [[1, -1, 0, 1], [0, 1, -1, 0]])


def test_nan_at_masked_point_is_replaced_by_zero():
    kp = points(5)
    kp[2] = np.nan
    out = validate_and_pad(kp, mask=np.array([1, 1, 0, 1, 1], bool))
    assert np.isfinite(out.keypoints).all() and not out.mask[0, 2]


def test_shared_sides_and_edges_are_accepted():
    out = validate_and_pad(np.stack([points(4), points(4, 1)]), edges=[[0, 1], [2, 3]], sides=[1, -1, 0, 0])
    assert out.edges.dtype == np.int64 and out.edges.shape == (2, 2)
    np.testing.assert_array_equal(out.sides, [[1, -1, 0, 0]] * 2)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(keypoints=np.zeros((4, 17, 3))), r"keypoints must have shape \(B, N, 2\) or \(N, 2\); got \(4, 17, 3\)"),
        (dict(keypoints=np.zeros(17)), r"got \(17,\)"),
        (dict(keypoints=np.array([["a", "b"]] * 3)), "real numbers; got dtype"),
        (dict(keypoints=[points(4), np.zeros((3, 3))]), r"keypoints\[1\] must have shape \(N, 2\)"),
        (dict(keypoints=np.zeros((2, 5, 2)), mask=np.ones((2, 4), bool)), r"mask must have shape"),
        (dict(keypoints=points(5), mask=np.array([0.2, 1, 1, 1, 1])), "0/1"),
        (dict(keypoints=points(5), sides=[0, 0, 2, 0, 0]), r"sides must be -1, 0 or \+1.*instance 0 keypoint\(s\) \[2\]"),
        (dict(keypoints=points(5), sides=[0, 0]), r"sides must have shape \(5,\)"),
        (dict(keypoints=points(5), edges=[[0, 1], [4, 5]]), r"edges\[1\] = \[4, 5\] is out of range"),
        (dict(keypoints=points(5), edges=[[0, -1]]), r"edges\[0\]"),
        (dict(keypoints=points(5), edges=[0, 1, 2]), r"edges must have shape \(E, 2\)"),
        (dict(keypoints=points(20), max_keypoints=17), "N = 20 .* max_keypoints = 17"),
    ],
)
def test_bad_input_raises_value_error_saying_what(kwargs, message):
    with pytest.raises(ValueError, match=message):
        validate_and_pad(**kwargs)


def test_non_finite_error_names_instance_and_keypoints():
    kp = np.stack([points(6), points(6, 1), points(6, 2)])
    kp[2, 1, 0] = np.nan
    kp[2, 4, 1] = np.inf
    with pytest.raises(ValueError, match=r"instance 2 keypoint\(s\) \[1, 4\]"):
        validate_and_pad(kp)


def test_too_few_points_error_names_the_instance():
    mask = np.ones((3, 6), bool)
    mask[1, 2:] = False
    with pytest.raises(ValueError, match="instance 1 has 2 valid keypoint"):
        validate_and_pad(np.stack([points(6)] * 3), mask=mask)


@pytest.mark.parametrize("shape, mask", [
    ((17, 2), None), ((17, 2), np.arange(17) % 4 > 0), ((3, 17, 2), None),
    ((3, 17, 2), np.arange(17) % 4 > 0), ((3, 17, 2), np.arange(51).reshape(3, 17) % 5 > 0),
])
def test_float32_fast_path_equals_the_general_path(shape, mask):
    kp = np.random.default_rng(0).uniform(0, 640, shape).astype(np.float32)
    fast = validate_and_pad(kp, mask=mask, edges=[[0, 1]], sides=np.ones(17))
    general = validate_and_pad(kp.astype(np.float64), mask=None if mask is None else mask.tolist(),
                               edges=[[0, 1]], sides=np.ones(17))
    for name in ("keypoints", "mask", "edges", "sides", "lengths"):
        a, b = getattr(fast, name), getattr(general, name)
        assert a.dtype == b.dtype and a.flags.c_contiguous, name
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert fast.squeeze == general.squeeze
    if mask is not None:
        assert not np.shares_memory(fast.mask, mask)  # the caller's mask is not aliased


def test_float32_input_with_nan_at_a_masked_point_takes_the_general_path():
    kp = points(5).astype(np.float32)
    kp[2] = np.nan
    out = validate_and_pad(kp, mask=np.array([1, 1, 0, 1, 1], bool))
    assert np.isfinite(out.keypoints).all() and not out.mask[0, 2]
    with pytest.raises(ValueError, match=r"instance 0 keypoint\(s\) \[2\]"):
        validate_and_pad(kp)
    with pytest.raises(ValueError, match="instance 1 has 2 valid keypoint"):
        validate_and_pad(np.stack([points(5)] * 2).astype(np.float32),
                         mask=np.array([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0]], bool))
