"""Shared helpers for the ROS node tests: isolated DDS env, node subprocesses, a probe node,
and a tiny stub ONNX model with the 3D-LFM graph interface (no torch needed).

Every test module calls `ros_env()` once: a random ROS_DOMAIN_ID and localhost-only
discovery, so parallel test runs and other engineers' nodes never cross-talk.
"""

from __future__ import annotations

import contextlib
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def require_node() -> None:
    """Skip the calling test module, at its import, unless the node can run here: rclpy (the
    ROS 2 wheels), our built messages and the Lifter."""
    import pytest
    pytest.importorskip("rclpy", reason="rclpy not importable (ROS 2 wheels not installed)")
    try:
        from lfm3d_ros.msg import Keypoints2DArray  # noqa: F401
        from lfm3d_net.lifter import Lifter  # noqa: F401
    except ImportError as err:  # messages not built yet, or the Lifter not importable
        pytest.skip(f"node dependencies missing: {err}", allow_module_level=True)


def ros_env(domain_id: int | None = None) -> dict[str, str]:
    """Environment for node subprocesses (and this process): isolated domain, localhost only."""
    domain = domain_id if domain_id is not None else random.randint(1, 100)
    env = dict(os.environ, ROS_DOMAIN_ID=str(domain), ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST",
               PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    os.environ.update(ROS_DOMAIN_ID=env["ROS_DOMAIN_ID"],
                      ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST")
    return env


def write_stub_model(path: Path, max_keypoints: int = 128) -> Path:
    """A tiny ONNX model with the network's inputs/outputs (docs/interfaces.md).

    shape3d = mask * [nx, ny, 0.5 * nx * ny] of the normalised 2D (a fixed, plausible
    'lift'), plus 0 * sides and 0 * adjacency so every input is consumed. Deterministic,
    fast, and enough to test the node's plumbing; accuracy is not its job.
    """
    import onnx
    from onnx import TensorProto, helper

    def const(name, value, dtype=np.float32):
        return helper.make_node("Constant", [], [name], value=onnx.numpy_helper.from_array(
            np.asarray(value, dtype=dtype), name))

    nodes = [
        helper.make_node("Cast", ["mask"], ["mf"], to=TensorProto.FLOAT),          # (B, N)
        const("ax_last", [-1], np.int64), const("ax1", [1], np.int64),
        helper.make_node("Unsqueeze", ["mf", "ax_last"], ["m3"]),                  # (B, N, 1)
        helper.make_node("Mul", ["keypoints", "m3"], ["kpm"]),
        helper.make_node("ReduceSum", ["kpm", "ax1"], ["sum"], keepdims=1),        # (B, 1, 2)
        helper.make_node("ReduceSum", ["m3", "ax1"], ["cnt0"], keepdims=1),        # (B, 1, 1)
        const("one", 1.0), const("eps", 1e-6), const("half", 0.5), const("zero", 0.0),
        helper.make_node("Max", ["cnt0", "one"], ["cnt"]),
        helper.make_node("Div", ["sum", "cnt"], ["center"]),
        helper.make_node("Sub", ["keypoints", "center"], ["d0"]),
        helper.make_node("Mul", ["d0", "m3"], ["d"]),
        helper.make_node("Abs", ["d"], ["ad"]),
        helper.make_node("ReduceMax", ["ad"], ["scale0"], keepdims=1, axes=[1, 2]),
        helper.make_node("Max", ["scale0", "eps"], ["scale"]),
        helper.make_node("Div", ["d", "scale"], ["n"]),                            # (B, N, 2)
        const("s0", [0], np.int64), const("s1", [1], np.int64), const("s2", [2], np.int64),
        helper.make_node("Slice", ["n", "s0", "s1", "ax_last"], ["nx"]),
        helper.make_node("Slice", ["n", "s1", "s2", "ax_last"], ["ny"]),
        helper.make_node("Mul", ["nx", "ny"], ["nxy"]),
        helper.make_node("Mul", ["nxy", "half"], ["nz"]),
        helper.make_node("Concat", ["nx", "ny", "nz"], ["s3"], axis=-1),           # (B, N, 3)
        helper.make_node("Unsqueeze", ["sides", "ax_last"], ["sd"]),
        helper.make_node("Mul", ["sd", "zero"], ["sd0"]),
        helper.make_node("Cast", ["adjacency"], ["adjf"], to=TensorProto.FLOAT),
        helper.make_node("ReduceMax", ["adjf"], ["adjm"], keepdims=1, axes=[2]),   # (B, N, 1)
        helper.make_node("Mul", ["adjm", "zero"], ["adj0"]),
        helper.make_node("Add", ["s3", "sd0"], ["t1"]),
        helper.make_node("Add", ["t1", "adj0"], ["t2"]),
        helper.make_node("Mul", ["t2", "m3"], ["shape3d"]),
    ]
    dims2 = ["batch", "num_keypoints"]
    graph = helper.make_graph(
        nodes, "lfm3d_stub",
        [helper.make_tensor_value_info("keypoints", TensorProto.FLOAT, dims2 + [2]),
         helper.make_tensor_value_info("mask", TensorProto.BOOL, dims2),
         helper.make_tensor_value_info("adjacency", TensorProto.BOOL, dims2 + ["num_keypoints"]),
         helper.make_tensor_value_info("sides", TensorProto.FLOAT, dims2)],
        [helper.make_tensor_value_info("shape3d", TensorProto.FLOAT, dims2 + [3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in {"lfm3d_config": "{}", "lfm3d_version": "stub",
                       "lfm3d_knn": "4", "lfm3d_max_keypoints": str(max_keypoints)}.items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    path = Path(path)
    onnx.save(model, str(path))
    return path


def write_params(path: Path, **params) -> Path:
    """A --params-file YAML for node `lfm3d_lifter` with the given parameters."""
    import yaml

    path = Path(path)
    path.write_text(yaml.safe_dump({"lfm3d_lifter": {"ros__parameters": params}}))
    return path


def start_process(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start `python <args>` in the repo with stdout+stderr to `log`."""
    out = open(log, "w")
    return subprocess.Popen([PYTHON] + args, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)


def start_lift_node(env: dict[str, str], log: Path, params_files: list[Path],
                    remaps: dict[str, str] | None = None) -> subprocess.Popen:
    """The lifter node in a subprocess, with config/lift.yaml then the given params files,
    and `remaps` (name -> new name) as --ros-args -r rules."""
    args = ["-m", "lfm3d_ros.lift_node", "--ros-args", "--params-file", str(REPO / "config" / "lift.yaml")]
    for p in params_files:
        args += ["--params-file", str(p)]
    for old, new in (remaps or {}).items():
        args += ["-r", f"{old}:={new}"]
    return start_process(args, env, log)


# What the node tests run with unless a test says otherwise: the stub network on ONNX Runtime,
# a reliable deep input queue (no message of a test is dropped), no camera_info.
STUB_NODE_PARAMS = dict(backend="onnxruntime", threads=1, qos_reliability="reliable", qos_depth=10,
                        use_camera_info=False)


@contextlib.contextmanager
def lifter_node(tmp: Path, probe_name: str = "lfm3d_test_probe", remaps: dict[str, str] | None = None,
                wait: bool = True, clean_exit: bool = False, **params):
    """A lifter node in a subprocess (stub model, STUB_NODE_PARAMS overridden by `params`,
    `remaps`) and a Probe on its (remapped) topics; yields (probe, process, log path).

    `wait`: fail unless the node subscribes its input within 90 s. `clean_exit`: fail unless
    it exits 0 on SIGINT at the end.
    """
    import pytest

    env = ros_env()
    remaps = remaps or {}
    values = {**STUB_NODE_PARAMS, "model": str(write_stub_model(tmp / "stub.onnx")), **params}
    log = tmp / "lift_node.log"
    proc = start_lift_node(env, log, [write_params(tmp / "override.yaml", **values)], remaps)
    probe = Probe(probe_name, keypoints=remaps.get("keypoints_2d", "keypoints_2d"),
                  lifted=remaps.get("lifted_3d", "lifted_3d"))
    try:
        if wait and not probe.wait_for_lifter(timeout=90):
            pytest.fail(f"the lifter did not subscribe its input; log:\n{log.read_text()}")
        yield probe, proc, log
    finally:
        probe.close()
        code = stop_process(proc)
        if clean_exit:
            assert code == 0, f"lifter exited with {code} on SIGINT; log:\n{log.read_text()}"


def stop_process(proc: subprocess.Popen, timeout: float = 10.0) -> int:
    """SIGINT, then SIGKILL after `timeout`; returns the exit code (the demo's helper)."""
    from lfm3d_ros.demo import stop_process as stop
    return stop(proc, timeout)


class Probe:
    """An rclpy node in the test process that publishes keypoints and records outputs."""

    def __init__(self, name: str = "lfm3d_test_probe", record: bool = True,
                 keypoints: str = "keypoints_2d", lifted: str = "lifted_3d"):
        """`record`: subscribe `lifted` (Skeleton3DArray), `lifted`/markers and /diagnostics
        into lists (else only the `keypoints` publisher; the caller subscribes what it needs)."""
        import rclpy
        from diagnostic_msgs.msg import DiagnosticArray
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from visualization_msgs.msg import MarkerArray

        from lfm3d_ros.msg import Keypoints2DArray, Skeleton3DArray

        if not rclpy.ok():
            rclpy.init()
        self.rclpy = rclpy
        self.node = rclpy.create_node(name)
        qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        self.pub = self.node.create_publisher(Keypoints2DArray, keypoints, qos)
        self.outputs, self.markers, self.diagnostics = [], [], []
        if not record:
            return
        self.node.create_subscription(Skeleton3DArray, lifted, self.outputs.append, qos)
        self.node.create_subscription(MarkerArray, f"{lifted}/markers", self.markers.append, qos)
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self.diagnostics.append, 10)

    def spin_until(self, predicate, timeout: float = 30.0) -> bool:
        """Spin until predicate() is true or timeout (s) passes."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.rclpy.spin_once(self.node, timeout_sec=0.05)
            if predicate():
                return True
        return False

    def wait_for_lifter(self, timeout: float = 60.0) -> bool:
        """True once the lifter subscribes keypoints_2d (it is active)."""
        return self.spin_until(lambda: self.pub.get_subscription_count() > 0, timeout)

    def send(self, msg, timeout: float = 15.0, publisher=None):
        """Publish msg (on `publisher`, default the probe's) and return the Skeleton3DArray with
        its stamp (None on timeout)."""
        stamp = (msg.header.stamp.sec, msg.header.stamp.nanosec)
        (publisher or self.pub).publish(msg)

        def match():
            return [o for o in self.outputs if (o.header.stamp.sec, o.header.stamp.nanosec) == stamp]
        return match()[0] if self.spin_until(lambda: bool(match()), timeout) else None

    def diagnostic_status(self):
        """The latest lifter DiagnosticStatus (None if none yet)."""
        for arr in reversed(self.diagnostics):
            for status in arr.status:
                if "lifter" in status.name:
                    return status
        return None

    def diagnostic_values(self) -> dict[str, str]:
        """Key -> value of the latest lifter diagnostics status ({} if none yet)."""
        status = self.diagnostic_status()
        return {} if status is None else {kv.key: kv.value for kv in status.values}

    def fresh_diagnostics(self, timeout: float = 5.0):
        """The first lifter DiagnosticStatus published from now on (None on timeout)."""
        self.diagnostics.clear()
        self.spin_until(lambda: self.diagnostic_status() is not None, timeout)
        return self.diagnostic_status()

    def call(self, srv_type, name: str, request, timeout: float = 15.0):
        """Call service `name` and return its response (None if no answer in `timeout` s)."""
        client = self.node.create_client(srv_type, name)
        try:
            if not client.wait_for_service(timeout_sec=timeout):
                return None
            future = client.call_async(request)
            self.spin_until(future.done, timeout)
            return future.result() if future.done() else None
        finally:
            self.node.destroy_client(client)

    def change_state(self, transition_id: int, node: str = "/lfm3d_lifter"):
        """lifecycle ChangeState by transition id: True/False as the node answers, None if not."""
        from lifecycle_msgs.srv import ChangeState

        request = ChangeState.Request()
        request.transition.id = transition_id
        response = self.call(ChangeState, f"{node}/change_state", request)
        return None if response is None else response.success

    def get_state(self, node: str = "/lfm3d_lifter") -> str | None:
        """The node's lifecycle state label (None if it does not answer)."""
        from lifecycle_msgs.srv import GetState

        response = self.call(GetState, f"{node}/get_state", GetState.Request())
        return None if response is None else response.current_state.label

    def set_parameters(self, node: str = "/lfm3d_lifter", **values):
        """SetParameters; returns [(successful, reason)] per parameter (None if no answer)."""
        from rcl_interfaces.srv import SetParameters
        from rclpy.parameter import Parameter

        request = SetParameters.Request(
            parameters=[Parameter(name, value=value).to_parameter_msg() for name, value in values.items()])
        response = self.call(SetParameters, f"{node}/set_parameters", request)
        return None if response is None else [(r.successful, r.reason) for r in response.results]

    def close(self) -> None:
        self.node.destroy_node()
        self.rclpy.try_shutdown()


def make_instance(n: int = 17, instance_id: int = 0, rig: str = "", seed: int = 0, **fields):
    """A Keypoints2D with n plausible points (pixels); `fields` override attributes."""
    from lfm3d_ros.msg import Keypoints2D

    rng = np.random.default_rng(seed + instance_id)
    xy = rng.uniform(100, 400, size=(n, 2))
    msg = Keypoints2D(instance_id=instance_id, category="person", rig=rig,
                      x=xy[:, 0].astype(np.float32).tolist(), y=xy[:, 1].astype(np.float32).tolist(),
                      confidence=[0.9] * n)
    for key, value in fields.items():
        setattr(msg, key, value)
    return msg


def make_array(instances, sec: int = 1000, nanosec: int = 0, frame_id: str = "cam_optical"):
    """A Keypoints2DArray with a given stamp."""
    from lfm3d_ros.msg import Keypoints2DArray

    msg = Keypoints2DArray(instances=list(instances))
    msg.header.stamp.sec, msg.header.stamp.nanosec, msg.header.frame_id = sec, nanosec, frame_id
    return msg
