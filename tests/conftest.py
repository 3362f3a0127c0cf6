"""Shared pytest fixtures. Keep them small: the whole suite runs on a 2-core box."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_onnx(tmp_path_factory):
    """Path to a tiny random 3D-LFM (D=32, 2 layers) exported to ONNX (torch at test
    time only; the runtime under test never imports it)."""
    torch = pytest.importorskip("torch")
    from training.export_onnx import export
    from training.model import LFM3D, ModelConfig

    torch.manual_seed(0)
    model = LFM3D(ModelConfig(dim=32, heads=2, layers=2, rff_dim=32)).eval()
    return export(model, tmp_path_factory.mktemp("tiny_model") / "tiny.onnx")
