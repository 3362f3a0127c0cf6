"""Metric placement through the real node, with remapped topics (issue 27, items 5, 10, 11).

The node runs with camera_info on, `camera_info_timeout` 1.5 s, and its three topics remapped
under /cam/, as a robot's launch file would; the probe talks to the remapped names.
"""

import itertools

import numpy as np
import pytest

from ros_helpers import lifter_node, make_array, make_instance, require_node

require_node()

from lfm3d_net.metric import RIG_EXTENT_FRACTION, extent  # noqa: E402
from lfm3d_ros.conversions import points_from_msg  # noqa: E402

FRAME = "cam_optical"
TIMEOUT_S = 1.5
REMAPS = {"keypoints_2d": "/cam/keypoints", "lifted_3d": "/cam/lifted", "camera_info": "/cam/camera_info"}
_stamps = itertools.count(9000)


@pytest.fixture(scope="module")
def lifter(tmp_path_factory):
    """(probe, camera_info publisher, process, log path)."""
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import CameraInfo

    with lifter_node(tmp_path_factory.mktemp("metric"), "lfm3d_metric_probe", remaps=REMAPS,
                     use_camera_info=True, camera_info_timeout=TIMEOUT_S) as (probe, proc, log):
        info_pub = probe.node.create_publisher(CameraInfo, REMAPS["camera_info"], qos_profile_sensor_data)
        assert probe.spin_until(lambda: info_pub.get_subscription_count() > 0, 10)
        yield probe, info_pub, proc, log


def _camera_info(frame=FRAME):
    from sensor_msgs.msg import CameraInfo

    info = CameraInfo(width=640, height=480, k=[500.0, 0, 320, 0, 500, 240, 0, 0, 1])
    info.header.frame_id = frame
    return info


def _send_with_fresh_info(probe, info_pub, instances, frame=FRAME, info_frame=FRAME):
    info_pub.publish(_camera_info(info_frame))
    probe.spin_until(lambda: False, 0.2)  # camera_info arrives first
    return probe.send(make_array(instances, sec=next(_stamps), frame_id=frame))


def _not_metric(probe, reason):
    return int(probe.diagnostic_values().get(f"not metric: {reason}", "0"))


def test_start_up_log_names_the_remapped_topics(lifter):
    _, _, _, log = lifter
    assert ("active: lifting /cam/keypoints (+ /cam/camera_info) -> /cam/lifted "
            "(markers /cam/lifted/markers)") in log.read_text()


def test_coco17_without_category_is_placed_with_the_person_prior_for_its_keypoints(lifter):
    probe, info_pub, _, _ = lifter
    out = _send_with_fresh_info(probe, info_pub, [make_instance(17, 1, rig="coco17", category="")])
    [sk] = out.skeletons
    assert sk.metric and sk.category == "person"
    pts = points_from_msg(sk)
    # the keypoints span 0.925 of a 1.70 m person (eyes to ankles), not 1.70 m
    assert extent(pts[None])[0] == pytest.approx(1.70 * RIG_EXTENT_FRACTION["coco17"], rel=1e-6)
    assert np.isfinite(pts).all() and (pts[:, 2] > 0).all()


def test_camera_info_of_another_frame_is_not_used(lifter):
    probe, info_pub, _, _ = lifter
    before = _not_metric(probe, "camera_info frame mismatch")
    out = _send_with_fresh_info(probe, info_pub, [make_instance(17, 1, rig="coco17")],
                                frame=FRAME, info_frame="other_camera_optical")
    assert not out.skeletons[0].metric
    assert probe.spin_until(lambda: _not_metric(probe, "camera_info frame mismatch") > before, 5)


def test_camera_info_goes_stale_after_its_timeout(lifter):
    probe, info_pub, _, _ = lifter
    assert _send_with_fresh_info(probe, info_pub, [make_instance(17, 1)]).skeletons[0].metric
    before = _not_metric(probe, "stale camera_info")
    probe.spin_until(lambda: False, TIMEOUT_S + 0.5)           # no camera_info meanwhile
    out = probe.send(make_array([make_instance(17, 1)], sec=next(_stamps), frame_id=FRAME))
    assert not out.skeletons[0].metric
    assert probe.spin_until(lambda: _not_metric(probe, "stale camera_info") > before, 5)
    assert probe.diagnostic_values()["camera_info"].startswith("stale")
    assert _send_with_fresh_info(probe, info_pub, [make_instance(17, 1)]).skeletons[0].metric


@pytest.mark.parametrize("fields", [dict(x=[0.0] * 17, y=[0.0] * 17), dict(x=[321.0] * 17, y=[123.0] * 17),
                                    dict(x=[1e-40 * k for k in range(17)], y=[1e-40] * 17),
                                    dict(x=[1e30] * 16 + [-1e30])])
def test_degenerate_input_in_metric_mode_is_dropped_never_nan_or_absurd_depth(lifter, fields):
    probe, info_pub, proc, log = lifter
    out = _send_with_fresh_info(probe, info_pub, [make_instance(17, 1), make_instance(17, 2, **fields)])
    assert [s.instance_id for s in out.skeletons] == [1]
    depth = points_from_msg(out.skeletons[0])[:, 2]
    assert out.skeletons[0].metric and np.isfinite(depth).all() and (depth > 0.1).all() and (depth < 1e3).all()
    assert proc.poll() is None, log.read_text()
