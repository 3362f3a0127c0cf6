"""Engine cache logic with an injected fake builder and deserialiser (no TensorRT needed)."""
from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time

import pytest

from lfm3d_net.engine_cache import EngineCache, EngineKey, Profile, get_or_build


class FakeBuilder:
    """Counts builds; the 'engine' is bytes derived from the inputs so we can check them."""

    def __init__(self, delay_s: float = 0.0, fail: bool = False):
        self.calls, self.delay_s, self.fail = 0, delay_s, fail
        self._lock = threading.Lock()

    def __call__(self, onnx_path, profile, precision) -> bytes:
        with self._lock:
            self.calls += 1
        time.sleep(self.delay_s)
        if self.fail:
            raise RuntimeError("fake build failure")
        return b"ENGINE:" + onnx_path.read_bytes() + precision.encode()


def fake_deserialize(data: bytes):
    """Accepts only bytes the FakeBuilder makes (like TensorRT rejecting foreign engines)."""
    if not data.startswith(b"ENGINE:"):
        raise RuntimeError("bad magic")
    return {"engine": data}


@pytest.fixture
def onnx_file(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"fake onnx bytes")
    return path


def _build(onnx_file, cache_dir, builder, **overrides):
    kwargs = dict(builder=builder, trt_version="10.3.0", compute_capability="8.7",
                  precision="fp16", profile=Profile(), cache_dir=cache_dir,
                  deserialize=fake_deserialize)
    kwargs.update(overrides)
    return get_or_build(onnx_file, **kwargs)


def test_key_changes_with_each_component():
    base = EngineKey("a" * 64, "10.3.0", "8.7", "fp16", Profile())
    variants = [
        dataclasses.replace(base, onnx_sha256="b" * 64),
        dataclasses.replace(base, trt_version="10.4.0"),
        dataclasses.replace(base, compute_capability="9.0"),
        dataclasses.replace(base, precision="fp32"),
        dataclasses.replace(base, profile=Profile(max_batch=32)),
        dataclasses.replace(base, profile=Profile(opt_keypoints=68)),
    ]
    names = {base.filename()} | {v.filename() for v in variants}
    digests = {base.digest()} | {v.digest() for v in variants}
    assert len(names) == len(variants) + 1
    assert len(digests) == len(variants) + 1


def test_onnx_content_change_builds_a_new_engine(onnx_file, tmp_path):
    builder = FakeBuilder()
    first = _build(onnx_file, tmp_path / "c", builder)
    onnx_file.write_bytes(b"retrained model")
    second = _build(onnx_file, tmp_path / "c", builder)
    assert builder.calls == 2 and first.path != second.path
    assert second.data.endswith(b"retrained modelfp16")


def test_second_call_is_a_cache_hit(onnx_file, tmp_path):
    builder = FakeBuilder()
    first = _build(onnx_file, tmp_path / "c", builder)
    second = _build(onnx_file, tmp_path / "c", builder)
    assert first.built and not second.built
    assert builder.calls == 1
    assert second.engine == {"engine": first.data}
    sidecar = json.loads(first.path.with_name(first.path.name + ".json").read_text())
    assert sidecar["key"]["trt_version"] == "10.3.0" and sidecar["size"] == len(first.data)


def test_stale_sidecar_is_rebuilt(onnx_file, tmp_path):
    builder = FakeBuilder()
    entry = _build(onnx_file, tmp_path / "c", builder)
    sidecar = entry.path.with_name(entry.path.name + ".json")
    meta = json.loads(sidecar.read_text())
    meta["key"]["trt_version"] = "8.6.1"  # e.g. an engine copied from an older install
    sidecar.write_text(json.dumps(meta))
    again = _build(onnx_file, tmp_path / "c", builder)
    assert again.built and builder.calls == 2


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete_sidecar", "garbage_sidecar"])
def test_corrupt_entry_is_rebuilt(onnx_file, tmp_path, damage):
    builder = FakeBuilder()
    entry = _build(onnx_file, tmp_path / "c", builder)
    sidecar = entry.path.with_name(entry.path.name + ".json")
    if damage == "truncate":
        entry.path.write_bytes(entry.data[:5])
    elif damage == "flip":
        entry.path.write_bytes(b"X" + entry.data[1:])
    elif damage == "delete_sidecar":
        sidecar.unlink()
    else:
        sidecar.write_text("{not json")
    again = _build(onnx_file, tmp_path / "c", builder)
    assert again.built and builder.calls == 2
    assert entry.path.read_bytes() == entry.data


def test_engine_rejected_by_deserialiser_is_rebuilt(onnx_file, tmp_path):
    """Checksum intact but the runtime refuses it (the TensorRT-upgrade failure mode)."""
    builder = FakeBuilder()
    entry = _build(onnx_file, tmp_path / "c", builder)
    cache = EngineCache(tmp_path / "c")
    cache.store(entry.key, b"FOREIGN ENGINE")  # valid sidecar, wrong content
    again = _build(onnx_file, tmp_path / "c", builder)
    assert again.built and again.data == entry.data


def test_builder_failure_propagates_and_leaves_no_files(onnx_file, tmp_path):
    with pytest.raises(RuntimeError, match="fake build failure"):
        _build(onnx_file, tmp_path / "c", FakeBuilder(fail=True))
    assert not list((tmp_path / "c").glob("*.engine*"))


def test_concurrent_calls_build_once(onnx_file, tmp_path):
    builder = FakeBuilder(delay_s=0.3)
    results, errors = [], []

    def worker():
        try:
            results.append(_build(onnx_file, tmp_path / "c", builder))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert builder.calls == 1
    assert sum(r.built for r in results) == 1
    assert len({r.data for r in results}) == 1


def test_cache_dir_env_override(onnx_file, tmp_path, monkeypatch):
    monkeypatch.setenv("LFM3D_ENGINE_CACHE", str(tmp_path / "envcache"))
    entry = _build(onnx_file, None, FakeBuilder())
    assert entry.path.parent == tmp_path / "envcache"


def test_bad_profile_and_precision_raise(onnx_file, tmp_path):
    with pytest.raises(ValueError, match="batch"):
        Profile(min_batch=4, opt_batch=2)
    with pytest.raises(ValueError, match="precision"):
        _build(onnx_file, tmp_path / "c", FakeBuilder(), precision="int4")


def test_profile_shapes_cover_all_four_inputs():
    shapes = Profile(1, 2, 8, 3, 17, 133).shapes()
    assert shapes["keypoints"] == ((1, 3, 2), (2, 17, 2), (8, 133, 2))
    assert shapes["mask"] == ((1, 3), (2, 17), (8, 133))
    assert shapes["adjacency"] == ((1, 3, 3), (2, 17, 17), (8, 133, 133))
    assert shapes["sides"] == ((1, 3), (2, 17), (8, 133))
    assert "fronts" not in shapes  # only for graphs that have it:
    with_fronts = Profile(1, 2, 8, 3, 17, 133).shapes(("keypoints", "mask", "adjacency", "sides", "fronts"))
    assert with_fronts["fronts"] == with_fronts["sides"]


def test_rebuild_reasons_are_logged(onnx_file, tmp_path, caplog):
    builder = FakeBuilder()
    entry = _build(onnx_file, tmp_path / "c", builder)
    entry.path.write_bytes(b"ENGINE:truncated")
    with caplog.at_level(logging.WARNING, logger="lfm3d.engine_cache"):
        _build(onnx_file, tmp_path / "c", builder)
    assert "corrupt" in caplog.text
