"""On-disk cache of TensorRT engines keyed by everything that invalidates one.

An engine is only valid for the exact ONNX file, TensorRT version, GPU compute
capability, precision and optimisation profile it was built with; loading one built by
another TensorRT version is the classic failure after an upgrade. So the key holds all
five, the file name carries a digest of it, a JSON sidecar records the full key plus the
engine's size and sha256, and anything that does not match (missing, stale, truncated,
corrupt, or rejected by the deserialiser) is rebuilt. Writes are atomic (tmp + rename)
and a lock file serialises builds across processes.

The builder and the deserialiser are injected, so this module needs neither TensorRT nor
a GPU and is tested everywhere.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

_LOG = logging.getLogger("lfm3d.engine_cache")

#: Environment variable overriding the default cache directory.
CACHE_ENV = "LFM3D_ENGINE_CACHE"
#: Bump when the sidecar layout changes; old entries then count as stale.
CACHE_FORMAT = 1
#: The graph inputs and their shapes as functions of (batch, keypoints); `fronts` only
#: exists in models trained with it (the builder sets shapes for the inputs a graph has).
_INPUT_SHAPES: dict[str, Callable[[int, int], tuple[int, ...]]] = {
    "keypoints": lambda b, n: (b, n, 2),
    "mask": lambda b, n: (b, n),
    "adjacency": lambda b, n: (b, n, n),
    "sides": lambda b, n: (b, n),
    "fronts": lambda b, n: (b, n),
}


@dataclass(frozen=True)
class Profile:
    """One TensorRT optimisation profile over batch x keypoints (shared by all inputs)."""

    min_batch: int = 1        # smallest batch the engine accepts
    opt_batch: int = 1        # batch TensorRT tunes kernels for (the node's usual case)
    max_batch: int = 64       # largest batch; the Lifter splits bigger ones
    min_keypoints: int = 3    # fewest keypoints (3 = fewest for a meaningful lift)
    opt_keypoints: int = 17   # keypoints tuned for (COCO-17 human)
    max_keypoints: int = 256  # most keypoints (COCO-WholeBody 133 fits)

    def __post_init__(self):
        for lo, mid, hi, what in ((self.min_batch, self.opt_batch, self.max_batch, "batch"),
                                  (self.min_keypoints, self.opt_keypoints,
                                   self.max_keypoints, "keypoints")):
            if not 1 <= lo <= mid <= hi:
                raise ValueError(f"Profile {what}: need 1 <= min <= opt <= max, "
                                 f"got {lo}, {mid}, {hi}")

    # default = backends.base.INPUT_NAMES, not imported: the backends package imports this module
    def shapes(self, inputs=("keypoints", "mask", "adjacency", "sides")
               ) -> dict[str, tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]]:
        """{input name: (min shape, opt shape, max shape)} for the graph inputs `inputs`
        (default: the four every model has; add "fronts" for a model trained with it)."""
        pts = ((self.min_batch, self.min_keypoints), (self.opt_batch, self.opt_keypoints),
               (self.max_batch, self.max_keypoints))
        return {name: tuple(f(b, n) for b, n in pts) for name, f in _INPUT_SHAPES.items()
                if name in inputs}

    def accepts(self, batch: int, keypoints: int) -> bool:
        return (self.min_batch <= batch <= self.max_batch
                and self.min_keypoints <= keypoints <= self.max_keypoints)


@dataclass(frozen=True)
class EngineKey:
    """Everything an engine's validity depends on."""

    onnx_sha256: str
    trt_version: str
    compute_capability: str  # "8.7" (Orin), "9.0" (H100)
    precision: str           # "fp16" or "fp32"
    profile: Profile

    def to_dict(self) -> dict[str, Any]:
        return {"format": CACHE_FORMAT, **dataclasses.asdict(self)}

    def digest(self) -> str:
        """sha256 hex of the canonical JSON of the key."""
        blob = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()

    def filename(self) -> str:
        cc = self.compute_capability.replace(".", "")
        return (f"lfm3d-{self.onnx_sha256[:12]}-trt{self.trt_version}-sm{cc}-"
                f"{self.precision}-{self.digest()[:16]}.engine")


@dataclass
class CachedEngine:
    """A valid engine: its file, key, bytes, the deserialised object (if a deserialiser
    was given) and whether this call built it."""

    path: Path
    key: EngineKey
    data: bytes
    engine: Any = None
    built: bool = False


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    """sha256 hex digest of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def default_cache_dir() -> Path:
    """$LFM3D_ENGINE_CACHE, else ~/.cache/lfm3d/engines."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "lfm3d" / "engines"


def _atomic_write(path: Path, data: bytes) -> None:
    """Write via a temp file in the same directory + fsync + rename: readers see the old
    file or the whole new one, never a half-written engine."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _file_lock(path: Path, timeout_s: float):
    """Exclusive advisory lock on `path` (flock; shared by threads and processes)."""
    try:
        import fcntl
    except ImportError:  # non-POSIX: no cross-process lock, builds may duplicate
        yield
        return
    with open(path, "a+b") as f:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"engine cache lock {path} held for > {timeout_s:.0f} s")
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


class EngineCache:
    """A directory of `<key>.engine` files with `<key>.engine.json` sidecars.

    Args:
        cache_dir: where engines live (default `default_cache_dir()`); created on demand.
        logger: where to report hits, rebuilds and why.
        lock_timeout_s: how long to wait for another process's build (TensorRT builds
            take minutes on a Jetson).
    """

    def __init__(self, cache_dir: str | Path | None = None,
                 logger: logging.Logger | None = None, lock_timeout_s: float = 3600.0):
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
        self.log = logger or _LOG
        self.lock_timeout_s = lock_timeout_s

    def path_for(self, key: EngineKey) -> Path:
        return self.cache_dir / key.filename()

    def load(self, key: EngineKey, deserialize: Callable[[bytes], Any] | None = None
             ) -> CachedEngine | None:
        """Return the cached engine for `key`, or None (logging why) when it is missing,
        stale, truncated, corrupt or rejected by `deserialize` (which may raise or
        return None)."""
        path = self.path_for(key)
        sidecar = path.with_name(path.name + ".json")
        if not path.is_file() or not sidecar.is_file():
            self.log.info("engine cache miss: %s", path.name)
            return None
        try:
            meta = json.loads(sidecar.read_text())
            data = path.read_bytes()
        except (OSError, ValueError) as exc:
            self.log.warning("engine cache entry %s unreadable (%s); rebuilding", path.name, exc)
            return None
        if meta.get("key") != key.to_dict():
            self.log.warning("engine cache entry %s is stale (key mismatch); rebuilding",
                             path.name)
            return None
        if meta.get("size") != len(data) or meta.get("sha256") != hashlib.sha256(data).hexdigest():
            self.log.warning("engine cache entry %s is corrupt (size/checksum mismatch); "
                             "rebuilding", path.name)
            return None
        engine = None
        if deserialize is not None:
            try:
                engine = deserialize(data)
            except Exception as exc:  # noqa: BLE001 - any runtime rejection means rebuild
                self.log.warning("engine %s failed to deserialise (%s); rebuilding",
                                 path.name, exc)
                return None
            if engine is None:
                self.log.warning("engine %s failed to deserialise; rebuilding", path.name)
                return None
        return CachedEngine(path, key, data, engine, built=False)

    def store(self, key: EngineKey, data: bytes, extra: dict | None = None) -> Path:
        """Atomically write an engine and its sidecar; returns the engine path."""
        if not data:
            raise ValueError("refusing to cache an empty engine")
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        path = self.path_for(key)
        meta = {"key": key.to_dict(), "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **(extra or {})}
        _atomic_write(path, data)
        _atomic_write(path.with_name(path.name + ".json"),
                      json.dumps(meta, indent=2, sort_keys=True).encode())
        return path

    def get_or_build(self, key: EngineKey, builder: Callable[[], bytes],
                     deserialize: Callable[[bytes], Any] | None = None) -> CachedEngine:
        """Load the engine for `key`, building and storing it (once, under the lock) if it
        is missing or invalid.

        Args:
            builder: () -> serialised engine bytes; exceptions propagate to the caller.
            deserialize: optional check, bytes -> engine object (raises/None = invalid).
        Raises:
            RuntimeError: the freshly built engine is empty or fails `deserialize`.
        """
        hit = self.load(key, deserialize)
        if hit is not None:
            return hit
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        lock = self.path_for(key).with_suffix(".lock")
        with _file_lock(lock, self.lock_timeout_s):
            hit = self.load(key, deserialize)  # another process may have built it meanwhile
            if hit is not None:
                return hit
            self.log.warning("building TensorRT engine %s (this can take minutes)",
                             self.path_for(key).name)
            t0 = time.monotonic()
            data = builder()
            if not data:
                raise RuntimeError("engine builder returned no engine")
            data = bytes(data)
            engine = None
            if deserialize is not None:
                engine = deserialize(data)
                if engine is None:
                    raise RuntimeError("freshly built engine failed to deserialise")
            path = self.store(key, data, {"build_seconds": round(time.monotonic() - t0, 2)})
            self.log.info("engine built in %.1f s: %s", time.monotonic() - t0, path)
            return CachedEngine(path, key, data, engine, built=True)


def get_or_build(onnx_path: str | Path, *, builder: Callable[[Path, Profile, str], bytes],
                 trt_version: str, compute_capability: str, precision: str = "fp16",
                 profile: Profile = Profile(), cache_dir: str | Path | None = None,
                 deserialize: Callable[[bytes], Any] | None = None,
                 logger: logging.Logger | None = None) -> CachedEngine:
    """Key an ONNX model and return its cached engine, building it if needed.

    Args:
        onnx_path: the exported model; hashed (sha256) into the key.
        builder: (onnx_path, profile, precision) -> serialised engine bytes; the real one is
            `lfm3d_net.backends.trt_build.build_engine_bytes`.
        trt_version: e.g. `tensorrt.__version__`.
        compute_capability: "major.minor" of the target GPU.
        precision: "fp16" or "fp32".
    """
    if precision not in ("fp16", "fp32"):
        raise ValueError(f"precision must be 'fp16' or 'fp32', got {precision!r}")
    onnx_path = Path(onnx_path)
    key = EngineKey(file_sha256(onnx_path), str(trt_version), str(compute_capability),
                    precision, profile)
    cache = EngineCache(cache_dir, logger)
    return cache.get_or_build(key, lambda: builder(onnx_path, profile, precision), deserialize)
