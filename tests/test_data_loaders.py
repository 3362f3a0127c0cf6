"""Real-data loaders: read tiny files the tests write; splits never share a clip/subject."""
import json

import numpy as np
import pytest

from lfm3d_net.rigs import MOCAP26_JOINTS, MOCAP26_PARENTS, get_rig
from training.data.amass_npz import AmassNpzSource
from training.data.deepmimic import DeepMimicSource, forward_kinematics
from training.data.h36m_npz import H36mNpzSource
from training.data.h3wb_json import H3wbJsonSource
from training.data.mocap_npz import MocapNpzSource

RNG = np.random.default_rng(0)


def _write_mocap(path, clips=("001_01", "001_02", "007_01")):
    f = 5 * len(clips)
    np.savez(path, positions=RNG.normal(size=(f, 26, 3)).astype(np.float32),
             parents=np.array(MOCAP26_PARENTS), joint_names=np.array(["CC_Base_" + j.replace("neck", "NeckTwist01")
                                                          for j in MOCAP26_JOINTS]),
             clip_ids=np.repeat(np.arange(len(clips)), 5).astype(np.int32), clip_names=np.array(clips))


def test_mocap_npz_splits_by_subject_and_retargets(tmp_path):
    p = tmp_path / "m.npz"
    _write_mocap(p)
    src = MocapNpzSource(p, rig="coco17")
    assert src.clips("val") == ["007_01"] and set(src.clips("train")) == {"001_01", "001_02"}
    assert src.poses("train").shape == (10, 17, 3) and src.poses("val").shape == (5, 17, 3)
    assert MocapNpzSource(p, rig="panoptic15").poses("val").shape == (5, 15, 3)


def test_mocap_npz_rejects_other_skeletons(tmp_path):
    p = tmp_path / "bad.npz"
    np.savez(p, positions=np.zeros((2, 3, 3)), joint_names=np.array(["a", "b", "c"]),
             clip_ids=np.zeros(2, np.int32), clip_names=np.array(["001_01"]))
    with pytest.raises(ValueError, match="mocap26"):
        MocapNpzSource(p).poses("train")


def test_bad_split_name_raises(tmp_path):
    p = tmp_path / "m.npz"
    _write_mocap(p)
    with pytest.raises(ValueError, match="split"):
        MocapNpzSource(p).poses("test")


def test_deepmimic_real_clips_split_by_clip_with_constant_bones():
    src = DeepMimicSource()
    train, val = set(src.clips("train")), set(src.clips("val"))
    assert train and val and not train & val
    p = src.poses("val")
    assert p.shape[1:] == (15, 3)
    rig = get_rig("deepmimic15")
    # Rigid FK: every bone keeps its length in every frame (float32 rounding: 1e-5 m).
    # root-neck spans the (unlisted) chest joint, so it may bend.
    for a, b in rig.edges:
        if (a, b) == (0, 1):
            continue
        length = np.linalg.norm(p[:, a] - p[:, b], axis=-1)
        assert np.ptp(length) < 1e-5


def test_deepmimic_identity_pose_stands_upright():
    frame = np.zeros((1, 44))
    frame[0, 2] = 0.85                        # root height
    frame[0, [4, 8, 12, 16, 21, 25, 30, 35, 39]] = 1.0   # w of every quaternion: identity
    p = forward_kinematics(frame)[0]
    head, ankle = p[2], p[5]
    assert head[1] > 1.4 and ankle[1] < 0.1   # 0.25 * urdf offsets: ~1.55 m tall, feet ~0.02 m


def test_h36m_npz_reads_17_and_32_joint_arrays_and_splits_by_subject(tmp_path):
    p = tmp_path / "h36m.npz"
    data = {"S1": {"Walk": RNG.normal(size=(4, 32, 3))}, "S9": {"Sit": RNG.normal(size=(3, 17, 3))}}
    np.savez(p, positions_3d=np.array(data, dtype=object))
    src = H36mNpzSource(p)
    assert src.poses("train").shape == (4, 17, 3) and src.poses("val").shape == (3, 17, 3)
    # z-up -> y-up: the source's z becomes y.
    np.testing.assert_allclose(src.poses("val")[..., 1], data["S9"]["Sit"][..., 2], atol=1e-6)


def test_h3wb_json_reads_133_keypoints_and_converts_to_y_up_metres(tmp_path):
    p = tmp_path / "h3wb.json"
    pts = RNG.normal(size=(3, 133, 3)) * 500
    doc = {str(i): {"keypoints_3d": {str(k): dict(zip("xyz", map(float, pts[i, k])))
                                     for k in range(133)}} for i in range(3)}
    p.write_text(json.dumps(doc))
    src = H3wbJsonSource(p, val_ids=["2"])
    val = src.poses("val")
    assert src.poses("train").shape == (2, 133, 3) and val.shape == (1, 133, 3)
    np.testing.assert_allclose(val[0, :, 1], -pts[2, :, 1] / 1000, atol=1e-5)


def test_h3wb_json_with_missing_keypoints_raises(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps({"0": {"keypoints_3d": {"0": {"x": 0, "y": 0, "z": 0}}}}))
    with pytest.raises(ValueError, match="133"):
        H3wbJsonSource(p).poses("train")


def test_amass_without_joints_explains_smpl_requirement(tmp_path):
    p = tmp_path / "clip.npz"
    np.savez(p, poses=np.zeros((2, 156)), betas=np.zeros(16), trans=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="SMPL"):
        AmassNpzSource([p], val_every=1).poses("val")


def test_amass_with_joints_splits_by_file(tmp_path):
    for i in range(3):
        np.savez(tmp_path / f"c{i}.npz", joints=RNG.normal(size=(2 + i, 22, 3)))
    src = AmassNpzSource(tmp_path, val_every=3)
    assert [f.name for f in src.split_files("val")] == ["c2.npz"]
    assert src.poses("train").shape == (5, 17, 3) and src.poses("val").shape == (4, 17, 3)
