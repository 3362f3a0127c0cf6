"""lfm3d_net: the numpy inference runtime of lfm3d (3D-LFM keypoint lifting).

Plain numpy plus optional runtimes (ONNX Runtime, TensorRT); never torch, so a
Jetson deployment does not need PyTorch. See docs/interfaces.md for the contract.
"""

__version__ = "0.1.0"
