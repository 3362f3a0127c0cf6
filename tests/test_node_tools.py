"""Monitor statistics, the PNG snapshot and the MCAP recorder (no ROS graph needed)."""

import numpy as np
import pytest

from lfm3d_ros.monitor import LatencyWindow, render_snapshot


def test_latency_window_line_reports_rate_percentiles_and_count():
    window = LatencyWindow(window_s=5.0)
    for i in range(31):
        window.add(i / 30.0, 0.002 + 0.001 * (i == 30), skeletons=3)
    line = window.line()
    assert line.startswith("rate 30.0 Hz | latency p50 2.0 ms p99 2.7 ms")
    assert line.endswith("skeletons 3")
    assert LatencyWindow().line().startswith("rate 0.0 Hz")


def test_snapshot_png_is_written_headless_with_nan_points(tmp_path):
    pts = np.array([[0, 0, 5], [0.1, -0.5, 5], [np.nan] * 3], float)
    out = render_snapshot([(pts, np.array([[0, 1], [1, 2]]), 1)], tmp_path / "s.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_mcap_recording_decodes_back_to_the_same_messages(tmp_path):
    pytest.importorskip("rclpy", reason="rclpy serialisation needed")
    try:
        from lfm3d_ros.msg import Keypoints2D, Keypoints2DArray
    except ImportError as err:
        pytest.skip(f"messages not built: {err}")
    from mcap.reader import make_reader
    from mcap_ros2.decoder import DecoderFactory

    from lfm3d_ros.recorder import McapRecorder

    msg = Keypoints2DArray(instances=[Keypoints2D(instance_id=4, rig="coco17", x=[1.5, 2.0], y=[3.0, 4.0])])
    msg.header.frame_id = "cam"
    with McapRecorder(tmp_path / "r.mcap") as rec:
        rec.add_topic("/keypoints_2d", Keypoints2DArray)
        rec.write("/keypoints_2d", msg, log_time_ns=123)
    with open(tmp_path / "r.mcap", "rb") as f:
        decoded = list(make_reader(f, decoder_factories=[DecoderFactory()]).iter_decoded_messages())
    assert len(decoded) == 1
    schema, channel, raw, value = decoded[0]
    assert schema.name == "lfm3d_ros/msg/Keypoints2DArray" and schema.encoding == "ros2msg"
    assert channel.topic == "/keypoints_2d" and raw.log_time == 123
    assert value.header.frame_id == "cam" and value.instances[0].instance_id == 4
    assert list(value.instances[0].x) == [1.5, 2.0]
