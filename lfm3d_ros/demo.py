"""One-command demo: lifter + demo keypoint source + monitor, as subprocesses.

    python -m lfm3d_ros.demo [--seconds S] [--backend onnxruntime] [--out out]

Starts `lift_node` (params from config/lift.yaml, CPU default backend onnxruntime),
`demo_source` (real mocap people + a face, 30 Hz) and `lift_monitor` (prints
`rate | latency | skeletons` once a second, records out/demo.mcap, draws
out/demo_snapshot.png), all with ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST. Streams the
monitor's lines, runs until Ctrl-C or --seconds, then stops the processes (SIGINT, then
SIGKILL after a grace period). Needs no TTY and no display.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GRACE_S = 10.0


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m lfm3d_ros.demo", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=0.0, help="stop after this many seconds (0 = until Ctrl-C)")
    parser.add_argument("--backend", default="onnxruntime", choices=("auto", "tensorrt", "onnxruntime"),
                        help="lifter backend (default: onnxruntime on the CPU)")
    parser.add_argument("--model", default="", help="ONNX model path (default: the shipped model)")
    parser.add_argument("--params-file", default=str(REPO / "config" / "lift.yaml"),
                        help="lifter parameters YAML (default: config/lift.yaml)")
    parser.add_argument("--people", type=int, default=3, help="people in the demo scene")
    parser.add_argument("--malformed-every", type=int, default=0,
                        help="add a malformed instance every k-th message (0 = never)")
    parser.add_argument("--out", default="out", help="directory for demo.mcap and demo_snapshot.png")
    parser.add_argument("--domain-id", type=int, default=None,
                        help="ROS_DOMAIN_ID (default: the environment's, else 0)")
    return parser.parse_args(argv)


def demo_env(domain_id: int | None) -> dict[str, str]:
    """Environment of the child processes: localhost discovery, unbuffered, repo importable."""
    env = dict(os.environ, ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST", PYTHONUNBUFFERED="1",
               MPLBACKEND="Agg")
    if domain_id is not None:
        env["ROS_DOMAIN_ID"] = str(domain_id)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def commands(opts) -> dict[str, list[str]]:
    """name -> argv of each child process."""
    out = Path(opts.out)
    lifter = [sys.executable, "-m", "lfm3d_ros.lift_node", "--ros-args",
              "--params-file", opts.params_file, "-p", f"backend:={opts.backend}"]
    if opts.model:
        lifter += ["-p", f"model:={opts.model}"]
    return {
        "lifter": lifter,
        "source": [sys.executable, "-m", "lfm3d_ros.demo_source", "--ros-args",
                   "-p", f"people:={opts.people}", "-p", f"malformed_every:={opts.malformed_every}"],
        "monitor": [sys.executable, "-m", "lfm3d_ros.monitor", "--record", str(out / "demo.mcap"),
                    "--snapshot", str(out / "demo_snapshot.png")],
    }


def _pump(name: str, stream, echo: bool) -> None:
    """Copy a child's output lines to ours: the monitor's as is, the others' prefixed."""
    for raw in iter(stream.readline, b""):
        line = raw.decode(errors="replace").rstrip()
        if echo or any(w in line for w in ("ERROR", "WARN", "Traceback", "Error")):
            print(line if name == "monitor" else f"[{name}] {line}", flush=True)


def stop_process(proc: subprocess.Popen, grace_s: float = GRACE_S) -> int:
    """SIGINT (a clean ROS shutdown), then SIGKILL after `grace_s`; returns the exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def stop(procs: dict[str, subprocess.Popen], grace_s: float = GRACE_S) -> None:
    """Stop every child, monitor first (it finishes the MCAP)."""
    for name in ("monitor", "source", "lifter"):
        if procs.get(name) is not None:
            stop_process(procs[name], grace_s)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    """Run the demo; returns 0 when all children ran until asked to stop."""
    opts = parse_args(argv)
    Path(opts.out).mkdir(parents=True, exist_ok=True)
    env = demo_env(opts.domain_id)
    procs: dict[str, subprocess.Popen] = {}
    failed = ""
    # Our own Ctrl-C / SIGTERM end the wait below; children are stopped in order.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        for name, argv_ in commands(opts).items():
            procs[name] = subprocess.Popen(argv_, cwd=REPO, env=env, stdout=subprocess.PIPE,
                                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                           start_new_session=True)  # Ctrl-C reaches us only
            threading.Thread(target=_pump, args=(name, procs[name].stdout, name == "monitor"),
                             daemon=True).start()
        print(f"demo: lifter ({opts.backend}), demo_source, lift_monitor started; "
              f"{'Ctrl-C to stop' if not opts.seconds else f'running {opts.seconds:.0f} s'}", flush=True)
        end = time.monotonic() + opts.seconds if opts.seconds > 0 else None
        while end is None or time.monotonic() < end:
            dead = [n for n, p in procs.items() if p.poll() is not None]
            if dead:
                failed = f"{', '.join(dead)} exited early (code {procs[dead[0]].returncode})"
                break
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        stop(procs)
    if failed:
        print(f"demo: {failed}", file=sys.stderr)
        return 1
    print(f"demo: wrote {Path(opts.out) / 'demo.mcap'} and {Path(opts.out) / 'demo_snapshot.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
