"""Shipped model files: `<name>.onnx` (the graph, with config metadata), `<name>.safetensors`
+ `<name>.json` (weights and config for training/fine-tuning), MODEL_CARD.md.

`DEFAULT_MODEL` is the CPU default that `Lifter.load()` uses with no arguments.
"""
from __future__ import annotations

from pathlib import Path

#: Directory holding the shipped model files.
MODELS_DIR = Path(__file__).resolve().parent
#: The CPU default model (ONNX); `Lifter.load()` with no `model` loads it.
DEFAULT_MODEL = MODELS_DIR / "lfm3d_small.onnx"


def available() -> list[Path]:
    """The ONNX models shipped in this directory, sorted by name."""
    return sorted(MODELS_DIR.glob("*.onnx"))
