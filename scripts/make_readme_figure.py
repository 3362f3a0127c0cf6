"""The README's picture: 2D keypoints from the demo beside what the shipped model lifts from them.

    .venv/bin/python scripts/make_readme_figure.py [--out docs/readme_lift.png] [--t 3.0]

One frame of `make demo`'s scene (lfm3d_ros/demo_scene.py) at time --t: a person (real CMU
motion capture from the clip bundled with the package, rig `mocap26`) and the iBUG-68 mean face
(`face68`), projected through the demo's orbiting pinhole camera with 0.5 px noise. They go
through the command-line lifter exactly as a user's file would (`python -m lfm3d_net lift
IN.json OUT.json --plot PNG`: the shipped model, ONNX Runtime, the rig named per instance), so
the figure is the CLI's own plot: input 2D on the left, camera-aligned 3D on the right.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def demo_instances(t: float) -> list[dict]:
    """The first person and the face of the demo scene at time t, in the CLI's JSON schema."""
    from lfm3d_ros.demo_scene import BUNDLED, DemoScene
    scene = DemoScene(data_path=BUNDLED, people=1, include_face=True, seed=0)
    return [{"keypoints": inst["uv"].tolist(), "confidence": inst["confidence"].tolist(), "rig": inst["rig"]}
            for inst in scene.frame(t)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=str(ROOT / "docs" / "readme_lift.png"), help="PNG to write")
    p.add_argument("--t", type=float, default=3.0, help="demo time in seconds (camera angle and pose)")
    args = p.parse_args(argv)
    from lfm3d_net.cli import main as cli
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "demo.json", Path(tmp) / "lifted.json"
        src.write_text(json.dumps({"instances": demo_instances(args.t)}))
        return cli(["lift", str(src), str(dst), "--backend", "onnxruntime", "--threads", "1",
                    "--plot", args.out])


if __name__ == "__main__":
    sys.exit(main())
