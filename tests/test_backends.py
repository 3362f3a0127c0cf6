"""Backends: ONNX Runtime runs the exported graph; selection and TensorRT fallback."""
from __future__ import annotations

import logging

import numpy as np
import pytest

from lfm3d_net import backends
from lfm3d_net.backends.metadata import model_info, read_onnx_metadata
from lfm3d_net.backends.ort_backend import OrtBackend
from lfm3d_net.engine_cache import get_or_build


def _inputs(b=2, n=7, seed=0):
    rng = np.random.default_rng(seed)
    kp = rng.uniform(0, 100, (b, n, 2)).astype(np.float32)
    mask = np.ones((b, n), bool)
    adj = np.broadcast_to(np.eye(n, dtype=bool), (b, n, n)).copy()
    sides = np.zeros((b, n), np.float32)
    return kp, mask, adj, sides


def test_ort_backend_output_shape_dtype_and_masked_zeros(tiny_onnx):
    kp, mask, adj, sides = _inputs()
    mask[1, -2:] = False
    with OrtBackend(tiny_onnx, threads=1) as be:
        out = be.run(kp, mask, adj, sides)
    assert be.name == "onnxruntime"
    assert out.shape == (2, 7, 3) and out.dtype == np.float32
    assert np.all(np.isfinite(out))
    np.testing.assert_array_equal(out[1, -2:], 0.0)


def test_ort_backend_closed_raises(tiny_onnx):
    be = OrtBackend(tiny_onnx, threads=1)
    be.close()
    with pytest.raises(RuntimeError, match="closed"):
        be.run(*_inputs())


def test_ort_backend_missing_file_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.onnx"):
        OrtBackend(tmp_path / "nope.onnx")


def test_metadata_reader_matches_onnx_package(tiny_onnx):
    onnx = pytest.importorskip("onnx")
    expected = {p.key: p.value for p in onnx.load(str(tiny_onnx)).metadata_props}
    assert read_onnx_metadata(tiny_onnx) == expected
    info = model_info(tiny_onnx)
    assert info["config"]["dim"] == 32 and isinstance(info["knn"], int)


def test_metadata_reader_rejects_non_onnx(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\xff\xff\xff\xff\xff")
    with pytest.raises(ValueError, match="bad.onnx"):
        read_onnx_metadata(bad)


def test_auto_picks_onnxruntime_here_and_says_why(caplog):
    usable, _ = backends.tensorrt_probe()
    if usable:
        pytest.skip("TensorRT and a GPU are present on this machine")
    with caplog.at_level(logging.INFO, logger="lfm3d.backends"):
        name, reason = backends.select_backend("auto")
    assert name == "onnxruntime"
    assert "TensorRT" in reason and "onnxruntime" in caplog.text and reason in caplog.text


def test_unknown_backend_raises():
    with pytest.raises(ValueError, match="backend must be one of"):
        backends.select_backend("cuda")


def test_tensorrt_request_falls_back_to_ort_with_warning(tiny_onnx, caplog):
    """Without TensorRT, an explicit tensorrt request still yields a working backend."""
    with caplog.at_level(logging.WARNING, logger="lfm3d.backends"):
        be = backends.create_backend("tensorrt", tiny_onnx, threads=1)
    assert be.name == "onnxruntime"
    assert "falling back to ONNX Runtime" in caplog.text


def test_engine_build_failure_falls_back_to_ort(tiny_onnx, tmp_path, monkeypatch, caplog):
    """TensorRT 'present' but the engine build fails -> ORT, a warning, no crash."""
    import lfm3d_net.backends.trt_backend as trt_mod

    class FakeTrt(backends.Backend):
        name = "tensorrt"

        def __init__(self, onnx_path, *, precision, profile, engine_cache_dir, builder, logger):
            def failing_builder(path, prof, prec):
                raise RuntimeError("fake TensorRT parser error")
            get_or_build(onnx_path, builder=failing_builder, trt_version="10.0",
                         compute_capability="8.7", precision=precision, profile=profile,
                         cache_dir=tmp_path / "cache")

        def run(self, *a):  # pragma: no cover - never constructed successfully
            raise AssertionError

    monkeypatch.setattr(backends, "tensorrt_probe", lambda: (True, "faked for the test"))
    monkeypatch.setattr(trt_mod, "TrtBackend", FakeTrt)
    with caplog.at_level(logging.WARNING, logger="lfm3d.backends"):
        be = backends.create_backend("auto", tiny_onnx, threads=1)
    assert be.name == "onnxruntime"
    assert "fake TensorRT parser error" in caplog.text


def test_trtexec_command_has_all_four_inputs(tmp_path):
    from lfm3d_net.backends.trt_build import trtexec_command
    from lfm3d_net.engine_cache import Profile

    cmd = trtexec_command("m.onnx", "m.engine", Profile(), "fp16", 512, "t.cache")
    assert "--minShapes=keypoints:1x3x2,mask:1x3,adjacency:1x3x3,sides:1x3" in cmd
    assert "--maxShapes=keypoints:64x256x2,mask:64x256,adjacency:64x256x256,sides:64x256" in cmd
    assert "--fp16" in cmd and "--timingCacheFile=t.cache" in cmd and "fronts" not in cmd


def test_trtexec_command_for_the_shipped_model_includes_fronts(capsys):
    from lfm3d_net.models import DEFAULT_MODEL
    from training.build_engine import main
    assert main(["--onnx", str(DEFAULT_MODEL), "--output", "x.engine", "--fp16", "--print-only"]) == 0
    assert ",sides:64x256,fronts:64x256 " in capsys.readouterr().out


def test_build_engine_cli_without_tensorrt_exits_2(tiny_onnx, tmp_path, capsys):
    from training.build_engine import main

    try:
        import tensorrt  # noqa: F401
        pytest.skip("TensorRT is installed; the real build is tested below")
    except ImportError:
        pass
    assert main(["--onnx", str(tiny_onnx), "--output", str(tmp_path / "e.engine")]) == 2
    err = capsys.readouterr()
    assert "trtexec" in err.out and "TensorRT Python is not installed" in err.err


def test_tensorrt_matches_ort(tiny_onnx, tmp_path):
    """Real TensorRT parity (FP32 engine vs ORT); only where TensorRT and a GPU exist."""
    usable, why = backends.tensorrt_probe()
    if not usable:
        pytest.skip(f"real TensorRT test skipped: {why}")
    from lfm3d_net.backends.trt_backend import TrtBackend

    kp, mask, adj, sides = _inputs(3, 17)
    with OrtBackend(tiny_onnx) as ort_be, TrtBackend(tiny_onnx, precision="fp32",
                                                     engine_cache_dir=tmp_path) as trt_be:
        ref, got = ort_be.run(kp, mask, adj, sides), trt_be.run(kp, mask, adj, sides)
    # FP32 TensorRT vs ORT: different kernels/reduction orders; 1e-3 in normalised units.
    np.testing.assert_allclose(got, ref, atol=1e-3)
