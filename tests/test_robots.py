"""URDF forward kinematics (closed-form cases, pybullet agreement) and the robot sources."""
import math
import os

import numpy as np
import pytest

from lfm3d_net.rigs import get_rig
from training.data import registry
from training.data.robots import ARMS, LEGGED, LEGS, copy_urdfs, generate_arm, generate_legged, urdf_root
from training.data.urdf import UrdfTree, axis_angle_matrices, rpy_matrix

ROBOT_SOURCES = [f"{r}_urdf" for r in ARMS] + ["legged_robot17_urdf"]

PLANAR = """<robot name="planar">
  <link name="base"/><link name="upper"/><link name="lower"/><link name="tip"/><link name="slider"/>
  <joint name="shoulder" type="revolute"><parent link="base"/><child link="upper"/>
    <origin xyz="0 0 0.5" rpy="0 0 0"/><axis xyz="0 0 1"/><limit lower="-1" upper="1"/></joint>
  <joint name="elbow" type="continuous"><parent link="upper"/><child link="lower"/>
    <origin xyz="0.3 0 0"/><axis xyz="0 0 1"/></joint>
  <joint name="end" type="fixed"><parent link="lower"/><child link="tip"/><origin xyz="0.2 0 0"/></joint>
  <joint name="rail" type="prismatic"><parent link="base"/><child link="slider"/>
    <origin xyz="0 0 0" rpy="0 0 1.5707963267948966"/><axis xyz="1 0 0"/><limit lower="0" upper="2"/></joint>
</robot>"""


@pytest.fixture
def planar(tmp_path):
    path = tmp_path / "planar.urdf"
    path.write_text(PLANAR)
    return UrdfTree.read(path)


def test_rpy_is_fixed_axis_roll_then_pitch_then_yaw():
    r, p, y = 0.3, -0.7, 1.1
    Rx = axis_angle_matrices(np.array([1.0, 0, 0]), np.array([r]))[0]
    Ry = axis_angle_matrices(np.array([0, 1.0, 0]), np.array([p]))[0]
    Rz = axis_angle_matrices(np.array([0, 0, 1.0]), np.array([y]))[0]
    np.testing.assert_allclose(rpy_matrix(r, p, y), Rz @ Ry @ Rx, atol=1e-12)
    np.testing.assert_allclose(rpy_matrix(0, 0, math.pi / 2) @ [1, 0, 0], [0, 1, 0], atol=1e-12)


def test_two_link_arm_matches_the_closed_form(planar):
    q1, q2 = np.array([0.0, 0.4, -0.9]), np.array([0.0, 1.2, 2.0])
    tip = planar.points([("tip", (0, 0, 0))], {"shoulder": q1, "elbow": q2})[:, 0]
    want = np.stack([0.3 * np.cos(q1) + 0.2 * np.cos(q1 + q2),
                     0.3 * np.sin(q1) + 0.2 * np.sin(q1 + q2), np.full(3, 0.5)], -1)
    np.testing.assert_allclose(tip, want, atol=1e-12)
    assert planar.root == "base" and [j.name for j in planar.moving] == ["shoulder", "rail", "elbow"]
    assert (planar.moving[0].lower, planar.moving[0].upper) == (-1, 1)
    assert planar.moving[2].upper == math.inf      # continuous: no limits


def test_prismatic_joint_slides_along_its_rotated_axis_and_missing_joints_stay_at_zero(planar):
    p = planar.points([("slider", (0, 0, 0)), ("tip", (0, 0, 0))], {"rail": np.array([0.0, 1.5])})
    np.testing.assert_allclose(p[:, 0], [[0, 0, 0], [0, 1.5, 0]], atol=1e-12)   # x axis yawed to +y
    np.testing.assert_allclose(p[:, 1], [[0.5, 0, 0.5]] * 2, atol=1e-12)       # arm at zero


def test_unknown_joint_and_two_roots_are_clear_errors(planar, tmp_path):
    with pytest.raises(KeyError, match="no such joints"):
        planar.link_frames({"knee": np.zeros(1)})
    two = PLANAR.replace('<parent link="base"/><child link="slider"/>', '<parent link="other"/><child link="slider"/>')
    (tmp_path / "two.urdf").write_text(two)
    with pytest.raises(ValueError, match="one root link"):
        UrdfTree.read(tmp_path / "two.urdf")


SPECS = [s.urdf for s in ARMS.values()] + [s.urdf for s in LEGGED.values()]


@pytest.mark.parametrize("rel", SPECS)
def test_forward_kinematics_agrees_with_pybullet(rel):
    p = pytest.importorskip("pybullet")
    path = str(urdf_root() / rel)
    tree = UrdfTree.read(path)
    client = p.connect(p.DIRECT)
    try:
        body = p.loadURDF(path, useFixedBase=True, physicsClientId=client)
        info = [p.getJointInfo(body, j, physicsClientId=client) for j in range(p.getNumJoints(body, physicsClientId=client))]
        index = {i[1].decode(): i[0] for i in info}
        link_index = {i[12].decode(): i[0] for i in info}
        rng = np.random.default_rng(0)
        for _ in range(3):
            vals = {}
            for j in tree.moving:
                lo, hi = (j.lower, j.upper) if j.upper > j.lower else (-3.0, 3.0)
                vals[j.name] = np.array([rng.uniform(max(lo, -3.0), min(hi, 3.0))])
                p.resetJointState(body, index[j.name], float(vals[j.name][0]), physicsClientId=client)
            frames = tree.link_frames(vals)
            links = [link for link in tree.links if link in link_index]
            ours = np.array([frames[link][0, :3, 3] for link in links])
            theirs = np.array([p.getLinkState(body, link_index[link], computeForwardKinematics=True,
                                              physicsClientId=client)[4] for link in links])
            # the base frame pybullet reports is its inertial frame: compare the shape (all distances)
            d_ours = np.linalg.norm(ours[:, None] - ours[None], axis=-1)
            d_theirs = np.linalg.norm(theirs[:, None] - theirs[None], axis=-1)
            np.testing.assert_allclose(d_ours, d_theirs, atol=1e-6, err_msg=f"{rel}: link distances differ")
    finally:
        p.disconnect(client)


@pytest.mark.parametrize("name", ROBOT_SOURCES)
def test_robot_source_gives_rig_shape_finite_seeded_and_rigid_links(name):
    src = registry.SOURCES[name](count=300, seed=2)
    rig = get_rig(src.rig)
    a = src.poses("train")
    assert a.shape == (300, rig.n, 3) and np.isfinite(a).all()
    np.testing.assert_array_equal(a, registry.SOURCES[name](count=300, seed=2).poses("train"))
    assert not np.allclose(a[:20], src.poses("val")[:20])
    # every rig edge joins two points of one rigid link chain: its length never changes
    # (except the gripper's finger tips, which slide)
    e = rig.edge_array()
    rigid = [k for k, (i, j) in enumerate(e) if "finger" not in rig.joints[i] + rig.joints[j]]
    length = np.linalg.norm(a[:, e[rigid, 0]] - a[:, e[rigid, 1]], axis=-1)
    if name != "legged_robot17_urdf":          # the legged source mixes four robots
        np.testing.assert_allclose(length.std(0), 0, atol=1e-5, err_msg=f"{name}: a link stretched")
    assert (length.min(0) > 0.01).all(), f"{name}: an edge of zero length"
    # poses vary: the last point (tool / a foot) moves by a good part of the robot's size
    size = np.linalg.norm(a - a.mean(1, keepdims=True), axis=-1).max(1).mean()
    assert a[:, -1].std(0).max() > 0.15 * size, f"{name}: poses barely vary"


@pytest.mark.parametrize("name", list(ARMS))
def test_arm_poses_stay_above_the_mount(name):
    p = generate_arm(name, 500, np.random.default_rng(0), urdf_root())
    np.testing.assert_allclose(p[:, 0], 0, atol=1e-6)       # the base keypoint at the origin
    assert (p[:, 1:, 1] > 0.0).all(), f"{name}: a keypoint went under the table"


@pytest.mark.parametrize("robot", list(LEGGED))
def test_legged_rig_names_match_the_geometry(robot):
    """Left legs at +x (the rig's side -1), front legs at +z (front +1), feet below the hips."""
    rig = get_rig("legged_robot17")
    p = generate_legged(robot, 400, np.random.default_rng(1), urdf_root())
    sides, fronts = rig.side_array(), rig.front_array()
    x, z = p[..., 0].mean(0), p[..., 2].mean(0)
    assert (x[sides < 0] > 0.02).all() and (x[sides > 0] < -0.02).all(), f"{robot}: sides swapped"
    assert (z[fronts > 0] > 0).all() and (z[fronts < 0] < 0).all(), f"{robot}: front/rear swapped"
    feet = [rig.index(f"{leg}_foot") for leg in ("front_left", "front_right", "rear_left", "rear_right")]
    hips = [rig.index(f"{leg}_hip") for leg in ("front_left", "front_right", "rear_left", "rear_right")]
    assert np.median(p[:, feet, 1] - p[:, hips, 1]) < -0.15, f"{robot}: feet not below the hips"
    assert len(LEGS) == 4


def test_urdfs_copied_to_a_data_dir_are_used_from_there(tmp_path):
    pytest.importorskip("pybullet_data")
    written = copy_urdfs(tmp_path)
    assert len(written) == len(SPECS) and all(w.is_file() for w in written)
    assert urdf_root(tmp_path) == tmp_path / "urdf"
    src = registry.SOURCES["kuka_iiwa_urdf"](data_dir=tmp_path, count=50)
    assert src.poses("val").shape == (5, 9, 3)


def test_missing_urdfs_without_pybullet_name_the_fix(tmp_path, monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "pybullet_data", None)   # import now raises ImportError
    with pytest.raises(FileNotFoundError, match="urdf"):
        urdf_root(tmp_path)


def test_xarm6_is_a_held_out_rig_and_the_other_robots_train():
    assert "xarm6_urdf" in registry.HELD_OUT_SOURCES
    assert {"franka_panda_urdf", "kuka_iiwa_urdf", "legged_robot17_urdf"} <= set(registry.TRAIN_SOURCES)
    assert os.path.basename(ARMS["xarm6"].urdf) == "xarm6_robot.urdf"
