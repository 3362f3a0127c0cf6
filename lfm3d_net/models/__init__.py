"""Shipped model files: `<name>.onnx` (the graph, with config metadata), `<name>.safetensors`
+ `<name>.json` (weights and config for training/fine-tuning), MODEL_CARD.md.

`DEFAULT_MODEL` is the CPU default. With no model named, `Lifter.load()` and the node take
`default_for(backend)`: the GPU model (`GPU_MODEL`) on TensorRT when it is shipped, else the
CPU default. A model can be named by its shipped name (`lfm3d_small`) or by a path.
"""
from __future__ import annotations

from pathlib import Path

#: Directory holding the shipped model files.
MODELS_DIR = Path(__file__).resolve().parent
#: The CPU default model (ONNX): sized for >= 1,000 single lifts/s on one core.
DEFAULT_MODEL = MODELS_DIR / "lfm3d_small.onnx"
#: The name of the larger GPU model, the default on TensorRT once its files are shipped.
GPU_MODEL = "lfm3d_large"


def available() -> list[Path]:
    """The ONNX models shipped in this directory, sorted by name."""
    return sorted(MODELS_DIR.glob("*.onnx"))


def shipped(name: str) -> Path | None:
    """The shipped `.onnx` called `name` (with or without the suffix), or None."""
    path = MODELS_DIR / (name if name.endswith(".onnx") else name + ".onnx")
    return path if "/" not in name and path.is_file() else None


def default_for(backend: str) -> Path:
    """The model used when none is named: the GPU model on "tensorrt" if shipped, else
    the CPU default. backend: a concrete backend name ("tensorrt" | "onnxruntime")."""
    gpu = shipped(GPU_MODEL) if backend == "tensorrt" else None
    return gpu or DEFAULT_MODEL
