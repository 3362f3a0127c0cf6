"""lfm3d_net: the numpy inference runtime of lfm3d (3D-LFM keypoint lifting).

Plain numpy plus optional runtimes (ONNX Runtime, TensorRT); never torch, so a
Jetson deployment does not need PyTorch. See docs/interfaces.md for the contract.
"""

__version__ = "0.1.0"


def __getattr__(name):
    """Lazy `lfm3d_net.Lifter` / `lfm3d_net.LiftResult`: importing the package stays cheap
    and free of runtime imports until the Lifter is used."""
    if name in ("Lifter", "LiftResult"):
        from . import lifter

        return getattr(lifter, name)
    raise AttributeError(f"module 'lfm3d_net' has no attribute {name!r}")
