"""`Lifter`: 2D keypoints in, camera-aligned 3D out, through any backend.

    lifter = Lifter.load()                       # shipped CPU model, backend "auto"
    result = lifter.lift(kp, rig="coco17")       # kp (B, N, 2) or (N, 2) pixels
    result.points                                # (B, N, 3) pixels, root-relative

Pipeline per call: validate_and_pad -> adjacency (rig edges, cached per (edges, N); else
kNN with the model's k) -> backend (split into chunks of `max_batch`) -> orthographic
camera alignment. Output frame: REP 103 optical (x right, y down, z forward = depth),
centred on the visible points' centroid, in the input's 2D units.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import geometry, graph, inputs, rigs
from .backends import BACKEND_CHOICES, Backend, create_backend, select_backend
from .backends.metadata import model_info
from .engine_cache import Profile

_LOG = logging.getLogger("lfm3d.lifter")
# Inputs without what a rig supplies lift much worse (the model card's "What the rig buys"):
# without sides a left/right-symmetric subject and its depth mirror look the same, and the
# network answers with their average, near flat; a kNN graph loses the skeleton. Lifting goes
# on (both are valid input); the first such call logs why, every one is counted in `hints`.
_HINTS = {
    "no_sides": "lift: no rig named and every side 0: a subject with left and right parts comes out "
                "near flat in depth without them. Name a rig (rig=), pass sides= "
                "(-1 left, +1 right), or register the rig (lfm3d_net/rigs.py)",
    "knn_graph": "lift: no rig named and no edges given: the network works on a 4-NN graph of the "
                 "points, not the skeleton, and its 3D is much worse. Name a rig or pass edges=",
}


#: Fewest valid keypoints an instance needs (checked by validate_and_pad).
MIN_VALID_POINTS = inputs.MIN_VALID_POINTS
#: Adjacency cache entries kept per Lifter (rig/edge sets x N); tiny, bounded anyway.
_ADJ_CACHE_SIZE = 64


@dataclass
class LiftResult:
    """Output of `Lifter.lift`. Leading B is absent when the input was (N, 2).

    points:    (B, N, 3) camera-aligned 3D in the input's 2D units, root-relative
               (visible centroid at 0); x, y follow the image axes, z is depth
               (REP 103 optical frame). Zeros at invalid points.
    canonical: (B, N, 3) the network's canonical shape (normalised units, up to a
               rotation and scale). Zeros at invalid points.
    rotation:  (B, 3, 3) canonical -> camera rotation, det +1.
    scale:     (B,) input units per canonical unit.
    center:    (B, 2) the 2D centroid of the visible points, input units; the image
               position of point i is about center + points[i, :2].
    mask:      (B, N) bool, the points that were valid (after padding).
    """

    points: np.ndarray
    canonical: np.ndarray
    rotation: np.ndarray
    scale: np.ndarray
    center: np.ndarray
    mask: np.ndarray

    def __array__(self, dtype=None, copy=None):
        return self.points if dtype is None else self.points.astype(dtype)

    def __len__(self) -> int:
        return len(self.points)


@dataclass(frozen=True)
class _RigArrays:
    """A registered rig's network inputs, built and checked once per Lifter.

    edges (E, 2) int64, sides (N,) float32, n; adjacency (N, N) bool with self-loops;
    sides1, fronts1 (1, N) float32, the sides and fronts of a one-instance batch.
    Arrays are read-only.
    """

    edges: np.ndarray
    sides: np.ndarray
    n: int
    adjacency: np.ndarray
    sides1: np.ndarray
    fronts1: np.ndarray

    @property
    def fronts(self) -> np.ndarray:
        return self.fronts1[0]

    @staticmethod
    def batch(row: np.ndarray, b: int) -> np.ndarray:
        """(1, N) -> (B, N) float32, contiguous (what the backend is fed)."""
        return row if b == 1 else np.repeat(row, b, axis=0)


def _resolve_model(model: str | Path | None, backend: str = "onnxruntime") -> Path:
    """The ONNX file for `model`: None = the default for `backend` (`models.default_for`);
    a shipped name (`lfm3d_small`) = that shipped file; a stem or .safetensors/.json path
    maps to the sibling .onnx."""
    from . import models

    if model is None:
        return models.default_for(backend)
    shipped = models.shipped(model) if isinstance(model, str) else None
    if shipped and not Path(model).exists():
        return shipped
    path = Path(model).expanduser()
    if path.suffix != ".onnx" and path.with_suffix(".onnx").is_file():
        path = path.with_suffix(".onnx")
    if not path.is_file():
        names = ", ".join(p.stem for p in models.available())
        raise FileNotFoundError(f"model not found: {path} (pass an exported .onnx file or a "
                                f"shipped model name: {names})")
    return path


class Lifter:
    """Lifts 2D keypoints to 3D with a 3D-LFM model. Build with `Lifter.load`.

    Args:
        backend: a constructed `Backend`.
        knn: k of the kNN adjacency used when no edges are given.
        max_batch: instances per backend call; larger batches are split.
        max_keypoints: largest N accepted.
        info: model metadata (`backends.metadata.model_info`), for `info()`.
        flip_average: also lift the mirror image of every instance (x -> -x, sides
            negated) and average the two camera-frame results (mirrored back): twice the
            network work for a few % lower error (`training/results/small_v12/flip_average/`).
            Settable at any time.
    """

    def __init__(self, backend: Backend, *, knn: int = graph.DEFAULT_KNN, max_batch: int = 64,
                 max_keypoints: int = 256, info: dict | None = None,
                 logger: logging.Logger | None = None, flip_average: bool = False):
        if max_batch < 1 or max_keypoints < MIN_VALID_POINTS:
            raise ValueError(f"Lifter: need max_batch >= 1 and max_keypoints >= "
                             f"{MIN_VALID_POINTS}, got {max_batch}, {max_keypoints}")
        self.backend = backend
        self.knn = int(knn)
        self.max_batch = int(max_batch)
        self.max_keypoints = int(max_keypoints)
        self.model_info = info or {}
        self.flip_average = bool(flip_average)
        self.log = logger or _LOG
        self._adj_cache: dict[tuple, np.ndarray] = {}
        self._rig_cache: dict[str, _RigArrays] = {}
        # calls (not instances) that lacked what a rig gives, by _HINTS key
        self.hints: dict[str, int] = dict.fromkeys(_HINTS, 0)

    @classmethod
    def load(cls, model: str | Path | None = None, backend: str | Backend = "auto", *,
             threads: int | None = None, precision: str = "fp16",
             engine_cache_dir: str | Path | None = None, max_batch: int = 64,
             max_keypoints: int = 256, knn: int | None = None,
             logger: logging.Logger | None = None, flip_average: bool = False) -> "Lifter":
        """Load a model and pick a backend.

        Args:
            model: exported `.onnx` or a shipped model name (`lfm3d_small`); None = the
                default for the backend (`lfm3d_net.models.default_for`: the GPU model on
                TensorRT when shipped, else the CPU default).
            backend: "auto" (TensorRT if importable and a GPU is present, else ONNX
                Runtime), "tensorrt", "onnxruntime", or a constructed `Backend`.
                TensorRT trouble falls back to ONNX Runtime with a warning.
            threads: ONNX Runtime intra-op threads (None = all cores; 1 for one core).
            precision: TensorRT precision, "fp16" or "fp32".
            engine_cache_dir: TensorRT engine cache (default ~/.cache/lfm3d/engines).
            max_batch: instances per backend call (and the TensorRT profile's max batch).
            max_keypoints: largest N accepted (capped by the model's own maximum).
            knn: override the model's kNN k for edge-less inputs.
            flip_average: see the class doc (off by default: it doubles the network work).
        """
        log = logger or _LOG
        if isinstance(backend, Backend):
            kind = backend.name
        elif backend in BACKEND_CHOICES:  # the default model depends on the concrete backend
            kind = select_backend(backend, log)[0] if model is None else backend
        else:
            raise ValueError(f"backend must be one of {BACKEND_CHOICES} or a Backend, got {backend!r}")
        path = _resolve_model(model, kind)
        info = model_info(path)
        max_keypoints = min(max_keypoints, info["max_keypoints"] or max_keypoints)
        if isinstance(backend, Backend):
            runner = backend
        else:
            profile = Profile(max_batch=max_batch, opt_keypoints=min(17, max_keypoints),
                              max_keypoints=max_keypoints)
            runner = create_backend(kind, path, threads=threads, precision=precision,
                                    engine_cache_dir=engine_cache_dir, profile=profile,
                                    logger=log)
            fallback = _resolve_model(None, runner.name)
            if model is None and path != fallback:  # TensorRT fell back to ONNX Runtime
                log.warning("Lifter: %s is the GPU default but runs on %s: loading %s instead",
                            path.name, runner.name, fallback.name)
                runner.close()
                path, info = fallback, model_info(fallback)
                max_keypoints = min(max_keypoints, info["max_keypoints"] or max_keypoints)
                runner = create_backend(runner.name, path, threads=threads, logger=log)
        k = knn if knn is not None else (info["knn"] if info["knn"] is not None
                                         else graph.DEFAULT_KNN)
        info["path"] = str(path)
        log.info("Lifter: %s on %s (knn=%d, max_batch=%d, max_keypoints=%d)",
                 path.name, runner.name, k, max_batch, max_keypoints)
        return cls(runner, knn=k, max_batch=max_batch, max_keypoints=max_keypoints,
                   info=info, logger=log, flip_average=flip_average)

    @property
    def backend_name(self) -> str:
        return self.backend.name

    # -- pre-processing --------------------------------------------------------------------

    def rig_arrays(self, name: str) -> tuple[np.ndarray, np.ndarray, int]:
        """(edges (E, 2) int64, sides (N,) float32, N) of a registered rig, cached."""
        r = self._rig(name)
        return r.edges, r.sides, r.n

    def _rig(self, name: str) -> _RigArrays:
        """The cached `_RigArrays` of a registered rig (ValueError naming the known rigs)."""
        hit = self._rig_cache.get(name)
        if hit is None:
            try:
                rig = rigs.get_rig(name)
            except KeyError as exc:
                raise ValueError(f"lift: {exc.args[0]}") from None
            # Rig() already checked edges and sides; check_edges only normalises the array
            edges = graph.check_edges(rig.edge_array(), rig.n)
            sides = rig.side_array()
            hit = _RigArrays(edges, sides, rig.n, self._edge_adjacency(edges, rig.n),
                             np.ascontiguousarray(sides[None]),
                             np.ascontiguousarray(rig.front_array()[None]))
            for a in (hit.edges, hit.sides, hit.sides1, hit.fronts1):
                a.setflags(write=False)
            self._rig_cache[name] = hit
        return hit

    def _edge_adjacency(self, edges: np.ndarray, n: int) -> np.ndarray:
        """(N, N) bool adjacency of an edge set with self-loops, cached per (edges, N)."""
        key = (edges.tobytes(), n)
        adj = self._adj_cache.get(key)
        if adj is None:
            if len(self._adj_cache) >= _ADJ_CACHE_SIZE:
                self._adj_cache.clear()
            adj = graph.adjacency_from_edges(edges, n)
            adj.setflags(write=False)
            self._adj_cache[key] = adj
        return adj

    def _adjacency(self, kp: np.ndarray, mask: np.ndarray, edges: np.ndarray | None
                   ) -> np.ndarray:
        """(B, N, N) bool: rig/user edges (masked points keep only their self-loop), else
        kNN among the visible points."""
        if _no_edges(edges):
            return graph.knn_adjacency(kp, mask, k=self.knn)
        return _masked_adjacency(self._edge_adjacency(edges, mask.shape[1]), mask)

    def _instance_adjacency(self, batch: inputs.LiftInputs, instance_edges) -> np.ndarray:
        """(B, N, N) bool from one edge list per instance (None/empty = kNN), each checked
        against that instance's own N."""
        kp, mask = batch.keypoints, batch.mask
        if len(instance_edges) != len(mask):
            raise ValueError(f"instance_edges has {len(instance_edges)} entries for "
                             f"{len(mask)} instances")
        rows = []
        for i, e in enumerate(instance_edges):
            try:
                e = graph.check_edges(np.zeros((0, 2), np.int64) if e is None else e,
                                      int(batch.lengths[i]))
            except ValueError as exc:
                raise ValueError(f"instance {i}: {exc}") from None
            rows.append(self._adjacency(kp[i:i + 1], mask[i:i + 1], e))
        return np.concatenate(rows, axis=0)

    # -- the call ---------------------------------------------------------------------------

    def lift(self, keypoints, mask=None, edges=None, rig: str | None = None, sides=None,
             instance_edges=None, fronts=None) -> LiftResult:
        """Lift 2D keypoints to camera-aligned 3D.

        Args:
            keypoints: (B, N, 2) or (N, 2) float, any consistent 2D units (pixels).
            mask: (B, N) or (N,) bool, True = valid (None = all valid).
            edges: (E, 2) int index pairs (overrides the rig's).
            rig: registered rig name; supplies edges, sides and fronts (N must match).
            sides: (N,) or (B, N) in {-1, 0, +1}: -1 the subject's left, +1 its right,
                0 centre / unknown (overrides the rig's).
            instance_edges: instead of `edges`/`rig`, one edge list per instance (length B;
                None or empty = kNN for that instance), so instances of different rigs
                (people and a face, say) still go through the network as one batch.
            fronts: like sides: +1 the subject's front end (nose, headlights), -1 its back
                end (tail), 0 neither / unknown (overrides the rig's). Used by models trained
                with fronts (`info()["config"]["use_fronts"]`), ignored by others.
        Returns:
            LiftResult (leading B dropped for (N, 2) input).
        Raises:
            ValueError: bad shapes/dtypes, NaN/inf, fewer than 3 valid points, edges out of
                range, unknown rig, N > max_keypoints, rig N != input N — naming what and
                where.
        """
        if instance_edges is not None:
            if edges is not None or rig:
                raise ValueError("lift: give either edges/rig or instance_edges, not both")
            batch = inputs.validate_and_pad(keypoints, mask=mask, sides=sides, fronts=fronts,
                                            max_keypoints=self.max_keypoints)
            adjacency = self._instance_adjacency(batch, instance_edges)
            self._hint(batch.sides, any(map(_no_edges, instance_edges)))
            return self._finish(batch, adjacency, batch.sides, batch.fronts)
        if rig:
            r = self._rig(rig)
            if edges is None and sides is None and fronts is None:  # the rig's own, checked once
                fast = self._lift_rig(keypoints, mask, r)
                if fast is not None:
                    return fast
            edges = r.edges if edges is None else edges
            sides = r.sides if sides is None else sides
            fronts = r.fronts if fronts is None else fronts
        batch = inputs.validate_and_pad(keypoints, mask=mask, edges=edges, sides=sides,
                                        fronts=fronts, max_keypoints=self.max_keypoints)
        kp, m, edges = batch.keypoints, batch.mask, batch.edges
        if rig and r.n != kp.shape[1]:
            raise ValueError(f"lift: rig {rig!r} has {r.n} keypoints but the input has "
                             f"N={kp.shape[1]}")
        adjacency = self._adjacency(kp, m, edges)
        if not rig:
            self._hint(batch.sides, _no_edges(edges))
        return self._finish(batch, adjacency, batch.sides, batch.fronts)

    def _hint(self, sides: np.ndarray, knn: bool) -> None:
        """Count (and the first time, log) a call without sides or without edges: (B, N) sides."""
        for key, hit in (("no_sides", not sides.any()), ("knn_graph", knn)):
            if hit:
                if not self.hints[key]:
                    self.log.warning("%s (logged once; Lifter.hints counts the calls)", _HINTS[key])
                self.hints[key] += 1

    def _lift_rig(self, keypoints, mask, r: _RigArrays) -> LiftResult | None:
        """`lift` with a rig's own edges, sides and fronts, or None when the input does not fit the
        rig unpadded (then `lift`'s general path checks it all and raises as it always has:
        keypoint errors first, then edges, then sides, then the rig size)."""
        batch = inputs.validate_and_pad(keypoints, mask=mask, max_keypoints=self.max_keypoints)
        kp, m = batch.keypoints, batch.mask
        b, n = m.shape
        if n != r.n or batch.lengths.min() != n:  # a size mismatch, or ragged padding
            return None
        adjacency = _masked_adjacency(r.adjacency, m)
        return self._finish(batch, adjacency, r.batch(r.sides1, b), r.batch(r.fronts1, b))

    def _finish(self, batch: inputs.LiftInputs, adjacency, sides, fronts) -> LiftResult:
        """Run the network and camera-align its output; drop B for an unbatched input.
        adjacency (B,N,N), sides (B,N), fronts (B,N) or None."""
        kp, m = batch.keypoints, batch.mask
        if self.flip_average:
            # one backend call for the image and its mirror; each half is camera-aligned to
            # its own 2D, the mirror's result mirrored back, and the two averaged
            b = len(kp)
            twice = lambda a: None if a is None else np.concatenate([a, a])  # noqa: E731
            kp2, m2 = np.concatenate([kp, geometry.mirror_x(kp)]), twice(m)
            sides2 = np.concatenate([sides, -sides])
            both = self._align(self._run(kp2, m2, twice(adjacency), sides2, twice(fronts)), kp2, m2).points
            shape3d = geometry.mirror_average(both[:b], both[b:])
        else:
            shape3d = self._run(kp, m, adjacency, sides, fronts)
        result = self._align(shape3d, kp, m)
        return _squeeze(result) if batch.squeeze else result

    def _run(self, kp, mask, adjacency, sides, fronts=None) -> np.ndarray:
        """Backend call(s), in chunks of max_batch.
        (B,N,2),(B,N),(B,N,N),(B,N),(B,N) or None -> (B,N,3)."""
        b = kp.shape[0]
        if b <= self.max_batch:
            return self.backend.run(kp, mask, adjacency, sides, fronts)
        chunks = [slice(i, i + self.max_batch) for i in range(0, b, self.max_batch)]
        parts = [self.backend.run(kp[c], mask[c], adjacency[c], sides[c],
                                  None if fronts is None else fronts[c]) for c in chunks]
        return np.concatenate(parts, axis=0)

    @staticmethod
    def _align(shape3d: np.ndarray, kp: np.ndarray, mask: np.ndarray) -> LiftResult:
        """Camera-align the canonical shape. shape3d (B,N,3), kp (B,N,2), mask (B,N)."""
        # zeros at invalid points, whatever the backend left there
        canonical = np.where(mask[..., None], shape3d, np.float32(0))
        # inputs are checked already: the unchecked fit, which also returns the centred
        # points X (B, N, 5) = [canonical | kp] and their visible centroids mu (B, 5)
        rotation, scale, X, mu = geometry.fit_camera(canonical, kp, mask)
        # X[..., :3] is root-relative with zeros at invalid points, as `points` must be
        points = scale[:, None, None] * (X[..., :3] @ rotation.transpose(0, 2, 1))
        f32 = np.float32
        return LiftResult(points.astype(f32), canonical, rotation.astype(f32),
                          scale.astype(f32), mu[:, 3:].astype(f32), mask)

    def info(self) -> dict:
        """Model metadata plus the backend and runtime limits (for `python -m lfm3d_net info`)."""
        return {"model": self.model_info.get("path"), "backend": self.backend_name,
                "knn": self.knn, "max_batch": self.max_batch,
                "max_keypoints": self.max_keypoints,
                "version": self.model_info.get("version"),
                "config": self.model_info.get("config", {})}

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> "Lifter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _no_edges(edges) -> bool:
    """Whether an edge list is absent or empty, so the instance gets the kNN graph."""
    return edges is None or len(edges) == 0


def _masked_adjacency(base: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(B, N, N) bool batch adjacency from an edge set's (N, N) one: a masked point keeps
    only its self-loop. All-valid batches get a view of `base` (read-only)."""
    b, n = mask.shape
    if mask.all():
        return base[None] if b == 1 else np.broadcast_to(base, (b, n, n))
    adj = base & mask[:, :, None] & mask[:, None, :]  # (B, N, N)
    adj[:, np.arange(n), np.arange(n)] = True
    return adj


def _squeeze(r: LiftResult) -> LiftResult:
    return LiftResult(r.points[0], r.canonical[0], r.rotation[0], r.scale[0], r.center[0],
                      r.mask[0])
