"""Export an LFM3D checkpoint to ONNX for ONNX Runtime and TensorRT.

    python -m training.export_onnx --checkpoint runs/small/best --output lfm3d_small.onnx --check

The graph has the contract's names (docs/interfaces.md): inputs `keypoints` (B, N, 2)
float32, `mask` (B, N) bool, `adjacency` (B, N, N) bool, `sides` (B, N) float32, and for a
model trained with fronts (`use_fronts`) `fronts` (B, N) float32; output `shape3d`
(B, N, 3) float32, with dynamic axes `batch` and `num_keypoints`. The model's
config rides along in `metadata_props`, so runtimes need no flags. Every node must be in
`TENSORRT_OPS`, a subset of what TensorRT 10's ONNX parser supports.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch

from lfm3d_net.backends.base import FRONTS, INPUT_NAMES, OUTPUT_NAME  # the runtime's contract
from training.checkpoint import load_metadata, load_model, package_version
from training.model import LFM3D

OUTPUT_NAMES = (OUTPUT_NAME,)
DYNAMIC_AXES = {
    "keypoints": {0: "batch", 1: "num_keypoints"},
    "mask": {0: "batch", 1: "num_keypoints"},
    "adjacency": {0: "batch", 1: "num_keypoints", 2: "num_keypoints"},
    "sides": {0: "batch", 1: "num_keypoints"},
    "fronts": {0: "batch", 1: "num_keypoints"},
    "shape3d": {0: "batch", 1: "num_keypoints"},
}


def input_names(model: LFM3D) -> tuple[str, ...]:
    """The graph's input names, in LFM3D.forward's order."""
    return INPUT_NAMES + ((FRONTS,) if model.config.use_fronts else ())


DEFAULT_OPSET = 17  # LayerNormalization is a single op from 17; TensorRT 10 parses it

# Ops of the default ONNX domain that onnx-tensorrt (TensorRT 10) supports and that a
# transformer of this kind may use. Kept deliberately short: a new op in the graph must be
# checked against https://github.com/onnx/onnx-tensorrt/blob/main/docs/operators.md first.
TENSORRT_OPS = frozenset({
    "Abs", "Add", "And", "Cast", "Clip", "Concat", "Constant", "ConstantOfShape", "Cos", "Div",
    "Equal", "Erf", "Exp", "Expand", "Gather", "Gemm", "Greater", "Identity",
    "LayerNormalization", "Less", "MatMul", "Max", "Min", "Mul", "Neg", "Not", "Or", "Pow",
    "Range", "Reciprocal", "ReduceMax", "ReduceMean", "ReduceSum", "Relu", "Reshape", "Shape",
    "Sigmoid", "Sin", "Slice", "Softmax", "Split", "Sqrt", "Squeeze", "Sub", "Tanh", "Tile",
    "Transpose", "Unsqueeze", "Where",
})


def dummy_inputs(b: int, n: int, seed: int = 0, fronts: bool = False) -> tuple[torch.Tensor, ...]:
    """Random contract inputs: (keypoints, mask, adjacency, sides[, fronts]) with ~20% masked
    points (at least 1 visible) and a random symmetric adjacency with self-loops."""
    gen = torch.Generator().manual_seed(seed)
    kp = torch.rand(b, n, 2, generator=gen) * 640.0  # pixels
    mask = torch.rand(b, n, generator=gen) > 0.2
    mask[:, 0] = True
    adj = torch.rand(b, n, n, generator=gen) > 0.7
    adj = adj | adj.transpose(1, 2) | torch.eye(n, dtype=torch.bool)
    sides = torch.randint(-1, 2, (b, n), generator=gen).float()
    if not fronts:
        return kp, mask, adj, sides
    return kp, mask, adj, sides, torch.randint(-1, 2, (b, n), generator=gen).float()


def onnx_metadata(model: LFM3D) -> dict[str, str]:
    cfg = model.config
    return {
        "lfm3d_config": json.dumps(cfg.to_dict(), sort_keys=True),
        "lfm3d_version": package_version(),
        "lfm3d_knn": str(cfg.knn),
        "lfm3d_max_keypoints": str(cfg.max_keypoints),
    }


def disallowed_ops(graph: onnx.ModelProto) -> set[str]:
    """Op types in the graph (any domain other than the default counts) outside TENSORRT_OPS."""
    bad = set()
    for node in graph.graph.node:
        if node.domain not in ("", "ai.onnx") or node.op_type not in TENSORRT_OPS:
            bad.add(f"{node.domain}::{node.op_type}" if node.domain else node.op_type)
    return bad


def check_graph(proto: onnx.ModelProto) -> onnx.ModelProto:
    """onnx.checker (full), strict shape inference, op allow-list, dynamic axes. Raises ValueError."""
    onnx.checker.check_model(proto, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(proto, strict_mode=True)
    bad = disallowed_ops(proto)
    if bad:
        raise ValueError(f"ONNX graph uses ops outside the TensorRT allow-list: {sorted(bad)}")
    io = {v.name: v for v in list(proto.graph.input) + list(proto.graph.output)}
    for name, axes in DYNAMIC_AXES.items():
        if name == FRONTS and name not in io:  # optional
            continue
        if name not in io:
            raise ValueError(f"ONNX graph lacks the contract tensor {name!r}; has {sorted(io)}")
        dims = io[name].type.tensor_type.shape.dim
        for axis, label in axes.items():
            if dims[axis].dim_param != label:
                raise ValueError(f"ONNX {name} axis {axis} is {dims[axis]} instead of dynamic {label!r}")
    return inferred


def export(model: LFM3D, path: str | Path, opset: int = DEFAULT_OPSET, extra_metadata: dict | None = None) -> Path:
    """Export `model` (a float32 eval copy on CPU) to `path`, add metadata, check the graph."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = copy.deepcopy(model).to("cpu", torch.float32).eval()
    # B and N distinct and > 1, so the tracer cannot confuse or specialise the two axes
    names = input_names(model)
    args = dummy_inputs(b=2, n=7, fronts=FRONTS in names)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)  # legacy exporter notice
        torch.onnx.export(
            model, args, str(path), dynamo=False, opset_version=opset,
            input_names=list(names), output_names=list(OUTPUT_NAMES),
            dynamic_axes={k: v for k, v in DYNAMIC_AXES.items() if k in names + OUTPUT_NAMES},
            do_constant_folding=True,
        )
    proto = onnx.load(str(path))
    meta = onnx_metadata(model)
    for key, value in (extra_metadata or {}).items():
        meta[key] = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    onnx.helper.set_model_props(proto, meta)
    proto.producer_name, proto.producer_version = "lfm3d", package_version()
    check_graph(proto)
    onnx.save(proto, str(path))
    return path


def read_metadata(path: str | Path) -> dict[str, str]:
    """metadata_props of an ONNX file as a dict."""
    return {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}


def ort_session(path: str | Path, threads: int = 1, level: str = "all"):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads = threads, 1
    so.graph_optimization_level = {
        "none": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }[level]
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def feed(inputs: tuple[torch.Tensor, ...]) -> dict[str, np.ndarray]:
    """dummy_inputs' tuple (4 or 5 tensors) -> ONNX Runtime feed by name."""
    return {name: t.numpy() for name, t in zip(INPUT_NAMES + (FRONTS,), inputs)}


def parity(model: LFM3D, path: str | Path, shapes=((1, 17), (7, 26), (3, 133))) -> float:
    """Max |ORT - PyTorch| over random inputs of the given (B, N) shapes (fp32)."""
    sess = ort_session(path)
    model = copy.deepcopy(model).to("cpu", torch.float32).eval()
    worst = 0.0
    for i, (b, n) in enumerate(shapes):
        inputs = dummy_inputs(b, n, seed=100 + i, fronts=model.config.use_fronts)
        with torch.no_grad():
            ref = model(*inputs).numpy()
        out = sess.run(None, feed(inputs))[0]
        worst = max(worst, float(np.abs(out - ref).max()))
    return worst


def time_lifts(sess, b: int = 1, n: int = 17, repeats: int = 300) -> float:
    """Seconds per run of `sess` at (B, N) after a warm-up (median of 3 blocks)."""
    fronts = FRONTS in {i.name for i in sess.get_inputs()}
    f = feed(dummy_inputs(b, n, fronts=fronts))
    for _ in range(20):
        sess.run(None, f)
    blocks = []
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(repeats):
            sess.run(None, f)
        blocks.append((time.perf_counter() - t0) / repeats)
    return float(np.median(blocks))


def ort_optimized_copy(path: Path, min_gain: float = 0.05) -> Path | None:
    """Save an ORT-optimised copy (`*.ort.onnx`, basic level: portable, no CPU-specific
    layouts) only if it runs at least `min_gain` faster at B=1, N=17 on one thread than
    the plain graph; returns its path or None."""
    import onnxruntime as ort

    out = path.with_suffix(".ort.onnx")
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    so.optimized_model_filepath = str(out)
    ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    plain, optimised = time_lifts(ort_session(path)), time_lifts(ort_session(out))
    print(f"ORT B=1 N=17, 1 thread: plain {plain * 1e6:.0f} us, optimised copy {optimised * 1e6:.0f} us")
    if optimised < plain * (1.0 - min_gain):
        return out
    out.unlink()
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True, help="checkpoint stem or its .safetensors/.json file")
    ap.add_argument("--output", required=True, help="path of the .onnx file to write")
    ap.add_argument("--opset", type=int, default=DEFAULT_OPSET, help="ONNX opset (>= 17 for LayerNormalization)")
    ap.add_argument("--check", action="store_true",
                    help="also compare ONNX Runtime with PyTorch on random inputs and time B=1, N=17")
    ap.add_argument("--ort-optimize", action="store_true",
                    help="also write an ONNX Runtime-optimised *.ort.onnx, kept only if measurably faster")
    args = ap.parse_args()

    model = load_model(args.checkpoint)
    extra = load_metadata(args.checkpoint).get("extra", {})
    carried = {f"lfm3d_{k}": extra[k] for k in ("rigs", "train_sources", "metrics") if k in extra}
    path = export(model, args.output, opset=args.opset, extra_metadata=carried)
    proto = onnx.load(str(path))
    ops = sorted({n.op_type for n in proto.graph.node})
    print(f"wrote {path} (opset {args.opset}, {model.num_parameters():,} parameters, {len(proto.graph.node)} nodes)")
    print(f"ops: {', '.join(ops)}")
    if args.check:
        err = parity(model, path)
        per_lift = time_lifts(ort_session(path))
        print(f"ORT vs PyTorch max abs diff {err:.2e}; B=1 N=17 on 1 thread: {per_lift * 1e6:.0f} us ({1 / per_lift:.0f} lifts/s)")
        if err > 1e-4:
            raise SystemExit(f"ONNX Runtime and PyTorch differ by {err:.2e} > 1e-4")
    if args.ort_optimize:
        kept = ort_optimized_copy(path)
        print(f"kept {kept}" if kept else "optimised copy not faster; not kept")


if __name__ == "__main__":
    main()
