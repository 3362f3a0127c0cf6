"""pip install of the Python code for use without ROS: `lfm3d_net` (inference runtime
plus the shipped model files) and `training` (PyTorch; its deps are in
requirements-dev.txt). The ROS package `lfm3d_ros` (messages and node) is built and
installed by CMake (colcon, or scripts/setup_venv.sh), not here."""
from setuptools import find_packages, setup


def _requirements(path):
    """Requirement lines of `path`, without comments and `-r` includes."""
    with open(path, encoding="utf-8") as f:
        lines = (line.split("#", 1)[0].strip() for line in f)
        return [line for line in lines if line and not line.startswith("-")]


setup(
    name="lfm3d",
    version="0.1.0",
    description="Lift 2D keypoints of any object category to 3D with a 3D-LFM network",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["lfm3d_net", "lfm3d_net.*", "training", "training.*"]),
    package_data={"lfm3d_net": ["models/*.onnx", "models/*.safetensors", "models/*.json",
                                "models/*.md"]},
    install_requires=_requirements("requirements.txt"),
    extras_require={"train": ["torch==2.13.0", "safetensors", "scipy", "tqdm", "onnx",
                              "onnxscript"]},
    entry_points={"console_scripts": ["lfm3d = lfm3d_net.__main__:main"]},
)
