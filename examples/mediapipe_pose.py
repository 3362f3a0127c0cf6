"""End to end on a real image: MediaPipe Pose 2D -> lfm3d 3D, beside MediaPipe's own 3D.

    python examples/mediapipe_pose.py [--image astronaut|camera|PATH] [--out out/example_mediapipe]

Needs MediaPipe's legacy `mp.solutions.pose` (mediapipe <= 0.10.21, the last release that has
it; it bundles the weights, so it runs offline) and scikit-image for the built-in images.
mediapipe 0.10.21 pins numpy < 2, so give it its own virtualenv (docs/inputs.md):

    python3.11 -m venv /tmp/mpvenv && /tmp/mpvenv/bin/pip install mediapipe==0.10.21 \
        scikit-image onnxruntime pyyaml matplotlib
    PYTHONPATH=. /tmp/mpvenv/bin/python examples/mediapipe_pose.py

Images (both from the scikit-image wheel, free to redistribute): `astronaut` (Eileen Collins,
NASA, public domain; frontal, upper body), `camera` (a man filming, CC0 by Lav Varshney;
profile, arms reaching forward: depth to get right). Neither shows a full body; no full-body
photo with a redistributable licence ships in a wheel we found.

Writes <out>/<name>.png (the image with the 2D landmarks, lfm3d's 3D, MediaPipe's 3D world
landmarks, and a top view of both aligned), <name>_landmarks.json (the 2D landmarks in the
MediaPipe file format `python -m lfm3d_net lift` reads) and <name>_compare.json (the figures).

The comparison: MediaPipe's world landmarks are its own 3D estimate (metres, hip-centred; from
the same network as its 2D, so not ground truth). On the landmarks MediaPipe sees (visibility
> 0.5) it gives PA-MPJPE (lfm3d's 3D similarity-aligned onto MediaPipe's: shape only) and
N-MPJPE (scale only: both are in the camera's axes, so this also counts a different
view of the body, e.g. depth the other way round), in mm of MediaPipe's metres, for lfm3d on
the 33-landmark rig and on the COCO-17 subset of it (a rig the model was trained on).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from lfm3d_net.adapters import Detection, from_mediapipe  # noqa: E402
from lfm3d_net.metrics import n_mpjpe, pa_mpjpe  # noqa: E402
from lfm3d_net.rigs import get_rig  # noqa: E402

MIN_VISIBILITY = 0.5  # what MediaPipe's own drawing_utils draws
# mediapipe_pose33 index of each coco17 joint (nose, eyes, ears, shoulders ... ankles)
COCO17_FROM_MP33 = [0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]
BUILTIN_IMAGES = ("astronaut", "camera")
# the comparison's rows: what is lifted, on which visible landmarks
ROWS = ("lfm3d, mediapipe_pose33 rig, all visible", "lfm3d, mediapipe_pose33 rig, COCO-17 joints",
        "lfm3d, coco17 rig on the COCO-17 subset", "no lifting: the 2D at depth 0, all visible")


def load_image(name: str) -> np.ndarray:
    """(H, W, 3) uint8 RGB: a scikit-image sample by name, else an image file."""
    if name in BUILTIN_IMAGES:
        from skimage import data

        img = getattr(data, name)()
    else:
        import matplotlib.image as mpimg

        img = mpimg.imread(name)
        img = (img * 255).astype(np.uint8) if img.dtype != np.uint8 else img
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return np.ascontiguousarray(img[..., :3])


def detect(image: np.ndarray):
    """MediaPipe Pose on one RGB image -> (Detection (33 points, pixels), world (33, 3) metres,
    the 2D landmarks as MessageToDict-style dicts), or None when nobody is found."""
    import mediapipe as mp

    with mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1) as pose:
        res = pose.process(image)  # model_complexity 1: the model inside the wheel
    if res.pose_landmarks is None:
        return None
    h, w = image.shape[:2]
    (det,) = from_mediapipe(res.pose_landmarks, (w, h))
    world = np.array([[p.x, p.y, p.z] for p in res.pose_world_landmarks.landmark])
    dicts = [{"x": p.x, "y": p.y, "z": p.z, "visibility": p.visibility}
             for p in res.pose_landmarks.landmark]
    return det, world, dicts


def lift_both(lifter, det: Detection, mask: np.ndarray) -> dict[str, np.ndarray]:
    """lfm3d 3D (33, 3) pixels of the 33-landmark rig and of its COCO-17 subset (NaN elsewhere)."""
    full = lifter.lift(det.keypoints, mask, rig="mediapipe_pose33").points
    sub = np.full((det.n, 3), np.nan, np.float32)
    sub[COCO17_FROM_MP33] = lifter.lift(det.keypoints[COCO17_FROM_MP33], mask[COCO17_FROM_MP33],
                                        rig="coco17").points
    return {"mediapipe_pose33": full, "coco17": sub}


def compare(pred: np.ndarray, world: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """PA-MPJPE and N-MPJPE (mm) of pred (N, 3) any units against MediaPipe's world (N, 3) m,
    over the points in mask (N,)."""
    ok = mask & np.isfinite(pred).all(axis=1)
    p, g, m = pred[None].astype(np.float64), world[None] * 1000.0, ok[None]
    p = np.where(m[..., None], p, 0.0)
    return {"pa_mpjpe_mm": round(float(pa_mpjpe(p, g, m)[0]), 1),
            "n_mpjpe_mm": round(float(n_mpjpe(p, g, m)[0]), 1), "joints": int(ok.sum())}


def aligned(pred: np.ndarray, world: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """pred (N, 3) similarity-aligned onto world (N, 3) over mask (for the top view)."""
    from lfm3d_net.geometry import apply_similarity, similarity_procrustes

    p = np.where(mask[:, None], pred, 0.0)[None].astype(np.float64)
    R, s, t = similarity_procrustes(p, world[None], mask[None])
    return apply_similarity(p, R, s, t)[0]


def plot(path: Path, image, det: Detection, mask, lfm: np.ndarray, world: np.ndarray,
         figures: dict) -> None:
    """Image + 2D | lfm3d 3D | MediaPipe 3D | top view (x-z) of both, aligned.
    figures: `compare`'s result for lfm (shown in the title)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    edges = [(a, b) for a, b in get_rig("mediapipe_pose33").edges if mask[a] and mask[b]]
    fig = plt.figure(figsize=(16, 4.4))
    ax = fig.add_subplot(1, 4, 1)
    ax.imshow(image)
    kp = det.keypoints
    for a, b in edges:
        ax.plot(kp[[a, b], 0], kp[[a, b], 1], c="w", lw=1.5)
    ax.scatter(kp[mask, 0], kp[mask, 1], s=10, c="tab:orange", zorder=3)
    ax.set_title(f"MediaPipe 2D ({int(mask.sum())} of 33 visible)")
    ax.axis("off")
    ax.set_xlim(0, image.shape[1])
    ax.set_ylim(image.shape[0], 0)
    for k, (pts, title) in enumerate([
            (lfm, f"lfm3d 3D (mediapipe_pose33), pixels\n"
                  f"PA-MPJPE {figures['pa_mpjpe_mm']} mm vs MediaPipe's"),
            (world, "MediaPipe 3D world landmarks, metres")]):
        ax3 = fig.add_subplot(1, 4, 2 + k, projection="3d")
        q = pts[mask]
        ax3.scatter(q[:, 0], q[:, 2], -q[:, 1], s=10, c="tab:red" if k == 0 else "tab:blue")
        for a, b in edges:  # camera frame shown as x right, z (depth) into the page, y up
            ax3.plot(pts[[a, b], 0], pts[[a, b], 2], -pts[[a, b], 1], c="tab:gray", lw=1.2)
        span = float(np.ptp(q, axis=0).max()) / 2
        mid = q.mean(axis=0)
        ax3.set_xlim(mid[0] - span, mid[0] + span)
        ax3.set_ylim(mid[2] - span, mid[2] + span)
        ax3.set_zlim(-mid[1] - span, -mid[1] + span)
        ax3.set_xlabel("x")
        ax3.set_ylabel("z (depth)")
        ax3.set_zlabel("-y")
        ax3.view_init(elev=15, azim=-60)
        ax3.set_title(title, fontsize=9)
    top = fig.add_subplot(1, 4, 4)
    a = aligned(lfm, world, mask)
    for pts, c, label in ((world, "tab:blue", "MediaPipe"), (a, "tab:red", "lfm3d (aligned)")):
        for i, j in edges:
            top.plot(pts[[i, j], 0], pts[[i, j], 2], c=c, lw=1.2)
        top.scatter(pts[mask, 0], pts[mask, 2], s=8, c=c, label=label)
    top.set_xlabel("x (m)")
    top.set_ylabel("z, depth (m)")
    top.invert_yaxis()  # the camera at the top looking down the page
    top.set_aspect("equal")
    top.legend(fontsize=8)
    top.set_title("top view (camera above)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def run(image_name: str, out: Path, threads: int = 1) -> dict:
    """The whole example for one image; returns the figures (also written as JSON)."""
    from lfm3d_net import Lifter

    image = load_image(image_name)
    found = detect(image)
    stem = Path(image_name).stem
    if found is None:
        raise SystemExit(f"MediaPipe found no person in {image_name}")
    det, world, dicts = found
    mask = det.mask(MIN_VISIBILITY)
    out.mkdir(parents=True, exist_ok=True)
    h, w = image.shape[:2]
    (out / f"{stem}_landmarks.json").write_text(json.dumps(
        {"image_size": [w, h], "landmarks": [{"landmark": dicts}]}, indent=1))
    with Lifter.load(threads=threads) as lifter:
        lifts = lift_both(lifter, det, mask)
    coco = np.isin(np.arange(det.n), COCO17_FROM_MP33)
    flat = np.c_[det.keypoints, np.zeros(det.n)]  # no lifting at all: the 2D at depth 0
    rows = {ROWS[0]: compare(lifts["mediapipe_pose33"], world, mask),
            ROWS[1]: compare(lifts["mediapipe_pose33"], world, mask & coco),
            ROWS[2]: compare(lifts["coco17"], world, mask & coco),
            ROWS[3]: compare(flat, world, mask)}
    figures = {"image": image_name, "image_size": [w, h], "visible": int(mask.sum()), "rows": rows}
    (out / f"{stem}_compare.json").write_text(json.dumps(figures, indent=1))
    plot(out / f"{stem}.png", image, det, mask, lifts["mediapipe_pose33"], world, rows[ROWS[0]])
    return figures


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--image", default="astronaut",
                   help=f"{' or '.join(BUILTIN_IMAGES)} (scikit-image samples) or an image path")
    p.add_argument("--out", default="out/example_mediapipe", help="output folder")
    p.add_argument("--threads", type=int, default=1, help="ONNX Runtime threads")
    args = p.parse_args(argv)
    figures = run(args.image, Path(args.out), args.threads)
    print(f"{args.image}: {figures['visible']} of 33 landmarks visible (> {MIN_VISIBILITY})")
    print("| 3D against MediaPipe's world landmarks | joints | PA-MPJPE (mm) | N-MPJPE (mm) |\n"
          "|---|---|---|---|")
    for row, f in figures["rows"].items():
        print(f"| {row} | {f['joints']} | {f['pa_mpjpe_mm']} | {f['n_mpjpe_mm']} |")
    print(f"wrote {args.out}/{Path(args.image).stem}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
