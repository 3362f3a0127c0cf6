"""Lifter through an exported tiny model: shapes, invariances, bad input, batching."""
from __future__ import annotations

import logging

import numpy as np
import pytest

pytest.importorskip("lfm3d_net.inputs", reason="lfm3d_net.inputs not written yet")
pytest.importorskip("lfm3d_net.graph", reason="lfm3d_net.graph not written yet")

from lfm3d_net.lifter import Lifter, LiftResult  # noqa: E402
from lfm3d_net.rigs import get_rig  # noqa: E402

# float32 graph, different padding/ordering change reduction order only: 1e-4 relative to
# the pixel scale of the inputs (~100 px) is far above float32 rounding, far below any
# real difference.
ATOL_PX = 1e-2


@pytest.fixture(scope="module")
def lifter(tiny_onnx):
    with Lifter.load(tiny_onnx, backend="onnxruntime", threads=1, max_batch=4) as lf:
        yield lf


def _kp(b, n, seed=0):
    return np.random.default_rng(seed).uniform(50, 250, (b, n, 2)).astype(np.float32)


def test_batched_and_single_shapes(lifter):
    res = lifter.lift(_kp(3, 17))
    assert isinstance(res, LiftResult)
    assert res.points.shape == (3, 17, 3) and res.canonical.shape == (3, 17, 3)
    assert res.rotation.shape == (3, 3, 3) and res.scale.shape == (3,)
    assert res.center.shape == (3, 2) and res.mask.shape == (3, 17)
    assert np.asarray(res).shape == (3, 17, 3)
    single = lifter.lift(_kp(1, 17)[0])
    assert single.points.shape == (17, 3) and single.rotation.shape == (3, 3)
    assert np.ndim(single.scale) == 0 and single.center.shape == (2,)


def test_points_are_root_relative_and_rotation_proper(lifter):
    res = lifter.lift(_kp(2, 17), rig="coco17")
    np.testing.assert_allclose(res.points.mean(axis=1), 0.0, atol=1e-3)
    np.testing.assert_allclose(np.linalg.det(res.rotation), 1.0, atol=1e-4)
    np.testing.assert_allclose(res.center, _kp(2, 17).mean(axis=1), rtol=1e-5)


def test_permutation_equivariant(lifter):
    kp = _kp(1, 17, seed=1)
    perm = np.random.default_rng(2).permutation(17)
    a = lifter.lift(kp).points
    b = lifter.lift(kp[:, perm]).points
    np.testing.assert_allclose(b, a[:, perm], atol=ATOL_PX)


def test_padding_invariant(lifter):
    kp = _kp(1, 12, seed=3)
    padded = np.concatenate([kp, np.full((1, 5, 2), 1e3, np.float32)], axis=1)
    mask = np.r_[np.ones(12, bool), np.zeros(5, bool)][None]
    edges = np.array([[i, i + 1] for i in range(11)])
    a = lifter.lift(kp, edges=edges).points
    b = lifter.lift(padded, mask, edges=edges).points
    np.testing.assert_allclose(b[:, :12], a, atol=ATOL_PX)
    np.testing.assert_array_equal(b[:, 12:], 0.0)


def test_large_batch_split_matches_unsplit(tiny_onnx, lifter):
    kp = _kp(10, 17, seed=4)  # max_batch=4 -> 3 backend calls
    split = lifter.lift(kp, rig="coco17").points
    with Lifter.load(tiny_onnx, backend="onnxruntime", threads=1, max_batch=64) as big:
        whole = big.lift(kp, rig="coco17").points
    np.testing.assert_allclose(split, whole, atol=ATOL_PX)


def test_rig_supplies_edges_and_sides(lifter):
    rig = get_rig("coco17")
    kp = _kp(2, 17, seed=5)
    by_name = lifter.lift(kp, rig="coco17").points
    explicit = lifter.lift(kp, edges=rig.edge_array(), sides=rig.side_array()).points
    np.testing.assert_allclose(by_name, explicit, atol=1e-5)
    bare = lifter.lift(kp).points
    assert not np.allclose(bare, by_name, atol=ATOL_PX)  # edges/sides reach the network


@pytest.mark.parametrize("bad, match", [
    (lambda kp: kp[..., :1].repeat(3, -1), r"\(B, N, 2\)|shape"),      # (B, N, 3)
    (lambda kp: kp.astype(str), "dtype|numeric|float"),
])
def test_bad_shape_and_dtype_raise(lifter, bad, match):
    with pytest.raises(ValueError, match=match):
        lifter.lift(bad(_kp(2, 17)))


def test_nan_names_the_instance_and_point(lifter):
    kp = _kp(2, 17)
    kp[1, 5, 0] = np.nan
    with pytest.raises(ValueError, match=r"1.*5|5.*1"):
        lifter.lift(kp)


def test_too_few_valid_points_raises(lifter):
    mask = np.ones((2, 17), bool)
    mask[1, 2:] = False
    with pytest.raises(ValueError, match="1"):
        lifter.lift(_kp(2, 17), mask)


def test_edges_out_of_range_raise(lifter):
    with pytest.raises(ValueError, match="17|range"):
        lifter.lift(_kp(1, 17), edges=np.array([[0, 17]]))


def test_unknown_rig_lists_known(lifter):
    with pytest.raises(ValueError, match="coco17"):
        lifter.lift(_kp(1, 17), rig="no_such_rig")


def test_rig_n_mismatch_raises(lifter):
    with pytest.raises(ValueError, match="17|21"):
        lifter.lift(_kp(1, 21), rig="coco17")


def test_too_many_keypoints_raises(tiny_onnx):
    with Lifter.load(tiny_onnx, backend="onnxruntime", threads=1, max_keypoints=20) as lf:
        with pytest.raises(ValueError, match="20"):
            lf.lift(_kp(1, 21))


def test_auto_backend_is_onnxruntime_here(tiny_onnx, caplog):
    from lfm3d_net.backends import tensorrt_probe

    if tensorrt_probe()[0]:
        pytest.skip("TensorRT and a GPU are present")
    with caplog.at_level(logging.INFO, logger="lfm3d"):
        with Lifter.load(tiny_onnx) as lf:
            assert lf.backend_name == "onnxruntime"
    assert "TensorRT is not importable" in caplog.text


def test_info_reports_model_config(lifter):
    info = lifter.info()
    assert info["backend"] == "onnxruntime" and info["config"]["dim"] == 32


def _same_result(a, b, atol=ATOL_PX):
    for name in ("points", "canonical", "rotation", "scale", "center", "mask"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.shape == y.shape and x.dtype == y.dtype, name
        np.testing.assert_allclose(x, y, atol=atol, err_msg=name)


def test_one_instance_equals_the_same_instance_in_a_batch(lifter):
    """B == 1 takes the Python-float camera fit; B > 1 the batched numpy one."""
    kp = _kp(3, 17, seed=6)
    mask = np.ones((3, 17), bool)
    mask[0, [2, 9]] = False
    for rig in (None, "coco17"):
        batch = lifter.lift(kp, mask, rig=rig)
        one = lifter.lift(kp[:1], mask[:1], rig=rig)
        first = LiftResult(*(getattr(batch, f)[:1] for f in
                             ("points", "canonical", "rotation", "scale", "center", "mask")))
        _same_result(one, first, atol=1e-3)
        np.testing.assert_allclose(one.rotation, first.rotation, atol=1e-5)


def test_rig_fast_path_equals_explicit_edges_and_sides(lifter):
    rig = get_rig("coco17")
    kp = _kp(2, 17, seed=7)
    mask = np.ones((2, 17), bool)
    mask[1, [0, 5, 16]] = False
    for args in ((kp, mask), (kp[0], mask[0]), (kp[0].astype(np.float64), None), (list(kp), None)):
        by_name = lifter.lift(*args, rig="coco17")
        explicit = lifter.lift(*args, edges=rig.edge_array(), sides=rig.side_array())
        _same_result(by_name, explicit, atol=1e-5)


def test_rig_with_ragged_input_pads_like_explicit_edges(lifter):
    rig = get_rig("coco17")
    kp = [_kp(1, 17, seed=8)[0], _kp(1, 12, seed=9)[0]]
    by_name = lifter.lift(kp, rig="coco17")
    explicit = lifter.lift(kp, edges=rig.edge_array(), sides=rig.side_array())
    _same_result(by_name, explicit, atol=1e-5)
    assert not by_name.mask[1, 12:].any()


def test_rig_errors_keep_their_order(lifter):
    with pytest.raises(ValueError, match=r"edges\[\d+\] = .* out of range for 12"):
        lifter.lift(_kp(1, 12), rig="coco17")  # the rig's edges do not fit N = 12
    with pytest.raises(ValueError, match=r"sides must have shape \(1, 21\) or \(21,\)"):
        lifter.lift(_kp(1, 21), rig="coco17")  # the rig's sides do not fit N = 21
    kp = _kp(1, 12)
    kp[0, 3, 1] = np.inf
    with pytest.raises(ValueError, match=r"NaN or inf.*instance 0 keypoint\(s\) \[3\]"):
        lifter.lift(kp, rig="coco17")


def test_instance_edges_lift_mixed_rigs_in_one_batch_like_separate_calls(tiny_onnx):
    """People and a face in one padded batch, each with its own edges, give what separate
    calls give (padding invariance; 1e-4 px on ~100 px inputs: float32 through the net)."""
    from lfm3d_net import Lifter
    from lfm3d_net.rigs import get_rig
    lifter = Lifter.load(tiny_onnx, backend="onnxruntime")
    rng = np.random.default_rng(3)
    coco, face = get_rig("coco17"), get_rig("face68")
    a = (rng.random((17, 2)) * 100).astype(np.float32)
    b = (rng.random((68, 2)) * 100).astype(np.float32)
    kp = np.zeros((3, 68, 2), np.float32)
    mask = np.zeros((3, 68), bool)
    kp[0, :17], kp[1], kp[2, :17] = a, b, a
    mask[0, :17], mask[1], mask[2, :17] = True, True, True
    res = lifter.lift(kp, mask, instance_edges=[coco.edge_array(), face.edge_array(), None])
    one_a = lifter.lift(a, edges=coco.edge_array()).points
    one_b = lifter.lift(b, edges=face.edge_array()).points
    knn_a = lifter.lift(a).points
    np.testing.assert_allclose(res.points[0, :17], one_a, atol=1e-3)
    np.testing.assert_allclose(res.points[1], one_b, atol=1e-3)
    np.testing.assert_allclose(res.points[2, :17], knn_a, atol=1e-3)


def test_instance_edges_errors_name_the_instance(tiny_onnx):
    from lfm3d_net import Lifter
    lifter = Lifter.load(tiny_onnx, backend="onnxruntime")
    kp = np.random.default_rng(0).random((2, 5, 2)).astype(np.float32)
    with pytest.raises(ValueError, match=r"instance 1: edges\[0\] = \[0, 9\] is out of range"):
        lifter.lift(kp, instance_edges=[[[0, 1]], [[0, 9]]])
    with pytest.raises(ValueError, match="1 entries for 2 instances"):
        lifter.lift(kp, instance_edges=[None])
    with pytest.raises(ValueError, match="not both"):
        lifter.lift(kp, rig="coco17", instance_edges=[None, None])


def test_rig_supplies_fronts_to_a_model_trained_with_them(tiny_fronts_onnx):
    rig = get_rig("car12")  # headlights, front wheels +1; taillights, rear wheels -1
    kp = _kp(2, 12, seed=11)
    with Lifter.load(tiny_fronts_onnx, backend="onnxruntime", threads=1, max_batch=1) as lf:
        assert lf.backend.takes_fronts and lf.info()["config"]["use_fronts"]
        by_name = lf.lift(kp, rig="car12")  # fast path, split over max_batch = 1 calls
        explicit = lf.lift(kp, edges=rig.edge_array(), sides=rig.side_array(),
                           fronts=rig.front_array())
        _same_result(by_name, explicit, atol=1e-5)
        unknown = lf.lift(kp, rig="car12", fronts=np.zeros(12))
        assert not np.allclose(unknown.points, by_name.points, atol=ATOL_PX)  # fronts reach it
        ragged = lf.lift([kp[0], kp[1, :9]], sides=[rig.side_array(), rig.side_array()[:9]],
                         instance_edges=[rig.edge_array(), None],
                         fronts=[rig.front_array(), rig.front_array()[:9]])
        np.testing.assert_allclose(ragged.points[0], by_name.points[0], atol=1e-3)
        with pytest.raises(ValueError, match=r"fronts must be -1, 0 or \+1"):
            lf.lift(kp, rig="car12", fronts=np.full(12, 0.5))


def test_models_without_fronts_ignore_them(lifter):
    assert not lifter.backend.takes_fronts
    kp = _kp(1, 12, seed=12)
    with_fronts = lifter.lift(kp, rig="car12")  # the rig has fronts; this graph has no input
    np.testing.assert_allclose(with_fronts.points, lifter.lift(kp, rig="car12", fronts=np.ones(12)).points)


def test_flip_average_makes_the_lift_mirror_equivariant(tiny_onnx):
    """Lifting the mirror image (x -> -x, sides negated) gives the mirrored 3D (or its depth
    mirror, which one view cannot tell apart) when flip averaging is on, whatever the network
    learnt; the tiny random network alone does not."""
    from lfm3d_net.geometry import mirror_x
    rig = get_rig("coco17")
    kp = _kp(3, 17, seed=21)
    mask = np.ones((3, 17), bool)
    mask[1, [0, 5]] = False
    sides = np.tile(rig.side_array(), (3, 1))
    gaps = {}
    for flip in (False, True):
        with Lifter.load(tiny_onnx, backend="onnxruntime", threads=1, flip_average=flip) as lf:
            a = lf.lift(kp, mask, edges=rig.edge_array(), sides=sides)
            b = lf.lift(mirror_x(kp), mask, edges=rig.edge_array(), sides=-sides)
            mb = mirror_x(b.points)
            gap = np.minimum(np.abs(mb - a.points).max((1, 2)),
                             np.abs(mb * [1, 1, -1] - a.points).max((1, 2)))
            gaps[flip] = gap.max()
            assert np.isfinite(a.points).all() and (a.points[~mask] == 0).all()
            np.testing.assert_allclose(np.linalg.det(a.rotation), 1, atol=1e-4)
    assert gaps[True] < ATOL_PX, f"flip-averaged lift not mirror-equivariant: {gaps[True]:.3g} px"
    assert gaps[False] > 10 * ATOL_PX, "the tiny model is already equivariant: the test proves nothing"


def test_flip_average_runs_image_and_mirror_in_one_backend_call_and_still_splits(tiny_onnx):
    from lfm3d_net.backends.ort_backend import OrtBackend
    calls = []

    class Counting(OrtBackend):
        def run(self, keypoints, *args, **kwargs):
            calls.append(len(keypoints))
            return super().run(keypoints, *args, **kwargs)

    kp = _kp(3, 17, seed=22)
    with Lifter(Counting(tiny_onnx, threads=1), max_batch=8, flip_average=True) as lf:
        lf.lift(kp, rig="coco17")
        assert calls == [6]
        calls.clear()
        lf.max_batch = 4
        split = lf.lift(kp, rig="coco17")
        assert calls == [4, 2]
        lf.flip_average = False
        calls.clear()
        plain = lf.lift(kp, rig="coco17")
        assert calls == [3] and not np.allclose(plain.points, split.points, atol=ATOL_PX)


def test_lifts_without_sides_or_edges_are_counted_and_logged_once(tiny_onnx, caplog):
    """No rig, no sides, no edges: still lifted (valid input), but the caller is told once
    why the 3D will be poor, and every such call is counted."""
    rig = get_rig("coco17")
    with Lifter.load(tiny_onnx, backend="onnxruntime", threads=1) as lf:
        with caplog.at_level(logging.WARNING, logger="lfm3d"):
            for _ in range(3):
                assert lf.lift(_kp(2, 17)).points.shape == (2, 17, 3)
        assert lf.hints == {"no_sides": 3, "knn_graph": 3}, lf.hints
        assert caplog.text.count("every side 0") == 1, caplog.text
        assert caplog.text.count("no edges given") == 1, caplog.text
        lf.lift(_kp(2, 17), edges=rig.edge_array())                  # edges, still no sides
        lf.lift(_kp(2, 17), sides=rig.side_array())                  # sides on a kNN graph
        assert lf.hints == {"no_sides": 4, "knn_graph": 4}, lf.hints
        lf.lift(_kp(2, 17), rig="coco17")                            # the rig gives both
        lf.lift(_kp(1, 17), rig="coco17", sides=np.zeros(17))        # a named rig is the caller's choice
        lf.lift(_kp(2, 17), instance_edges=[rig.edge_array()] * 2, sides=rig.side_array())
        assert lf.hints == {"no_sides": 4, "knn_graph": 4}, lf.hints
        lf.lift(_kp(2, 17), instance_edges=[rig.edge_array(), None])  # one instance on kNN, no sides
        assert lf.hints == {"no_sides": 5, "knn_graph": 5}, lf.hints
