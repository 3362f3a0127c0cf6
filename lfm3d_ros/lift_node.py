"""The lifter node: Keypoints2DArray in, Skeleton3DArray + markers + /diagnostics out.

A managed (lifecycle) node named `lfm3d_lifter`:
- on_configure: read parameters, load the Lifter (a TensorRT engine build can take
  minutes the first time on a Jetson), create the (lifecycle) publishers;
- on_activate: subscribe `keypoints_2d` (+ `camera_info`), start the 1 Hz diagnostics;
- on_deactivate: clear the markers (DELETEALL), unsubscribe;
- on_cleanup / on_shutdown: release publishers and the Lifter.
With `autostart` (default) it configures and activates itself.

The node is thin: conversions.py parses and validates, the Lifter lifts the whole
message as one batch, lfm3d_net.metric places it in metres when camera_info is known,
markers.py and diagnostics.py build the side outputs.

Run: python -m lfm3d_ros.lift_node --ros-args --params-file config/lift.yaml
"""

from __future__ import annotations

import time

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.lifecycle import Node, State, TransitionCallbackReturn
from rclpy.qos import (HistoryPolicy, QoSProfile, ReliabilityPolicy, DurabilityPolicy,
                       qos_profile_sensor_data)
from sensor_msgs.msg import CameraInfo
from visualization_msgs.msg import MarkerArray

from lfm3d_net import metric
from lfm3d_net.rigs import get_rig, load_rigs_yaml
from lfm3d_ros import conversions, node_params
from lfm3d_ros.diagnostics import LiftStats
from lfm3d_ros.lifting import lift_instances
from lfm3d_ros.markers import MarkerBuilder
from lfm3d_ros.msg import Keypoints2DArray, Skeleton3DArray
from lfm3d_ros.spin import spin_node

NODE_NAME = "lfm3d_lifter"
WARN_THROTTLE_S = 5.0
OUTPUT_QOS = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE,
                        history=HistoryPolicy.KEEP_LAST, durability=DurabilityPolicy.VOLATILE)


def input_qos(depth: int, reliability: str) -> QoSProfile:
    """keypoints_2d QoS: sensor-data profile (best effort) by default, keep-last `depth`."""
    profile = QoSProfile(depth=depth, history=HistoryPolicy.KEEP_LAST,
                         durability=qos_profile_sensor_data.durability,
                         reliability=(ReliabilityPolicy.RELIABLE if reliability == "reliable"
                                      else ReliabilityPolicy.BEST_EFFORT))
    return profile


class LiftNode(Node):
    """Lifecycle node wrapping lfm3d_net.Lifter."""

    def __init__(self, **kwargs):
        super().__init__(NODE_NAME, **kwargs)
        node_params.declare(self)
        self._cfg: node_params.NodeConfig | None = None
        self._limits: conversions.Limits | None = None  # from _cfg and the Lifter, per config
        self._lifter = None
        self._stats = LiftStats()
        self._markers: MarkerBuilder | None = None
        self._camera_k: np.ndarray | None = None
        self._pub = self._marker_pub = self._diag_pub = None
        self._sub = self._info_sub = self._diag_timer = None
        self._loggers = {}
        self._last_frame = ""  # frame of the last output, for the DELETEALL on deactivate
        if hasattr(self, "add_post_set_parameters_callback"):  # Iron+; Humble re-reads on configure
            self.add_post_set_parameters_callback(self._on_parameters_set)
        if self.get_parameter("autostart").value:
            if self.trigger_configure() == TransitionCallbackReturn.SUCCESS:
                self.trigger_activate()

    # ---------------------------------------------------------------- lifecycle
    def on_configure(self, state: State) -> TransitionCallbackReturn:
        try:
            cfg = node_params.read(self)
            if cfg.rigs_file:  # before default_rig, which may name one of them
                names = [r.name for r in load_rigs_yaml(cfg.rigs_file)]
                self.get_logger().info(f"rigs_file {cfg.rigs_file}: registered {', '.join(names) or 'no rigs'}")
            if cfg.default_rig:
                get_rig(cfg.default_rig)  # KeyError now, not per message
            self._lifter = self._load_lifter(cfg)
        except Exception as err:  # a bad parameter or model must not kill the process
            self.get_logger().error(f"configure failed: {type(err).__name__}: {err}")
            return TransitionCallbackReturn.FAILURE
        self._cfg = cfg
        self._limits = self._limits_for(cfg)
        self._lifter.flip_average = cfg.flip_average
        model = self._lifter.model_info.get("path") or cfg.model or "default"
        self._stats = LiftStats(backend=self._lifter.backend_name, model=str(model))
        self._markers = MarkerBuilder(cfg.marker_scale, cfg.marker_lifetime)
        self._pub = self.create_lifecycle_publisher(Skeleton3DArray, "lifted_3d", OUTPUT_QOS)
        self._marker_pub = self.create_lifecycle_publisher(MarkerArray, "lifted_3d/markers", OUTPUT_QOS)
        self._diag_pub = self.create_lifecycle_publisher(DiagnosticArray, "/diagnostics", 10)
        self.get_logger().info(f"configured: backend={self._stats.backend} model={self._stats.model} "
                               f"flip_average={cfg.flip_average}")
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: State) -> TransitionCallbackReturn:
        cfg = self._cfg
        self._sub = self.create_subscription(Keypoints2DArray, "keypoints_2d", self._on_keypoints,
                                             input_qos(cfg.qos_depth, cfg.qos_reliability))
        if cfg.use_camera_info:
            self._info_sub = self.create_subscription(CameraInfo, "camera_info", self._on_camera_info,
                                                      qos_profile_sensor_data)
        self._diag_timer = self.create_timer(1.0, self._publish_diagnostics)
        self.get_logger().info("active: lifting keypoints_2d -> lifted_3d")
        return super().on_activate(state)

    def on_deactivate(self, state: State) -> TransitionCallbackReturn:
        if self._marker_pub is not None and self._markers is not None:
            clear = MarkerArray(markers=[self._markers.delete_all(self._header_for_clear())])
            self._marker_pub.publish(clear)  # still active here: clears RViz
        self._drop_subscriptions()
        return super().on_deactivate(state)

    def on_cleanup(self, state: State) -> TransitionCallbackReturn:
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: State) -> TransitionCallbackReturn:
        self.release()
        return TransitionCallbackReturn.SUCCESS

    def on_error(self, state: State) -> TransitionCallbackReturn:
        self.release()
        return TransitionCallbackReturn.SUCCESS

    # ---------------------------------------------------------------- callbacks
    def _on_camera_info(self, msg: CameraInfo) -> None:
        try:
            metric.intrinsics_from_k(msg.k)
            self._camera_k = np.asarray(msg.k, dtype=np.float64)
        except ValueError as err:
            self._warn("camera_info", f"ignoring camera_info: {err}")

    def _size_of(self, category: str) -> float:
        return metric.size_prior(category, self._cfg.size_prior, self._cfg.size_prior_default)

    def _on_keypoints(self, msg: Keypoints2DArray, info) -> None:
        # Two arguments: rclpy then passes the MessageInfo (sequence numbers -> drops).
        t0 = time.perf_counter()
        gid, seq = _sequence_of(info)
        self._stats.on_message(time.monotonic(), gid, seq)
        cfg = self._cfg
        accepted, rejected = conversions.parse_array(msg, self._limits, get_rig)
        accepted, over = conversions.cap_batch(accepted, cfg.max_batch)
        rejected += over
        for r in rejected:
            self._stats.on_rejected(r.reason)
            self._warn(r.reason, f"dropped instance #{r.index} (id {r.instance_id}): {r.reason}: {r.detail}")
        header = msg.header
        if cfg.output_frame:
            header.frame_id = cfg.output_frame
        self._last_frame = header.frame_id
        try:
            skeletons = lift_instances(self._lifter, accepted, self._camera_k, self._size_of) \
                if accepted else []
        except Exception as err:  # the Lifter must never take the node down
            self._stats.on_error()
            self._warn("lift_error", f"lift failed for a message of {len(accepted)} instances: "
                                     f"{type(err).__name__}: {err}")
            return
        self._pub.publish(conversions.to_skeleton_msgs(skeletons, header))
        # Markers cost more than the lift itself (Python message objects per point): build
        # them only while someone (RViz, Foxglove, a recorder) subscribes.
        if cfg.publish_markers and self._marker_pub.get_subscription_count() > 0:
            self._marker_pub.publish(self._markers.build(skeletons, header))
        self._stats.on_lift(time.perf_counter() - t0)

    def _publish_diagnostics(self) -> None:
        arr = DiagnosticArray()
        arr.header.stamp = self.get_clock().now().to_msg()
        arr.status = [self._stats.to_status(f"{self.get_name()}: lifter", self.get_fully_qualified_name(),
                                            time.monotonic())]
        self._diag_pub.publish(arr)

    def _on_parameters_set(self, params) -> None:
        """Dynamic parameters take effect on the next message (read-only ones need reconfigure)."""
        if self._cfg is None:
            return
        try:
            cfg = node_params.read(self)
        except ValueError as err:
            self.get_logger().error(f"parameter update ignored: {err}")
            return
        self._cfg = cfg
        self._limits = self._limits_for(cfg)
        self._lifter.flip_average = cfg.flip_average
        if self._markers is not None:
            self._markers.marker_scale, self._markers.lifetime_s = cfg.marker_scale, cfg.marker_lifetime

    # ---------------------------------------------------------------- helpers
    def _limits_for(self, cfg: node_params.NodeConfig) -> conversions.Limits:
        """Per-instance acceptance rules: max_keypoints capped by the loaded Lifter's own."""
        max_kp = min(cfg.max_keypoints, self._lifter.max_keypoints)
        return conversions.Limits(cfg.min_confidence, max_kp, cfg.default_rig)

    def _load_lifter(self, cfg: node_params.NodeConfig):
        from lfm3d_net.lifter import Lifter  # imported here: loading may pull in TensorRT

        self.get_logger().info(f"loading model {cfg.model or '(default)'} with backend {cfg.backend} "
                               "(a first TensorRT engine build can take minutes)")
        return Lifter.load(cfg.model or None, cfg.backend, threads=cfg.threads or None,
                           precision=cfg.precision,
                           engine_cache_dir=cfg.engine_cache_dir or None, max_batch=cfg.max_batch,
                           max_keypoints=cfg.max_keypoints)

    def _warn(self, reason: str, text: str) -> None:
        # One child logger per reason: rclpy throttles per logger and call site, so a
        # flood of one bad kind does not hide the first warning of another.
        if reason not in self._loggers:
            self._loggers[reason] = self.get_logger().get_child(reason)
        self._loggers[reason].warning(text, throttle_duration_sec=WARN_THROTTLE_S)

    def _header_for_clear(self):
        from std_msgs.msg import Header

        return Header(stamp=self.get_clock().now().to_msg(), frame_id=self._last_frame)

    def _drop_subscriptions(self) -> None:
        for name in ("_sub", "_info_sub"):
            sub = getattr(self, name)
            if sub is not None:
                self.destroy_subscription(sub)
                setattr(self, name, None)
        if self._diag_timer is not None:
            self.destroy_timer(self._diag_timer)
            self._diag_timer = None

    def release(self) -> None:
        """Drop subscriptions, publishers and the Lifter (idempotent; used at exit)."""
        self._drop_subscriptions()
        self._release()

    def _release(self) -> None:
        for name in ("_pub", "_marker_pub", "_diag_pub"):
            pub = getattr(self, name)
            if pub is not None:
                self.destroy_lifecycle_publisher(pub)
                setattr(self, name, None)
        close = getattr(self._lifter, "close", None)
        if close is not None:
            close()
        self._lifter, self._camera_k = None, None


def _sequence_of(info) -> tuple[bytes, int]:
    """(publisher gid, publication sequence number) from rclpy's MessageInfo, or (b'', 0)."""
    if not info:
        return b"", 0
    try:
        gid = bytes(info.get("publisher_gid", {}).get("data", b"")) if isinstance(info, dict) else b""
        seq = int(info.get("publication_sequence_number", 0)) if isinstance(info, dict) else 0
    except (TypeError, ValueError, AttributeError):
        return b"", 0
    if seq >= 2 ** 63:  # "unsupported" sentinel on some middlewares
        seq = 0
    return gid, seq


def main(args=None) -> int:
    """Entry point: run the lifter until Ctrl-C or SIGTERM (both end cleanly)."""
    return spin_node(LiftNode, args, release=LiftNode.release)


if __name__ == "__main__":
    raise SystemExit(main())
