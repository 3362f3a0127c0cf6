"""Pure unit tests (no rclpy) of the node's conversion, marker and diagnostics helpers."""

from types import SimpleNamespace

import numpy as np
import pytest

from lfm3d_ros import conversions as conv
from lfm3d_ros import markers
from lfm3d_ros.diagnostics import LiftStats


class _Rig:
    def __init__(self, name, n):
        self.name, self.n = name, n

    def edge_array(self):
        return np.array([[i, i + 1] for i in range(self.n - 1)], np.int64)

    def side_array(self):
        return np.where(np.arange(self.n) % 2, 1.0, -1.0).astype(np.float32)

    def front_array(self):
        return np.eye(1, self.n, 0, dtype=np.float32)[0]  # the first point is the front end


RIGS = {"chain5": _Rig("chain5", 5)}


def lookup(name):
    return RIGS[name]  # KeyError for unknown names, like lfm3d_net.rigs.get_rig


def kp(n=5, instance_id=0, rig="", conf=None, edges=(), x=None, y=None, category="thing"):
    rng = np.random.default_rng(instance_id + 7)
    return SimpleNamespace(instance_id=instance_id, category=category, rig=rig,
                           x=list(rng.uniform(0, 640, n) if x is None else x),
                           y=list(rng.uniform(0, 480, n) if y is None else y),
                           confidence=[] if conf is None else list(conf), edges=list(edges))


LIMITS = conv.Limits(min_confidence=0.3, max_keypoints=8)


@pytest.mark.parametrize("instance, reason", [
    (kp(x=[1, 2, 3, 4]), "length_mismatch"),
    (kp(conf=[1, 1]), "length_mismatch"),
    (kp(x=[1, 2, np.inf, 4, 5]), "non_finite"),
    (kp(conf=[1, 1, np.nan, 1, 1]), "non_finite"),
    (kp(conf=[0.9, 0.9, 0.1, 0.1, 0.1]), "too_few_points"),
    (kp(x=[np.nan] * 3 + [1, 2]), "too_few_points"),
    (kp(n=9), "too_many_points"),
    (kp(edges=[0, 1, 2]), "bad_edges"),
    (kp(edges=[0, 5]), "bad_edges"),
    (kp(rig="nonesuch"), "unknown_rig"),
    (kp(n=4, rig="chain5"), "rig_mismatch"),
])
def test_each_bad_instance_is_rejected_with_its_reason_and_good_ones_kept(instance, reason):
    msg = SimpleNamespace(instances=[kp(instance_id=1), instance, kp(instance_id=3)])
    accepted, rejected = conv.parse_array(msg, LIMITS, lookup)
    assert [a.instance_id for a in accepted] == [1, 3]
    assert [(r.index, r.reason) for r in rejected] == [(1, reason)]
    assert reason in conv.REASONS


def test_nan_coordinate_marks_only_that_point_missing():
    inst = conv.parse_instance(kp(x=[np.nan, 1, 2, 3, 4]), 0, LIMITS, lookup)
    assert inst.valid.tolist() == [False, True, True, True, True]
    assert inst.xy[0].tolist() == [0.0, 0.0] and inst.confidence[0] == 0.0


def test_rig_gives_edges_sides_and_fronts_and_message_edges_override_them():
    inst = conv.parse_instance(kp(rig="chain5"), 0, LIMITS, lookup)
    assert inst.rig == "chain5" and inst.edges.shape == (4, 2)
    assert inst.sides.tolist() == [-1, 1, -1, 1, -1]
    assert inst.fronts.tolist() == [1, 0, 0, 0, 0]
    inst = conv.parse_instance(kp(rig="chain5", edges=[0, 4]), 0, LIMITS, lookup)
    assert inst.edges.tolist() == [[0, 4]]


def test_default_rig_applies_only_when_the_point_count_matches():
    limits = conv.Limits(default_rig="chain5")
    assert conv.parse_instance(kp(n=5), 0, limits, lookup).rig == "chain5"
    assert conv.parse_instance(kp(n=6), 0, limits, lookup).rig == ""


def test_pad_batch_pads_ragged_instances_with_masked_zeros():
    insts = [conv.parse_instance(kp(n=n, instance_id=n, rig=rig), 0, LIMITS, lookup)
             for n, rig in ((3, ""), (5, "chain5"))]
    keypoints, mask, sides, fronts = conv.pad_batch(insts)
    assert keypoints.shape == (2, 5, 2) and keypoints.dtype == np.float32
    assert mask.tolist() == [[True] * 3 + [False] * 2, [True] * 5]
    assert (keypoints[0, 3:] == 0).all() and sides.shape == (2, 5)
    # the rig's fronts ride along (chain5: first point front); padding and rig-less are 0
    assert fronts.tolist() == [[0.0] * 5, [1.0, 0, 0, 0, 0]], fronts
    with pytest.raises(ValueError, match="no instances"):
        conv.pad_batch([])


def test_unpad_results_cuts_padding_and_sets_nan_at_invalid_points():
    insts = [conv.parse_instance(kp(n=3), 0, LIMITS, lookup),
             conv.parse_instance(kp(x=[np.nan, 1, 2, 3, 4], instance_id=4), 1, LIMITS, lookup)]
    pts = np.arange(2 * 5 * 3, dtype=float).reshape(2, 5, 3)
    out = conv.unpad_results(insts, pts, np.array([2.0, 3.0]), np.zeros((2, 2)))
    assert out[0].points.shape == (3, 3) and np.isfinite(out[0].points).all()
    assert np.isnan(out[1].points[0]).all() and out[1].points[1].tolist() == [18, 19, 20]
    assert out[1].scale == 3.0 and out[1].instance_id == 4


def test_marker_colours_are_stable_and_distinct_per_instance():
    assert markers.instance_colour(3) == markers.instance_colour(3)
    colours = {markers.instance_colour(i) for i in range(-1, 10)}
    assert len(colours) == 11
    assert all(0 <= c <= 1 for rgb in colours for c in rgb)


def test_bone_segments_skip_edges_with_a_missing_end():
    pts = np.array([[0, 0, 0], [1, 0, 0], [np.nan] * 3, [0, 1, 0]], float)
    seg = markers.bone_segments(pts, np.array([[0, 1], [1, 2], [0, 3]]))
    assert seg.tolist() == [[0, 0, 0], [1, 0, 0], [0, 0, 0], [0, 1, 0]]


def test_delete_all_is_requested_only_when_the_instance_set_changes():
    builder = markers.MarkerBuilder()
    assert not builder.needs_delete_all(["instance_1", "instance_2"])   # first frame
    assert not builder.needs_delete_all(["instance_2", "instance_1"])   # same set
    assert builder.needs_delete_all(["instance_1"])                      # one left
    assert not builder.needs_delete_all(["instance_1"])


def test_pixel_skeletons_are_drawn_at_their_centroid_in_millimetres_per_pixel():
    sk = conv.SkeletonOut(1, "", "", np.array([[10.0, 0, 0]]), np.ones(1), np.zeros((0, 2)),
                          center=np.array([100.0, 200.0]))
    np.testing.assert_allclose(markers.drawn_points(sk), [[0.11, 0.2, 0.0]])
    sk.metric = True
    np.testing.assert_allclose(markers.drawn_points(sk), [[10.0, 0, 0]])


def test_stats_rate_latency_and_sequence_gap_drops():
    stats = LiftStats("onnxruntime", "m.onnx")
    for i in range(31):
        stats.on_message(i / 30.0, b"pub", sequence=i + 1)
    stats.on_message(2.0, b"pub", sequence=40)           # 8 sequence numbers skipped
    for ms in range(1, 101):
        stats.on_lift(ms / 1000.0)
    stats.on_rejected("non_finite")
    s = stats.summary(2.0)
    assert float(s["input rate (Hz)"]) == pytest.approx(31 / 2.0, rel=1e-6)
    assert float(s["lift latency p50 (ms)"]) == pytest.approx(50.5, abs=0.01)
    assert float(s["lift latency p99 (ms)"]) == pytest.approx(99.01, abs=0.01)
    assert s["messages dropped"] == "8" and s["dropped non_finite"] == "1"
    assert stats.level_and_message()[0] == 1


class _FakeLifter:
    """Records calls; 'lifts' by appending z = 0 to the centred 2D (like a flat object)."""

    def __init__(self):
        self.calls = []

    def lift(self, kp, mask, sides=None, instance_edges=None, fronts=None):
        self.calls.append((kp.shape, [None if e is None else e.tolist() for e in instance_edges]))
        m = mask[..., None]
        center = (kp * m).sum(1) / np.maximum(m.sum(1), 1)
        pts = np.concatenate([kp - center[:, None], np.zeros(kp.shape[:2] + (1,))], -1) * m
        return SimpleNamespace(points=pts, scale=np.ones(len(kp)), center=center)


def test_all_instances_of_a_message_are_lifted_as_one_padded_batch_in_input_order():
    from lfm3d_ros.lifting import lift_instances

    insts = [conv.parse_instance(kp(n=n, instance_id=i, rig=r), i, LIMITS, lookup)
             for i, (n, r) in enumerate([(5, "chain5"), (4, ""), (5, "chain5"), (3, "")])]
    fake = _FakeLifter()
    out = lift_instances(fake, insts)
    assert [o.instance_id for o in out] == [0, 1, 2, 3]
    assert [c[0] for c in fake.calls] == [(4, 5, 2)]        # one call: 4 instances padded to N=5
    edges = fake.calls[0][1]
    assert edges[0] == edges[2] and edges[0] and edges[1] is None and edges[3] is None
    # the fake lift is exact, so each instance's 2D shape comes back (float32 input: 1e-4 px)
    for inst, sk in zip(insts, out):
        np.testing.assert_allclose(sk.points[:, :2] + sk.center, inst.xy, atol=1e-3)


def test_metric_lift_marks_skeletons_metric_and_matches_the_size_prior():
    from lfm3d_net.metric import extent
    from lfm3d_ros.lifting import lift_instances

    insts = [conv.parse_instance(kp(n=5, instance_id=i), i, LIMITS, lookup) for i in range(2)]
    k = np.array([500.0, 0, 320, 0, 500, 240, 0, 0, 1])
    out = lift_instances(_FakeLifter(), insts, k, lambda category: 1.7)
    for sk in out:
        assert sk.metric and sk.points[:, 2].min() > 0
        assert extent(sk.points[None])[0] == pytest.approx(1.7, rel=1e-9)
