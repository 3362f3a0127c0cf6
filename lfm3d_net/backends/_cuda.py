"""Thin cuda-python helpers: import the runtime binding, check errors, query the GPU."""
from __future__ import annotations


def import_cudart():
    """The CUDA runtime binding: `cuda.bindings.runtime` (cuda-python >= 12.6 layout),
    else the older `cuda.cudart`. Raises ImportError when neither is installed."""
    try:
        from cuda.bindings import runtime as cudart
    except ImportError:
        from cuda import cudart
    return cudart


def check(result):
    """Unwrap a cuda-python call's `(err, *values)` tuple, raising on error."""
    err, *values = result if isinstance(result, tuple) else (result,)
    if int(err) != 0:
        raise RuntimeError(f"CUDA error {int(err)}: {err}")
    if not values:
        return None
    return values[0] if len(values) == 1 else tuple(values)


def device_count() -> int:
    """Number of CUDA devices visible (0 when the driver or binding is missing)."""
    try:
        cudart = import_cudart()
        return int(check(cudart.cudaGetDeviceCount()))
    except Exception:  # noqa: BLE001 - no driver, no device, no binding: all mean "none"
        return 0


def compute_capability(device: int = 0) -> str:
    """'major.minor' of a CUDA device, e.g. '8.7' on Jetson Orin, '9.0' on H100."""
    cudart = import_cudart()
    props = check(cudart.cudaGetDeviceProperties(device))
    return f"{props.major}.{props.minor}"
