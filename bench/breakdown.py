"""Where the time of one lift goes: the Lifter's stages and the node's per-message stages.

    taskset -c 0 python bench/breakdown.py [--instances 10] [--repeats 300]

Prints two markdown tables (median ms per call, in-process, no DDS):
1. `Lifter.lift(kp, rig="coco17")` for one 17-keypoint instance: input checks, adjacency,
   the network (backend.run), camera alignment, and the whole call;
2. the lifter node's work for one message of `--instances` COCO-17 instances: parsing the
   Keypoints2DArray, the batched lift, building + serialising `lifted_3d`, building +
   serialising the RViz markers (needs the msg build in the venv; skipped otherwise).
"""
from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lfm3d_net import Lifter, inputs  # noqa: E402


def median_ms(fn, repeats: int, warmup: int = 20) -> float:
    """Median wall time of `fn()` in ms over `repeats` calls, after `warmup` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def lifter_rows(lifter: Lifter, repeats: int) -> list[tuple[str, float]]:
    kp = (np.random.default_rng(0).random((17, 2)) * 300).astype(np.float32)
    r = lifter._rig("coco17")
    batch = inputs.validate_and_pad(kp, max_keypoints=lifter.max_keypoints)
    k, m = batch.keypoints, batch.mask
    adj = lifter._adjacency(k, m, r.edges)
    sides, fronts = r.sides1, r.fronts1
    shape3d = lifter._run(k, m, adj, sides, fronts)
    return [
        ("input checks (validate_and_pad)", median_ms(
            lambda: inputs.validate_and_pad(kp, max_keypoints=lifter.max_keypoints), repeats)),
        ("adjacency (cached per rig)", median_ms(lambda: lifter._adjacency(k, m, r.edges), repeats)),
        ("network (backend.run)", median_ms(lambda: lifter._run(k, m, adj, sides, fronts), repeats)),
        ("camera alignment (_align)", median_ms(lambda: lifter._align(shape3d, k, m), repeats)),
        ("whole Lifter.lift", median_ms(lambda: lifter.lift(kp, rig="coco17"), repeats)),
    ]


def node_rows(lifter: Lifter, instances: int, repeats: int) -> list[tuple[str, float]]:
    from rclpy.serialization import serialize_message

    from lfm3d_net.rigs import get_rig
    from lfm3d_ros import conversions
    from lfm3d_ros.lifting import lift_instances
    from lfm3d_ros.markers import MarkerBuilder
    from lfm3d_ros.msg import Keypoints2D, Keypoints2DArray

    rng = np.random.default_rng(0)
    msg = Keypoints2DArray()
    for i in range(instances):
        msg.instances.append(Keypoints2D(
            instance_id=i, category="person", rig="coco17",
            x=(rng.random(17) * 100 + 200).astype(np.float32).tolist(),
            y=(rng.random(17) * 200 + 100).astype(np.float32).tolist()))
    limits = conversions.Limits(0.0, lifter.max_keypoints, "")
    accepted, _ = conversions.parse_array(msg, limits, get_rig)
    from lfm3d_ros import cdr

    skeletons, _ = lift_instances(lifter, accepted)
    out = conversions.to_skeleton_msgs(skeletons, msg.header)
    builder = MarkerBuilder(0.03, 0.5)
    markers = builder.build(skeletons, msg.header)
    return [
        ("parse Keypoints2DArray", median_ms(lambda: conversions.parse_array(msg, limits, get_rig), repeats)),
        ("lift (one batch per N)", median_ms(lambda: lift_instances(lifter, accepted), repeats)),
        ("lifted_3d as CDR bytes (the node's path)",
         median_ms(lambda: cdr.skeleton_array(skeletons, msg.header), repeats)),
        ("markers as CDR bytes (the node's path)",
         median_ms(lambda: cdr.marker_array(builder.specs(skeletons), msg.header), repeats)),
        ("build lifted_3d (message objects)",
         median_ms(lambda: conversions.to_skeleton_msgs(skeletons, msg.header), repeats)),
        ("serialise lifted_3d (message objects)", median_ms(lambda: serialize_message(out), repeats)),
        ("build markers (message objects)", median_ms(lambda: builder.build(skeletons, msg.header), repeats)),
        ("serialise markers (message objects)", median_ms(lambda: serialize_message(markers), repeats)),
    ]


def table(title: str, rows: list[tuple[str, float]]) -> str:
    lines = [f"**{title}**", "", "| stage | median ms |", "|---|---:|"]
    lines += [f"| {name} | {ms:.3f} |" for name, ms in rows]
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None, help="ONNX model (default: the shipped one)")
    p.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads")
    p.add_argument("--instances", type=int, default=10, help="instances per node message")
    p.add_argument("--repeats", type=int, default=300, help="timed calls per stage")
    args = p.parse_args(argv)
    lifter = Lifter.load(args.model, backend="onnxruntime", threads=args.threads)
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"ONNX Runtime {args.threads} thread(s)\n")
    print(table("Lifter.lift, B=1, N=17 (coco17)", lifter_rows(lifter, args.repeats)))
    try:
        rows = node_rows(lifter, args.instances, max(args.repeats // 10, 20))
    except ImportError as exc:
        print(f"node stages skipped: {exc} (run scripts/setup_venv.sh to build the messages)")
        return
    print(table(f"lifter node, one message of {args.instances} x 17 keypoints", rows))


if __name__ == "__main__":
    main()
