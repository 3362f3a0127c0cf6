"""Packaging: the generated messages, rclpy, the package manifest, the layout of
design.md, the no-torch rule, and the source tree winning over installed copies.

Needs the venv from scripts/setup_venv.sh (msg built and installed into it)."""
import ast
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

# Every path of design.md's layout table (plus the executables and build inputs).
LAYOUT = [
    "package.xml", "CMakeLists.txt", "setup.py",
    "msg/Keypoints2D.msg", "msg/Keypoints2DArray.msg",
    "msg/Skeleton3D.msg", "msg/Skeleton3DArray.msg",
    "lfm3d_net/__init__.py", "lfm3d_net/geometry.py", "lfm3d_net/rigs.py",
    "lfm3d_net/lifter.py", "lfm3d_net/backends", "lfm3d_net/engine_cache.py",
    "lfm3d_net/models",
    "lfm3d_ros/__init__.py",
    "launch/lift.launch.py", "config/lift.yaml", "config/lift.rviz",
    "training", "tests", "bench", ".ci/run",
    "requirements.txt", "requirements-ros.txt", "requirements-dev.txt",
    "scripts/setup_venv.sh", "scripts/lift_node", "scripts/demo_source",
    "scripts/lift_monitor", "Makefile", "docs/setup.md",
]
MSG_DEPS = {"std_msgs", "geometry_msgs", "sensor_msgs", "visualization_msgs",
            "diagnostic_msgs"}


@pytest.mark.parametrize("rel", LAYOUT)
def test_layout_path_of_design_exists(rel):
    assert (ROOT / rel).exists(), f"{rel} is missing from the repository layout"


def test_messages_import_and_round_trip_field_values():
    from geometry_msgs.msg import Point
    from lfm3d_ros.msg import Keypoints2D, Keypoints2DArray, Skeleton3D, Skeleton3DArray
    from rclpy.serialization import deserialize_message, serialize_message

    kp = Keypoints2DArray()
    kp.header.frame_id = "camera_optical"
    kp.header.stamp.sec = 12
    kp.instances = [Keypoints2D(instance_id=-1, category="hand", rig="hand21",
                                x=[1.5, 2.0], y=[3.0, 4.25], confidence=[0.9, 0.1],
                                edges=[0, 1])]
    back = deserialize_message(serialize_message(kp), Keypoints2DArray)
    inst = back.instances[0]
    assert back.header.frame_id == "camera_optical" and back.header.stamp.sec == 12
    assert (inst.instance_id, inst.category, inst.rig) == (-1, "hand", "hand21")
    # float32 fields: the chosen values are exact in float32, so compare exactly.
    assert list(inst.x) == [1.5, 2.0] and list(inst.y) == [3.0, 4.25]
    assert list(inst.confidence) == pytest.approx([0.9, 0.1], abs=1e-7)  # float32 rounding
    assert list(inst.edges) == [0, 1]

    sk = Skeleton3DArray(header=kp.header)
    sk.skeletons = [Skeleton3D(instance_id=7, category="hand", rig="hand21",
                               points=[Point(x=0.5, y=-1.0, z=2.0)], confidence=[1.0],
                               edges=[], metric=True, scale=0.25)]
    back = deserialize_message(serialize_message(sk), Skeleton3DArray)
    s = back.skeletons[0]
    assert (s.instance_id, s.metric, s.scale) == (7, True, 0.25)
    assert (s.points[0].x, s.points[0].y, s.points[0].z) == (0.5, -1.0, 2.0)


def test_uint16_edges_reject_out_of_range_values():
    from lfm3d_ros.msg import Keypoints2D
    with pytest.raises((AssertionError, OverflowError)):  # rclpy raises either, by version
        Keypoints2D(edges=[70000])


def test_rclpy_imports_with_a_working_rmw():
    import rclpy
    from rclpy.context import Context
    ctx = Context()
    rclpy.init(context=ctx)
    try:
        node = rclpy.create_node("lfm3d_packaging_probe", context=ctx)
        assert node.get_name() == "lfm3d_packaging_probe"
        node.destroy_node()
    finally:
        rclpy.shutdown(context=ctx)


def _imported_roots(path):
    """Top-level module names imported by the Python file at `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


@pytest.mark.parametrize("package", ["lfm3d_net", "lfm3d_ros"])
def test_runtime_packages_never_import_torch(package):
    files = sorted((ROOT / package).rglob("*.py"))
    offenders = [str(f.relative_to(ROOT)) for f in files if "torch" in set(_imported_roots(f))]
    assert not offenders, f"torch imported in {offenders} (a Jetson must not need it)"


def test_package_xml_parses_and_lists_message_dependencies():
    catkin_pkg = pytest.importorskip("catkin_pkg.package")
    pkg = catkin_pkg.parse_package(str(ROOT / "package.xml"))
    assert pkg.name == "lfm3d_ros" and pkg.package_format == 3
    build = {d.name for d in pkg.build_depends}
    execs = {d.name for d in pkg.exec_depends}
    assert MSG_DEPS <= build and MSG_DEPS <= execs
    assert {"rclpy", "rosidl_default_runtime", "launch_ros"} <= execs
    assert "rosidl_default_generators" in {d.name for d in pkg.buildtool_depends}
    assert "rosidl_interface_packages" in {g.name for g in pkg.member_of_groups}


def test_cmake_generates_exactly_the_message_files():
    text = (ROOT / "CMakeLists.txt").read_text()
    on_disk = {p.name for p in (ROOT / "msg").glob("*.msg")}
    listed = {name for name in on_disk if f"msg/{name}" in text}
    assert listed == on_disk, f"msg files not in rosidl_generate_interfaces: {on_disk - listed}"


def _run_python(code, cwd):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def test_new_source_module_imports_without_rebuild_beside_installed_msg():
    """A hand-written module added to the source tree imports at once (no CMake
    rerun), from the source tree, while lfm3d_ros.msg still comes from the install."""
    probe = ROOT / "lfm3d_ros" / f"_packaging_probe_{os.getpid()}.py"
    probe.write_text("WHERE = __file__\n")
    try:
        out = _run_python(f"""
            import lfm3d_ros.{probe.stem} as p, lfm3d_ros.msg as m
            print(p.WHERE); print(m.__file__)
            """, cwd=ROOT)
    finally:
        probe.unlink()
    assert out.returncode == 0, out.stderr
    where, msg_file = out.stdout.split()
    assert pathlib.Path(where).parent == ROOT / "lfm3d_ros"
    assert pathlib.Path(msg_file).parent.parent != ROOT / "lfm3d_ros"  # generated, installed


def test_source_tree_wins_over_installed_copy_of_a_module():
    """__init__ of the source tree comes first in lfm3d_ros.__path__, so its modules
    shadow the (possibly stale) copies the CMake install put in site-packages."""
    out = _run_python("import lfm3d_ros; print(lfm3d_ros.__path__[0])", cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert pathlib.Path(out.stdout.strip()) == ROOT / "lfm3d_ros"


def test_executable_wrappers_call_the_node_modules_main():
    for name, module in [("lift_node", "lift_node"), ("demo_source", "demo_source"),
                         ("lift_monitor", "monitor")]:
        path = ROOT / "scripts" / name
        assert os.access(path, os.X_OK), f"scripts/{name} is not executable"
        assert f"from lfm3d_ros.{module} import main" in path.read_text()
