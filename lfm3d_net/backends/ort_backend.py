"""ONNX Runtime backend (CPU; the embedded default)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .base import FRONTS, OUTPUT_NAME, Backend, graph_takes_fronts


def make_session_options(threads: int | None):
    """Session options tuned for small, latency-bound graphs.

    Args:
        threads: intra-op threads; None lets ONNX Runtime pick (all cores). 1 runs the
            whole graph on the caller's thread: no pool hand-off, best for one core.
    """
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.inter_op_num_threads = 1
    if threads is not None:
        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        opts.intra_op_num_threads = threads
    # Spinning workers burn a core between calls; on a shared robot CPU that steals
    # from the detector, and the graph is too small for spinning to pay off.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.log_severity_level = 3
    return opts


class OrtBackend(Backend):
    """Runs the ONNX graph with ONNX Runtime's CPU execution provider.

    Args:
        onnx_path: the exported model (docs/interfaces.md, "Network I/O").
        threads: intra-op threads (None = ONNX Runtime default).
        providers: execution providers; default CPU only.
    """

    name = "onnxruntime"

    def __init__(self, onnx_path: str | Path, threads: int | None = None,
                 providers: list[str] | None = None):
        import onnxruntime as ort

        self.onnx_path = Path(onnx_path)
        if not self.onnx_path.is_file():
            raise FileNotFoundError(f"ONNX model not found: {self.onnx_path}")
        self.threads = threads
        self._session = ort.InferenceSession(
            str(self.onnx_path), make_session_options(threads),
            providers=providers or ["CPUExecutionProvider"])
        self.takes_fronts = graph_takes_fronts(
            (i.name for i in self._session.get_inputs()), str(self.onnx_path))
        self._output = [OUTPUT_NAME]

    def run(self, keypoints: np.ndarray, mask: np.ndarray, adjacency: np.ndarray,
            sides: np.ndarray, fronts: np.ndarray | None = None) -> np.ndarray:
        """See `Backend.run`: (B,N,2), (B,N), (B,N,N), (B,N)[, (B,N)] -> (B,N,3) float32."""
        if self._session is None:
            raise RuntimeError("OrtBackend is closed")
        feed = {"keypoints": keypoints, "mask": mask, "adjacency": adjacency, "sides": sides}
        if self.takes_fronts:
            feed[FRONTS] = self.fronts_feed(sides, fronts)
        return self._session.run(self._output, feed)[0]

    def close(self) -> None:
        self._session = None
