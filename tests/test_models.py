"""Which model loads: shipped names, and the GPU model as the default on TensorRT only."""
from __future__ import annotations

import logging
import shutil

import numpy as np
import pytest

from lfm3d_net import backends, models
from lfm3d_net.lifter import Lifter


@pytest.fixture
def models_dir(tmp_path, monkeypatch, tiny_onnx):
    """A models folder holding a CPU default and a GPU model (both the tiny graph)."""
    small = tmp_path / "lfm3d_small.onnx"
    shutil.copy(tiny_onnx, small)
    shutil.copy(tiny_onnx, tmp_path / f"{models.GPU_MODEL}.onnx")
    monkeypatch.setattr(models, "MODELS_DIR", tmp_path)
    monkeypatch.setattr(models, "DEFAULT_MODEL", small)
    return tmp_path


class FakeTrt(backends.Backend):
    """A TensorRT backend that builds: Lifter.load must then keep the GPU model."""
    name = "tensorrt"

    def __init__(self, onnx_path, **_):
        self.onnx_path = onnx_path

    def run(self, kp, mask, adjacency, sides, fronts=None):
        return np.zeros(kp.shape[:2] + (3,), np.float32)


def test_a_shipped_name_loads_that_shipped_file():
    with Lifter.load("lfm3d_small", backend="onnxruntime", threads=1) as lf:
        assert lf.model_info["path"] == str(models.DEFAULT_MODEL)


def test_an_unknown_model_name_fails_listing_the_shipped_names():
    with pytest.raises(FileNotFoundError, match="lfm3d_small"):
        Lifter.load("lfm3d_huge", backend="onnxruntime")


def test_the_gpu_model_is_the_default_on_tensorrt_only_and_only_when_shipped(models_dir):
    assert models.default_for("tensorrt") == models_dir / f"{models.GPU_MODEL}.onnx"
    assert models.default_for("onnxruntime") == models_dir / "lfm3d_small.onnx"
    (models_dir / f"{models.GPU_MODEL}.onnx").unlink()
    assert models.default_for("tensorrt") == models_dir / "lfm3d_small.onnx"


def test_default_on_a_working_tensorrt_is_the_gpu_model(models_dir, monkeypatch):
    import lfm3d_net.backends.trt_backend as trt_mod
    monkeypatch.setattr(backends, "tensorrt_probe", lambda: (True, "faked for the test"))
    monkeypatch.setattr(trt_mod, "TrtBackend", FakeTrt)
    with Lifter.load() as lf:
        assert lf.backend_name == "tensorrt"
        assert lf.model_info["path"].endswith(f"{models.GPU_MODEL}.onnx")
    with Lifter.load("lfm3d_small") as lf:  # a named model is kept whatever the backend
        assert lf.model_info["path"].endswith("lfm3d_small.onnx")


def test_tensorrt_falling_back_to_the_cpu_loads_the_cpu_default_not_the_gpu_model(models_dir, caplog):
    # Here TensorRT is absent: the request falls back to ONNX Runtime, where the GPU model
    # would only be slow.
    if backends.tensorrt_probe()[0]:
        pytest.skip("TensorRT and a GPU are present")
    with caplog.at_level(logging.WARNING, logger="lfm3d"):
        with Lifter.load(backend="tensorrt", threads=1) as lf:
            assert lf.backend_name == "onnxruntime"
            assert lf.model_info["path"].endswith("lfm3d_small.onnx")
            assert lf.lift(np.random.default_rng(0).uniform(0, 100, (17, 2))).points.shape == (17, 3)
    assert "GPU default" in caplog.text
