"""Rig registry: every built-in rig is well formed; user rigs load from YAML."""
from pathlib import Path

import numpy as np
import pytest

from lfm3d_net.rigs import RIGS, Rig, get_rig, load_rigs_yaml, register_rig

BUILTIN = ["coco17", "h36m17", "mocap26", "deepmimic15", "panoptic15", "coco_wholebody133",
           "hand21", "face68", "quadruped17", "bird15", "chair10", "table8", "car12",
           "aircraft10", "bottle8", "mug8", "fish14", "insect17", "reptile18", "bicycle11",
           "motorbike10", "sofa12", "bus12", "boat8", "monitor8", "laptop6", "box9", "shoe7",
           "bat16", "biped17"]
# Mirror-symmetric rigs must have as many left as right points.
SYMMETRIC = BUILTIN  # every built-in rig is mirror-symmetric
EXAMPLE_YAML = Path(__file__).resolve().parents[1] / "config" / "rigs_example.yaml"


def test_all_contract_rig_names_are_registered():
    assert set(BUILTIN) <= set(RIGS)


@pytest.mark.parametrize("name", BUILTIN)
def test_rig_is_well_formed(name):
    rig = get_rig(name)
    e = rig.edge_array()
    assert e.dtype == np.int64 and e.shape == (len(rig.edges), 2)
    assert e.min() >= 0 and e.max() < rig.n
    assert len({tuple(sorted(p)) for p in rig.edges}) == len(rig.edges), "duplicate edge"
    assert len(set(rig.joints)) == rig.n, "duplicate joint name"
    s = rig.side_array()
    assert s.dtype == np.float32 and s.shape == (rig.n,)
    assert set(np.unique(s)) <= {-1.0, 0.0, 1.0}
    assert rig.category


@pytest.mark.parametrize("name", SYMMETRIC)
def test_left_and_right_counts_balance(name):
    s = get_rig(name).side_array()
    assert (s == -1).sum() == (s == 1).sum()


@pytest.mark.parametrize("name", BUILTIN)
def test_named_left_right_joints_have_matching_sides(name):
    rig = get_rig(name)
    for j, side in zip(rig.joints, rig.sides):
        tokens = j.split("_")
        if "left" in tokens and "face" not in tokens:
            assert side == -1, j
        if "right" in tokens and "face" not in tokens:
            assert side == 1, j


def test_face68_sides_follow_subject_not_image():
    face = get_rig("face68")
    # iBUG 36 is the subject's right eye outer corner, 45 the left one; 8 is the chin.
    assert face.sides[36] == 1 and face.sides[45] == -1 and face.sides[8] == 0


def test_wholebody_layout_is_body_feet_face_hands():
    wb = get_rig("coco_wholebody133")
    assert wb.n == 133
    assert wb.joints[:17] == get_rig("coco17").joints
    assert wb.joints[23] == "face_jaw_0" and wb.joints[91] == "left_hand_wrist"
    assert wb.joints[112] == "right_hand_wrist"


def test_fronts_mark_front_and_back_ends_by_name():
    table = get_rig("table8")
    assert [j for j, f in zip(table.joints, table.fronts) if f == 1] == [
        "leg_front_left", "leg_front_right", "top_front_left", "top_front_right"]
    assert sum(f == -1 for f in table.fronts) == 4
    car = get_rig("car12")
    assert car.fronts[car.index("headlight_left")] == 1 and car.fronts[car.index("taillight_left")] == -1
    assert get_rig("coco17").fronts[0] == 1 and sum(get_rig("coco17").fronts) == 1  # the nose only
    bird = get_rig("bird15")  # "back" is the bird's dorsal side, not its back end
    assert bird.fronts[bird.index("back")] == 0 and bird.fronts[bird.index("tail")] == -1
    assert not any(get_rig("hand21").fronts) and not any(get_rig("bottle8").fronts)


def test_fronts_default_to_zero_and_are_validated():
    rig = Rig("f", "x", ("a", "b", "c"), ((0, 1),), (0, 0, 0))
    assert rig.fronts == (0, 0, 0) and rig.front_array().dtype == np.float32
    with pytest.raises(ValueError, match="fronts must be"):
        Rig("f", "x", ("a", "b", "c"), ((0, 1),), (0, 0, 0), (0, 2, 0))
    with pytest.raises(ValueError, match="2 fronts for 3 joints"):
        Rig("f", "x", ("a", "b", "c"), ((0, 1),), (0, 0, 0), (0, 1))


def test_unknown_rig_error_lists_known_names():
    with pytest.raises(KeyError, match="coco17"):
        get_rig("no_such_rig")


@pytest.mark.parametrize("kwargs, msg", [
    (dict(edges=((0, 3),)), "out of range"),
    (dict(edges=((0, 1), (1, 0))), "duplicate edge"),
    (dict(sides=(0, 2, 0)), "sides must be"),
    (dict(joints=("a", "a", "b")), "duplicate joint"),
    (dict(sides=(0, 0)), "sides for"),
])
def test_bad_rig_raises_clear_value_error(kwargs, msg):
    base = dict(name="bad", category="x", joints=("a", "b", "c"), edges=((0, 1),), sides=(0, 0, 0))
    base.update(kwargs)
    with pytest.raises(ValueError, match=msg):
        Rig(**base)


def test_register_refuses_silent_redefinition():
    with pytest.raises(ValueError, match="already registered"):
        register_rig(Rig("coco17", "person", ("a",), (), (0,)))


def test_example_yaml_loads_and_registers():
    rigs = load_rigs_yaml(EXAMPLE_YAML)
    assert [r.name for r in rigs] == ["gripper5", "upper_body7"]
    g = get_rig("gripper5")
    assert g.edges[1] == (1, 2) and g.sides == (0, -1, -1, 1, 1) and g.fronts == (0,) * 5
    assert get_rig("upper_body7").fronts == (1, 0, 0, 0, 0, 0, 0)


def test_yaml_rig_without_sides_or_fronts_takes_them_from_the_joint_names(tmp_path):
    p = tmp_path / "r.yaml"
    p.write_text("rigs:\n"
                 "  - name: lizard5\n    joints: [nose, left_leg, right_leg, belly, tail_tip]\n"
                 "    edges: [[nose, belly], [left_leg, belly], [right_leg, belly], [belly, tail_tip]]\n"
                 "  - name: lizard5_zero\n    joints: [nose, left_leg, right_leg, belly, tail_tip]\n"
                 "    sides: [0, 0, 0, 0, 0]\n    fronts: [0, 0, 0, 0, 0]\n")
    named, zero = load_rigs_yaml(p)
    assert named.sides == (0, -1, 1, 0, 0) and named.fronts == (1, 0, 0, 0, -1), (named.sides, named.fronts)
    assert zero.sides == (0,) * 5 and zero.fronts == (0,) * 5, "explicit values must win over the names"


def test_yaml_with_unknown_edge_joint_raises(tmp_path):
    p = tmp_path / "r.yaml"
    p.write_text("rigs:\n  - name: t\n    joints: [a, b]\n    edges: [[a, zz]]\n")
    with pytest.raises(ValueError, match="unknown joint"):
        load_rigs_yaml(p)
