"""The lifter node: Keypoints2DArray in, Skeleton3DArray + markers + /diagnostics out.

A managed (lifecycle) node named `lfm3d_lifter`:
- start-up: declare the parameters (a refused value is logged by name and the default
  stands in; configure then fails until it is set right), start the 1 Hz /diagnostics
  heartbeat, which reports in every lifecycle state;
- on_configure: read parameters, load the Lifter (a TensorRT engine build can take
  minutes the first time on a Jetson), create the (lifecycle) publishers;
- on_activate: subscribe `keypoints_2d` (+ `camera_info`);
- on_deactivate: clear the markers (DELETEALL), unsubscribe;
- on_cleanup / on_shutdown: release publishers and the Lifter.
With `autostart` (default) it configures and activates itself. Nothing a client sends
(SetParameters in any state, an invalid ChangeState) ends the process.

The node is thin: conversions.py parses and validates, lifting.py lifts one batch per
keypoint count, lfm3d_net.metric places it in metres when camera_info is known,
markers.py, cdr.py and diagnostics.py build the outputs.

Run: python -m lfm3d_ros.lift_node --ros-args --params-file config/lift.yaml
"""

from __future__ import annotations

import gc
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import SetParametersResult
from rclpy.lifecycle import Node, State, TransitionCallbackReturn
from rclpy.qos import (HistoryPolicy, QoSProfile, ReliabilityPolicy, DurabilityPolicy,
                       qos_profile_sensor_data)
from sensor_msgs.msg import CameraInfo
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from lfm3d_net import metric
from lfm3d_net.rigs import get_rig, load_rigs_yaml
from lfm3d_ros import cdr, conversions, node_params
from lfm3d_ros.diagnostics import LiftStats
from lfm3d_ros.lifting import CameraState, camera_for, lift_instances
from lfm3d_ros.markers import MarkerBuilder, to_marker_array
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


def _describe(err: Exception) -> str:
    """One line for an exception (KeyError's message without its quotes)."""
    text = err.args[0] if isinstance(err, KeyError) and err.args else err
    return f"{type(err).__name__}: {text}"


class LiftNode(Node):
    """Lifecycle node wrapping lfm3d_net.Lifter."""

    def __init__(self, **kwargs):
        super().__init__(NODE_NAME, **kwargs)
        self._param_errors = node_params.declare(self)   # name -> why its start-up value was refused
        for name, error in self._param_errors.items():
            self.get_logger().error(f"parameter refused at start-up: {error}; the default "
                                    f"{node_params.default_of(name)!r} stands in and configure "
                                    f"fails until {name} is set to a good value")
        self._cfg: node_params.NodeConfig | None = None
        self._limits: conversions.Limits | None = None  # from _cfg and the Lifter, per config
        self._lifter = None
        self._stats = LiftStats()
        self._markers: MarkerBuilder | None = None
        self._fast_cdr = False           # publish bytes from cdr.py (checked on configure)
        self._camera: CameraState | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._pub = self._marker_pub = None
        self._sub = self._info_sub = None
        self._loggers = {}
        self._last_frame = ""  # frame of the last output, for the DELETEALL on deactivate
        self._configure_error = ""
        # A plain (not lifecycle) publisher and timer: the heartbeat reports every state.
        self._diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self._diag_timer = self.create_timer(1.0, self._publish_diagnostics)
        self._guard_change_state()
        self.add_on_set_parameters_callback(self._check_parameters)
        if hasattr(self, "add_post_set_parameters_callback"):  # Iron+; Humble re-reads on configure
            self.add_post_set_parameters_callback(self._on_parameters_set)
        if self.get_parameter("autostart").value:
            if self.trigger_configure() == TransitionCallbackReturn.SUCCESS:
                self.trigger_activate()

    # ---------------------------------------------------------------- lifecycle
    def on_configure(self, state: State) -> TransitionCallbackReturn:
        try:
            if self._param_errors:
                raise ValueError("parameters refused at start-up: " + "; ".join(self._param_errors.values()))
            cfg = node_params.read(self)
            if cfg.rigs_file:  # before default_rig, which may name one of them
                names = [r.name for r in load_rigs_yaml(cfg.rigs_file)]
                self.get_logger().info(f"rigs_file {cfg.rigs_file}: registered {', '.join(names) or 'no rigs'}")
            if cfg.default_rig:
                get_rig(cfg.default_rig)  # KeyError now, not per message
            self._lifter = self._load_lifter(cfg)
        except Exception as err:  # a bad parameter or model must not kill the process
            self._configure_error = f"configure failed: {_describe(err)}"
            self.get_logger().error(self._configure_error)
            return TransitionCallbackReturn.FAILURE
        self._configure_error = ""
        self._markers = MarkerBuilder(cfg.marker_scale, cfg.marker_lifetime)
        self._apply(cfg)
        model = self._lifter.model_info.get("path") or cfg.model or "default"
        self._stats = LiftStats(backend=self._lifter.backend_name, model=str(model))
        self._fast_cdr = _cdr_matches_rclpy()
        # groups of different keypoint counts lift side by side (lifting.lift_instances)
        self._pool = ThreadPoolExecutor(max_workers=max(1, (os.cpu_count() or 2) - 1),
                                        thread_name_prefix="lfm3d_lift")
        self._pub = self.create_lifecycle_publisher(Skeleton3DArray, "lifted_3d", OUTPUT_QOS)
        self._marker_pub = self.create_lifecycle_publisher(MarkerArray, self._markers_topic(), OUTPUT_QOS)
        gc.freeze()  # what configure loaded stays out of the collector's scans: shorter pauses per message
        self.get_logger().info(f"configured: backend={self._stats.backend} model={self._stats.model} "
                               f"flip_average={cfg.flip_average} "
                               f"serialiser={'numpy CDR' if self._fast_cdr else 'rclpy messages'}")
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: State) -> TransitionCallbackReturn:
        cfg = self._cfg
        self._sub = self.create_subscription(Keypoints2DArray, "keypoints_2d", self._on_keypoints,
                                             input_qos(cfg.qos_depth, cfg.qos_reliability))
        inputs = self._sub.topic_name
        if cfg.use_camera_info:
            self._info_sub = self.create_subscription(CameraInfo, "camera_info", self._on_camera_info,
                                                      qos_profile_sensor_data)
            inputs += f" (+ {self._info_sub.topic_name})"
        # Resolved names: what remapping made of keypoints_2d, lifted_3d, lifted_3d/markers.
        self.get_logger().info(f"active: lifting {inputs} -> {self._pub.topic_name} "
                               f"(markers {self._marker_pub.topic_name})")
        return super().on_activate(state)

    def on_deactivate(self, state: State) -> TransitionCallbackReturn:
        if self._marker_pub is not None and self._markers is not None:
            header = Header(stamp=self.get_clock().now().to_msg(), frame_id=self._last_frame)
            self._marker_pub.publish(to_marker_array([self._markers.delete_all()], header))  # still active
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

    def _markers_topic(self) -> str:
        """`lifted_3d/markers`, remapped as given, else `<lifted_3d as remapped>/markers`:
        remapping lifted_3d alone must not leave the markers behind on /lifted_3d/markers."""
        name = "lifted_3d/markers"
        if self.resolve_topic_name(name) != self.resolve_topic_name(name, only_expand=True):
            return name
        return self.resolve_topic_name("lifted_3d") + "/markers"

    def _state_label(self) -> str:
        """The lifecycle state: unconfigured, inactive, active, finalized, or a transition."""
        return self._state_machine.current_state[1]

    def _guard_change_state(self) -> None:
        """Answer an invalid ChangeState request with success=False instead of letting rclpy 7.1
        raise RCLError ('Transition is not registered') out of the executor, which ended the
        process (fixed upstream later; this is the wheel we pin)."""
        from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy

        service = self._service_change_state
        handle = service.callback

        def guarded(request, response):
            try:
                return handle(request, response)
            except _rclpy.RCLError as err:
                self.get_logger().warning(
                    f"refused lifecycle transition id={request.transition.id} "
                    f"label={request.transition.label!r} in state {self._state_label()}: {err}")
                response.success = False
                return response

        service.callback = guarded

    # ---------------------------------------------------------------- parameters
    def _check_parameters(self, params) -> SetParametersResult:
        """Refuse a set (with the reason, changing nothing) that `node_params.problem` refuses, a
        read-on-configure parameter while configured, or an unknown default_rig once the rig
        registry (with rigs_file) is loaded; unconfigured, default_rig is checked on configure."""
        state = self._state_label()
        for p in params:
            if p.name in node_params.RECONFIGURE and state in ("inactive", "active"):
                return SetParametersResult(successful=False, reason=(
                    f"{p.name} is read on configure and the node is {state}: deactivate and "
                    f"cleanup, set it, then configure and activate"))
            error = node_params.problem(p.name, p.value)
            if error is None and p.name == "default_rig" and p.value and self._lifter is not None:
                try:
                    get_rig(p.value)
                except KeyError as err:
                    error = err.args[0]
            if error is not None:
                return SetParametersResult(successful=False, reason=error)
        return SetParametersResult(successful=True)

    def _on_parameters_set(self, params) -> None:
        """After a set: a start-up error of that name is gone; while configured, dynamic
        parameters take effect on the next message (the others are refused then)."""
        for p in params:
            self._param_errors.pop(p.name, None)
        if self._lifter is None:  # unconfigured or finalized: configure reads them all
            return
        try:
            cfg = node_params.read(self)
        except ValueError as err:  # _check_parameters refuses these; never raise into rclpy
            self.get_logger().error(f"parameter update ignored: {err}")
            return
        self._apply(cfg)

    def _apply(self, cfg: node_params.NodeConfig) -> None:
        """Make `cfg` the running configuration (configure, or a dynamic parameter set): the
        acceptance limits, flip averaging and the markers' look follow it."""
        self._cfg = cfg
        self._limits = self._limits_for(cfg)
        self._lifter.flip_average = cfg.flip_average
        if self._markers is not None:
            self._markers.marker_scale, self._markers.lifetime_s = cfg.marker_scale, cfg.marker_lifetime

    # ---------------------------------------------------------------- callbacks
    def _on_camera_info(self, msg: CameraInfo) -> None:
        try:
            metric.intrinsics_from_k(msg.k)
        except ValueError as err:
            self._warn("camera_info", f"ignoring camera_info: {err}")
            return
        self._camera = CameraState(np.asarray(msg.k, dtype=np.float64), msg.header.frame_id,
                                   time.monotonic())

    def _size_of(self, category: str, rig: str) -> float:
        return metric.keypoint_extent_prior(category, rig, self._cfg.size_prior, self._cfg.size_prior_default)

    def _on_keypoints(self, msg: Keypoints2DArray, info) -> None:
        # Two arguments: rclpy then passes the MessageInfo (sequence numbers -> drops).
        t0, now = time.perf_counter(), time.monotonic()
        gid, seq = _sequence_of(info)
        self._stats.on_message(now, gid, seq, self._sub.get_publisher_count() if not gid else 1)
        cfg = self._cfg
        accepted, rejected = conversions.parse_array(msg, self._limits, get_rig)
        accepted, over = conversions.cap_batch(accepted, cfg.max_batch)
        camera_k, status, not_metric = camera_for(self._camera, msg.header.frame_id, now,
                                                  cfg.camera_info_timeout)
        if cfg.use_camera_info:
            self._stats.on_camera(status, not_metric if accepted else None)
            if not_metric and accepted:
                self._warn(not_metric, f"publishing pixel units: camera_info {status}")
        header = msg.header
        if cfg.output_frame:
            header.frame_id = cfg.output_frame
        self._last_frame = header.frame_id
        try:
            skeletons, degenerate = lift_instances(self._lifter, accepted, camera_k, self._size_of, self._pool)
        except Exception as err:  # the Lifter must never take the node down
            self._stats.on_error(now)
            self._warn("lift_error", f"lift failed for a message of {len(accepted)} instances: "
                                     f"{type(err).__name__}: {err}")
            return
        for r in rejected + over + degenerate:
            self._stats.on_rejected(r.reason, now)
            self._warn(r.reason, f"dropped instance #{r.index} (id {r.instance_id}): {r.reason}: {r.detail}")
        self._publish(skeletons, header)
        self._stats.on_lift(time.perf_counter() - t0)

    def _publish(self, skeletons: list[conversions.SkeletonOut], header) -> None:
        """lifted_3d, and the markers while someone (RViz, Foxglove, a recorder) subscribes."""
        fast = self._fast_cdr
        self._pub.publish(cdr.skeleton_array(skeletons, header) if fast
                          else conversions.to_skeleton_msgs(skeletons, header))
        if self._cfg.publish_markers and self._marker_pub.get_subscription_count() > 0:
            specs = self._markers.specs(skeletons)
            self._marker_pub.publish(cdr.marker_array(specs, header) if fast else to_marker_array(specs, header))

    def _publish_diagnostics(self) -> None:
        arr = DiagnosticArray()
        arr.header.stamp = self.get_clock().now().to_msg()
        arr.status = [self._stats.to_status(f"{self.get_name()}: lifter", self.get_fully_qualified_name(),
                                            time.monotonic(), self._state_label(), self._configure_error)]
        self._diag_pub.publish(arr)

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
            self._loggers[reason] = self.get_logger().get_child(reason.replace(" ", "_"))
        self._loggers[reason].warning(text, throttle_duration_sec=WARN_THROTTLE_S)

    def _drop_subscriptions(self) -> None:
        for name in ("_sub", "_info_sub"):
            sub = getattr(self, name)
            if sub is not None:
                self.destroy_subscription(sub)
                setattr(self, name, None)

    def release(self) -> None:
        """Drop subscriptions, publishers and the Lifter (idempotent; used at exit)."""
        self._drop_subscriptions()
        self._release()

    def _release(self) -> None:
        for name in ("_pub", "_marker_pub"):
            pub = getattr(self, name)
            if pub is not None:
                self.destroy_lifecycle_publisher(pub)
                setattr(self, name, None)
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        close = getattr(self._lifter, "close", None)
        if close is not None:
            close()
        self._lifter, self._camera, self._cfg, self._limits = None, None, None, None


def _cdr_matches_rclpy() -> bool:
    """Whether cdr.py writes this distribution's Skeleton3DArray and MarkerArray (a sample
    read back by rclpy); else the node publishes message objects."""
    from lfm3d_ros.conversions import SkeletonOut

    sample = [SkeletonOut(3, "person", "coco17", np.arange(12.0).reshape(4, 3), np.ones(4, np.float32),
                          np.array([[0, 1], [1, 2]]), True, 1.5, np.array([2.0, 3.0]))]
    header = Header(frame_id="cam")
    header.stamp.sec, header.stamp.nanosec = 7, 9
    specs = MarkerBuilder().specs(sample)
    return cdr.matches_rclpy(sample, conversions.to_skeleton_msgs(sample, header), specs,
                             to_marker_array(specs, header))


def _sequence_of(info) -> tuple[bytes, int]:
    """(publisher gid, publication sequence number) from rclpy's MessageInfo, or (b'', 0)."""
    if not info:
        return b"", 0
    try:
        gid = bytes(info.get("publisher_gid", {}).get("data", b"")) if isinstance(info, dict) else b""
        seq = int(info.get("publication_sequence_number", 0) or 0) if isinstance(info, dict) else 0
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
