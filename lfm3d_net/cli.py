"""Command line: `python -m lfm3d_net lift INPUT OUTPUT` and `python -m lfm3d_net info`.

INPUT is the lfm3d schema below or a detector's own output (OpenPose, COCO keypoint results,
Ultralytics YOLO-pose, MediaPipe), detected from the content or named with --format
(`lfm3d_net.adapters`, docs/inputs.md).

File schemas (docs/deployment.md has the full description):
  JSON in : {"instances": [{"keypoints": [[x, y], ...], "confidence": [...]?,
             "rig": "coco17"?, "edges": [[i, j], ...]?, "sides": [...]?, "fronts": [...]?}, ...]}
  JSON out: {"instances": [{"points_3d": [[x, y, z], ...], "valid": [...],
             "rotation": 3x3, "scale": s, "center": [cx, cy], "rig"?, "edges"?}], ...}
  NPZ in  : keypoints (B, N, 2), optional mask (B, N), edges (E, 2), sides and fronts (N,)|(B, N)
  NPZ out : points_3d (B, N, 3), canonical (B, N, 3), rotation (B, 3, 3), scale (B,),
            center (B, 2), mask (B, N)
  Detector input -> JSON out as above, each instance also with "category", "source" (where
  in the input it came from) and, where the input has them, "instance_id" and "image_id".
Bad files or bad keypoints print one clear line and exit with code 2.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

from .adapters import FORMATS, AdapterError, detect_format, read_detections, to_rig
from .inputs import MIN_VALID_POINTS
from .rigs import RIGS

EXIT_BAD_INPUT = 2
FRAME_NOTE = ("camera-aligned, root-relative, input units; x right, y down, z forward "
              "(REP 103 optical frame)")


class InputError(Exception):
    """A problem with the user's files or keypoints (reported without a traceback)."""


# -- reading ------------------------------------------------------------------------------

def _read_json(path: Path, min_conf: float) -> list[dict]:
    """Instances of a JSON file as dicts of numpy arrays: keypoints (N,2), mask (N,),
    edges (E,2)|None, sides (N,)|None, rig str|None."""
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{path}: cannot read JSON ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("instances"), list):
        raise InputError(f"{path}: expected an object with an 'instances' list")
    out = []
    for i, inst in enumerate(doc["instances"]):
        where = f"{path}: instances[{i}]"
        if not isinstance(inst, dict) or "keypoints" not in inst:
            raise InputError(f"{where}: expected an object with 'keypoints'")
        try:
            kp = np.asarray(inst["keypoints"], dtype=np.float32)
            conf = inst.get("confidence")
            mask = None if conf is None else np.asarray(conf, dtype=np.float32) > min_conf
            edges = inst.get("edges")
            edges = None if edges is None else np.asarray(edges, dtype=np.int64).reshape(-1, 2)
            sides, fronts = (None if inst.get(k) is None else np.asarray(inst[k], dtype=np.float32)
                             for k in ("sides", "fronts"))
        except (TypeError, ValueError) as exc:
            raise InputError(f"{where}: {exc}") from None
        if mask is not None and mask.shape != kp.shape[:1]:
            raise InputError(f"{where}: {mask.size} confidences for {len(kp)} keypoints")
        out.append({"keypoints": kp, "mask": mask, "edges": edges, "sides": sides,
                    "fronts": fronts, "rig": inst.get("rig")})
    return out


def _read_npz(path: Path) -> dict:
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read NPZ ({exc})") from None
    if "keypoints" not in arrays:
        raise InputError(f"{path}: NPZ has no 'keypoints' array (found {sorted(arrays)})")
    return arrays


def _read_detector(src: Path, fmt: str, args) -> list[dict]:
    """A detector's output file -> instance dicts as `_read_json` gives, plus "meta" (category,
    source, ids). Instances with fewer than MIN_VALID_POINTS points above --min-confidence are
    skipped with a note on stderr (detector output holds such hands and faces; the node drops
    them the same way)."""
    try:
        dets = read_detections(src, fmt, args.image_size, args.rig)
    except AdapterError as exc:
        raise InputError(str(exc)) from None
    except KeyError as exc:  # an unknown --rig
        raise InputError(f"--rig: {exc.args[0]}") from None
    if args.as_rig and args.as_rig not in RIGS:
        raise InputError(f"--as-rig: unknown rig {args.as_rig!r}; known rigs: {sorted(RIGS)}")
    if args.rig and dets and not any(d.rig == args.rig for d in dets):
        print(f"note: --rig {args.rig} fits none of the {len(dets)} instance(s) of {src} "
              f"(point counts {sorted({d.n for d in dets})})", file=sys.stderr)
    if args.as_rig:
        dets = [_as_rig(d, args.as_rig) for d in dets]
    out = []
    for d in dets:
        mask = d.mask(args.min_confidence)
        if mask.sum() < MIN_VALID_POINTS:
            print(f"note: skipped {src}: {d.source}: {int(mask.sum())} point(s) above "
                  f"--min-confidence {args.min_confidence} ({MIN_VALID_POINTS} needed)",
                  file=sys.stderr)
            continue
        meta = {"category": d.category, "source": d.source}
        meta.update({k: v for k, v in (("instance_id", d.instance_id), ("image_id", d.image_id))
                     if v not in (None, -1)})
        out.append({"keypoints": d.keypoints, "mask": mask, "edges": None, "sides": None,
                    "fronts": None, "rig": d.rig or None, "meta": meta})
    return out


def _as_rig(det, rig: str):
    """`to_rig(det, rig)` where det's rig has all of rig's joints, else det unchanged."""
    try:
        return to_rig(det, rig)
    except AdapterError:  # a hand or face beside the body: lifted on its own rig
        return det


# -- writing ------------------------------------------------------------------------------

def _instance_json(result, inst: dict) -> dict:
    out = {"points_3d": np.round(result.points, 6).tolist(), "valid": result.mask.tolist(),
           "rotation": np.round(result.rotation, 6).tolist(), "scale": float(result.scale),
           "center": np.round(result.center, 6).tolist()}
    if inst.get("rig"):
        out["rig"] = inst["rig"]
    if inst.get("edges") is not None:
        out["edges"] = inst["edges"].tolist()
    out.update(inst.get("meta", {}))
    return out


def _plot(path: Path, items: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]],
          max_rows: int = 4) -> None:
    """Input 2D beside the lifted 3D, one row per instance (first `max_rows`).

    items: (keypoints (N,2), points (N,3), mask (N,), edges (E,2) or None).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = items[:max_rows]
    fig = plt.figure(figsize=(8, 4 * len(rows)))
    for r, (kp, pts, mask, edges) in enumerate(rows):
        ax2 = fig.add_subplot(len(rows), 2, 2 * r + 1)
        ax3 = fig.add_subplot(len(rows), 2, 2 * r + 2, projection="3d")
        bones = [] if edges is None else [(a, b) for a, b in edges if mask[a] and mask[b]]
        ax2.scatter(kp[mask, 0], kp[mask, 1], s=12, c="tab:blue")
        for a, b in bones:
            ax2.plot(kp[[a, b], 0], kp[[a, b], 1], c="tab:gray", lw=1.5)
        ax2.invert_yaxis()  # image axes: y down
        ax2.set_aspect("equal")
        ax2.set_title(f"instance {r}: input 2D")
        # Show camera frame (x right, y down, z forward) as x right, z into the page, y up
        # on screen: plot (x, z, -y).
        x, y, z = pts[mask, 0], pts[mask, 1], pts[mask, 2]
        ax3.scatter(x, z, -y, s=12, c="tab:red")
        for a, b in bones:
            ax3.plot(pts[[a, b], 0], pts[[a, b], 2], -pts[[a, b], 1], c="tab:gray", lw=1.5)
        ax3.set_xlabel("x")
        ax3.set_ylabel("z (depth)")
        ax3.set_zlabel("-y")
        ax3.set_title("lifted 3D")
        span = float(np.ptp(pts[mask], axis=0).max()) / 2 or 1.0
        mid = pts[mask].mean(axis=0)
        ax3.set_xlim(mid[0] - span, mid[0] + span)
        ax3.set_ylim(mid[2] - span, mid[2] + span)
        ax3.set_zlim(-mid[1] - span, -mid[1] + span)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


# -- commands -----------------------------------------------------------------------------

def _load_lifter(args):
    from .lifter import Lifter

    try:
        return Lifter.load(args.model, backend=args.backend, threads=args.threads)
    except (FileNotFoundError, ValueError) as exc:
        raise InputError(str(exc)) from None


def cmd_lift(args) -> int:
    src, dst = Path(args.input), Path(args.output)
    if not src.is_file():
        raise InputError(f"input file not found: {src}")
    if src.suffix not in (".json", ".npz") or dst.suffix not in (".json", ".npz"):
        raise InputError("INPUT and OUTPUT must end in .json or .npz")
    if args.rigs_file:
        from lfm3d_net.rigs import load_rigs_yaml
        try:
            load_rigs_yaml(args.rigs_file)
        except (OSError, ValueError) as exc:
            raise InputError(f"--rigs-file: {exc}") from None
    fmt = args.format
    if fmt == "auto":
        try:
            fmt = detect_format(src)
        except AdapterError as exc:
            raise InputError(str(exc)) from None
    lifter = _load_lifter(args)
    if fmt == "lfm3d" and src.suffix == ".npz":
        lifted, plot_items, arrays = _lift_npz(lifter, src, args.rig)
    else:
        instances, default_rig = ((_read_json(src, args.min_confidence), args.rig) if fmt == "lfm3d"
                                  else (_read_detector(src, fmt, args), None))
        lifted, plot_items = _lift_instances(lifter, instances, src, default_rig)
        arrays = None
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.suffix == ".json":
        doc = {"frame": FRAME_NOTE, "backend": lifter.backend_name,
               "model": Path(lifter.model_info.get("path", "")).name,
               "instances": [_instance_json(r, inst) for inst, r in lifted]}
        dst.write_text(json.dumps(doc, indent=1))
    else:
        if arrays is None:
            arrays = _stack([r for _, r in lifted], src)
        np.savez(dst, **arrays)
    if args.plot and plot_items:
        _plot(Path(args.plot), plot_items)
    elif args.plot:
        print(f"note: no instances, so no plot written to {args.plot}", file=sys.stderr)
    print(f"lifted {len(lifted)} instance(s) with {lifter.backend_name} -> {dst}")
    return 0


def _lift_npz(lifter, src: Path, rig: str | None):
    """Lift an lfm3d-schema NPZ in one call -> ([(instance, LiftResult)], plot items, arrays)."""
    data = _read_npz(src)
    try:
        res = lifter.lift(data["keypoints"], data.get("mask"), data.get("edges"),
                          rig, data.get("sides"), fronts=data.get("fronts"))
    except ValueError as exc:
        raise InputError(f"{src}: {exc}") from None
    if res.points.ndim == 2:  # (N, 2) input: keep the file's own shape
        kp_b = data["keypoints"][None]
    else:
        kp_b = data["keypoints"]
    res_b = _batched(res)
    edges = data.get("edges")
    if edges is None and rig:
        edges = lifter.rig_arrays(rig)[0]
    plot_items = [(kp_b[b], res_b.points[b], res_b.mask[b], edges)
                  for b in range(len(res_b.points))]
    lifted = [({"rig": rig, "edges": edges}, _index(res_b, b))
              for b in range(len(res_b.points))]
    arrays = {"points_3d": res.points, "canonical": res.canonical,
              "rotation": res.rotation, "scale": res.scale, "center": res.center,
              "mask": res.mask}
    return lifted, plot_items, arrays


def _lift_instances(lifter, instances: list[dict], src: Path, default_rig: str | None):
    """Lift instance dicts one by one -> ([(instance, LiftResult)], plot items).
    default_rig: the rig of instances that name none (the lfm3d schema's --rig)."""
    lifted, plot_items = [], []
    for i, inst in enumerate(instances):
        rig = inst["rig"] or default_rig
        where = inst.get("meta", {}).get("source", f"instances[{i}]")
        try:
            res = lifter.lift(inst["keypoints"], inst["mask"], inst["edges"], rig,
                              inst["sides"], fronts=inst["fronts"])
        except ValueError as exc:
            raise InputError(f"{src}: {where}: {exc}") from None
        lifted.append((inst, res))
        edges = inst["edges"] if inst["edges"] is not None else (
            lifter.rig_arrays(rig)[0] if rig else None)
        plot_items.append((inst["keypoints"], res.points, res.mask, edges))
    return lifted, plot_items


def _batched(res):
    from .lifter import LiftResult

    if res.points.ndim == 3:
        return res
    return LiftResult(*(np.asarray(getattr(res, f))[None] for f in
                        ("points", "canonical", "rotation", "scale", "center", "mask")))


def _index(res, b):
    from .lifter import LiftResult

    return LiftResult(res.points[b], res.canonical[b], res.rotation[b], res.scale[b],
                      res.center[b], res.mask[b])


def _stack(results, src) -> dict:
    """JSON instances -> NPZ arrays (needs one N for all instances)."""
    if len({r.points.shape for r in results}) > 1:
        raise InputError(f"{src}: instances have different N; write JSON output instead")
    if not results:  # nobody detected: empty arrays of the same names (B = N = 0)
        return {"points_3d": np.zeros((0, 0, 3), np.float32),
                "canonical": np.zeros((0, 0, 3), np.float32),
                "rotation": np.zeros((0, 3, 3), np.float32), "scale": np.zeros(0, np.float32),
                "center": np.zeros((0, 2), np.float32), "mask": np.zeros((0, 0), bool)}
    return {"points_3d": np.stack([r.points for r in results]),
            "canonical": np.stack([r.canonical for r in results]),
            "rotation": np.stack([r.rotation for r in results]),
            "scale": np.array([r.scale for r in results], dtype=np.float32),
            "center": np.stack([r.center for r in results]),
            "mask": np.stack([r.mask for r in results])}


def cmd_info(args) -> int:
    lifter = _load_lifter(args)
    print(json.dumps(lifter.info(), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lfm3d_net",
                                description="Lift 2D keypoints to 3D with a 3D-LFM model.")
    p.add_argument("-v", "--verbose", action="store_true", help="log backend choice etc.")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp):
        sp.add_argument("--model", default=None,
                        help="exported .onnx model or a shipped name (default: the shipped "
                             "default for the backend)")
        sp.add_argument("--backend", default="auto",
                        choices=("auto", "tensorrt", "onnxruntime"), help="inference runtime")
        sp.add_argument("--threads", type=int, default=None,
                        help="ONNX Runtime threads (default: all cores)")

    lift = sub.add_parser("lift", help="lift the keypoints in a JSON or NPZ file")
    lift.add_argument("input", help="input .json or .npz: the lfm3d schema (docs/deployment.md) "
                                    "or a detector's output (docs/inputs.md)")
    lift.add_argument("output", help="output .json or .npz")
    lift.add_argument("--format", default="auto", choices=("auto", "lfm3d") + FORMATS,
                      help="input format (default: detected from the content)")
    lift.add_argument("--image-size", type=float, nargs=2, metavar=("W", "H"), default=None,
                      help="image width and height in pixels, for normalised coordinates "
                           "(MediaPipe landmarks; Ultralytics to_json(normalize=True))")
    lift.add_argument("--rig", default=None,
                      help="rig name for instances that name none (supplies edges and sides); "
                           "detector formats: used instead of the format's own rig wherever its "
                           "point count fits (e.g. quadruped17 for AP-10K COCO results)")
    lift.add_argument("--as-rig", default=None,
                      help="detector formats: lift each instance whose rig has all of this rig's "
                           "joints as this rig (picked by name), e.g. coco17 for OpenPose BODY_25 "
                           "or MediaPipe Pose: the shipped model lifts them better so "
                           "(docs/inputs.md); other instances as they are")
    lift.add_argument("--rigs-file", default=None,
                      help="YAML of your own rigs (config/rigs_example.yaml) that --rig and the input may name")
    lift.add_argument("--min-confidence", type=float, default=0.0,
                      help="JSON and detector input: points with confidence <= this are "
                           "treated as missing")
    lift.add_argument("--plot", default=None, help="write a PNG of input 2D beside lifted 3D")
    common(lift)
    lift.set_defaults(func=cmd_lift)
    info = sub.add_parser("info", help="print model metadata and the chosen backend")
    common(info)
    info.set_defaults(func=cmd_info)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
