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
    seg, kept = markers.bone_segments(pts, np.array([[0, 1], [1, 2], [0, 3]]))
    assert seg.tolist() == [[0, 0, 0], [1, 0, 0], [0, 0, 0], [0, 1, 0]]
    assert kept.tolist() == [True, False, True]


def test_delete_all_is_requested_only_when_the_instance_set_changes():
    builder = markers.MarkerBuilder()
    assert not builder.needs_delete_all(["instance_1", "instance_2"])   # first frame
    assert not builder.needs_delete_all(["instance_2", "instance_1"])   # same set
    assert builder.needs_delete_all(["instance_1"])                      # one left
    assert not builder.needs_delete_all(["instance_1"])


def test_pixel_skeletons_are_drawn_at_their_centroid_in_millimetres_per_pixel():
    sk = conv.SkeletonOut(1, "", "", np.array([[10.0, 0, 0]]), np.ones(1), np.zeros((0, 2)),
                          center=np.array([100.0, 200.0]))
    metric_sk = conv.SkeletonOut(2, "", "", np.array([[10.0, 0, 0]]), np.ones(1), np.zeros((0, 2)),
                                 metric=True, center=np.array([100.0, 200.0]))
    np.testing.assert_allclose(markers.drawn_points([sk, metric_sk]), [[0.11, 0.2, 0.0], [10.0, 0, 0]])


def _skeleton(instance_id, n=5, metric=True, nan_at=(), seed=0):
    pts = np.random.default_rng(seed + instance_id + 10).uniform(-1, 1, (n, 3))
    pts[list(nan_at)] = np.nan
    edges = np.array([[i, i + 1] for i in range(n - 1)], np.int64)
    return conv.SkeletonOut(instance_id, "person", "", pts, np.ones(n, np.float32), edges, metric, 1.0,
                            np.array([320.0, 240.0]))


def test_marker_specs_hold_each_skeletons_finite_joints_and_complete_bones():
    sks = [_skeleton(1, 5, nan_at=[2]), _skeleton(2, 7), _skeleton(-1, 4, metric=False)]
    specs = markers.MarkerBuilder(marker_scale=0.1).specs(sks)
    assert [(m.ns, m.id, m.type) for m in specs] == [
        ("instance_1", 0, markers.SPHERE_LIST), ("instance_1", 1, markers.LINE_LIST),
        ("instance_2", 0, markers.SPHERE_LIST), ("instance_2", 1, markers.LINE_LIST),
        ("untracked_2", 0, markers.SPHERE_LIST), ("untracked_2", 1, markers.LINE_LIST)]
    drawn = markers.drawn_points(sks)
    for k, (sk, start) in enumerate(zip(sks, (0, 5, 12))):
        pts = drawn[start:start + len(sk.points)]
        finite = pts[np.isfinite(pts).all(axis=1)]
        joints, bones = specs[2 * k], specs[2 * k + 1]
        np.testing.assert_array_equal(joints.points, finite)
        assert joints.width == pytest.approx(0.1 * np.ptp(finite, axis=0).max())
        assert bones.width == pytest.approx(markers.BONE_WIDTH * joints.width)
        np.testing.assert_array_equal(bones.points, markers.bone_segments(pts, sk.edges)[0])
    assert len(specs[1].points) == 2 * 2     # edges 1-2 and 2-3 lose their NaN end


def test_duplicate_instance_ids_get_their_own_marker_namespaces():
    sks = [_skeleton(4), _skeleton(4, seed=1), _skeleton(5), _skeleton(4, seed=2), _skeleton(-1)]
    assert markers.namespaces(sks) == ["instance_4", "instance_4_1", "instance_5", "instance_4_2",
                                       "untracked_4"]
    specs = markers.MarkerBuilder().specs(sks)
    assert len({(m.ns, m.id) for m in specs}) == len(specs) == 10


def test_cdr_bytes_read_back_as_the_same_messages_nan_points_included():
    pytest.importorskip("rclpy", reason="rclpy serialisation needed")
    try:
        from lfm3d_ros.msg import Skeleton3DArray
    except ImportError as err:
        pytest.skip(f"messages not built: {err}")
    from rclpy.serialization import deserialize_message
    from std_msgs.msg import Header
    from visualization_msgs.msg import MarkerArray

    from lfm3d_ros import cdr

    sks = [_skeleton(1, 5, nan_at=[2]), _skeleton(2, 0), _skeleton(3, 133)]
    sks[1].edges = np.zeros((0, 2), np.int64)
    header = Header(frame_id="cam_optical")
    header.stamp.sec, header.stamp.nanosec = 12, 345
    back = deserialize_message(cdr.skeleton_array(sks, header), Skeleton3DArray)
    assert (back.header.stamp.sec, back.header.stamp.nanosec, back.header.frame_id) == (12, 345, "cam_optical")
    for sk, msg in zip(sks, back.skeletons):
        assert (msg.instance_id, msg.category, msg.metric, msg.scale) == (sk.instance_id, "person", True, 1.0)
        np.testing.assert_array_equal(conv.points_from_msg(msg), sk.points)
        assert list(msg.edges) == sk.edges.reshape(-1).tolist()
    specs = markers.MarkerBuilder().specs(sks)
    marker_back = deserialize_message(cdr.marker_array(specs, header), MarkerArray)
    assert [(m.ns, m.id, m.type) for m in marker_back.markers] == [(s.ns, s.id, s.type) for s in specs]
    for spec, m in zip(specs, marker_back.markers):
        np.testing.assert_allclose(conv.points_from_msg(m), spec.points)
        assert m.pose.orientation.w == 1.0 and m.lifetime.nanosec == 500_000_000
    finite = [_skeleton(7, 6)]
    specs = markers.MarkerBuilder().specs(finite)
    assert cdr.matches_rclpy(finite, conv.to_skeleton_msgs(finite, header), specs,
                             markers.to_marker_array(specs, header))


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
    assert stats.level_and_message(2.0)[0] == 1


def test_diagnostics_level_recovers_once_the_window_holds_no_bad_instance():
    from lfm3d_ros.diagnostics import BAD_WINDOW_S, KEY_DROPPED_RATE, OK, WARN

    stats = LiftStats()
    stats.on_rejected("non_finite", now_s=100.0)
    stats.on_rejected("non_finite", now_s=101.0)
    assert stats.level_and_message(102.0) == (WARN, f"2 instances dropped for bad input in the last {BAD_WINDOW_S:g} s")
    assert stats.summary(102.0)[KEY_DROPPED_RATE] == f"{2 / BAD_WINDOW_S:.1f}"
    assert stats.level_and_message(101.0 + BAD_WINDOW_S + 0.1)[0] == OK
    later = stats.summary(101.0 + BAD_WINDOW_S + 0.1)
    assert later[KEY_DROPPED_RATE] == "0.0" and later["dropped non_finite"] == "2"   # cumulative stays


def test_sequence_gaps_are_not_counted_across_publishers_without_an_id():
    stats = LiftStats()
    for seq in range(1, 81):                        # two publishers, interleaved, nothing lost
        stats.on_message(seq / 30, b"", seq, publishers=2)
        stats.on_message(seq / 30, b"", seq + 500, publishers=2)
    assert stats.dropped_messages == 0 and stats.drop_tracking.startswith("paused: 2 publishers")
    for seq in (600, 601, 605):                     # one publisher again: its own gaps count
        stats.on_message(10.0, b"", seq, publishers=1)
    assert stats.dropped_messages == 3 and stats.drop_tracking == "on"
    stats.on_message(11.0, b"A", 1, publishers=2)   # with publisher ids, each keeps its own count
    stats.on_message(11.0, b"B", 900, publishers=2)
    stats.on_message(11.0, b"A", 2, publishers=2)
    assert stats.dropped_messages == 3


class _FakeLifter:
    """Records calls; 'lifts' by appending z = 0 to the centred 2D (like a flat object)."""

    def __init__(self):
        self.calls = []

    def lift(self, kp, mask, sides=None, instance_edges=None, fronts=None, rig=None):
        edges = rig if rig else [None if e is None else e.tolist() for e in instance_edges]
        self.calls.append((kp.shape, edges))
        m = mask[..., None]
        center = (kp * m).sum(1) / np.maximum(m.sum(1), 1)
        pts = np.concatenate([kp - center[:, None], np.zeros(kp.shape[:2] + (1,))], -1) * m
        return SimpleNamespace(points=pts, scale=np.ones(len(kp)), center=center)


def test_instances_are_lifted_in_one_batch_per_keypoint_count_and_returned_in_input_order():
    from lfm3d_ros.lifting import lift_instances

    shapes = [(5, "chain5", ()), (4, "", ()), (5, "chain5", ()), (3, "", ()), (4, "", ()),
              (5, "chain5", (0, 4))]
    insts = [conv.parse_instance(kp(n=n, instance_id=i, rig=r, edges=e), i, LIMITS, lookup)
             for i, (n, r, e) in enumerate(shapes)]
    fake = _FakeLifter()
    out, rejected = lift_instances(fake, insts[:5])
    assert [o.instance_id for o in out] == [0, 1, 2, 3, 4] and rejected == []
    # one call per N, never padded to the message's largest N (issue 27: a 133-point instance
    # made ten 17-point people cost 6x); one rig throughout: the Lifter's rig path
    assert fake.calls == [((2, 5, 2), "chain5"), ((2, 4, 2), [None, None]), ((1, 3, 2), [None])]
    fake.calls.clear()
    lift_instances(fake, [insts[0], insts[5]])       # message edges: per-instance edge lists
    assert fake.calls == [((2, 5, 2), [insts[0].edges.tolist(), [[0, 4]]])]
    # the fake lift is exact, so each instance's 2D shape comes back (float32 input: 1e-4 px)
    for inst, sk in zip(insts, out):
        np.testing.assert_allclose(sk.points[:, :2] + sk.center, inst.xy, atol=1e-3)


def test_metric_lift_marks_skeletons_metric_and_matches_the_size_prior():
    from lfm3d_net.metric import extent
    from lfm3d_ros.lifting import lift_instances

    insts = [conv.parse_instance(kp(n=5, instance_id=i), i, LIMITS, lookup) for i in range(2)]
    k = np.array([500.0, 0, 320, 0, 500, 240, 0, 0, 1])
    out, _ = lift_instances(_FakeLifter(), insts, k, lambda category, rig: 1.7)
    for sk in out:
        assert sk.metric and sk.points[:, 2].min() > 0
        assert extent(sk.points[None])[0] == pytest.approx(1.7, rel=1e-9)


class _BrokenLifter(_FakeLifter):
    """Like _FakeLifter, but instance 1 comes back NaN and instance 2 collapsed to a point."""

    def lift(self, kp, mask, sides=None, instance_edges=None, fronts=None, rig=None):
        out = super().lift(kp, mask, sides, instance_edges, fronts, rig)
        out.points[1] = np.nan
        out.points[2] = 0.0
        return out


@pytest.mark.parametrize("metric", [False, True])
def test_unusable_lifted_instances_are_rejected_never_published_as_nan(metric):
    from lfm3d_ros.lifting import lift_instances

    insts = [conv.parse_instance(kp(n=5, instance_id=i), i, LIMITS, lookup) for i in range(4)]
    k = np.array([500.0, 0, 320, 0, 500, 240, 0, 0, 1]) if metric else None
    out, rejected = lift_instances(_BrokenLifter(), insts, k, lambda category, rig: 1.7)
    assert [o.instance_id for o in out] == [0, 3]
    assert [(r.index, r.reason) for r in rejected] == [(1, "degenerate_output"), (2, "degenerate_output")]
    for sk in out:
        assert np.isfinite(sk.points[sk.confidence > 0]).all()


def test_camera_info_places_metric_only_when_fresh_and_from_the_keypoints_frame():
    from lfm3d_ros.lifting import CameraState, camera_for

    k = np.array([500.0, 0, 320, 0, 500, 240, 0, 0, 1])
    cam = CameraState(k, "cam_optical", received_s=100.0)
    assert camera_for(None, "cam_optical", 100.0, 5.0)[0] is None
    assert camera_for(cam, "cam_optical", 104.0, 5.0)[0] is k
    assert camera_for(cam, "", 104.0, 5.0)[0] is k                     # no frame given: trusted
    assert camera_for(cam, "other_optical", 104.0, 5.0)[::2] == (None, "camera_info frame mismatch")
    assert camera_for(cam, "cam_optical", 105.5, 5.0)[::2] == (None, "stale camera_info")
    assert camera_for(cam, "cam_optical", 1e6, 0.0)[0] is k            # timeout 0: never stale


def test_empty_category_takes_the_rigs_category_for_its_size_prior():
    class _Person(_Rig):
        category = "person"
    inst = conv.parse_instance(kp(rig="chain5", category=""), 0, LIMITS,
                               lambda name: _Person("chain5", 5))
    assert inst.category == "person"
    assert conv.parse_instance(kp(category=""), 0, LIMITS, lookup).category == ""


def test_groups_lifted_side_by_side_on_a_pool_give_the_sequential_result():
    from concurrent.futures import ThreadPoolExecutor

    from lfm3d_ros.lifting import lift_instances

    insts = [conv.parse_instance(kp(n=n, instance_id=i), i, LIMITS, lookup)
             for i, n in enumerate([5, 4, 5, 3, 8, 4])]
    alone, _ = lift_instances(_FakeLifter(), insts)
    with ThreadPoolExecutor(2) as pool:
        fake = _FakeLifter()
        together, _ = lift_instances(fake, insts, pool=pool)
    assert sorted(c[0] for c in fake.calls) == [(1, 3, 2), (1, 8, 2), (2, 4, 2), (2, 5, 2)]
    assert [s.instance_id for s in together] == [0, 1, 2, 3, 4, 5]
    for a, b in zip(alone, together):
        np.testing.assert_array_equal(a.points, b.points)
