"""The lifter node end to end: real rclpy, the node in a subprocess, a probe node here.

One node serves the whole module (start-up dominates the run time). It runs a tiny stub
ONNX model (tests/ros_helpers.py) so the test checks plumbing, not accuracy; its
parameters come from config/lift.yaml overridden by a YAML file written here, which
also proves that a params-file override changes behaviour (output_frame, min_confidence).
"""

import itertools
import math
from pathlib import Path

import pytest

from ros_helpers import lifter_node, make_array, make_instance, require_node

require_node()

from lfm3d_ros.msg import Keypoints2DArray  # noqa: E402

OVERRIDE_FRAME = "override_frame"
RIGS_YAML = Path(__file__).resolve().parents[1] / "config" / "rigs_example.yaml"   # gripper5, upper_body7
_stamps = itertools.count(1000)


@pytest.fixture(scope="module")
def lifter(tmp_path_factory):
    """(probe, process, log path) of a running lifter node."""
    with lifter_node(tmp_path_factory.mktemp("node"), clean_exit=True, min_confidence=0.5,
                     output_frame=OVERRIDE_FRAME, flip_average=True, rigs_file=str(RIGS_YAML)) as running:
        yield running


def _send(probe, instances, **kw):
    msg = make_array(instances, sec=next(_stamps), **kw)
    out = probe.send(msg)
    assert out is not None, "no Skeleton3DArray for the message within the timeout"
    assert (out.header.stamp.sec, out.header.stamp.nanosec) == (msg.header.stamp.sec, msg.header.stamp.nanosec)
    return out


def _counter(probe, key):
    return int(probe.diagnostic_values().get(key, "0"))


def test_three_instances_give_three_finite_skeletons_with_same_stamp_and_ids(lifter):
    probe, _, _ = lifter
    out = _send(probe, [make_instance(17, 5), make_instance(12, 6), make_instance(26, 7, rig="mocap26")])
    assert [s.instance_id for s in out.skeletons] == [5, 6, 7]
    assert [len(s.points) for s in out.skeletons] == [17, 12, 26]
    assert all(math.isfinite(c) for s in out.skeletons for p in s.points for c in (p.x, p.y, p.z))
    assert out.skeletons[2].rig == "mocap26" and len(out.skeletons[2].edges) == 2 * 25
    assert not any(s.metric for s in out.skeletons)


def test_markers_arrive_with_joints_and_bones_per_instance(lifter):
    probe, _, _ = lifter
    probe.markers.clear()
    _send(probe, [make_instance(17, 1, rig="coco17"), make_instance(17, 2, rig="coco17")])
    # Markers of an earlier test's message may still be in flight: wait for this message's.
    def ours(m):
        return {"instance_1", "instance_2"} <= {x.ns for x in m.markers}
    assert probe.spin_until(lambda: any(ours(m) for m in probe.markers), 10)
    latest = [m for m in probe.markers if ours(m)][-1]
    from visualization_msgs.msg import Marker

    adds = [(m.ns, m.id, m.type) for m in latest.markers if m.action == Marker.ADD]
    assert sorted(adds) == [("instance_1", 0, Marker.SPHERE_LIST), ("instance_1", 1, Marker.LINE_LIST),
                            ("instance_2", 0, Marker.SPHERE_LIST), ("instance_2", 1, Marker.LINE_LIST)]
    bones = [m for m in latest.markers if m.type == Marker.LINE_LIST]
    assert all(len(m.points) > 0 and len(m.points) % 2 == 0 for m in bones)
    assert all(m.lifetime.sec > 0 or m.lifetime.nanosec > 0 for m in latest.markers if m.action == Marker.ADD)
    assert all(m.header.frame_id == OVERRIDE_FRAME for m in latest.markers)


def test_params_file_override_sets_output_frame(lifter):
    probe, _, _ = lifter
    assert _send(probe, [make_instance()], frame_id="camera").header.frame_id == OVERRIDE_FRAME


def test_params_file_turns_flip_averaging_on(lifter):
    probe, _, log = lifter
    _send(probe, [make_instance(17, 3, rig="coco17")])   # lifted through the image + mirror path
    assert "flip_average=True" in log.read_text()


def test_rigs_file_registers_user_rigs_that_messages_can_name(lifter):
    probe, _, log = lifter
    unknown = _counter(probe, "dropped unknown_rig")
    out = _send(probe, [make_instance(7, 21, rig="upper_body7"), make_instance(5, 22, rig="gripper5")])
    assert [s.instance_id for s in out.skeletons] == [21, 22], "instances naming a rigs_file rig must be lifted"
    assert _counter(probe, "dropped unknown_rig") == unknown
    assert "registered gripper5, upper_body7" in log.read_text()


def test_params_file_min_confidence_masks_points_and_drops_instance(lifter):
    # conf 0.4 passes config/lift.yaml's 0.3 but not the override's 0.5: only 2 points stay.
    probe, _, _ = lifter
    weak = make_instance(10, 9, confidence=[0.9, 0.9] + [0.4] * 8)
    out = _send(probe, [make_instance(10, 8), weak])
    assert [s.instance_id for s in out.skeletons] == [8]


def test_empty_message_gives_empty_array_with_same_stamp(lifter):
    probe, _, _ = lifter
    assert list(_send(probe, []).skeletons) == []


def test_one_good_and_one_malformed_instance_give_one_skeleton(lifter):
    probe, proc, _ = lifter
    out = _send(probe, [make_instance(17, 1), make_instance(17, 2, y=[1.0] * 5)])
    assert [s.instance_id for s in out.skeletons] == [1]
    assert proc.poll() is None


BAD = {
    "length_mismatch": dict(y=[1.0, 2.0, 3.0]),
    "non_finite": dict(x=[float("inf")] + [200.0] * 16),
    "too_few_points": dict(confidence=[0.9, 0.9] + [0.0] * 15),
    "too_many_points": dict(x=[200.0] * 300, y=[200.0] * 300, confidence=[]),
    "bad_edges": dict(edges=[0, 1, 40, 2]),
    "unknown_rig": dict(rig="no_such_rig"),
}


@pytest.mark.parametrize("reason", sorted(BAD))
def test_bad_instance_is_dropped_counted_and_the_rest_still_lifted(lifter, reason):
    probe, proc, log = lifter
    before = _counter(probe, f"dropped {reason}")
    out = _send(probe, [make_instance(17, 1), make_instance(17, 2, **BAD[reason]), make_instance(9, 3)])
    assert [s.instance_id for s in out.skeletons] == [1, 3]
    assert probe.spin_until(lambda: _counter(probe, f"dropped {reason}") > before, 5), \
        f"diagnostics counter 'dropped {reason}' did not move: {probe.diagnostic_values()}"
    assert proc.poll() is None, log.read_text()


def test_diagnostics_report_backend_rate_and_latency(lifter):
    probe, _, _ = lifter
    _send(probe, [make_instance()])
    assert probe.spin_until(lambda: probe.diagnostic_values().get("messages lifted", "0") != "0", 5)
    values = probe.diagnostic_values()
    assert values["backend"] == "onnxruntime"
    assert float(values["lift latency p99 (ms)"]) > 0
    assert {"input rate (Hz)", "messages dropped", "lift errors"} <= set(values)


DEGENERATE = {  # issue 27 item 5: before, a zero skeleton, NaN points with confidence 0.9, absurd depth
    "all_zero": (dict(x=[0.0] * 17, y=[0.0] * 17), "degenerate"),
    "identical": (dict(x=[321.0] * 17, y=[123.0] * 17), "degenerate"),
    "subnormal_spread": (dict(x=[1e-40 * k for k in range(17)], y=[1e-40] * 17), "degenerate"),
    "huge": (dict(x=[1e30 * (k + 1) for k in range(17)], y=[2e30] * 17), "out_of_range"),
}


@pytest.mark.parametrize("kind", sorted(DEGENERATE))
def test_degenerate_instance_is_dropped_counted_and_never_published_as_nan(lifter, kind):
    probe, proc, log = lifter
    fields, reason = DEGENERATE[kind]
    before = _counter(probe, f"dropped {reason}")
    out = _send(probe, [make_instance(17, 1), make_instance(17, 2, **fields), make_instance(17, 3)])
    assert [s.instance_id for s in out.skeletons] == [1, 3]
    for s in out.skeletons:
        assert all(math.isfinite(c) for p, conf in zip(s.points, s.confidence) if conf > 0
                   for c in (p.x, p.y, p.z))
    assert probe.spin_until(lambda: _counter(probe, f"dropped {reason}") > before, 5), probe.diagnostic_values()
    assert proc.poll() is None, log.read_text()


def test_two_publishers_do_not_make_up_dropped_messages(lifter):
    # issue 27 item 6: 160 sent, 160 lifted, the counter said 2,900 dropped (sequence numbers
    # of different publishers compared; rclpy 7 gives no publisher id to tell them apart)
    from rclpy.qos import QoSProfile, ReliabilityPolicy

    probe, _, _ = lifter
    second = probe.node.create_publisher(Keypoints2DArray, "keypoints_2d",
                                         QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))
    try:
        assert probe.spin_until(lambda: second.get_subscription_count() > 0, 10)
        probe.spin_until(lambda: False, 1.0)                        # let the node match it too
        before = _counter(probe, "messages dropped")
        for _ in range(40):                                         # paced: nothing is really lost
            first_msg, second_msg = (make_array([make_instance(5)], sec=next(_stamps)) for _ in range(2))
            probe.pub.publish(first_msg)
            assert probe.send(second_msg, publisher=second) is not None
        assert probe.spin_until(
            lambda: probe.diagnostic_values().get("messages dropped tracking", "").startswith("paused: 2"), 5), \
            probe.diagnostic_values()
        assert _counter(probe, "messages dropped") == before
    finally:
        probe.node.destroy_publisher(second)


def test_duplicate_instance_ids_are_drawn_in_their_own_marker_namespaces(lifter):
    probe, _, _ = lifter
    probe.markers.clear()
    _send(probe, [make_instance(17, 4, rig="coco17"), make_instance(17, 4, rig="coco17", seed=5)])

    def ours(m):
        return {"instance_4", "instance_4_1"} <= {x.ns for x in m.markers}
    assert probe.spin_until(lambda: any(ours(m) for m in probe.markers), 10), \
        [sorted({x.ns for x in m.markers}) for m in probe.markers]
