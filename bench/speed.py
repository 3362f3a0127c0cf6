"""Speed benchmark: latency (p50/p99) and throughput (skeletons/s) of lifting.

    python -m bench.speed --quick                          # smoke run, random model
    taskset -c 0 python -m bench.speed --threads 1         # one pinned CPU core
    python -m bench.speed --model lfm3d_net/models/lfm3d_small.onnx \
        --checkpoint lfm3d_net/models/lfm3d_small --json speed.json   # GPU box: all paths

Rows: ONNX Runtime CPU through the full `Lifter.lift` (validation, adjacency, network,
camera alignment) at 1 and 2 threads; with CUDA + torch also PyTorch eager fp32/bf16,
CUDA-graph replay, torch.compile, the one-kernel fused Triton network (N <= 64, plain and
graph-replayed) and TensorRT where importable, plus a measured bf16
matmul peak and the model's achieved fraction of it (FLOPs counted analytically).
Prints one markdown table; `--json` also writes the rows.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

#: Keypoint counts benchmarked and the built-in rig that has each (edges + sides).
RIG_FOR_N = {17: "coco17", 68: "face68", 133: "coco_wholebody133"}


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_note() -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"{cpu_name()}, {cores} usable core(s) of {os.cpu_count()}, "
            f"{platform.system()} {platform.machine()}, Python {platform.python_version()}")


def model_flops(cfg: dict, n: int) -> float:
    """Analytic FLOPs (2 x multiply-adds) of one skeleton of N keypoints.

    Counts the matmuls: token projection, per layer fused QKV of both branches (6D^2),
    attention scores and weighted values of both branches (2 x 2 x N x D each), output
    projection (2D x D), MLP (2 x ratio x D^2), and the decoder. Element-wise ops omitted.
    """
    d, f, ratio, layers = cfg["dim"], cfg["rff_dim"], cfg.get("mlp_ratio", 4), cfg["layers"]
    enc = n * (f + 1) * d
    per_layer = n * 6 * d * d + 2 * (2 * n * n * d) + n * 2 * d * d + n * 2 * ratio * d * d
    dec = n * d * d + n * d * 3
    return 2.0 * (enc + layers * per_layer + dec)


def summarize(latencies_s: list[float], batch: int) -> dict:
    lat = np.asarray(latencies_s)
    return {"p50_ms": float(np.percentile(lat, 50) * 1e3),
            "p99_ms": float(np.percentile(lat, 99) * 1e3),
            "skeletons_per_s": float(batch / lat.mean())}


def time_calls(fn, repeats: int, warmup: int, sync=None) -> list[float]:
    for _ in range(warmup):
        fn()
    if sync:
        sync()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        if sync:
            sync()
        out.append(time.perf_counter() - t0)
    return out


def make_inputs(b: int, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random pixel keypoints (B, N, 2) and an all-valid mask (B, N)."""
    rng = np.random.default_rng(seed)
    kp = rng.uniform(100, 500, (b, n, 2)).astype(np.float32)
    return kp, np.ones((b, n), bool)


# -- CPU: the full Lifter -----------------------------------------------------------------

def bench_ort(onnx_path: Path, configs, threads: int, repeats: int, warmup: int,
              flip_average: bool = False) -> list[dict]:
    from lfm3d_net.lifter import Lifter

    rows = []
    lifter = Lifter.load(onnx_path, backend="onnxruntime", threads=threads, max_batch=64,
                         flip_average=flip_average)
    path = f"ORT CPU Lifter.lift{' flip_average' if flip_average else ''}, {threads} thread(s)"
    for b, n in configs:
        kp, mask = make_inputs(b, n)
        rig = RIG_FOR_N.get(n)
        lat = time_calls(lambda: lifter.lift(kp, mask, rig=rig), repeats, warmup)
        rows.append({"path": path, "batch": b, "n": n, **summarize(lat, b)})
    lifter.close()
    return rows


# -- GPU: torch paths ---------------------------------------------------------------------

def torch_inputs(b: int, n: int, device):
    import torch

    from lfm3d_net import graph, rigs

    kp, mask = make_inputs(b, n)
    rig = rigs.get_rig(RIG_FOR_N[n]) if n in RIG_FOR_N else None
    adj = graph.build_adjacency(kp, mask, rig.edge_array() if rig else None)
    zeros = np.zeros(n, np.float32)
    sides = np.broadcast_to(rig.side_array() if rig else zeros, (b, n))
    fronts = np.broadcast_to(rig.front_array() if rig else zeros, (b, n))
    return tuple(torch.from_numpy(np.array(a)).to(device)  # a writable copy
                 for a in (kp, mask, adj, sides, fronts))


def bench_torch(model, configs, repeats: int, warmup: int, compile_mode: str) -> list[dict]:
    import torch

    dev = torch.device("cuda")
    sync = torch.cuda.synchronize
    rows = []
    compiled = None
    for b, n in configs:
        args = torch_inputs(b, n, dev)
        with torch.inference_mode():
            for label, dtype in (("fp32", None), ("bf16", torch.bfloat16)):
                def eager(dtype=dtype):
                    with torch.autocast("cuda", dtype=dtype, enabled=dtype is not None):
                        return model(*args)
                rows.append({"path": f"PyTorch eager {label}", "batch": b, "n": n,
                             **summarize(time_calls(eager, repeats, warmup, sync), b)})
            # CUDA graph: static shapes per config, capture once, replay.
            static = [a.clone() for a in args]
            stream = torch.cuda.Stream()
            stream.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(stream), torch.autocast("cuda", dtype=torch.bfloat16):
                for _ in range(3):
                    model(*static)
            torch.cuda.current_stream().wait_stream(stream)
            g = torch.cuda.CUDAGraph()
            with torch.cuda.graph(g), torch.autocast("cuda", dtype=torch.bfloat16):
                model(*static)
            rows.append({"path": "CUDA graph replay bf16", "batch": b, "n": n,
                         **summarize(time_calls(g.replay, repeats, warmup, sync), b)})
        if compile_mode != "off":
            try:
                if compiled is None:
                    compiled = torch.compile(model, mode=compile_mode, dynamic=False)

                def run_c():
                    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16):
                        return compiled(*args)
                rows.append({"path": f"torch.compile {compile_mode} bf16", "batch": b, "n": n,
                             **summarize(time_calls(run_c, repeats, max(warmup, 5), sync), b)})
            except Exception as exc:  # noqa: BLE001 - report, keep benchmarking
                print(f"torch.compile failed for B={b} N={n}: {exc}")
    return rows


def graph_replay_times(fn, repeats: int, warmup: int, batch: int) -> dict:
    """Capture one call of `fn` (already compiled / warmed up) in a CUDA graph and time its
    replays (synchronised): summarize()'s dict."""
    import torch

    torch.cuda.synchronize()
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        fn()
    return summarize(time_calls(g.replay, repeats, warmup, torch.cuda.synchronize), batch)


def bench_fused(model, configs, repeats: int, warmup: int,
                warps_options=(None,), stages_options=(None,), tunings=({},)) -> list[dict]:
    """The whole network as one Triton kernel (training.fused_triton), fp16 dots, for the
    configurations with N <= its limit: plain launches, and replay of a CUDA graph of one
    call on static inputs (no Python launch overhead). `warps_options`: num_warps per
    program to try (None = the wrapper's choice per batch and padded N); `stages_options`:
    num_stages (software pipelining of the kernel's loops) to try (None = its choice);
    `tunings`: dicts of further FusedLFM3D keyword arguments to try (mlp_chunk,
    loop_stages, mlp_unroll, heads_per_step, skip_padding)."""
    import torch

    try:
        import triton

        from training.fused_triton import MAX_KEYPOINTS, FusedLFM3D
    except ImportError as exc:
        print(f"fused Triton rows skipped: {exc}")
        return []
    sync = torch.cuda.synchronize
    variants = list(itertools.product(warps_options, stages_options, range(len(tunings))))
    kernels = {v: FusedLFM3D(model, torch.float16, num_warps=v[0], num_stages=v[1], **tunings[v[2]])
               for v in variants}  # packed once
    rows = []
    for (b, n), (warps, stages, t) in itertools.product(configs, variants):
        if n > MAX_KEYPOINTS:
            continue
        fused = kernels[warps, stages, t]
        tag = (("" if warps is None else f" {warps} warps") + ("" if stages is None else f" {stages} stages")
               + "".join(f" {k}={v}" for k, v in tunings[t].items()))
        args = torch_inputs(b, n, torch.device("cuda"))
        out = torch.empty((b, n, 3), dtype=torch.float32, device="cuda")
        try:
            fused(*args, out=out)  # compile; a variant may not fit the GPU
        except triton.runtime.errors.OutOfResources as exc:
            print(f"fused Triton{tag} B={b} N={n} skipped: {exc}")
            continue
        rows.append({"path": f"fused Triton fp16{tag}", "batch": b, "n": n,
                     **summarize(time_calls(lambda: fused(*args, out=out), repeats, warmup,
                                            sync), b)})
        rows.append({"path": f"fused Triton fp16{tag}, CUDA graph replay", "batch": b, "n": n,
                     **graph_replay_times(lambda: fused(*args, out=out), repeats, warmup, b)})
    return rows


def parse_tuning(text: str) -> dict:
    """'mlp_chunk=128,heads_per_step=1' -> {'mlp_chunk': 128, 'heads_per_step': 1} (int values)."""
    out = {}
    for part in filter(None, text.split(",")):
        key, sep, value = part.partition("=")
        if not sep:
            raise SystemExit(f"--fused-tuning: expected KEY=VALUE, got {part!r}")
        out[key.strip()] = int(value)
    return out


def bench_trt(onnx_path: Path, configs, repeats: int, warmup: int) -> list[dict]:
    from lfm3d_net.backends import tensorrt_probe
    from lfm3d_net.lifter import Lifter

    usable, why = tensorrt_probe()
    if not usable:
        print(f"TensorRT rows skipped: {why}")
        return []
    lifter = Lifter.load(onnx_path, backend="tensorrt", precision="fp16", max_batch=64)
    if lifter.backend_name != "tensorrt":
        print("TensorRT rows skipped: engine build/load failed (see warning above)")
        return []
    rows = []
    for b, n in configs:
        kp, mask = make_inputs(b, n)
        rig = RIG_FOR_N.get(n)
        lat = time_calls(lambda: lifter.lift(kp, mask, rig=rig), repeats, warmup)
        rows.append({"path": "TensorRT fp16 Lifter.lift", "batch": b, "n": n,
                     **summarize(lat, b)})
    return rows


def matmul_peak_tflops(size: int = 8192, repeats: int = 20) -> float:
    """Measured bf16 dense matmul throughput (TFLOP/s) of the current GPU."""
    import torch

    a = torch.randn(size, size, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(size, size, device="cuda", dtype=torch.bfloat16)
    lat = time_calls(lambda: a @ b, repeats, 5, torch.cuda.synchronize)
    return 2 * size ** 3 / float(np.median(lat)) / 1e12


# -- main ---------------------------------------------------------------------------------

def load_or_random_onnx(args, tmp: Path) -> tuple[Path, dict]:
    """The ONNX to benchmark and its config; exports a random `--preset` model if none."""
    from lfm3d_net.backends.metadata import model_info

    if args.model:
        path = Path(args.model)
    else:
        from training.export_onnx import export

        path = export(torch_model(args), tmp / f"random_{args.preset}.onnx")
    return path, model_info(path)["config"]


def torch_model(args, device: str = "cpu"):
    import torch

    from training.model import LFM3D, preset

    if args.checkpoint:
        from training.checkpoint import load_model

        return load_model(args.checkpoint, device=device)
    torch.manual_seed(0)
    return LFM3D(preset(args.preset)).to(device).eval()


def format_table(rows: list[dict], cfg: dict, peak: float | None) -> str:
    lines = ["| path | batch | N | p50 ms | p99 ms | skeletons/s |"
             + (" model TFLOP/s | % of bf16 peak |" if peak else ""),
             "|---|---:|---:|---:|---:|---:|" + ("---:|---:|" if peak else "")]
    for r in rows:
        line = (f"| {r['path']} | {r['batch']} | {r['n']} | {r['p50_ms']:.3f} | "
                f"{r['p99_ms']:.3f} | {r['skeletons_per_s']:,.0f} |")
        if peak:
            achieved = r["skeletons_per_s"] * model_flops(cfg, r["n"]) / 1e12
            line += f" {achieved:.3f} | {100 * achieved / peak:.2f} |"
        lines.append(line)
    return "\n".join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=None, help="ONNX model (default: random --preset export)")
    p.add_argument("--checkpoint", default=None,
                   help="checkpoint stem/.safetensors for the torch paths (default: random)")
    p.add_argument("--preset", default="small", help="ModelConfig preset for random models")
    p.add_argument("--threads", type=int, nargs="*", default=[1, 2],
                   help="ONNX Runtime thread counts to benchmark")
    p.add_argument("--batches", type=int, nargs="+", default=[1, 8, 64], help="batch sizes")
    p.add_argument("--keypoints", type=int, nargs="+", default=[17, 68, 133],
                   help="keypoint counts N")
    p.add_argument("--repeats", type=int, default=200, help="timed calls per configuration")
    p.add_argument("--warmup", type=int, default=20, help="untimed calls first")
    p.add_argument("--compile-mode", default="max-autotune-no-cudagraphs",
                   help="torch.compile mode, or 'off'")
    p.add_argument("--no-gpu", action="store_true", help="skip the CUDA/TensorRT paths")
    p.add_argument("--flip-average", action="store_true",
                   help="also time the CPU Lifter with flip_average=True (image + mirror per call)")
    p.add_argument("--fused-only", action="store_true",
                   help="on the GPU, time only the fused Triton kernel (no PyTorch/TensorRT rows)")
    p.add_argument("--fused-warps", type=int, nargs="+", default=None,
                   help="num_warps values to time the fused kernel with (default: its own choice)")
    p.add_argument("--fused-stages", type=int, nargs="+", default=None,
                   help="num_stages values (software pipelining) to time the fused kernel with "
                        "(default: its own choice)")
    p.add_argument("--fused-tuning", nargs="+", default=[""], metavar="K=V[,K=V]",
                   help="fused-kernel variants to time, each a comma-separated list of FusedLFM3D "
                        "keyword arguments (mlp_chunk, loop_stages, mlp_unroll, heads_per_step, "
                        "skip_padding); "
                        "'' = the defaults")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: B=1, N=17 and 20 repeats, one thread")
    p.add_argument("--json", default=None, help="also write the rows to this JSON file")
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.quick:
        args.batches, args.keypoints, args.repeats, args.warmup = [1], [17], 20, 3
        args.threads = args.threads[:1]
    configs = [(b, n) for b in args.batches for n in args.keypoints]
    print(f"machine: {machine_note()}")
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path, cfg = load_or_random_onnx(args, Path(tmp))
        print(f"model: {onnx_path.name} config {json.dumps(cfg)}")
        rows = []
        for t in args.threads:
            for flip in sorted({False, args.flip_average}):
                rows += bench_ort(onnx_path, configs, t, args.repeats, args.warmup, flip)
        peak = None
        if not args.no_gpu:
            try:
                import torch
                has_cuda = torch.cuda.is_available()
            except ImportError:
                has_cuda = False
            if has_cuda:
                print(f"GPU: {torch.cuda.get_device_name()}")
                model = torch_model(args, "cuda")
                if not args.fused_only:
                    rows += bench_torch(model, configs, args.repeats, args.warmup,
                                        args.compile_mode)
                rows += bench_fused(model, configs, args.repeats, args.warmup,
                                    args.fused_warps or (None,), args.fused_stages or (None,),
                                    [parse_tuning(t) for t in args.fused_tuning])
                peak = matmul_peak_tflops()
                print(f"measured bf16 matmul peak (8192^3): {peak:.1f} TFLOP/s")
            if not args.fused_only:
                rows += bench_trt(onnx_path, configs, args.repeats, args.warmup)
        print(format_table(rows, cfg, peak))
        if args.json:
            Path(args.json).write_text(json.dumps(
                {"machine": machine_note(), "config": cfg, "bf16_peak_tflops": peak,
                 "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
