"""The real-world proxy: held-out real people through the public `Lifter`, as a user feeds it.

Each set of `training.data.realworld` (real motion on skeletons the model never trained on)
is seen from seeded random orthographic views (any azimuth, elevation -10..35 deg, no roll),
its clean 2D lifted with `Lifter.lift` (a built-in rig by name; a user rig by its edges,
sides and fronts; or keypoints alone), and scored in mm:
- PA: similarity-Procrustes PA-MPJPE of the lifted points;
- camera: error of the camera-aligned output after centring and the best scale only, no
  rotation (what a robot using `points` sees; a depth-mirrored answer counts as wrong);
- flat: PA-MPJPE of the 2D itself at depth 0, the floor any lifter must beat.
Brackets are 95 % bootstrap intervals over clips (frames of one clip are not independent).
With two models, a second table gives the paired difference (second minus first) per row;
with --flip-average and one model, that model without and with `Lifter(flip_average=True)`.

    python -m bench.realworld                                   # the shipped model
    python -m bench.realworld --model a.onnx --model b.onnx     # two models, paired
    python -m bench.realworld --flip-average                    # plain vs flip-averaged, paired
    python -m bench.realworld --by-clip                         # + PA per clip (which motions)
    python -m bench.realworld --json proxy.json                 # + row summaries for card_table
    python -m bench.realworld --mirror                          # + the depth mirror of keypoints alone

--mirror (issue 28's stretch item): keypoints without sides cannot tell a shape from its depth
mirror. For each such set, every clip is seen from one fixed view, as a static camera sees a
moving subject, and scored three ways: as lifted; with the better of the lift and its depth
mirror per pose (what a network that commits to one of the two can reach at best); and with
the choice kept consistent along the clip from its first frame (`nearer_depth_mode` to the
previous frame's answer, what a node can do with a tracked instance; the first frame's mirror
choice stays a coin toss).
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

import numpy as np

from lfm3d_net import Lifter
from lfm3d_net.geometry import depth_mirror, nearer_depth_mode
from lfm3d_net.metrics import n_mpjpe, pa_mpjpe

ELEVATION_DEG = (-10.0, 35.0)
BOOTSTRAP = 2000


def view_rotations(m: int, seed: int, azimuth: tuple = (-np.pi, np.pi),
                   elevation_deg: tuple = ELEVATION_DEG) -> np.ndarray:
    """(m, 3, 3) rotations world (y up) -> camera optical frame (x right, y down, z ahead), each
    a random turn about world up (`azimuth`, radians) and a camera elevation (degrees, > 0 looks
    down), seeded; drawn in that order (azimuths, then elevations)."""
    rng = np.random.default_rng(seed)
    az = rng.uniform(*azimuth, m)
    el = np.radians(rng.uniform(*elevation_deg, m))
    ca, sa, ce, se = np.cos(az), np.sin(az), np.cos(el), np.sin(el)
    o, i = np.zeros(m), np.ones(m)
    turn = np.stack([ca, o, sa, o, i, o, -sa, o, ca], -1).reshape(m, 3, 3)
    tilt = np.stack([i, o, o, o, ce, -se, o, se, ce], -1).reshape(m, 3, 3)
    return np.diag([1.0, -1.0, -1.0]) @ tilt @ turn   # a half turn about x: y down, facing it


def random_views(poses: np.ndarray, seed: int, clips: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(M, N, 3) metres y-up -> 2D keypoints (M, N, 2) pixels (1 px = 1 mm, offset into the
    image) and camera-frame 3D (M, N, 3) metres (REP 103 optical: x right, y down, z ahead),
    each pose from its own orthographic view (`view_rotations`), or with `clips` (M,) each
    clip from one view (a static camera)."""
    x = poses - poses.mean(axis=1, keepdims=True)
    if clips is None:
        rot = view_rotations(len(poses), seed)
    else:
        names, inv = np.unique(clips, return_inverse=True)
        rot = view_rotations(len(names), seed)[inv]
    cam = np.einsum("mij,mnj->mni", rot, x)
    kp = 1000.0 * cam[..., :2] + 640.0
    return kp.astype(np.float32), cam


def lift_set(lifter: Lifter, s, kp: np.ndarray) -> np.ndarray:
    """Lift (M, N, 2) keypoints of held-out set `s` as a user would -> (M, N, 3) points."""
    if not s.structure:
        return lifter.lift(kp).points
    if s.user_rig:
        return lifter.lift(kp, edges=s.rig.edge_array(), sides=s.rig.side_array(),
                           fronts=s.rig.front_array()).points
    return lifter.lift(kp, rig=s.rig.name).points


def errors(points: np.ndarray, kp: np.ndarray, cam: np.ndarray) -> dict[str, np.ndarray]:
    """Per-pose errors in mm: PA, camera (centre + scale), flat floor. Each (M,)."""
    flat = np.concatenate([kp, np.zeros_like(kp[..., :1])], axis=-1)
    return {"pa": 1000 * pa_mpjpe(points, cam), "camera": 1000 * n_mpjpe(points, cam),
            "flat": 1000 * pa_mpjpe(flat, cam)}


def clip_interval(values: np.ndarray, clips: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """95 % bootstrap interval of the mean of (M,) values, resampling whole clips."""
    names, inv = np.unique(clips, return_inverse=True)
    sums = np.bincount(inv, weights=values)
    counts = np.bincount(inv).astype(np.float64)
    rng = np.random.default_rng(seed)
    draw = rng.integers(0, len(names), (BOOTSTRAP, len(names)))
    means = sums[draw].sum(1) / counts[draw].sum(1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(lo), float(hi)


def evaluate(model, sets, seed: int = 0, threads: int | None = None,
             flip_average: bool = False) -> list[dict]:
    """Per-set per-pose errors of `model` (.onnx path or None = shipped): a list of
    {"name", "clips", "pa", "camera", "flat"} in the order of `sets`."""
    rows = []
    with Lifter.load(model, backend="onnxruntime", threads=threads, flip_average=flip_average) as lifter:
        for k, s in enumerate(sets):
            kp, cam = random_views(s.poses, seed + k)
            rows.append({"name": s.name, "person": s.person, "input": s.input, "motion": s.motion,
                         "clips": s.clips,
                         **errors(lift_set(lifter, s, kp), kp, cam)})
    return rows


def along_clips(points: np.ndarray, clips: np.ndarray) -> np.ndarray:
    """(M, N, 3) lifts of consecutive frames -> each frame in the depth mode nearer the
    previous frame's answer of its clip (the first frame of a clip as lifted)."""
    out = np.array(points, copy=True)
    for i in range(1, len(out)):
        if clips[i] == clips[i - 1]:
            out[i:i + 1] = nearer_depth_mode(out[i:i + 1], out[i - 1:i])[0]
    return out


def mirror_rows(model, sets, seed: int = 0, threads: int | None = None) -> list[dict]:
    """For the sets without sides: per-pose errors (mm) as lifted, with the better depth
    mode per pose, and kept consistent along each clip; each clip from one view."""
    rows = []
    with Lifter.load(model, backend="onnxruntime", threads=threads) as lifter:
        for k, s in enumerate(sets):
            if s.structure:
                continue
            kp, cam = random_views(s.poses, seed + k, s.clips)
            points = lift_set(lifter, s, kp)
            plain, mirror = errors(points, kp, cam), errors(depth_mirror(points), kp, cam)
            take = mirror["pa"] < plain["pa"]  # the better mode by PA, scored on both
            best = {key: np.where(take, mirror[key], plain[key]) for key in ("pa", "camera")}
            rows.append({"name": s.name, "clips": s.clips, "plain": plain, "best": best,
                         "kept": errors(along_clips(points, s.clips), kp, cam)})
    return rows


def mirror_table(rows: list[dict]) -> str:
    """Markdown table of `mirror_rows`: PA and camera mm, three ways, clip intervals."""
    out = ["| held-out set (keypoints alone) | as lifted PA / camera | better mirror per pose | "
           "kept along the clip |", "|---|---:|---:|---:|"]
    for r in rows:
        cells = [f"{_cell(r[w]['pa'], r['clips'])} / {_cell(r[w]['camera'], r['clips'])}"
                 for w in ("plain", "best", "kept")]
        out.append(f"| {r['name']} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def summary(rows: list[dict]) -> list[dict]:
    """JSON-able row means (mm) with their clip-bootstrap intervals."""
    out = []
    for r in rows:
        entry = {k: r[k] for k in ("name", "person", "input", "motion")}
        entry.update(poses=len(r["pa"]), clips=len(set(r["clips"])), flat=float(r["flat"].mean()))
        for key in ("pa", "camera"):
            entry[key], entry[f"{key}_ci"] = float(r[key].mean()), clip_interval(r[key], r["clips"])
        out.append(entry)
    return out


def _cell(values: np.ndarray, clips: np.ndarray) -> str:
    lo, hi = clip_interval(values, clips)
    return f"{values.mean():.1f} [{lo:.1f}, {hi:.1f}]"


def table(rows: list[dict]) -> str:
    """Markdown table: set, poses, PA, camera, flat (mm, with clip-bootstrap intervals)."""
    out = ["| held-out set | poses | PA-MPJPE mm | camera-frame mm | flat z=0 PA mm |",
           "|---|---:|---:|---:|---:|"]
    for r in rows:
        out.append(f"| {r['name']} | {len(r['pa'])} | {_cell(r['pa'], r['clips'])} | "
                   f"{_cell(r['camera'], r['clips'])} | {r['flat'].mean():.1f} |")
    return "\n".join(out)


def paired_table(a: list[dict], b: list[dict]) -> str:
    """Markdown table of b minus a per row (PA and camera, mm), clip-bootstrap intervals;
    'better' / 'worse' only where the interval excludes 0."""
    out = ["| held-out set | PA: second - first | camera: second - first | verdict |",
           "|---|---:|---:|---|"]
    for ra, rb in zip(a, b):
        cells, verdicts = [], []
        for key in ("pa", "camera"):
            d = rb[key] - ra[key]
            lo, hi = clip_interval(d, ra["clips"])
            cells.append(f"{d.mean():+.1f} [{lo:+.1f}, {hi:+.1f}]")
            verdicts.append("better" if hi < 0 else "worse" if lo > 0 else "level")
        out.append(f"| {ra['name']} | {cells[0]} | {cells[1]} | PA {verdicts[0]}, camera {verdicts[1]} |")
    return "\n".join(out)


def clip_table(results: list[list[dict]], names: list[str], key: str = "pa") -> str:
    """Markdown tables of per-clip means (mm) of `key`, one per held-out set, a column per
    model: where each model's error comes from (e.g. which motions)."""
    out = []
    for k, row in enumerate(results[0]):
        out += [f"### {row['name']}\n", "| clip | poses | " + " | ".join(names) + " |",
                "|---|---:|" + "---:|" * len(names)]
        for clip in np.unique(row["clips"]):
            m = row["clips"] == clip
            out.append(f"| {clip} | {m.sum()} | " + " | ".join(f"{r[k][key][m].mean():.1f}" for r in results) + " |")
        out.append("")
    return "\n".join(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", action="append", default=[],
                   help=".onnx model (repeatable, at most 2; default: the shipped model)")
    p.add_argument("--data-dir", default="", help="the shared npz files (default: ../shared/data)")
    p.add_argument("--seed", type=int, default=0, help="view seed (set k uses seed + k)")
    p.add_argument("--threads", type=int, default=None, help="ONNX Runtime threads")
    p.add_argument("--flip-average", action="store_true",
                   help="lift the one model without and with flip averaging, paired")
    p.add_argument("--by-clip", action="store_true", help="also print PA per clip of every set")
    p.add_argument("--json", default="", help="also write the (first) model's row summaries here")
    p.add_argument("--dog-spread", type=float, default=None,
                   help="std of the dog's drawn joint angles, fraction of each half range "
                        "(default: training.data.realworld.DOG_SPREAD)")
    p.add_argument("--mirror", action="store_true",
                   help="also score keypoints alone as lifted, best depth mirror, kept along clips")
    args = p.parse_args(argv)
    if len(args.model) > 2 or (args.flip_average and len(args.model) > 1):
        p.error("at most two --model, or one with --flip-average")
    from training.data.realworld import DOG_SPREAD, held_out_sets   # training's numpy-only data code
    sets = held_out_sets(args.data_dir or None,
                         DOG_SPREAD if args.dog_spread is None else args.dog_spread)
    models = args.model or [None]
    # (model, flip averaging) per column: the models as given, or the one model plain and flipped
    runs = [(models[0], False), (models[0], True)] if args.flip_average else [(m, False) for m in models]
    results = [evaluate(m, sets, args.seed, args.threads, f) for m, f in runs]
    names = [(Path(m).name if m else "shipped model") + (" flip-averaged" if f else "") for m, f in runs]
    print(f"# Real-world proxy ({platform.machine()}, Python {platform.python_version()}, "
          f"view seed {args.seed})\n")
    for name, rows in zip(names, results):
        print(f"## {name}\n\n{table(rows)}\n")
    if args.json:
        Path(args.json).write_text(json.dumps({"model": models[0] or "shipped", "view_seed": args.seed,
                                               "rows": summary(results[0])}, indent=1) + "\n")
    if len(results) == 2:
        print(f"## {names[1]} minus {names[0]} (paired, same views)\n\n{paired_table(*results)}\n")
    if args.by_clip:
        print(f"## PA-MPJPE mm by clip\n\n{clip_table(results, names)}")
    if args.mirror:
        for m in models:
            name = Path(m).name if m else "shipped model"
            print(f"## {name}: depth mirror of keypoints alone (one view per clip)\n\n"
                  f"{mirror_table(mirror_rows(m, sets, args.seed, args.threads))}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
