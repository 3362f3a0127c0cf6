"""How well the shipped model lifts each detector's layout: real CMU motion rendered as
coco17, body25 (OpenPose) and mediapipe_pose33 (MediaPipe Pose) keypoints.

    python examples/detector_rigs_on_mocap.py [--every 10] [--data ../shared/data]

The same people, poses and cameras for every rig: each frame of
../shared/data/cmu_iclone_mocap.npz (every `--every`-th) is turned into each rig's 3D points,
turned by a random yaw (0-360 deg) and elevation (-10..30 deg), seen by a perspective camera
(f = 1000 px) 5 m away, and lifted with the rig's edges, sides and fronts. The errors are
over the 17 COCO joints, which all three rigs have at the same 3D points, so the rows
differ only in the extra points the detector adds and the edges its rig uses:
PA-MPJPE (similarity-aligned, mm) and N-MPJPE (camera frame, scale only, mm); "no lifting"
is the 2D at depth 0. Points a rig has beyond COCO-17 are built as training builds them
(training/data/retarget.py: nose, ears, feet) or approximated here (MediaPipe's eye corners,
mouth, knuckles and thumb: a few cm from the eyes, nose and hand), so the MediaPipe row is a
proxy. Output: a markdown table (docs/inputs.md quotes it).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout

from bench.realworld import view_rotations  # noqa: E402
from lfm3d_net import Lifter  # noqa: E402
from lfm3d_net.metrics import n_mpjpe, pa_mpjpe  # noqa: E402
from lfm3d_net.rigs import get_rig  # noqa: E402
from training.data.retarget import J, face_points, foot_points, head_frame, to_coco17  # noqa: E402

RIGS = ("coco17", "body25", "mediapipe_pose33")


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def detector_points(p: np.ndarray) -> dict[str, np.ndarray]:
    """(M, 26, 3) mocap -> {rig: (M, N, 3) metres} for RIGS, in each rig's joint order."""
    g = {n: p[:, i] for n, i in J.items()}
    face = face_points(p)
    feet = {s: foot_points(p, s[0]) for s in ("left", "right")}
    _, left, up, fwd, k = head_frame(p)
    named = {"nose": face["nose"], "left_ear": face["left_ear"], "right_ear": face["right_ear"],
             "neck": 0.5 * (g["l_upperarm"] + g["r_upperarm"]),   # OpenPose: mid-shoulders
             "mid_hip": 0.5 * (g["l_thigh"] + g["r_thigh"])}
    for side, s in (("left", "l"), ("right", "r")):
        for joint, mocap in (("eye", "eye"), ("shoulder", "upperarm"), ("elbow", "forearm"),
                             ("wrist", "hand"), ("hip", "thigh"), ("knee", "calf"),
                             ("ankle", "foot")):
            named[f"{side}_{joint}"] = g[f"{s}_{mocap}"]
        named[f"{side}_big_toe"] = named[f"{side}_foot_index"] = feet[side]["big_toe"]
        named[f"{side}_small_toe"] = feet[side]["small_toe"]
        named[f"{side}_heel"] = feet[side]["heel"]
        # MediaPipe's extra points, approximated: eye corners 1.5 cm along the eye line,
        # knuckles and thumb beside the middle finger's base (mocap's *_mid1)
        out = _unit(g[f"{s}_eye"] - g[f"{'r' if s == 'l' else 'l'}_eye"])
        named[f"{side}_eye_outer"] = g[f"{s}_eye"] + 0.015 * k * out
        named[f"{side}_eye_inner"] = g[f"{s}_eye"] - 0.015 * k * out
        hand = g[f"{s}_mid1"] - g[f"{s}_hand"]
        lat = _unit(np.cross(hand, up)) * (1.0 if s == "l" else -1.0)
        named[f"{side}_index"] = g[f"{s}_mid1"] + 0.02 * lat
        named[f"{side}_pinky"] = g[f"{s}_mid1"] - 0.025 * lat
        named[f"{side}_thumb"] = g[f"{s}_hand"] + 0.6 * hand + 0.03 * lat
    mouth = face["nose"] - k * (0.035 * up + 0.01 * fwd)
    named["mouth_left"], named["mouth_right"] = mouth + 0.025 * k * left, mouth - 0.025 * k * left
    out = {"coco17": to_coco17(p).astype(np.float64)}
    for rig in RIGS[1:]:
        out[rig] = np.stack([named[j] for j in get_rig(rig).joints], axis=1)
    return out


def evaluate(poses: np.ndarray, threads: int = 1) -> dict[str, dict[str, float]]:
    """(M, 26, 3) mocap -> {row: {pa_mpjpe_mm, n_mpjpe_mm, pa_mpjpe_all_mm}} over COCO-17 joints."""
    pts = detector_points(poses.astype(np.float64))
    rot = view_rotations(len(poses), 0, (0, 2 * np.pi), (-10, 30))
    centre = pts["coco17"].mean(axis=1, keepdims=True)  # one camera target for all rigs
    rows = {}
    with Lifter.load(threads=threads) as lifter:
        for rig in RIGS:
            cam = np.einsum("mij,mnj->mni", rot, pts[rig] - centre) + [0.0, 0.0, 5.0]
            uv = (1000.0 * cam[..., :2] / cam[..., 2:]).astype(np.float32)
            gt = cam - cam.mean(axis=1, keepdims=True)
            coco = [get_rig(rig).index(j) for j in get_rig("coco17").joints]
            pred = np.asarray(lifter.lift(uv, rig=rig).points, np.float64)
            rows[f"{rig} ({get_rig(rig).n} points)"] = _errors(pred, gt, coco)
            if rig == "coco17":
                flat = np.concatenate([uv, np.zeros_like(uv[..., :1])], axis=-1)
                rows["no lifting (the 2D at depth 0)"] = {**_errors(flat, gt, coco),
                                                          "pa_mpjpe_all_mm": np.nan}
            if rig == "body25":  # which extra points cost: COCO-17 + the six foot points alone
                wb = get_rig("coco_wholebody133")   # (its first 23 points, edges, sides, fronts)
                feet = coco + [get_rig(rig).index(j) for j in wb.joints[17:23]]
                pred = lifter.lift(uv[:, feet], edges=[e for e in wb.edges if max(e) < 23],
                                   sides=wb.side_array()[:23], fronts=wb.front_array()[:23]).points
                rows["coco17 + BODY_25's 6 foot points (23)"] = _errors(
                    np.asarray(pred, np.float64), gt[:, feet], list(range(17)))
    return rows


def _errors(pred: np.ndarray, gt: np.ndarray, coco: list[int]) -> dict[str, float]:
    """PA- and N-MPJPE (mm) on the `coco` points and PA-MPJPE on all, of (M, N, 3) metres."""
    return {"pa_mpjpe_mm": pa_mpjpe(pred[:, coco], gt[:, coco]).mean() * 1000,
            "n_mpjpe_mm": n_mpjpe(pred[:, coco], gt[:, coco]).mean() * 1000,
            "pa_mpjpe_all_mm": pa_mpjpe(pred, gt).mean() * 1000}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=str(REPO.parent / "shared" / "data"),
                   help="folder with cmu_iclone_mocap.npz")
    p.add_argument("--every", type=int, default=10, help="use every N-th frame")
    p.add_argument("--threads", type=int, default=1, help="ONNX Runtime threads")
    args = p.parse_args(argv)
    path = Path(args.data) / "cmu_iclone_mocap.npz"
    if not path.is_file():
        print(f"needs {path} (the shared CMU mocap data)", file=sys.stderr)
        return 1
    poses = np.load(path)["positions"][::args.every]
    rows = evaluate(poses, args.threads)
    print(f"{len(poses)} CMU frames, random yaw / elevation -10..30 deg, f = 1000 px at 5 m\n")
    print("| rig lifted | PA-MPJPE, COCO-17 joints (mm) | N-MPJPE, COCO-17 joints (mm) "
          "| PA-MPJPE, all its points (mm) |\n|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['pa_mpjpe_mm']:.1f} | {r['n_mpjpe_mm']:.1f} | "
              f"{'' if np.isnan(r['pa_mpjpe_all_mm']) else format(r['pa_mpjpe_all_mm'], '.1f')} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
