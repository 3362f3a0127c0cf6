"""Build a TensorRT engine from the exported ONNX model (run on the target GPU).

    python -m training.build_engine --onnx lfm3d_net/models/lfm3d_small.onnx \
        --output lfm3d_small.engine --fp16 --timing-cache lfm3d.timing_cache

The CLI around `lfm3d_net.backends.trt_build.build_engine_bytes` (pure TensorRT, no
torch). It also prints the equivalent `trtexec` command. The Lifter builds and caches
engines by itself (`lfm3d_net.engine_cache`); use this to build ahead of time or to debug
a parse/build failure: every parser error and every input/output is logged.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from lfm3d_net.engine_cache import Profile


def parse_args(argv=None) -> argparse.Namespace:
    d = Profile()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--onnx", required=True, type=Path, help="exported ONNX model")
    p.add_argument("--output", type=Path, default=None,
                   help="engine file to write (default: the ONNX path with .engine)")
    p.add_argument("--fp16", action="store_true", help="allow FP16 kernels (default fp32)")
    p.add_argument("--min-batch", type=int, default=d.min_batch, help="profile minimum batch")
    p.add_argument("--opt-batch", type=int, default=d.opt_batch, help="profile batch to tune for")
    p.add_argument("--max-batch", type=int, default=d.max_batch, help="profile maximum batch")
    p.add_argument("--min-keypoints", type=int, default=d.min_keypoints,
                   help="profile minimum keypoints N")
    p.add_argument("--opt-keypoints", type=int, default=d.opt_keypoints,
                   help="profile keypoints N to tune for")
    p.add_argument("--max-keypoints", type=int, default=d.max_keypoints,
                   help="profile maximum keypoints N")
    p.add_argument("--workspace-mb", type=int, default=1024,
                   help="builder workspace memory pool limit, MiB")
    p.add_argument("--timing-cache", type=Path, default=None,
                   help="timing cache file to load and update (faster rebuilds)")
    p.add_argument("--print-only", action="store_true",
                   help="print the trtexec command and exit without building")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("lfm3d.build_engine")
    try:
        profile = Profile(args.min_batch, args.opt_batch, args.max_batch,
                          args.min_keypoints, args.opt_keypoints, args.max_keypoints)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.onnx.is_file():
        print(f"error: ONNX model not found: {args.onnx}", file=sys.stderr)
        return 2
    output = args.output or args.onnx.with_suffix(".engine")
    precision = "fp16" if args.fp16 else "fp32"

    from lfm3d_net.backends.trt_build import build_engine_bytes, trtexec_command

    import onnx
    inputs = [i.name for i in onnx.load(str(args.onnx), load_external_data=False).graph.input]
    print("equivalent trtexec command:\n  " + trtexec_command(
        args.onnx, output, profile, precision, args.workspace_mb, args.timing_cache, inputs))
    if args.print_only:
        return 0
    try:
        import tensorrt  # noqa: F401
    except ImportError as exc:
        print(f"error: TensorRT Python is not installed ({exc}); on a Jetson it ships with "
              "JetPack (python3-libnvinfer), on x86 use NVIDIA's wheels or the trtexec "
              "command above", file=sys.stderr)
        return 2
    try:
        data = build_engine_bytes(args.onnx, profile, precision, args.workspace_mb,
                                  args.timing_cache, logger=log)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(data)
    log.info("wrote %s (%.1f MiB, %s)", output, len(data) / 2**20, precision)
    return 0


if __name__ == "__main__":
    sys.exit(main())
