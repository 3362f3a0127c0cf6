"""Which network size fits the CPU budget: the whole `Lifter.lift` of one 17-keypoint
skeleton, per candidate architecture (random weights: speed does not depend on them).

    taskset -c 0 python -m bench.model_size [--rounds 6] [--repeats 1500]

Each candidate is exported to ONNX and lifted through ONNX Runtime on one thread.
Candidates are timed in interleaved rounds so a noisy neighbour on a shared machine hits
them all alike; the table gives the best and the median round's p50 and the median p99.
Prints one markdown table (the basis of the `small` preset choice in training/model.py).
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from bench.speed import machine_note, make_inputs, model_flops, time_calls

# name -> ModelConfig overrides (4 heads throughout)
CANDIDATES = {
    "D96 L4 mlp4": dict(dim=96, layers=4, mlp_ratio=4, rff_dim=96),
    "D96 L4 mlp2": dict(dim=96, layers=4, mlp_ratio=2, rff_dim=96),
    "D96 L3 mlp4": dict(dim=96, layers=3, mlp_ratio=4, rff_dim=96),
    "D80 L4 mlp2": dict(dim=80, layers=4, mlp_ratio=2, rff_dim=96),
    "D64 L4 mlp4": dict(dim=64, layers=4, mlp_ratio=4, rff_dim=96),
    "D64 L4 mlp2": dict(dim=64, layers=4, mlp_ratio=2, rff_dim=96),
}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=6, help="interleaved timing rounds")
    ap.add_argument("--repeats", type=int, default=1500, help="lifts per candidate per round")
    ap.add_argument("--keypoints", type=int, default=17)
    args = ap.parse_args(argv)

    import torch

    from lfm3d_net.lifter import Lifter
    from training.export_onnx import export
    from training.model import LFM3D, ModelConfig

    kp, mask = make_inputs(1, args.keypoints)
    rig = "coco17" if args.keypoints == 17 else None
    lifters, params = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, over in CANDIDATES.items():
            torch.manual_seed(0)
            model = LFM3D(ModelConfig(heads=4, **over)).eval()
            params[name] = model.num_parameters()
            path = export(model, Path(tmp) / f"{name.replace(' ', '_')}.onnx")
            lifters[name] = Lifter.load(path, backend="onnxruntime", threads=1)
        p50s = {n: [] for n in lifters}
        p99s = {n: [] for n in lifters}
        for _ in range(args.rounds):
            for name, lifter in lifters.items():
                lat = np.asarray(time_calls(lambda: lifter.lift(kp, mask, rig=rig), args.repeats, 100)) * 1e3
                p50s[name].append(np.percentile(lat, 50))
                p99s[name].append(np.percentile(lat, 99))
        for lifter in lifters.values():
            lifter.close()

    print(f"machine: {machine_note()}")
    print(f"Lifter.lift, ONNX Runtime 1 thread, B=1, N={args.keypoints}, {args.rounds} rounds x "
          f"{args.repeats} lifts\n")
    print("| candidate | parameters | MFLOP | best p50 ms | median p50 ms | median p99 ms | lifts/s at median p50 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, over in CANDIDATES.items():
        med = float(np.median(p50s[name]))
        cfg = {"mlp_ratio": 4, **over}
        print(f"| {name} | {params[name]:,} | {model_flops(cfg, args.keypoints) / 1e6:.1f} | "
              f"{min(p50s[name]):.3f} | {med:.3f} | {float(np.median(p99s[name])):.3f} | {1e3 / med:,.0f} |")


if __name__ == "__main__":
    main()
