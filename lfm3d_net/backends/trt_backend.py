"""TensorRT backend (Jetson and desktop GPUs), TensorRT 10+ Python API + cuda-python.

Written against the standard API (`Runtime.deserialize_cuda_engine`,
`create_execution_context`, `set_input_shape`, `set_tensor_address`,
`execute_async_v3`); it runs wherever `import tensorrt` and a CUDA device work and is
not executable on machines without them (see docs/deployment.md).
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ..engine_cache import Profile, get_or_build
from . import _cuda
from .base import FRONTS, INPUT_NAMES, OUTPUT_NAME, Backend, graph_takes_fronts

_LOG = logging.getLogger("lfm3d.trt")


def _handle(obj) -> int:
    """Integer value of a cuda-python handle/pointer object."""
    try:
        return int(obj)
    except TypeError:
        return int(obj.getPtr())


class _DeviceBuffer:
    """A device allocation that only grows (re-allocated when a bigger batch arrives)."""

    def __init__(self, cudart):
        self._cudart, self.ptr, self.nbytes = cudart, 0, 0

    def ensure(self, nbytes: int) -> int:
        if nbytes > self.nbytes:
            self.free()
            # Round up to 4 KiB so a slowly growing batch does not re-allocate every call.
            size = max(4096, (nbytes + 4095) // 4096 * 4096)
            self.ptr = _handle(_cuda.check(self._cudart.cudaMalloc(size)))
            self.nbytes = size
        return self.ptr

    def free(self) -> None:
        if self.ptr:
            _cuda.check(self._cudart.cudaFree(self.ptr))
            self.ptr, self.nbytes = 0, 0


class TrtBackend(Backend):
    """Runs a TensorRT engine; given an ONNX file, builds (or loads) it via the engine cache.

    Args:
        model_path: `.engine`/`.plan` file to deserialise, or `.onnx` to build from.
        precision: "fp16" (default on GPUs) or "fp32"; only used when building.
        profile: optimisation profile (batch x keypoints) used when building.
        engine_cache_dir: cache directory (default `~/.cache/lfm3d/engines`).
        device: CUDA device ordinal.
        builder: engine builder (onnx_path, profile, precision) -> bytes; default
            `trt_build.build_engine_bytes`.
    """

    name = "tensorrt"

    def __init__(self, model_path: str | Path, *, precision: str = "fp16",
                 profile: Profile = Profile(), engine_cache_dir: str | Path | None = None,
                 device: int = 0, builder=None, logger: logging.Logger | None = None):
        import tensorrt as trt

        self.log = logger or _LOG
        self._trt = trt
        self._cudart = cudart = _cuda.import_cudart()
        _cuda.check(cudart.cudaSetDevice(device))
        self._trt_logger = trt.Logger(trt.Logger.WARNING)
        self._runtime = trt.Runtime(self._trt_logger)
        model_path = Path(model_path)
        if model_path.suffix == ".onnx":
            if builder is None:
                from .trt_build import build_engine_bytes

                def builder(onnx, prof, prec):
                    return build_engine_bytes(onnx, prof, prec, logger=self.log)
            entry = get_or_build(model_path, builder=builder, trt_version=trt.__version__,
                                 compute_capability=_cuda.compute_capability(device),
                                 precision=precision, profile=profile,
                                 cache_dir=engine_cache_dir,
                                 deserialize=self._runtime.deserialize_cuda_engine,
                                 logger=self.log)
            self._engine, self.engine_path = entry.engine, entry.path
        else:
            self._engine = self._runtime.deserialize_cuda_engine(model_path.read_bytes())
            self.engine_path = model_path
            if self._engine is None:
                raise RuntimeError(f"TensorRT could not deserialise {model_path} "
                                   "(built by another TensorRT version or GPU?)")
        self._context = self._engine.create_execution_context()
        self._stream = _cuda.check(cudart.cudaStreamCreate())
        names = [self._engine.get_tensor_name(i) for i in range(self._engine.num_io_tensors)]
        if OUTPUT_NAME not in names:
            raise ValueError(f"engine {self.engine_path} lacks tensor {OUTPUT_NAME!r}")
        self.takes_fronts = graph_takes_fronts([n for n in names if n != OUTPUT_NAME],
                                               f"engine {self.engine_path}")
        # Host dtype per tensor (bool inputs travel as 1-byte uint8, same bits).
        self._dtypes = {n: np.dtype(trt.nptype(self._engine.get_tensor_dtype(n))) for n in names}
        self._buffers = {n: _DeviceBuffer(cudart) for n in names}
        self.log.info("TensorRT %s engine ready: %s", trt.__version__, self.engine_path)

    def _upload(self, name: str, array: np.ndarray) -> None:
        host = np.ascontiguousarray(array, dtype=self._dtypes[name])
        if host.dtype == np.bool_:
            host = host.view(np.uint8)
        ptr = self._buffers[name].ensure(host.nbytes)
        self._context.set_input_shape(name, host.shape)
        _cuda.check(self._cudart.cudaMemcpyAsync(
            ptr, host.ctypes.data, host.nbytes,
            self._cudart.cudaMemcpyKind.cudaMemcpyHostToDevice, self._stream))
        self._context.set_tensor_address(name, ptr)

    def run(self, keypoints: np.ndarray, mask: np.ndarray, adjacency: np.ndarray,
            sides: np.ndarray, fronts: np.ndarray | None = None) -> np.ndarray:
        """See `Backend.run`: (B,N,2), (B,N), (B,N,N), (B,N)[, (B,N)] -> (B,N,3) float32."""
        if self._context is None:
            raise RuntimeError("TrtBackend is closed")
        for name, arr in zip(INPUT_NAMES, (keypoints, mask, adjacency, sides)):
            self._upload(name, arr)
        if self.takes_fronts:
            self._upload(FRONTS, self.fronts_feed(sides, fronts))
        b, n = keypoints.shape[:2]
        out = np.empty((b, n, 3), dtype=self._dtypes[OUTPUT_NAME])
        ptr = self._buffers[OUTPUT_NAME].ensure(out.nbytes)
        self._context.set_tensor_address(OUTPUT_NAME, ptr)
        if not self._context.execute_async_v3(_handle(self._stream)):
            raise RuntimeError(f"TensorRT execution failed for batch {b} x {n} keypoints")
        _cuda.check(self._cudart.cudaMemcpyAsync(
            out.ctypes.data, ptr, out.nbytes,
            self._cudart.cudaMemcpyKind.cudaMemcpyDeviceToHost, self._stream))
        _cuda.check(self._cudart.cudaStreamSynchronize(self._stream))
        return out.astype(np.float32, copy=False)

    def close(self) -> None:
        if getattr(self, "_context", None) is None:
            return
        for buf in self._buffers.values():
            buf.free()
        _cuda.check(self._cudart.cudaStreamDestroy(self._stream))
        self._context = self._engine = None
