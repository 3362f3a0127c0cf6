"""`lift_monitor`: watch the lifter's output, optionally record it and draw a snapshot.

Once a second prints

    rate 30.0 Hz | latency p50 2.1 ms p99 3.4 ms | skeletons 3

where latency = receive time - header stamp (the image stamp), so it includes transport
and the lift; it is meaningful when publisher and monitor share a clock (one machine).

    python -m lfm3d_ros.monitor [--record out.mcap] [--snapshot out.png] [--seconds S]
"""

from __future__ import annotations

import argparse
import threading
import time
from collections import deque
from pathlib import Path

import numpy as np

from lfm3d_ros.conversions import points_from_msg

WINDOW_S = 5.0             # stats window
SNAPSHOT_PERIOD_S = 2.0    # rewrite the snapshot this often (a killed monitor still leaves one)


class LatencyWindow:
    """Arrival times and latencies of the last WINDOW_S seconds (pure; unit-tested)."""

    def __init__(self, window_s: float = WINDOW_S):
        self.window_s = window_s
        self._items: deque[tuple[float, float, int]] = deque()  # (arrival s, latency s, skeletons)

    def add(self, arrival_s: float, latency_s: float, skeletons: int) -> None:
        self._items.append((arrival_s, latency_s, skeletons))
        while self._items and arrival_s - self._items[0][0] > self.window_s:
            self._items.popleft()

    def line(self) -> str:
        """The one-line summary the monitor prints."""
        if not self._items:
            return "rate 0.0 Hz | latency p50 - ms p99 - ms | skeletons 0"
        arrivals = [a for a, _, _ in self._items]
        span = arrivals[-1] - arrivals[0]
        rate = (len(arrivals) - 1) / span if span > 0 else 0.0
        p50, p99 = np.percentile([1e3 * lat for _, lat, _ in self._items], [50, 99])
        return (f"rate {rate:.1f} Hz | latency p50 {p50:.1f} ms p99 {p99:.1f} ms | "
                f"skeletons {self._items[-1][2]}")


def render_snapshot(skeletons: list[tuple[np.ndarray, np.ndarray, int]], path: str | Path,
                    title: str = "") -> Path:
    """Draw lifted skeletons to a PNG: a camera view and an oblique 3D view.

    skeletons: (points (N, 3) in the camera optical frame, edges (E, 2), instance_id).
    Headless and thread-safe: a bare Figure on the Agg canvas, no pyplot state.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from lfm3d_ros.markers import instance_colour

    fig = Figure(figsize=(10, 5))
    FigureCanvasAgg(fig)
    views = [("camera view", 0, -90), ("oblique view", 20, -60)]
    for k, (name, elev, azim) in enumerate(views):
        ax = fig.add_subplot(1, 2, k + 1, projection="3d")
        for pts, edges, iid in skeletons:
            # optical frame (x right, y down, z forward) -> plot axes (x, z, -y): up is up
            p = np.stack([pts[:, 0], pts[:, 2], -pts[:, 1]], axis=-1)
            colour = instance_colour(iid)
            ok = np.isfinite(p).all(axis=1)
            ax.scatter(p[ok, 0], p[ok, 1], p[ok, 2], s=6, color=colour)
            for a, b in np.asarray(edges, int).reshape(-1, 2):
                if ok[a] and ok[b]:
                    ax.plot(*zip(p[a], p[b]), color=colour, linewidth=1.5)
        ax.set_xlabel("x (right)")
        ax.set_ylabel("z (depth)")
        ax.set_zlabel("-y (up)")
        ax.view_init(elev=elev, azim=azim)
        ax.set_title(name)
        _equal_axes(ax, [s[0] for s in skeletons])
    fig.suptitle(title or f"{len(skeletons)} lifted skeletons")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    return path


def _equal_axes(ax, point_sets) -> None:
    pts = [p for p in point_sets if len(p)]
    if not pts:
        return
    allp = np.concatenate(pts)
    allp = allp[np.isfinite(allp).all(axis=1)]
    if not len(allp):
        return
    p = np.stack([allp[:, 0], allp[:, 2], -allp[:, 1]], axis=-1)
    mid, half = p.mean(axis=0), max(np.ptp(p, axis=0).max() / 2, 1e-6)
    ax.set_xlim(mid[0] - half, mid[0] + half)
    ax.set_ylim(mid[1] - half, mid[1] + half)
    ax.set_zlim(mid[2] - half, mid[2] + half)


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="lift_monitor", description=__doc__.split("\n")[0])
    parser.add_argument("--record", default="", help="write keypoints_2d, camera_info and lifted_3d to this MCAP file")
    parser.add_argument("--snapshot", default="", help="write a PNG of the latest lifted skeletons here")
    parser.add_argument("--seconds", type=float, default=0.0, help="stop after this many seconds (0 = run until Ctrl-C)")
    return parser.parse_args(argv)


def main(args=None) -> int:
    """Entry point of `lift_monitor`."""
    import sys

    import rclpy
    from rclpy.executors import ExternalShutdownException
    from rclpy.utilities import remove_ros_args

    opts = parse_args(remove_ros_args(sys.argv if args is None else args)[1:])
    rclpy.init(args=args)
    monitor = None
    try:
        monitor = _make_monitor(opts)
        end = time.monotonic() + opts.seconds if opts.seconds > 0 else None
        while rclpy.ok() and (end is None or time.monotonic() < end):
            rclpy.spin_once(monitor.node, timeout_sec=0.1)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if monitor is not None:
            monitor.close()
        rclpy.try_shutdown()
    return 0


def _make_monitor(opts):
    """Build the monitor node (rclpy imported here so the pure parts import without ROS)."""
    from rclpy.node import Node
    from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
    from sensor_msgs.msg import CameraInfo

    from lfm3d_ros.msg import Keypoints2DArray, Skeleton3DArray

    class Monitor:
        def __init__(self):
            self.node = Node("lfm3d_lift_monitor")
            self.window = LatencyWindow()
            self.latest = None
            self.last_snapshot = 0.0
            self.recorder = None
            self.worker = None
            if opts.record:
                from lfm3d_ros.recorder import McapRecorder

                self.recorder = McapRecorder(opts.record)
                for topic, mtype in (("/keypoints_2d", Keypoints2DArray), ("/camera_info", CameraInfo),
                                     ("/lifted_3d", Skeleton3DArray)):
                    self.recorder.add_topic(topic, mtype)
                self.node.create_subscription(Keypoints2DArray, "keypoints_2d",
                                              lambda m: self.recorder.write("/keypoints_2d", m),
                                              qos_profile_sensor_data)
                self.node.create_subscription(CameraInfo, "camera_info",
                                              lambda m: self.recorder.write("/camera_info", m),
                                              qos_profile_sensor_data)
            qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
            self.node.create_subscription(Skeleton3DArray, "lifted_3d", self.on_output, qos)
            self.node.create_timer(1.0, self.report)

        def on_output(self, msg):
            now = self.node.get_clock().now().nanoseconds * 1e-9
            stamp = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
            self.window.add(time.monotonic(), now - stamp, len(msg.skeletons))
            self.latest = msg
            if self.recorder is not None:
                self.recorder.write("/lifted_3d", msg)
            if opts.snapshot and time.monotonic() - self.last_snapshot > SNAPSHOT_PERIOD_S:
                self.snapshot()

        def report(self):
            print(self.window.line(), flush=True)

        def snapshot(self, wait: bool = False):
            """Render the latest output to opts.snapshot in a worker thread (matplotlib
            takes ~0.3 s: done inline it would stall the callbacks and inflate latency)."""
            if self.latest is None or (self.worker is not None and self.worker.is_alive()):
                if wait and self.worker is not None:
                    self.worker.join()
                else:
                    return
            skeletons = [(points_from_msg(s), np.asarray(s.edges, int).reshape(-1, 2), s.instance_id)
                         for s in self.latest.skeletons]
            metric = any(s.metric for s in self.latest.skeletons)
            title = f"{len(skeletons)} lifted skeletons ({'metres' if metric else 'pixels, root-relative'})"
            self.last_snapshot = time.monotonic()
            self.worker = threading.Thread(target=render_snapshot, args=(skeletons, opts.snapshot, title),
                                           daemon=True)
            self.worker.start()
            if wait:
                self.worker.join()

        def close(self):
            if opts.snapshot:
                self.snapshot(wait=True)
            if self.recorder is not None:
                self.recorder.close()
                print(f"recorded {self.recorder.count} messages to {opts.record}", flush=True)
            self.node.destroy_node()

    return Monitor()


if __name__ == "__main__":
    raise SystemExit(main())
