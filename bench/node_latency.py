"""Lifter node latency and CPU at a fixed input rate; prints a markdown table.

Starts `lfm3d_ros.lift_node` in a subprocess (input QoS reliable, depth 10, so a lost
message is a real loss, not a best-effort drop), publishes Keypoints2DArray messages of
`--instances` instances x `--keypoints` points at `--rate` Hz for `--seconds` each, and
measures publish -> Skeleton3DArray receive latency (p50/p99, ms, both ends on this
machine's clock), lost messages, and the node's CPU use from /proc/<pid>/stat
(100 % = one core). Goal (docs/node.md): p99 <= 10 ms with 10 instances, no loss at 30 Hz.

    python bench/node_latency.py --seconds 10 --instances 1 10
"""

from __future__ import annotations

import argparse
import os
import random
import struct
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=10.0, help="measured seconds per configuration")
    p.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each run")
    p.add_argument("--rate", type=float, default=30.0, help="input rate (Hz)")
    p.add_argument("--instances", nargs="+", default=["1", "10", "10+133"],
                   help="rows: instances per message, 'A+B' adds one B-point instance")
    p.add_argument("--keypoints", type=int, default=17, help="keypoints per instance")
    p.add_argument("--rig", default="coco17", help="rig name sent with each instance ('' = none: kNN graph)")
    p.add_argument("--model", default="", help="ONNX model (default: the shipped model)")
    p.add_argument("--backend", default="onnxruntime", help="auto | tensorrt | onnxruntime")
    p.add_argument("--threads", type=int, default=2, help="ONNX Runtime threads of the node")
    p.add_argument("--no-markers", action="store_true", help="do not publish markers (measures the lift alone)")
    p.add_argument("--stub-model", action="store_true",
                   help="use the tiny stub ONNX of the tests (plumbing cost only, no network)")
    return p.parse_args(argv)


def stamp_of(data: bytes) -> tuple[int, int]:
    """(sec, nanosec) of a serialised message that starts with a std_msgs/Header: the bytes
    after the 4-byte CDR encapsulation header (decoding all of Skeleton3DArray in Python
    would load this 2-core machine more than the node's work we measure)."""
    return struct.unpack_from("<iI", data, 4)


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB, from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def row_instances(spec: str, opts) -> list:
    """Keypoints2D instances of one row: 'A' or 'A+B' (see the module doc)."""
    from ros_helpers import make_instance

    count, _, extra = spec.partition("+")
    base = [make_instance(opts.keypoints, i, rig=opts.rig) for i in range(int(count))]
    if extra:
        n = int(extra)
        base.append(make_instance(n, int(count), rig="coco_wholebody133" if n == 133 else ""))
    return base


def run_config(probe, pid: int, spec: str, row: int, opts) -> dict:
    """Publish at opts.rate for warmup + seconds; returns the row's numbers."""
    from ros_helpers import make_array

    base = row_instances(spec, opts)
    sent: dict[tuple[int, int], float] = {}
    latencies: list[float] = []
    received = set()

    def on_output(data: bytes):
        key = stamp_of(data)
        if key in sent and key not in received:
            received.add(key)
            latencies.append(time.perf_counter() - sent[key])

    probe.outputs_callback = on_output
    period = 1.0 / opts.rate
    start = time.perf_counter()
    cpu0 = t_cpu0 = None
    measured: set[tuple[int, int]] = set()
    i = 0
    while True:
        now = time.perf_counter()
        elapsed = now - start
        if elapsed >= opts.warmup + opts.seconds:
            break
        if elapsed >= opts.warmup and cpu0 is None:
            cpu0, t_cpu0 = cpu_seconds(pid), now
            latencies.clear()
        if now >= start + i * period:
            key = (2000 + i, row)  # unique stamp per message and row
            msg = make_array(base, sec=key[0], nanosec=key[1])
            sent[key] = time.perf_counter()
            if cpu0 is not None:
                measured.add(key)
            probe.pub.publish(msg)
            i += 1
        probe.rclpy.spin_once(probe.node, timeout_sec=max(0.0, start + i * period - time.perf_counter()))
    probe.spin_until(lambda: measured <= received, timeout=2.0)  # let the last replies arrive
    cpu_s = cpu_seconds(pid) - cpu0
    cpu = cpu_s / (time.perf_counter() - t_cpu0)
    lat = np.array(latencies) * 1e3
    # the node's own callback -> publish latency (its last LATENCY_WINDOW messages: this row)
    probe.diagnostics.clear()
    probe.spin_until(lambda: bool(probe.diagnostic_values()), timeout=3.0)
    node = probe.diagnostic_values()
    return {"instances": spec, "sent": len(measured), "lost": len(measured - received),
            "p50": float(np.percentile(lat, 50)) if len(lat) else float("nan"),
            "p99": float(np.percentile(lat, 99)) if len(lat) else float("nan"),
            "node_p50": float(node.get("lift latency p50 (ms)", "nan")),
            "node_p99": float(node.get("lift latency p99 (ms)", "nan")),
            "cpu": 100.0 * cpu, "cpu_ms": 1e3 * cpu_s / max(len(measured), 1), "rss": rss_mb(pid)}


def main(argv=None) -> int:
    opts = parse_args(argv)
    from ros_helpers import Probe, ros_env, start_lift_node, stop_process, write_params, write_stub_model

    env = ros_env(random.randint(101, 200))
    tmp = Path(tempfile.mkdtemp(prefix="lfm3d_bench_"))
    model = str(write_stub_model(tmp / "stub.onnx")) if opts.stub_model else opts.model
    params = write_params(tmp / "bench.yaml", model=model, backend=opts.backend, threads=opts.threads,
                          qos_reliability="reliable", qos_depth=10, use_camera_info=False,
                          publish_markers=not opts.no_markers,
                          max_batch=max(16, *(len(row_instances(spec, opts)) for spec in opts.instances)))
    log = tmp / "lift_node.log"
    proc = start_lift_node(env, log, [params])
    probe = Probe("lfm3d_bench_probe", record=False)
    from lfm3d_ros.msg import Skeleton3DArray
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from visualization_msgs.msg import MarkerArray

    qos = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
    probe.outputs_callback = lambda data: None
    probe.node.create_subscription(Skeleton3DArray, "lifted_3d", lambda m: probe.outputs_callback(m), qos,
                                   raw=True)
    from diagnostic_msgs.msg import DiagnosticArray

    probe.node.create_subscription(DiagnosticArray, "/diagnostics", probe.diagnostics.append, 10)
    if not opts.no_markers:  # a marker subscriber makes the node build them; bytes, not decoded
        probe.node.create_subscription(MarkerArray, "lifted_3d/markers", lambda m: None, qos, raw=True)
    rows = []
    try:
        if not probe.wait_for_lifter(timeout=120):
            print(f"lifter did not start; log:\n{log.read_text()}", file=sys.stderr)
            return 1
        time.sleep(1.0)  # discovery of the output side
        for row, spec in enumerate(opts.instances):
            rows.append(run_config(probe, proc.pid, spec, row, opts))
    finally:
        probe.close()
        stop_process(proc)
    print(f"\nlift_node, backend {opts.backend}, model {model or 'default'}, {opts.keypoints} keypoints, "
          f"{opts.rate:g} Hz, {opts.seconds:g} s, reliable QoS, markers {'off' if opts.no_markers else 'on'}, "
          f"{os.cpu_count()} CPUs\n")
    print("latency: publish -> receive in this process; node: the node's own callback -> publish "
          "(its diagnostics); CPU: the node process, all threads\n")
    print("| instances | sent | lost | latency p50 (ms) | latency p99 (ms) | node p50 (ms) | node p99 (ms) "
          "| node CPU (% of a core) | node CPU per message (ms) | node RSS (MB) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['instances']} | {r['sent']} | {r['lost']} | {r['p50']:.2f} | {r['p99']:.2f} "
              f"| {r['node_p50']:.2f} | {r['node_p99']:.2f} | {r['cpu']:.0f} | {r['cpu_ms']:.2f} | {r['rss']:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
