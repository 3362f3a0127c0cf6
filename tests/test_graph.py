"""lfm3d_net.graph: adjacency invariants and the exact kNN definition."""

import numpy as np
import pytest

from lfm3d_net.graph import DEFAULT_KNN, adjacency_from_edges, build_adjacency, knn_adjacency


def assert_valid_adjacency(A, mask):
    """Symmetric, all self-loops, masked points linked to nothing but themselves."""
    n = A.shape[-1]
    assert A.dtype == bool
    np.testing.assert_array_equal(A, np.swapaxes(A, -1, -2))
    assert np.all(A[..., np.arange(n), np.arange(n)])
    off = A & ~np.eye(n, dtype=bool)
    assert not np.any(off & ~mask[..., :, None]) and not np.any(off & ~mask[..., None, :])


def test_adjacency_from_edges_is_symmetric_with_self_loops():
    A = adjacency_from_edges(np.array([[0, 1], [2, 1], [3, 3]]), 5)
    expected = np.eye(5, dtype=bool)
    expected[[0, 1, 1, 2], [1, 0, 2, 1]] = True
    np.testing.assert_array_equal(A, expected)


def test_adjacency_from_edges_isolates_masked_points():
    mask = np.array([[True, False, True, True], [True, True, True, True]])
    A = adjacency_from_edges([[0, 1], [1, 2], [2, 3]], 4, mask)
    assert A.shape == (2, 4, 4)
    assert_valid_adjacency(A, mask)
    assert A[0, 2, 3] and not A[0, 0, 1] and A[1, 0, 1]


@pytest.mark.parametrize(
    "edges, match",
    [
        (np.array([[0, 5]]), r"edges\[0\] = \[0, 5\] is out of range for 5"),
        (np.array([[0, 1], [-1, 2]]), r"edges\[1\]"),
        (np.array([0, 1, 2]), r"shape \(E, 2\)"),
        (np.array([[0.0, 1.0]]), "integer"),
    ],
)
def test_bad_edges_raise_naming_the_problem(edges, match):
    with pytest.raises(ValueError, match=match):
        adjacency_from_edges(edges, 5)


def test_knn_matches_brute_force_definition():
    rng = np.random.default_rng(1)
    kp = rng.uniform(0, 100, (3, 9, 2))
    mask = rng.random((3, 9)) > 0.25
    A = knn_adjacency(kp, mask, k=3)
    assert_valid_adjacency(A, mask)
    for b in range(3):  # brute force: per visible point, its 3 nearest visible others
        vis = np.flatnonzero(mask[b])
        ref = np.eye(9, dtype=bool)
        for i in vis:
            others = [j for j in vis if j != i]
            d = [np.sum((kp[b, i] - kp[b, j]) ** 2) for j in others]
            for j in np.array(others)[np.argsort(d, kind="stable")[:3]]:
                ref[i, j] = ref[j, i] = True
        np.testing.assert_array_equal(A[b], ref)


def test_knn_commutes_with_permutation():
    rng = np.random.default_rng(2)
    kp = rng.normal(size=(2, 17, 2))  # continuous values: no distance ties
    mask = rng.random((2, 17)) > 0.2
    perm = rng.permutation(17)
    A = knn_adjacency(kp, mask)
    Ap = knn_adjacency(kp[:, perm], mask[:, perm])
    np.testing.assert_array_equal(Ap, A[:, perm][:, :, perm])


def test_knn_with_few_visible_points_and_nan_at_masked():
    kp = np.array([[[0.0, 0], [1, 0], [np.nan, np.nan], [5, 5]]])
    mask = np.array([[True, True, False, True]])
    A = knn_adjacency(kp, mask, k=DEFAULT_KNN)  # k > visible - 1: all visible pairs
    assert_valid_adjacency(A, mask)
    assert A[0, 0, 1] and A[0, 0, 3] and A[0, 1, 3]


def test_build_adjacency_uses_edges_else_knn():
    rng = np.random.default_rng(3)
    kp = rng.normal(size=(2, 6, 2))
    mask = np.ones((2, 6), bool)
    mask[1, 0] = False
    edges = np.array([[0, 1], [1, 2]])
    A = build_adjacency(kp, mask, edges)
    np.testing.assert_array_equal(A, adjacency_from_edges(edges, 6, mask))
    np.testing.assert_array_equal(build_adjacency(kp, mask), knn_adjacency(kp, mask))
    np.testing.assert_array_equal(build_adjacency(kp, mask, np.zeros((0, 2), int)), knn_adjacency(kp, mask))
