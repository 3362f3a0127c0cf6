"""Shared pytest fixtures. Keep them small: the whole suite runs on a 2-core box."""
from __future__ import annotations

from pathlib import Path

import pytest

#: The shared real data (CMU mocap, mean face) that CI has beside the clone; a user's
#: fresh clone may not, and tests that read it skip then, saying so.
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
requires_shared_data = pytest.mark.skipif(
    not (SHARED_DATA / "cmu_iclone_mocap.npz").is_file()
    or not (SHARED_DATA / "face68_meanshape.npz").is_file(),
    reason=f"needs the shared real data (cmu_iclone_mocap.npz, face68_meanshape.npz) at {SHARED_DATA}")


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


@pytest.fixture(scope="session")
def tiny_fronts_onnx(tmp_path_factory):
    """Like `tiny_onnx`, for a model trained with fronts (a fifth graph input)."""
    torch = pytest.importorskip("torch")
    from training.export_onnx import export
    from training.model import LFM3D, ModelConfig

    torch.manual_seed(0)
    model = LFM3D(ModelConfig(dim=32, heads=2, layers=2, rff_dim=32, use_fronts=True)).eval()
    with torch.no_grad():  # make the front column matter (a fresh init is small)
        model.encoder.proj.weight[:, -1].mul_(20.0)
    return export(model, tmp_path_factory.mktemp("tiny_fronts_model") / "tiny_fronts.onnx")
