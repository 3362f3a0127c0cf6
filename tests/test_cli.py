"""`python -m lfm3d_net` round-trips JSON and NPZ, plots, and fails cleanly on bad files."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("lfm3d_net.inputs", reason="lfm3d_net.inputs not written yet")
pytest.importorskip("lfm3d_net.graph", reason="lfm3d_net.graph not written yet")

from lfm3d_net.cli import main  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _kp(n=17, seed=0):
    return np.random.default_rng(seed).uniform(50, 250, (n, 2)).round(2)


def test_json_round_trip_with_plot(tiny_onnx, tmp_path):
    src, dst, png = tmp_path / "in.json", tmp_path / "out.json", tmp_path / "plot.png"
    conf = np.ones(17)
    conf[3] = 0.0
    src.write_text(json.dumps({"instances": [
        {"keypoints": _kp().tolist(), "confidence": conf.tolist(), "rig": "coco17"},
        {"keypoints": _kp(5, 1).tolist(), "edges": [[0, 1], [1, 2], [2, 3], [3, 4]]},
    ]}))
    rc = main(["lift", str(src), str(dst), "--model", str(tiny_onnx), "--threads", "1",
               "--plot", str(png)])
    assert rc == 0
    out = json.loads(dst.read_text())
    first, second = out["instances"]
    assert np.asarray(first["points_3d"]).shape == (17, 3)
    assert first["valid"][3] is False and first["rig"] == "coco17"
    assert np.asarray(second["points_3d"]).shape == (5, 3)
    assert np.asarray(first["rotation"]).shape == (3, 3) and first["scale"] > 0
    assert png.stat().st_size > 1000 and png.read_bytes()[:4] == b"\x89PNG"


def test_npz_round_trip(tiny_onnx, tmp_path):
    src, dst = tmp_path / "in.npz", tmp_path / "out.npz"
    kp = np.stack([_kp(seed=s) for s in range(3)]).astype(np.float32)
    mask = np.ones((3, 17), bool)
    mask[0, 0] = False
    np.savez(src, keypoints=kp, mask=mask)
    assert main(["lift", str(src), str(dst), "--model", str(tiny_onnx), "--threads", "1",
                 "--rig", "coco17"]) == 0
    with np.load(dst) as out:
        assert out["points_3d"].shape == (3, 17, 3)
        assert out["rotation"].shape == (3, 3, 3) and out["scale"].shape == (3,)
        np.testing.assert_array_equal(out["mask"], mask)


def test_rigs_file_lets_the_input_name_a_user_rig(tiny_onnx, tmp_path, capsys):
    src, dst = tmp_path / "in.json", tmp_path / "out.json"
    kp = _kp(seed=1)[:7].tolist()
    src.write_text(json.dumps({"instances": [{"keypoints": kp, "rig": "upper_body7"}]}))
    args = ["lift", str(src), str(dst), "--model", str(tiny_onnx), "--threads", "1"]
    yaml_path = Path(__file__).resolve().parents[1] / "config" / "rigs_example.yaml"
    assert main(args + ["--rigs-file", str(yaml_path)]) == 0, capsys.readouterr().err
    assert np.asarray(json.loads(dst.read_text())["instances"][0]["points_3d"]).shape == (7, 3)
    assert main(args + ["--rigs-file", str(tmp_path / "missing.yaml")]) == 2
    assert "--rigs-file" in capsys.readouterr().err


@pytest.mark.parametrize("content, match", [
    ("{not json", "cannot read JSON"),
    ('{"persons": []}', "instances"),  # ({"people": []} is OpenPose's "nobody in the image")
    ('{"instances": [{"keypoints": [[1, 2], [3, 4], [5, 6]], "rig": "nope"}]}',
     r"instances\[0\].*rig"),
])
def test_bad_json_exits_2_without_traceback(tiny_onnx, tmp_path, capsys, content, match):
    src = tmp_path / "bad.json"
    src.write_text(content)
    rc = main(["lift", str(src), str(tmp_path / "o.json"), "--model", str(tiny_onnx)])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    assert __import__("re").search(match, err)


def test_missing_input_exits_2(tmp_path, capsys):
    assert main(["lift", str(tmp_path / "none.json"), str(tmp_path / "o.json")]) == 2
    assert "not found" in capsys.readouterr().err


def test_info_subprocess(tiny_onnx):
    """The real entry point (`python -m lfm3d_net info`) prints the model config."""
    proc = subprocess.run([sys.executable, "-m", "lfm3d_net", "info", "--model",
                           str(tiny_onnx)], cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["backend"] == "onnxruntime" and info["config"]["layers"] == 2


# -- detector formats (lfm3d_net.adapters) ----------------------------------------------------

def _openpose(path):
    rows = np.c_[_kp(25), np.ones(25)]
    hand = np.zeros((21, 3))
    hand[:2] = np.c_[_kp(2, 3), np.ones(2)]              # two points only: skipped with a note
    path.write_text(json.dumps({"people": [{"pose_keypoints_2d": rows.ravel().tolist(),
                                            "hand_left_keypoints_2d": hand.ravel().tolist()}]}))


def _coco(path):
    path.write_text(json.dumps([{"image_id": 42, "category_id": 1, "score": 0.9,
                                 "keypoints": np.c_[_kp(), np.full(17, 0.8)].ravel().tolist()}]))


def _ultralytics(path):
    np.savez(path, xy=np.stack([_kp(seed=1), _kp(seed=2)]), conf=np.full((2, 17), 0.9))


def _mediapipe(path):
    lms = [{"x": x / 640, "y": y / 480, "z": 0.0, "visibility": 0.9} for x, y in _kp(33, 4)]
    path.write_text(json.dumps({"landmark": lms}))


@pytest.mark.parametrize("writer, name, extra, want", [
    (_openpose, "op_keypoints.json", [], [("body25", "person", "people[0].pose_keypoints_2d")]),
    (_coco, "results.json", ["--format", "coco"], [("coco17", "person", "[0]")]),
    (_ultralytics, "yolo.npz", [], [("coco17", "person", "xy[0]"), ("coco17", "person", "xy[1]")]),
    (_mediapipe, "pose.json", ["--image-size", "640", "480"],
     [("mediapipe_pose33", "person", "landmarks[0]")]),
])
def test_lift_reads_each_detector_format(tiny_onnx, tmp_path, capsys, writer, name, extra, want):
    src, dst = tmp_path / name, tmp_path / "out.json"
    writer(src)
    rc = main(["lift", str(src), str(dst), "--model", str(tiny_onnx), "--threads", "1"] + extra)
    assert rc == 0, capsys.readouterr().err
    out = json.loads(dst.read_text())["instances"]
    assert [(i["rig"], i["category"], i["source"]) for i in out] == want
    assert all(np.isfinite(np.asarray(i["points_3d"])).all() for i in out)
    if writer is _coco:
        assert out[0]["image_id"] == 42
    if writer is _openpose:  # the two-point hand is skipped, and said so
        assert "skipped" in capsys.readouterr().err


def test_detector_rig_override_lifts_ap10k_results_as_quadrupeds(tiny_onnx, tmp_path):
    src, dst = tmp_path / "ap10k_results.json", tmp_path / "out.json"
    _coco(src)
    assert main(["lift", str(src), str(dst), "--model", str(tiny_onnx), "--threads", "1",
                 "--rig", "quadruped17"]) == 0
    assert json.loads(dst.read_text())["instances"][0]["rig"] == "quadruped17"


def test_as_rig_lifts_body25_people_as_coco17_and_their_hands_as_hands(tiny_onnx, tmp_path):
    src, dst = tmp_path / "op_keypoints.json", tmp_path / "out.json"
    body, hand = np.c_[_kp(25), np.ones(25)], np.c_[_kp(21, 5), np.ones(21)]
    src.write_text(json.dumps({"people": [{"pose_keypoints_2d": body.ravel().tolist(),
                                           "hand_right_keypoints_2d": hand.ravel().tolist()}]}))
    assert main(["lift", str(src), str(dst), "--model", str(tiny_onnx), "--threads", "1",
                 "--as-rig", "coco17"]) == 0
    out = json.loads(dst.read_text())["instances"]
    assert [(i["rig"], len(i["points_3d"])) for i in out] == [("coco17", 17), ("hand21", 21)]


@pytest.mark.parametrize("content, extra, match", [
    ({"people": []}, ["--as-rig", "nope"], r"--as-rig: unknown rig 'nope'"),
    ({"people": [{"pose_keypoints_2d": [1.0, 2.0]}]}, [],
     r"op\.json: people\[0\]\.pose_keypoints_2d: expected a flat list of 3\*K"),
    ({"landmark": [{"x": 0.1, "y": 0.2}] * 33}, [], r"op\.json: image_size: missing.*--image-size"),
    ({"detections": []}, [], r"op\.json: cannot tell the format.*--format"),
    ({"people": []}, ["--format", "lfm3d"], r"op\.json: expected an object with an 'instances'"),
    ({"people": []}, ["--rig", "nope"], r"--rig: unknown rig 'nope'"),
])
def test_malformed_detector_file_exits_2_naming_file_and_field(tiny_onnx, tmp_path, capsys,
                                                                content, extra, match):
    src = tmp_path / "op.json"
    src.write_text(json.dumps(content))
    rc = main(["lift", str(src), str(tmp_path / "o.json"), "--model", str(tiny_onnx)] + extra)
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    assert __import__("re").search(match, err), err


def test_a_detector_file_with_nobody_in_it_lifts_to_an_empty_list(tiny_onnx, tmp_path):
    src, dst = tmp_path / "empty_keypoints.json", tmp_path / "out.json"
    src.write_text(json.dumps({"version": 1.3, "people": []}))
    assert main(["lift", str(src), str(dst), "--model", str(tiny_onnx), "--threads", "1"]) == 0
    assert json.loads(dst.read_text())["instances"] == []
    assert main(["lift", str(src), str(tmp_path / "out.npz"), "--model", str(tiny_onnx)]) == 0
    with np.load(tmp_path / "out.npz") as out:
        assert out["points_3d"].shape == (0, 0, 3) and out["rotation"].shape == (0, 3, 3)
