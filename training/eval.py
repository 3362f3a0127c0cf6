"""Evaluate a 3D-LFM checkpoint against the flat floor and SimpleBaseline.

    python -m training.eval --checkpoint runs/small/best --out runs/small/eval --samples 512

Writes markdown tables to stdout and ``<out>/eval.md``, raw numbers to ``<out>/eval.json``
and figures to ``<out>/fig_<category>.png``.

Metric definitions (every method's output goes through the same steps):
- MPJPE (protocol 1): the prediction is camera-aligned like the runtime Lifter does it
  (``lfm3d_net.geometry.align_to_camera`` of the canonical shape against the observed 2D:
  proper rotation, x/y along the image axes, z = depth), then scaled so its RMS radius
  equals the ground truth's (monocular scale is unknown; this is what a known object size
  gives), both root-relative (centred on the visible points' centroid); mean joint
  distance over visible points. Depth sign is NOT corrected: the depth ambiguity of an
  orthographic view is reported as is.
- PA-MPJPE (protocol 2): after a similarity Procrustes fit (rotation, scale, translation)
  of the prediction to the ground truth.
- Units: % of the ground-truth instance's RMS radius (every category), and mm for the
  person category (its 3D data is in metres).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import yaml
import torch

from training.config import TrainConfig, build_mixture, make_source, training_sources
from training.metrics import MM_CATEGORIES, camera_aligned, lift_metrics, summarise  # noqa: F401  (re-exported)

DEFAULT_PERSPECTIVE_FIELD = "p_perspective"  # ViewConfig: probability of a perspective camera
DEFAULT_TRANSFER = ("cmu_mocap_h36m17", "cmu_mocap_panoptic15")  # 17-joint <-> 15-joint, same motion


# ----------------------------------------------------------------------------- runners
@torch.no_grad()
def run_lfm(model: torch.nn.Module, b: dict) -> np.ndarray:
    """The model's canonical (B, N, 3) output for a batch dict, as float32 numpy."""
    return model(b["keypoints"], b["mask"], b["adjacency"], b["sides"], b.get("fronts")).float().cpu().numpy()


def run_simple_baseline(model, b: dict) -> np.ndarray:
    """A SimpleBaseline's (B, N, 3) camera-frame prediction for a batch dict, as numpy."""
    from training.baselines import predict_simple_baseline
    return predict_simple_baseline(model, *_np(b)[:2])


@torch.no_grad()
def run_lfm_flip_average(model: torch.nn.Module, b: dict) -> np.ndarray:
    """`run_lfm` averaged with the lift of the mirror image, as `Lifter(flip_average=True)`:
    (B, N, 3) camera frame in the input's 2D units."""
    from lfm3d_net.geometry import mirror_average, mirror_x
    kp, m, _ = _np(b)
    mirrored = {**b, "keypoints": b["keypoints"] * b["keypoints"].new_tensor([-1.0, 1.0]), "sides": -b["sides"]}
    return mirror_average(camera_aligned(run_lfm(model, b), kp, m, to_2d_units=True),
                          camera_aligned(run_lfm(model, mirrored), mirror_x(kp), m, to_2d_units=True))


def draw(name: str, samples: int, cfg: TrainConfig, seed: int, device, views: dict | None = None,
         batch_size: int = 256) -> list[dict]:
    """Fixed, seeded val-split batches of one source (``views`` overrides cfg.views)."""
    c = TrainConfig(**{**cfg.to_dict(), "views": {**cfg.views, **(views or {})}})
    mix = build_mixture([name], {}, "val", c)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    out, left = [], samples
    while left > 0:
        out.append(mix.batch(min(batch_size, left), gen, device))
        left -= batch_size
    return out


def _np(b: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (b["keypoints"].float().cpu().numpy(), b["mask"].cpu().numpy().astype(bool),
            b["target"].float().cpu().numpy())


def instance_errors(batches: list[dict], fn) -> dict:
    """`lift_metrics` of ``fn(batch) -> (B, N, 3) numpy`` over every batch: dict of (S,) arrays,
    S the total instances, in batch order (the same order for every method)."""
    acc: dict[str, list] = {}
    for b in batches:
        kp, m, tgt = _np(b)
        for k, v in lift_metrics(fn(b), kp, m, tgt).items():
            acc.setdefault(k, []).append(v)
    return {k: np.concatenate(v) for k, v in acc.items()}


def evaluate_methods(batches: list[dict], methods: dict, category: str) -> dict:
    """method name -> summary; ``methods`` maps a name to ``fn(batch) -> (B, N, 3) numpy``."""
    return {mname: summarise(instance_errors(batches, fn), category) for mname, fn in methods.items()}


@torch.no_grad()
def permutation_deviation(model: torch.nn.Module, b: dict, seed: int = 0) -> float:
    """Max |f(P x) - P f(x)| over a batch, in the model's normalised output units."""
    n = b["keypoints"].shape[1]
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).to(b["keypoints"].device)
    fr = b.get("fronts")
    ref = model(b["keypoints"], b["mask"], b["adjacency"], b["sides"], fr)
    adj = b["adjacency"][:, perm][:, :, perm]
    out = model(b["keypoints"][:, perm], b["mask"][:, perm], adj, b["sides"][:, perm],
                None if fr is None else fr[:, perm])
    return float((out - ref[:, perm]).abs().max())


# ----------------------------------------------------------------------------- figures
def save_figure(path: Path, b: dict, pred: np.ndarray, edges: np.ndarray, title: str, k: int = 3) -> None:
    """k rows of (2D input | predicted 3D, camera-aligned | ground truth 3D) as a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    kp, m, tgt = _np(b)
    k = min(k, kp.shape[0])
    cam = camera_aligned(pred[:k], kp[:k], m[:k])
    fig = plt.figure(figsize=(10, 3.2 * k))
    for i in range(k):
        vis = m[i]
        g = tgt[i] - tgt[i][vis].mean(0)
        p = cam[i] * np.sqrt((g[vis] ** 2).sum(1).mean() / max((cam[i][vis] ** 2).sum(1).mean(), 1e-12))
        ax = fig.add_subplot(k, 3, 3 * i + 1)
        ax.scatter(kp[i, vis, 0], kp[i, vis, 1], s=8)
        for a, c in edges:
            if vis[a] and vis[c]:
                ax.plot(kp[i, [a, c], 0], kp[i, [a, c], 1], "b-", lw=1)
        ax.invert_yaxis(), ax.set_aspect("equal"), ax.set_title("2D input" if i == 0 else "")
        for j, (pts, name) in enumerate(((p, "predicted 3D (camera-aligned)"), (g, "ground truth"))):
            ax = fig.add_subplot(k, 3, 3 * i + 2 + j, projection="3d")
            # camera frame (x right, y down, z forward) drawn with y up on screen
            X, Y, Z = pts[:, 0], pts[:, 2], -pts[:, 1]
            ax.scatter(X[vis], Y[vis], Z[vis], s=6)
            for a, c in edges:
                if vis[a] and vis[c]:
                    ax.plot(X[[a, c]], Y[[a, c]], Z[[a, c]], "r-" if j == 0 else "g-", lw=1)
            lim = np.abs(g[vis]).max() * 1.1
            ax.set_xlim(-lim, lim), ax.set_ylim(-lim, lim), ax.set_zlim(-lim, lim)
            ax.view_init(elev=15, azim=-75)
            ax.set_title(name if i == 0 else "")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


# ----------------------------------------------------------------------------- tables
def _cell(s: dict | None) -> tuple[str, str]:
    if s is None:
        return "—", "—"
    mm = s.get("mpjpe_mm")
    a = f"{s['mpjpe_pct']:.1f}%" + (f" ({mm:.0f} mm)" if mm is not None else "")
    b = f"{s['pa_mpjpe_pct']:.1f}%" + (f" ({s['pa_mpjpe_mm']:.0f} mm)" if mm is not None else "")
    return a, b


def table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


MAIN_HEADERS = ["source", "category", "rig", "status", "3D-LFM MPJPE", "3D-LFM PA-MPJPE",
                "flat MPJPE", "flat PA-MPJPE", "SimpleBaseline MPJPE", "SimpleBaseline PA-MPJPE"]


# ----------------------------------------------------------------------------- experiments
def status_of(name: str, info: dict, train_names: list[str]) -> str:
    """train | held-out source | held-out rig | OOD category (relative to the training sources)."""
    if name in train_names:
        return "train"
    cats = {info[n]["category"] for n in train_names}
    rigs = {info[n]["rig"] for n in train_names}
    if info[name]["category"] not in cats:
        return "OOD category"
    if info[name]["rig"] not in rigs:
        return "held-out rig"
    return "held-out source"


def rig_transfer(a: str, b: str, cfg: TrainConfig, args, device, out: Path) -> list[list]:
    """Train a small 3D-LFM on source ``a`` only, test on ``a`` and ``b``; then the reverse.

    Like the paper's Table 3 (train on one rig, test on another of the same category).
    """
    from training.checkpoint import load_model
    from training.train import train
    rows = []
    for src, other in ((a, b), (b, a)):
        tc = TrainConfig(**{**cfg.to_dict(), "sources": [src], "val_sources": [src], "weights": {},
                            "model_preset": args.transfer_preset, "model": {}, "init_from": "",
                            "steps": args.transfer_steps, "warmup_steps": min(100, args.transfer_steps // 5),
                            "eval_every": args.transfer_steps, "ckpt_every": 0, "early_stop_patience": 0,
                            "val_batches": 1, "batch_size": args.transfer_batch_size, "val_batch_size": 64,
                            "time_budget_min": args.transfer_minutes, "out_dir": str(out / f"transfer_{src}"),
                            "device": str(device), "compile": False})
        steps = train(tc)["steps"]  # a --transfer-minutes cap can stop it early (CPU)
        model = load_model(Path(tc.out_dir) / "last", device)
        for test in (src, other):
            cat = make_source(test, cfg).category
            bt = draw(test, args.samples, cfg, seed=args.seed + 5, device=device)
            r = evaluate_methods(bt, {"lfm": lambda x: run_lfm(model, x)}, cat)["lfm"]
            rows.append([f"{src} ({make_source(src, cfg).rig})", f"{test} ({make_source(test, cfg).rig})",
                         "same rig" if test == src else "transfer", steps, *_cell(r)])
    return rows


# "Clean 2D": exact projections, every point visible, rig edges and sides always given.
CLEAN_VIEWS = {"noise_std": 0.0, "p_missing": 0.0, "p_edge_dropout": 0.0, "p_sides_dropout": 0.0,
               "p_fronts_dropout": 0.0}


def view_overrides(args) -> dict:
    """ViewConfig overrides from ``--clean`` and ``--view KEY=VALUE`` (values parsed as YAML)."""
    out = dict(CLEAN_VIEWS) if args.clean else {}
    for item in args.view:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--view takes KEY=VALUE, got {item!r}")
        out[key] = yaml.safe_load(value)
    return out


def load_for_eval(checkpoint: str, device, data_dir: str = "") -> tuple[torch.nn.Module, TrainConfig, dict]:
    """(model in eval mode, the TrainConfig it was trained with, its checkpoint ``extra``):
    the config fills in the views, sources and data the evaluation draws from."""
    from training.checkpoint import load_metadata, load_model
    model = load_model(checkpoint, device)
    extra = load_metadata(checkpoint).get("extra", {})
    cfg = TrainConfig(**{**TrainConfig().to_dict(), **extra.get("train_config", {})})
    if data_dir:
        cfg.data_dir = data_dir
    return model, cfg, extra


def evaluate(args) -> str:
    """Run every table; returns the markdown (also written to ``<out>/eval.md``)."""
    from lfm3d_net.rigs import get_rig
    from training.baselines import BaselineConfig, flat_lift, load_baseline, save_baselines, train_per_rig
    from training.data import registry
    t0 = time.perf_counter()
    device = torch.device(args.device)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model, cfg, extra = load_for_eval(args.checkpoint, device, args.data_dir)
    train_views = dict(cfg.views)  # what 3D-LFM was trained on; the baselines get the same
    cfg.views = {**cfg.views, **view_overrides(args)}
    train_names = extra.get("train_sources") or training_sources(cfg)
    names = args.sources or sorted(registry.REPORT_SOURCES)
    info = {n: {"category": (s := make_source(n, cfg)).category, "rig": s.rig} for n in set(names) | set(train_names)}
    md = [f"# 3D-LFM evaluation\n\ncheckpoint `{args.checkpoint}` (step {extra.get('step', '?')}, "
          f"{sum(p.numel() for p in model.parameters()):,} parameters), {args.samples} samples per source "
          f"(val split, seed {args.seed}). MPJPE: camera-aligned, scaled to the ground truth's RMS radius, "
          f"root-relative; PA-MPJPE: after similarity Procrustes. % of the instance's RMS radius; "
          f"mm for people. See `training/eval.py` for the exact definitions. "
          f"Views: {json.dumps(cfg.views, sort_keys=True) or 'training defaults'}. "
          f"{'3D-LFM flip-averaged (its lift averaged with the mirror image lift). ' if args.flip_average else ''}"
          f"SimpleBaselines are trained on 3D-LFM's training views "
          f"({json.dumps(train_views, sort_keys=True) or 'training defaults'}), the same data as 3D-LFM.\n"]
    results: dict = {"checkpoint": str(args.checkpoint), "sources": {}}

    # SimpleBaseline: one per rig in the table, trained on the same sources *and views* as
    # 3D-LFM (not on the evaluation views: under --clean that would favour the baseline)
    baselines = {}
    if args.baselines:
        for f in sorted(Path(args.baselines).glob("*.safetensors")):
            baselines[f.stem] = load_baseline(f, device)
    elif args.baseline_steps > 0:
        rigs = {info[n]["rig"] for n in names}  # a baseline only for the rigs in the table
        baselines = train_per_rig([n for n in train_names if info[n]["rig"] in rigs],
                                  BaselineConfig(steps=args.baseline_steps, seed=args.seed),
                                  train_views, cfg.data_dir, str(device))
        save_baselines(out / "baselines", baselines)  # another table of this checkpoint: --baselines

    lfm = (lambda b: run_lfm_flip_average(model, b)) if args.flip_average else (lambda b: run_lfm(model, b))  # noqa: E731
    flat = lambda b: flat_lift(*_np(b)[:2])  # noqa: E731
    rows, perm_rows, figs = [], [], set()
    for name in names:
        cat, rig = info[name]["category"], info[name]["rig"]
        status = status_of(name, info, train_names)
        batches = draw(name, args.samples, cfg, seed=args.seed, device=device)
        methods = {"3D-LFM": lfm, "flat": flat}
        if rig in baselines:
            methods["SimpleBaseline"] = lambda b, m=baselines[rig]: run_simple_baseline(m, b)
        r = evaluate_methods(batches, methods, cat)
        results["sources"][name] = {"category": cat, "rig": rig, "status": status, **r}
        # A baseline of a held-out rig was trained on it (given with --baselines): an oracle
        oracle = status != "train" and "SimpleBaseline" in r
        sb = tuple(c + " †" for c in _cell(r["SimpleBaseline"])) if oracle else _cell(r.get("SimpleBaseline"))
        rows.append([name, cat, rig, status, *_cell(r["3D-LFM"]), *_cell(r["flat"]), *sb])
        perm_rows.append([name, rig, f"{permutation_deviation(model, batches[0], args.seed):.2e}"])
        if cat not in figs and args.figures:
            figs.add(cat)
            save_figure(out / f"fig_{cat}.png", batches[0], lfm(batches[0]), get_rig(rig).edge_array(),
                        f"{name} ({cat}, {rig}, {status})")
    md += ["## Per source (category, rig)\n", table(MAIN_HEADERS, rows), ""]
    if any(str(r[-1]).endswith("†") for r in rows):
        md += ["† a SimpleBaseline trained on that held-out rig's own data (`--baselines`), which "
               "3D-LFM never saw: the error a per-rig specialist reaches with training data.\n"]

    # Orthographic vs perspective input
    pk = args.perspective_field
    vrows = []
    for name in names:
        cat = info[name]["category"]
        row = [name, info[name]["status"] if "status" in info[name] else status_of(name, info, train_names)]
        for p in (0.0, 1.0):
            bt = draw(name, args.samples, cfg, seed=args.seed + 1, device=device, views={pk: p})
            r = evaluate_methods(bt, {"3D-LFM": lfm, "flat": flat}, cat)
            results["sources"][name][f"views_{pk}={p}"] = r
            row += [*_cell(r["3D-LFM"]), _cell(r["flat"])[0]]
        vrows.append(row)
    md += ["## Orthographic vs perspective input\n",
           table(["source", "status", "ortho 3D-LFM MPJPE", "ortho 3D-LFM PA-MPJPE", "ortho flat MPJPE",
                  "persp. 3D-LFM MPJPE", "persp. 3D-LFM PA-MPJPE", "persp. flat MPJPE"], vrows), ""]

    md += ["## Permutation check\n", "Max |f(P x) - P f(x)| after shuffling the keypoint order "
           "(normalised output units; float32, so ~1e-6 is exact).\n",
           table(["source", "rig", "max deviation"], perm_rows), ""]
    results["permutation"] = {r[0]: float(r[2]) for r in perm_rows}

    if args.transfer_steps > 0 and args.transfer_a and args.transfer_b:
        trows = rig_transfer(args.transfer_a, args.transfer_b, cfg, args, device, out)
        md += [f"## Rig transfer (up to {args.transfer_steps} steps or {args.transfer_minutes} min, "
               f"preset `{args.transfer_preset}`)\n",
               table(["trained on", "tested on", "kind", "steps run", "MPJPE", "PA-MPJPE"], trows), ""]
        results["rig_transfer"] = trows
    md.append(f"_eval took {time.perf_counter() - t0:.0f} s on {device}_\n")
    text = "\n".join(md)
    (out / "eval.md").write_text(text)
    (out / "eval.json").write_text(json.dumps(results, indent=2))
    return text


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True, help="checkpoint stem or .safetensors (e.g. runs/small/best)")
    p.add_argument("--out", default="runs/eval", help="output dir for eval.md, eval.json, fig_*.png")
    p.add_argument("--samples", type=int, default=512, help="samples per source and per table")
    p.add_argument("--device", default="cpu", help="cpu | cuda")
    p.add_argument("--seed", type=int, default=0, help="seed of the evaluation batches")
    p.add_argument("--sources", nargs="*", default=[], help="sources to evaluate (default: every registered source)")
    p.add_argument("--data-dir", default="", help="directory of the shared real-data npz files")
    p.add_argument("--baselines", default="", help="dir of saved SimpleBaselines (<rig>.safetensors); "
                   "default: train them here")
    p.add_argument("--baseline-steps", type=int, default=1000, help="SimpleBaseline steps per rig (0 = skip)")
    p.add_argument("--perspective-field", default=DEFAULT_PERSPECTIVE_FIELD,
                   help="ViewConfig field giving the probability of a perspective camera")
    p.add_argument("--transfer-a", default=DEFAULT_TRANSFER[0], help="rig-transfer source A (17 joints)")
    p.add_argument("--transfer-b", default=DEFAULT_TRANSFER[1], help="rig-transfer source B (15 joints)")
    p.add_argument("--transfer-steps", type=int, default=300, help="steps of each rig-transfer run (0 = skip)")
    p.add_argument("--transfer-preset", default="tiny", help="model preset of the rig-transfer runs")
    p.add_argument("--transfer-batch-size", type=int, default=64, help="batch size of the rig-transfer runs")
    p.add_argument("--transfer-minutes", type=float, default=0.0, help="time budget of each transfer run (0 = none)")
    p.add_argument("--clean", action="store_true",
                   help="clean 2D: no noise, no missing points, rig edges, sides and fronts always given")
    p.add_argument("--flip-average", action="store_true",
                   help="3D-LFM rows as Lifter(flip_average=True): averaged with the mirror image's lift")
    p.add_argument("--view", action="append", default=[], metavar="KEY=VALUE",
                   help="ViewConfig override for every table, e.g. --view noise_std=0.02 (repeatable)")
    p.add_argument("--figures", action=argparse.BooleanOptionalAction, default=True, help="write fig_<category>.png")
    args = p.parse_args(argv)
    print(evaluate(args))


if __name__ == "__main__":
    main()
