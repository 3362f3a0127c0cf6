"""Detector formats -> Detections on registered rigs (lfm3d_net.adapters), the detector rigs,
and the ROS helper that fills a Keypoints2DArray from Detections. Files are written here."""
from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from lfm3d_net.adapters import (AdapterError, Detection, detect_format, from_coco, from_mediapipe,
                                from_openpose, from_ultralytics, read_detections, to_rig)
from lfm3d_net.rigs import get_rig
from lfm3d_ros.detector_msgs import keypoints_fields

RNG = np.random.default_rng(0)


def _xy(n, seed=0):
    return np.random.default_rng(seed).uniform(10, 600, (n, 2)).round(2)


def _flat(xy, conf):
    return np.c_[xy, conf].ravel().tolist()


# -- the detector rigs ------------------------------------------------------------------------

@pytest.mark.parametrize("name, n, edges", [("body25", 25, 30), ("mediapipe_pose33", 33, 39)])
def test_detector_rigs_have_subject_sides_fronts_and_a_connected_skeleton(name, n, edges):
    rig = get_rig(name)
    assert (rig.n, len(rig.edges), rig.category) == (n, edges, "person")
    for joint, side in zip(rig.joints, rig.sides):
        tokens = joint.split("_")
        assert side == (-1 if "left" in tokens else 1 if "right" in tokens else 0), joint
    assert rig.sides.count(-1) == rig.sides.count(1)
    fronts = {j for j, f in zip(rig.joints, rig.fronts) if f == 1}
    backs = {j for j, f in zip(rig.joints, rig.fronts) if f == -1}
    toes = {j for j in rig.joints if "toe" in j or "foot_index" in j}
    assert fronts == {"nose"} | toes and backs == {j for j in rig.joints if "heel" in j}
    # one connected skeleton: every joint reached from joint 0 along the edges
    seen, todo = {0}, [0]
    while todo:
        a = todo.pop()
        for e in rig.edges:
            for b in e if a in e else ():
                if b not in seen:
                    seen.add(b)
                    todo.append(b)
    assert seen == set(range(n))


def test_detector_rigs_are_not_training_sources():
    """Adding inference rigs to the registry must not change the training mixture: training
    names its sources and rigs explicitly (training/data/registry.py), never iterates RIGS."""
    pytest.importorskip("torch")
    from training.data.registry import SOURCE_INFO

    assert not {"body25", "mediapipe_pose33"} & {rig for _, rig in SOURCE_INFO.values()}


# -- OpenPose -----------------------------------------------------------------------------------

def _openpose_doc():
    body, body_c = _xy(25, 1), RNG.uniform(0.3, 1, 25)
    body[8], body_c[8] = 0, 0                     # mid_hip not found: (0, 0, 0)
    face = _xy(70, 2)
    hand = _xy(21, 3)
    person = {"person_id": [-1], "pose_keypoints_2d": _flat(body, body_c),
              "face_keypoints_2d": _flat(face, np.full(70, 0.8)),
              "hand_left_keypoints_2d": [0.0] * 63,    # hand not found
              "hand_right_keypoints_2d": _flat(hand, np.full(21, 0.6))}
    return {"version": 1.3, "people": [person, {"person_id": [4], "pose_keypoints_2d": []}]}, \
        body, body_c, face, hand


def test_openpose_reads_body25_face68_and_hands_with_missing_points_nan(tmp_path):
    doc, body, body_c, face, hand = _openpose_doc()
    path = tmp_path / "000000000000_keypoints.json"
    path.write_text(json.dumps(doc))
    dets = read_detections(path)
    assert [(d.rig, d.category, d.source) for d in dets] == [
        ("body25", "person", "people[0].pose_keypoints_2d"),
        ("face68", "face", "people[0].face_keypoints_2d"),
        ("hand21", "hand", "people[0].hand_right_keypoints_2d")]
    b, f, h = dets
    assert np.isnan(b.keypoints[8]).all() and b.confidence[8] == 0 and b.mask().sum() == 24
    np.testing.assert_allclose(np.delete(b.keypoints, 8, 0), np.delete(body, 8, 0), rtol=1e-6)
    np.testing.assert_allclose(b.confidence, np.where(np.arange(25) == 8, 0, body_c), rtol=1e-6)
    np.testing.assert_allclose(f.keypoints, face[:68], rtol=1e-6)   # the two pupils dropped
    np.testing.assert_allclose(h.keypoints, hand, rtol=1e-6)


def test_openpose_other_pose_models_keep_their_points_without_a_rig():
    dets = from_openpose({"people": [{"person_id": [2], "pose_keypoints_2d":
                                      _flat(_xy(18), np.ones(18))}]})
    assert dets[0].rig == "" and dets[0].n == 18 and dets[0].instance_id == 2


# -- COCO ---------------------------------------------------------------------------------------

def test_coco_results_use_point_scores_and_keep_image_ids(tmp_path):
    kp17, kp133 = _xy(17), _xy(133, 1)
    c17 = RNG.uniform(0.05, 1, 17)
    rows17 = np.c_[kp17, c17]
    rows17[4] = 0                                                  # not predicted
    results = [{"image_id": 7, "category_id": 1, "keypoints": rows17.ravel().tolist(), "score": 0.9},
               {"image_id": 8, "category_id": 1, "keypoints": _flat(kp133, np.full(133, 0.5)),
                "score": 0.8}]
    path = tmp_path / "keypoints_results.json"
    path.write_text(json.dumps(results))
    a, b = read_detections(path)
    assert (a.rig, a.image_id, b.rig, b.image_id) == ("coco17", 7, "coco_wholebody133", 8)
    assert np.isnan(a.keypoints[4]).all() and a.mask().sum() == 16
    np.testing.assert_allclose(a.confidence, np.where(np.arange(17) == 4, 0, c17), rtol=1e-6)
    np.testing.assert_allclose(b.keypoints, kp133, rtol=1e-6)


def test_coco_annotations_use_visibility_flags_and_category_keypoint_names(tmp_path):
    ap10k = get_rig("quadruped17")  # AP-10K names its 17 keypoints like quadruped17
    v = np.full(17, 2)
    v[[0, 5]] = 0, 1                                       # unlabelled, labelled but occluded
    doc = {"images": [{"id": 3}], "categories": [{"id": 1, "name": "dog",
                                                  "keypoints": list(ap10k.joints)}],
           "annotations": [{"id": 1, "image_id": 3, "category_id": 1, "num_keypoints": 16,
                            "keypoints": _flat(_xy(17), v)}]}
    path = tmp_path / "ap10k_val.json"
    path.write_text(json.dumps(doc))
    (d,) = read_detections(path)
    assert d.rig == "quadruped17" and d.category == "quadruped" and d.image_id == 3
    np.testing.assert_array_equal(d.confidence, np.where(v > 0, 1.0, 0.0))


def test_a_rig_override_applies_where_its_point_count_fits():
    results = [{"image_id": 1, "keypoints": _flat(_xy(17), np.ones(17))},
               {"image_id": 1, "keypoints": _flat(_xy(21), np.ones(21))}]
    assert [d.rig for d in from_coco(results, rig="quadruped17")] == ["quadruped17", "hand21"]
    with pytest.raises(KeyError, match="unknown rig"):
        from_coco(results, rig="nope")


# -- Ultralytics --------------------------------------------------------------------------------

class _Tensor:
    """A stand-in for a CUDA torch tensor: numpy only through .cpu().numpy()."""

    def __init__(self, a):
        self._a = np.asarray(a)

    def cpu(self):
        return SimpleNamespace(numpy=lambda: self._a)


def test_ultralytics_arrays_treat_zeroed_points_as_missing_and_read_tensors():
    xy, conf = _xy(34).reshape(2, 17, 2), RNG.uniform(0.1, 1, (2, 17))
    xy[1, 0] = 0                                 # Ultralytics zeroes points it did not find
    keypoints = SimpleNamespace(xy=_Tensor(xy), conf=_Tensor(conf))   # results[0].keypoints
    for dets in (from_ultralytics(xy, conf, track_ids=[5, 6]), from_ultralytics(keypoints)):
        assert [d.rig for d in dets] == ["coco17", "coco17"]
        np.testing.assert_allclose(dets[0].keypoints, xy[0], rtol=1e-6)
        assert np.isnan(dets[1].keypoints[0]).all() and dets[1].mask().sum() == 16
    ids = _Tensor(np.array([5.0, 6.0], np.float32))         # boxes.id: a float tensor
    assert [d.instance_id for d in from_ultralytics(xy, conf, track_ids=ids)] == [5, 6]
    assert from_ultralytics(np.zeros((0, 17, 2))) == [] and from_ultralytics(None) == []


def test_ultralytics_to_json_and_npz_files_give_the_same_detections(tmp_path):
    xy, conf = _xy(21, 4)[None], RNG.uniform(0.2, 1, (1, 21))
    summary = [{"name": "hand", "class": 0, "confidence": 0.9, "track_id": 3,
                "box": {"x1": 0, "y1": 0, "x2": 9, "y2": 9},
                "keypoints": {"x": (xy[0, :, 0] / 640).tolist(), "y": (xy[0, :, 1] / 480).tolist(),
                              "visible": conf[0].tolist()}}]
    (tmp_path / "yolo.json").write_text(json.dumps(summary))   # to_json(normalize=True)
    np.savez(tmp_path / "yolo.npz", xy=xy, conf=conf)
    np.savez(tmp_path / "yolo_data.npz", data=np.concatenate([xy, conf[..., None]], -1))
    from_json = read_detections(tmp_path / "yolo.json", image_size=(640, 480))
    for dets in (from_json, read_detections(tmp_path / "yolo.npz"),
                 read_detections(tmp_path / "yolo_data.npz")):
        assert len(dets) == 1 and dets[0].rig == "hand21" and dets[0].category == "hand"
        np.testing.assert_allclose(dets[0].keypoints, xy[0], rtol=1e-5)
        np.testing.assert_allclose(dets[0].confidence, conf[0], rtol=1e-6)
    assert from_json[0].instance_id == 3 and from_json[0].source == "[0]"


# -- MediaPipe ----------------------------------------------------------------------------------

def _landmarks(n, seed=0):
    rng = np.random.default_rng(seed)
    return [{"x": float(x), "y": float(y), "z": float(z), "visibility": float(v)}
            for (x, y), z, v in zip(rng.uniform(0.1, 0.9, (n, 2)), rng.normal(size=n),
                                    rng.uniform(0, 1, n))]


def test_mediapipe_legacy_tasks_and_json_landmarks_give_the_same_pixels(tmp_path):
    lms = _landmarks(33)
    objects = [SimpleNamespace(**lm) for lm in lms]
    legacy = SimpleNamespace(landmark=objects)                  # results.pose_landmarks
    tasks = [objects]                                           # result.pose_landmarks
    path = tmp_path / "pose.json"
    path.write_text(json.dumps({"image_size": [640, 480], "landmarks": [{"landmark": lms}]}))
    want = np.array([[lm["x"] * 640, lm["y"] * 480] for lm in lms])
    for dets in (from_mediapipe(legacy, (640, 480)), from_mediapipe(tasks, (640, 480)),
                 read_detections(path)):
        (d,) = dets
        assert d.rig == "mediapipe_pose33" and d.category == "person"
        np.testing.assert_allclose(d.keypoints, want, rtol=1e-6)
        np.testing.assert_allclose(d.confidence, [lm["visibility"] for lm in lms], rtol=1e-6)
    assert from_mediapipe(None, (640, 480)) == []               # nobody in the image


def test_mediapipe_hands_are_hand21_with_full_confidence():
    hands = [SimpleNamespace(landmark=[SimpleNamespace(**lm, visibility=0.0) for lm in
                                       ({"x": p["x"], "y": p["y"]} for p in _landmarks(21, s))])
             for s in (1, 2)]                                   # results.multi_hand_landmarks
    dets = from_mediapipe(hands, (100, 100))
    assert [d.rig for d in dets] == ["hand21", "hand21"]
    assert all((d.confidence == 1).all() for d in dets)


# -- to_rig ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("rig", ["body25", "mediapipe_pose33", "coco_wholebody133"])
def test_to_rig_picks_the_coco17_joints_by_name(rig):
    src = get_rig(rig)
    kp = np.arange(2 * src.n, dtype=np.float32).reshape(-1, 2)
    conf = np.linspace(0.1, 1, src.n).astype(np.float32)
    det = to_rig(Detection(kp, conf, rig, "person", 3, source="people[0]"), "coco17")
    want = [src.index(j) for j in get_rig("coco17").joints]
    assert det.rig == "coco17" and det.instance_id == 3 and det.source == "people[0]"
    np.testing.assert_array_equal(det.keypoints, kp[want])
    np.testing.assert_array_equal(det.confidence, conf[want])


def test_to_rig_refuses_a_rig_without_the_joints():
    hand = Detection(np.zeros((21, 2), np.float32), np.ones(21, np.float32), "hand21", "hand",
                     source="people[0].hand_left_keypoints_2d")
    with pytest.raises(AdapterError, match=r"hand_left_keypoints_2d: rig 'hand21' lacks 17"):
        to_rig(hand, "coco17")


# -- auto-detection and malformed files -----------------------------------------------------------

def _write(path, content):
    """An input file: arrays to .npz, a string as it is (raw text), anything else as JSON."""
    if path.suffix == ".npz":
        np.savez(path, **content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


@pytest.mark.parametrize("name, content, fmt", [
    ("a.json", {"instances": []}, "lfm3d"),
    ("b.json", {"people": []}, "openpose"),
    ("c.json", [{"image_id": 1, "keypoints": [1, 2, 1]}], "coco"),
    ("d.json", {"annotations": []}, "coco"),
    ("e.json", [{"keypoints": {"x": [1], "y": [1]}}], "ultralytics"),
    ("f.json", {"landmark": [{"x": 0.1, "y": 0.2}]}, "mediapipe"),
    ("g.json", [[{"x": 0.1, "y": 0.2}]], "mediapipe"),
    ("h.npz", {"keypoints": np.zeros((1, 3, 2))}, "lfm3d"),
    ("i.npz", {"xy": np.zeros((1, 3, 2))}, "ultralytics"),
])
def test_format_is_detected_from_the_content(tmp_path, name, content, fmt):
    assert detect_format(_write(tmp_path / name, content)) == fmt


def test_unknown_content_names_the_file_and_asks_for_format(tmp_path):
    path = tmp_path / "mystery.json"
    path.write_text(json.dumps({"detections": []}))
    with pytest.raises(AdapterError, match=r"mystery\.json: cannot tell the format.*--format"):
        read_detections(path)


@pytest.mark.parametrize("name, content, fmt, match", [
    ("op.json", {"people": [{"pose_keypoints_2d": [1.0] * 74}]}, "auto",
     r"op\.json: people\[0\]\.pose_keypoints_2d: expected a flat list of 3\*K"),
    ("op.json", {"people": {"pose_keypoints_2d": []}}, "openpose", r"op\.json: people: expected a list"),
    ("op.json", {"people": [{"face_keypoints_2d": ["a", 1, 2]}]}, "auto",
     r"op\.json: people\[0\]\.face_keypoints_2d: expected a flat list of numbers"),
    ("coco.json", [{"image_id": 1, "keypoints": [1, 2, 1]}, {"image_id": 2}], "auto",
     r"coco\.json: \[1\]: expected an object with 'keypoints'"),
    ("coco.json", {"annotations": [{"keypoints": [1, 2, None]}]}, "coco",
     r"coco\.json: annotations\[0\]\.keypoints"),
    ("yolo.json", [{"keypoints": {"x": [1, 2, 3], "y": [1, 2]}}], "auto",
     r"yolo\.json: \[0\]\.keypoints: x, y, visible differ in length"),
    ("yolo.json", [{"keypoints": [1, 2]}], "ultralytics", r"yolo\.json: \[0\]\.keypoints: expected"),
    ("yolo.npz", {"xy": np.zeros((2, 17, 2)), "conf": np.zeros((2, 5))}, "auto",
     r"yolo\.npz: conf: expected shape \(2, 17\)"),
    ("yolo.npz", {"boxes": np.zeros((2, 4))}, "ultralytics", r"yolo\.npz: expected an array 'xy'"),
    ("mp.json", {"image_size": [64, 48], "landmark": [{"x": 0.1}]}, "auto",
     r"mp\.json: landmarks\[0\]\[0\]: expected numbers x, y"),
    ("mp.json", {"landmark": [{"x": 0.1, "y": 0.2}]}, "auto", r"mp\.json: .*image_size"),
    ("bad.json", "{not json", "auto", r"bad\.json: cannot read JSON"),
])
def test_malformed_files_raise_naming_the_file_and_the_field(tmp_path, name, content, fmt, match):
    path = _write(tmp_path / name, content)
    with pytest.raises(AdapterError, match=match):
        read_detections(path, fmt)


# -- the ROS helper -----------------------------------------------------------------------------

def test_keypoints_fields_mark_missing_points_nan_and_clip_confidence():
    kp = _xy(17).astype(np.float32)
    kp[2] = np.nan
    conf = np.linspace(0, 3, 17).astype(np.float32)    # Detectron2 logits exceed 1
    f = keypoints_fields(Detection(kp, conf, "coco17", "person", 9))
    assert (f["rig"], f["category"], f["instance_id"]) == ("coco17", "person", 9)
    assert np.isnan(f["x"][2]) and np.isnan(f["y"][2]) and f["confidence"][2] == 0
    assert f["confidence"].max() == 1 and f["x"].dtype == np.float32
    np.testing.assert_array_equal(f["x"][:2], kp[:2, 0])


def test_to_keypoints_msg_is_what_the_node_parses():
    pytest.importorskip("lfm3d_ros.msg", reason="generated messages not built (scripts/setup_venv.sh)")
    from std_msgs.msg import Header

    from lfm3d_ros.conversions import Limits, parse_array
    from lfm3d_ros.detector_msgs import to_keypoints_msg

    doc, body, *_ = _openpose_doc()
    dets = from_openpose(doc)
    msg = to_keypoints_msg(dets, Header(frame_id="camera_optical"))
    assert msg.header.frame_id == "camera_optical" and len(msg.instances) == 3
    accepted, rejected = parse_array(msg, Limits(min_confidence=0.1), get_rig)
    assert rejected == [] and [a.rig for a in accepted] == ["body25", "face68", "hand21"]
    body_in = accepted[0]
    assert not body_in.valid[8] and body_in.valid.sum() == 24
    np.testing.assert_allclose(body_in.xy[0], body[0], rtol=1e-6)
    one = to_keypoints_msg(dets[0], Header())
    assert len(one.instances) == 1 and one.instances[0].rig == "body25"


# -- the examples ---------------------------------------------------------------------------------

def _example(name):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"example_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_comparison_scores_a_turned_scaled_copy_zero_and_a_flat_one_not():
    ex = _example("mediapipe_pose")
    world = np.random.default_rng(1).normal(size=(33, 3)) * 0.3
    c, s = np.cos(0.7), np.sin(0.7)
    turned = 400 * world @ np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]).T  # pixels, not metres
    mask = np.ones(33, bool)
    assert ex.compare(turned, world, mask)["pa_mpjpe_mm"] < 1e-3
    assert ex.compare(400 * world, world, mask)["n_mpjpe_mm"] < 1e-3
    flat = ex.compare(np.c_[world[:, :2], np.zeros(33)], world, mask)
    assert flat["pa_mpjpe_mm"] > 50 and flat["joints"] == 33


def test_mediapipe_example_lifts_the_astronaut_and_writes_a_file_the_cli_reads(tmp_path):
    pytest.importorskip("mediapipe", reason="optional: mediapipe==0.10.21 (its own venv, "
                                            "docs/inputs.md) runs the end-to-end example")
    pytest.importorskip("skimage", reason="optional: scikit-image ships the example's image")
    ex = _example("mediapipe_pose")
    figures = ex.run("astronaut", tmp_path)
    assert (tmp_path / "astronaut.png").read_bytes()[:4] == b"\x89PNG"
    assert figures["visible"] >= 8 and figures["image_size"] == [512, 512]
    for row in figures["rows"].values():
        assert 0 < row["pa_mpjpe_mm"] < 300
    (det,) = read_detections(tmp_path / "astronaut_landmarks.json")
    assert det.rig == "mediapipe_pose33"
    # the subject's left shoulder (11) is on the image's right for someone facing the camera
    assert det.keypoints[11, 0] > det.keypoints[12, 0]


def test_mocap_rig_check_gives_every_detector_rig_a_finite_row():
    from conftest import SHARED_DATA

    if not (SHARED_DATA / "cmu_iclone_mocap.npz").is_file():
        pytest.skip(f"needs the shared CMU mocap data at {SHARED_DATA}")
    ex = _example("detector_rigs_on_mocap")
    poses = np.load(SHARED_DATA / "cmu_iclone_mocap.npz")["positions"][::400]
    rows = ex.evaluate(poses)
    assert [r.split(" (")[0] for r in rows] == ["coco17", "no lifting", "body25",
                                                "coco17 + BODY_25's 6 foot points",
                                                "mediapipe_pose33"]
    assert all(np.isfinite(r["pa_mpjpe_mm"]) and r["pa_mpjpe_mm"] > 0 for r in rows.values())
