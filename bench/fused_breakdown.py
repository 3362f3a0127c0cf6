"""Where the fused kernel's batch-1 time goes (GPU with triton; see training/fused_triton.py).

    python -m bench.fused_breakdown --checkpoint lfm3d_net/models/lfm3d_small [--batch 1]

Times CUDA-graph replays (host time per call, synchronised, as bench/speed.py) of:
a one-kernel graph that does nothing useful (the launch + synchronise floor); the fused
kernel cut after its encoder (0 layers) and after 1, 2, ... layers (decoder kept); all
layers without their MLPs. Cutting is done by overriding the kernel's constexprs, so each
row is the same code with less of it run. Prints one markdown table.
"""
from __future__ import annotations

import argparse

from bench.speed import graph_replay_times, machine_note, parse_tuning, torch_inputs


def graph_time(fn, repeats: int, warmup: int) -> dict:
    fn()  # compile before capture
    return graph_replay_times(fn, repeats, warmup, 1)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", required=True, help="checkpoint stem/.safetensors")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--keypoints", type=int, default=17)
    p.add_argument("--repeats", type=int, default=500)
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--warps", type=int, default=None, help="num_warps (default: the kernel's)")
    p.add_argument("--stages", type=int, default=None, help="num_stages (default: the kernel's)")
    p.add_argument("--tuning", default="", metavar="K=V[,K=V]",
                   help="further FusedLFM3D keyword arguments (as bench.speed --fused-tuning)")
    args = p.parse_args(argv)

    import torch
    import triton

    from training.checkpoint import load_model
    from training.fused_triton import FusedLFM3D

    model = load_model(args.checkpoint, device="cuda").eval()
    fused = FusedLFM3D(model, torch.float16, num_warps=args.warps, num_stages=args.stages,
                       **parse_tuning(args.tuning))
    inputs = torch_inputs(args.batch, args.keypoints, torch.device("cuda"))
    out = torch.empty((args.batch, args.keypoints, 3), dtype=torch.float32, device="cuda")
    full = dict(fused._consts)
    layers = full["L"]

    def cut(**consts):
        fused._consts = {**full, **consts}
        try:
            return graph_time(lambda: fused(*inputs, out=out), args.repeats, args.warmup)
        except triton.runtime.errors.OutOfResources as exc:  # the pipeliner's buffers differ per cut
            print(f"{consts}: does not fit: {exc}")
            return None
        finally:
            fused._consts = full

    rows = [("launch + synchronise floor (one-kernel graph: out.zero_())",
             graph_time(out.zero_, args.repeats, args.warmup))]
    rows += [(f"encoder + {k} layer(s) + decoder", cut(L=k)) for k in range(layers + 1)]
    rows.append((f"encoder + {layers} layers without their MLPs + decoder", cut(NCH=0)))

    print(f"machine: {machine_note()}; GPU: {torch.cuda.get_device_name()}")
    print(f"fused kernel, batch {args.batch}, N = {args.keypoints}, warps {args.warps or 'default'}, "
          f"stages {args.stages or 'default'}, tuning {args.tuning or 'defaults'}, "
          f"CUDA graph replay, {args.repeats} calls")
    print("| what runs | p50 ms | p99 ms | p50 minus the row above (ms) |")
    print("|---|---:|---:|---:|")
    prev = None
    for name, r in rows:
        if r is None:
            print(f"| {name} | does not fit | | |")
            prev = None
            continue
        delta = "" if prev is None else f"{r['p50_ms'] - prev:+.4f}"
        print(f"| {name} | {r['p50_ms']:.4f} | {r['p99_ms']:.4f} | {delta} |")
        prev = r["p50_ms"]


if __name__ == "__main__":
    main()
