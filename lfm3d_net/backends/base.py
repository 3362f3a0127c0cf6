"""The one interface every inference runtime implements (ONNX Runtime, TensorRT).

A backend runs the exported 3D-LFM graph and nothing else: pre-processing
(validation, padding, adjacency) and post-processing (camera alignment) live in
`lfm3d_net.lifter`, so both runtimes see byte-identical inputs.
"""
from __future__ import annotations

import abc

import numpy as np

#: Graph input names in the order of `Backend.run` (docs/interfaces.md).
INPUT_NAMES = ("keypoints", "mask", "adjacency", "sides")
#: Input that only models trained with fronts have (after the four above).
FRONTS = "fronts"
#: The graph's single output.
OUTPUT_NAME = "shape3d"


def graph_takes_fronts(names, where: str) -> bool:
    """Whether a graph with input `names` takes `fronts`; ValueError if its inputs are
    neither INPUT_NAMES nor INPUT_NAMES + (FRONTS,)."""
    names = tuple(names)
    if set(names) == set(INPUT_NAMES):
        return False
    if set(names) == set(INPUT_NAMES + (FRONTS,)):
        return True
    raise ValueError(f"{where}: graph inputs {names}, expected {INPUT_NAMES} (+ optional {FRONTS!r})")


class Backend(abc.ABC):
    """Abstract runner of the 3D-LFM graph.

    Use as a context manager (or call `close()`) to release sessions and device memory.
    """

    #: Short runtime name, e.g. "onnxruntime" or "tensorrt".
    name: str = "abstract"

    #: Whether the loaded graph has the `fronts` input (set by each backend on loading).
    takes_fronts: bool = False

    @abc.abstractmethod
    def run(self, keypoints: np.ndarray, mask: np.ndarray, adjacency: np.ndarray,
            sides: np.ndarray, fronts: np.ndarray | None = None) -> np.ndarray:
        """Run the network once.

        Args:
            keypoints: (B, N, 2) float32, raw 2D (normalised inside the graph).
            mask: (B, N) bool, True = valid.
            adjacency: (B, N, N) bool, symmetric, self-loops True.
            sides: (B, N) float32 in {-1, 0, 1}.
            fronts: (B, N) float32 in {-1, 0, 1}, or None (= all 0, unknown). Ignored by a
                graph without the `fronts` input (`takes_fronts` False).
        Returns:
            (B, N, 3) float32 canonical shape in normalised units, zeros at masked points.
        """

    @staticmethod
    def fronts_feed(sides: np.ndarray, fronts: np.ndarray | None) -> np.ndarray:
        """The `fronts` array to feed a graph that takes them: zeros like `sides` (unknown)
        when none were given."""
        return np.zeros_like(sides) if fronts is None else fronts

    def close(self) -> None:
        """Release resources; safe to call twice."""

    def __enter__(self) -> "Backend":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
