"""Build a TensorRT engine from the exported ONNX (TensorRT 10+ Python builder API).

Pure TensorRT, no torch: `training/build_engine.py` is the CLI around it and the engine
cache calls it on the target device. Written against the standard API (Builder,
explicit-batch network, OnnxParser, IBuilderConfig, one optimisation profile,
`build_serialized_network`); not executable where TensorRT is not installed.
"""
from __future__ import annotations

import logging
from pathlib import Path

from ..engine_cache import Profile
from .base import INPUT_NAMES

_LOG = logging.getLogger("lfm3d.trt_build")


def trtexec_command(onnx_path: str | Path, engine_path: str | Path, profile: Profile,
                    precision: str = "fp16", workspace_mb: int | None = None,
                    timing_cache: str | Path | None = None,
                    inputs=INPUT_NAMES) -> str:
    """The `trtexec` command line that builds the same engine as `build_engine_bytes`
    (`inputs`: the graph's input names; add "fronts" for a model trained with it)."""
    def dims(i: int) -> str:
        return ",".join(f"{name}:{'x'.join(map(str, s[i]))}"
                        for name, s in profile.shapes(inputs).items())

    parts = ["trtexec", f"--onnx={onnx_path}", f"--saveEngine={engine_path}",
             f"--minShapes={dims(0)}", f"--optShapes={dims(1)}", f"--maxShapes={dims(2)}"]
    if precision == "fp16":
        parts.append("--fp16")
    if workspace_mb:
        parts.append(f"--memPoolSize=workspace:{workspace_mb}M")
    if timing_cache:
        parts.append(f"--timingCacheFile={timing_cache}")
    return " ".join(parts)


def _describe_io(network, log: logging.Logger) -> None:
    """Log every network input/output name, shape and dtype (debugging a bad export
    starts here)."""
    for i in range(network.num_inputs):
        t = network.get_input(i)
        log.info("input  %-10s shape=%s dtype=%s", t.name, tuple(t.shape), t.dtype)
    for i in range(network.num_outputs):
        t = network.get_output(i)
        log.info("output %-10s shape=%s dtype=%s", t.name, tuple(t.shape), t.dtype)


def build_engine_bytes(onnx_path: str | Path, profile: Profile = Profile(),
                       precision: str = "fp16", workspace_mb: int = 1024,
                       timing_cache: str | Path | None = None,
                       logger: logging.Logger | None = None) -> bytes:
    """Parse the ONNX and build a serialised engine.

    Args:
        onnx_path: exported model with dynamic `batch` and `num_keypoints` axes.
        profile: min/opt/max batch x keypoints, applied to every graph input.
        precision: "fp16" (sets the FP16 builder flag where the GPU has fast FP16) or "fp32".
        workspace_mb: workspace memory pool limit in MiB.
        timing_cache: file to load kernel timings from and save them back to (speeds up
            rebuilds after an ONNX change on the same GPU + TensorRT).
    Returns:
        the serialised engine (bytes).
    Raises:
        RuntimeError: listing every ONNX parser error, or when the build fails.
    """
    import tensorrt as trt

    log = logger or _LOG
    trt_logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(trt_logger)
    # Explicit batch is the only mode in TensorRT 10; the flag is gone in newer releases.
    flags = 0
    if hasattr(trt.NetworkDefinitionCreationFlag, "EXPLICIT_BATCH"):
        flags = 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, trt_logger)
    onnx_path = Path(onnx_path)
    ok = parser.parse_from_file(str(onnx_path)) if hasattr(parser, "parse_from_file") \
        else parser.parse(onnx_path.read_bytes())
    if not ok:
        errors = [str(parser.get_error(i)) for i in range(parser.num_errors)]
        raise RuntimeError(f"TensorRT could not parse {onnx_path} ({len(errors)} errors):\n  "
                           + "\n  ".join(errors))
    _describe_io(network, log)

    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(workspace_mb) << 20)
    if precision == "fp16":
        if not builder.platform_has_fast_fp16:
            log.warning("this GPU has no fast FP16; building FP16 anyway")
        config.set_flag(trt.BuilderFlag.FP16)
    elif precision != "fp32":
        raise ValueError(f"precision must be 'fp16' or 'fp32', got {precision!r}")

    cache = None
    if timing_cache is not None:
        blob = Path(timing_cache).read_bytes() if Path(timing_cache).is_file() else b""
        cache = config.create_timing_cache(blob)
        config.set_timing_cache(cache, ignore_mismatch=False)
        log.info("timing cache: %s (%s)", timing_cache, "loaded" if blob else "new")

    opt = builder.create_optimization_profile()
    names = [network.get_input(i).name for i in range(network.num_inputs)]
    for name, (lo, mid, hi) in profile.shapes(names).items():
        opt.set_shape(name, lo, mid, hi)
        log.info("profile %-10s min=%s opt=%s max=%s", name, lo, mid, hi)
    config.add_optimization_profile(opt)

    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise RuntimeError(f"TensorRT failed to build an engine from {onnx_path}")
    if cache is not None:
        Path(timing_cache).write_bytes(memoryview(cache.serialize()))
    return bytes(memoryview(serialized))
