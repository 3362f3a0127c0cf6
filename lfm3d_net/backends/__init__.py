"""Inference runtimes behind one interface, and the choice between them.

    select_backend("auto")  -> ("tensorrt" | "onnxruntime", reason)
    create_backend(kind, onnx_path, ...) -> Backend   (falls back to ONNX Runtime)
"""
from __future__ import annotations

import logging
from pathlib import Path

from ..engine_cache import Profile
from .base import INPUT_NAMES, OUTPUT_NAME, Backend

_LOG = logging.getLogger("lfm3d.backends")

#: Accepted values of `backend=` (the node's `backend` parameter too).
BACKEND_CHOICES = ("auto", "tensorrt", "onnxruntime")

__all__ = ["Backend", "BACKEND_CHOICES", "INPUT_NAMES", "OUTPUT_NAME", "create_backend",
           "select_backend", "tensorrt_probe"]


def tensorrt_probe() -> tuple[bool, str]:
    """(usable, reason): TensorRT is usable when it imports and a CUDA device is present."""
    try:
        import tensorrt  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - ImportError or a broken CUDA install
        return False, f"TensorRT is not importable ({type(exc).__name__}: {exc})"
    try:
        from . import _cuda

        _cuda.import_cudart()
    except ImportError as exc:
        return False, f"cuda-python is not importable ({exc})"
    count = _cuda.device_count()
    if count < 1:
        return False, "TensorRT imports but no CUDA device is present"
    return True, f"TensorRT {tensorrt.__version__} and {count} CUDA device(s) present"


def select_backend(kind: str = "auto", logger: logging.Logger | None = None
                   ) -> tuple[str, str]:
    """Resolve `kind` to a concrete backend name, logging the choice and the reason.

    Returns:
        (name, reason) with name "tensorrt" or "onnxruntime".
    Raises:
        ValueError: unknown kind.
    """
    log = logger or _LOG
    if kind not in BACKEND_CHOICES:
        raise ValueError(f"backend must be one of {BACKEND_CHOICES}, got {kind!r}")
    if kind != "auto":
        reason = f"backend {kind!r} requested"
    else:
        usable, why = tensorrt_probe()
        kind = "tensorrt" if usable else "onnxruntime"
        reason = f"auto: {why}"
    log.info("backend: %s (%s)", kind, reason)
    return kind, reason


def create_backend(kind: str, onnx_path: str | Path, *, threads: int | None = None,
                   precision: str = "fp16", engine_cache_dir: str | Path | None = None,
                   profile: Profile = Profile(), builder=None,
                   logger: logging.Logger | None = None) -> Backend:
    """Construct the backend `kind` resolves to.

    A TensorRT failure of any kind (not installed, no GPU, engine build or load error)
    falls back to ONNX Runtime with a logged warning instead of failing: a robot with a
    broken TensorRT install still lifts, just slower.
    """
    log = logger or _LOG
    name, _ = select_backend(kind, log)
    if name == "tensorrt":
        try:
            from .trt_backend import TrtBackend

            return TrtBackend(onnx_path, precision=precision, profile=profile,
                              engine_cache_dir=engine_cache_dir, builder=builder, logger=log)
        except Exception as exc:  # noqa: BLE001 - never crash on TensorRT trouble
            log.warning("TensorRT backend unavailable (%s: %s); falling back to ONNX Runtime",
                        type(exc).__name__, exc)
    from .ort_backend import OrtBackend

    return OrtBackend(onnx_path, threads=threads)
