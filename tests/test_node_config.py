"""config/lift.yaml, the launch file and the demo scene agree with the code (no ROS graph needed)."""

import os
import py_compile
import sys
from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from lfm3d_ros import node_params
from lfm3d_ros.demo_scene import MALFORMED_KINDS, BUNDLED, DemoScene, malformed
from lfm3d_ros.conversions import Limits, REASONS, parse_instance
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[1]


def _yaml_params():
    doc = yaml.safe_load((REPO / "config" / "lift.yaml").read_text())
    assert list(doc) == ["lfm3d_lifter"], "params file top key must be the node name"
    return doc["lfm3d_lifter"]["ros__parameters"]


def test_lift_yaml_lists_exactly_the_node_parameters_with_the_code_defaults():
    params, defaults = _yaml_params(), node_params.NodeConfig()
    assert set(params) == {f.name for f in fields(node_params.NodeConfig)}
    for name, value in params.items():
        assert value == getattr(defaults, name), f"config/lift.yaml {name}={value!r} differs from NodeConfig"


def test_every_parameter_has_a_description_and_choices_are_valid():
    assert set(node_params.DESCRIPTIONS) == {f.name for f in fields(node_params.NodeConfig)} - {"size_prior"}
    node_params.validate(node_params.NodeConfig())
    with pytest.raises(ValueError, match="backend"):
        node_params.validate(node_params.NodeConfig(backend="cuda"))
    with pytest.raises(ValueError, match="size_prior.hand"):
        node_params.validate(node_params.NodeConfig(size_prior={"hand": 0.0}))


def test_launch_file_compiles_and_builds_a_description_when_launch_ros_exists(tmp_path, monkeypatch):
    py_compile.compile(str(REPO / "launch" / "lift.launch.py"), cfile=str(tmp_path / "l.pyc"), doraise=True)
    pytest.importorskip("launch_ros", reason="launch_ros is not on PyPI; only compiled here")
    # the PyPI ament_index_python has no default prefix: the venv (or a sourced ROS) is it
    monkeypatch.setenv("AMENT_PREFIX_PATH", os.environ.get("AMENT_PREFIX_PATH") or sys.prefix)
    import importlib.util

    spec = importlib.util.spec_from_file_location("lift_launch", REPO / "launch" / "lift.launch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.generate_launch_description().entities


def test_bundled_demo_clip_is_small_and_the_scene_projects_inside_the_image():
    assert BUNDLED.stat().st_size < 200_000
    scene = DemoScene(BUNDLED, people=2)
    for t in (0.0, 3.3, 11.0):
        frame = scene.frame(t)
        assert [i["rig"] for i in frame] == ["mocap26", "mocap26", "face68"]
        for inst in frame:
            visible = inst["confidence"] > 0
            assert visible.mean() > 0.9, "most keypoints should be in view"
            assert (inst["uv"][visible] >= 0).all() and (inst["uv"][visible, 0] < 640).all()


@pytest.mark.parametrize("kind", MALFORMED_KINDS)
def test_demo_malformed_instances_are_rejected_for_their_own_reason(kind):
    inst = malformed(kind)
    msg = SimpleNamespace(instance_id=inst["instance_id"], category="person", rig=inst["rig"],
                          x=inst["uv"][:, 0], y=inst["uv"][:, 1], confidence=inst["confidence"],
                          edges=inst["edges"])

    def lookup(name):
        raise KeyError(name)

    with pytest.raises(Exception) as err:
        parse_instance(msg, 0, Limits(min_confidence=0.3), lookup)
    assert err.value.reason == kind and kind in REASONS
