"""Is a gap to the per-rig baseline real? Paired bootstrap intervals over baseline seeds.

    python -m training.significance --checkpoint lfm3d_net/models/lfm3d_small --clean \\
        --baselines runs/sig/s0 runs/sig/s1 runs/sig/s2 --sources laptop6_synthetic fish14_synthetic \\
        --samples 1024 --out significance.md

An eval table compares two means: 3D-LFM's error and one SimpleBaseline's, each over one
draw of val samples. Two kinds of noise sit between those means and "which is better on
this rig":
- the draw: which val instances were sampled. Both methods see the same instances, so the
  per-instance differences (3D-LFM minus baseline) are resampled together: a paired
  percentile bootstrap of their mean gives a 95 % interval;
- the baseline's training seed: each ``--baselines`` folder holds the baselines of one seed
  (``python -m training.baselines --seed S``), and each gets its own interval.

Verdict per row: **ahead** when every seed's interval lies below 0, **behind** when every
one lies above 0, **level** otherwise: a gap of that size is not told apart from noise by
this evaluation. The batches are `training.eval`'s (same seed, views and sample count), so
the 3D-LFM and seed-0 columns repeat its table's numbers.

Instances of a synthetic source are independent draws; those of a real mocap source are
frames of a few clips, correlated, so their intervals are too narrow.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from training.eval import CLEAN_VIEWS, _np, draw, instance_errors, load_for_eval, run_lfm, table


def paired_bootstrap_ci(diff: np.ndarray, resamples: int = 10000, level: float = 0.95,
                        seed: int = 0) -> tuple[float, float, float]:
    """(mean, low, high): the mean of per-instance differences ``diff`` (S,) and its percentile
    bootstrap interval at ``level``, resampling instances with replacement (seeded)."""
    diff = np.asarray(diff, np.float64)
    if diff.ndim != 1 or len(diff) < 2 or not np.all(np.isfinite(diff)):
        raise ValueError(f"paired_bootstrap_ci: need a 1-D finite array of >= 2 differences, got "
                         f"shape {diff.shape}")
    if not 0 < level < 1:
        raise ValueError(f"paired_bootstrap_ci: level must be in (0, 1), got {level}")
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    for i in range(0, resamples, 1000):  # chunks keep the index array small
        idx = rng.integers(0, len(diff), size=(min(1000, resamples - i), len(diff)))
        means[i:i + len(idx)] = diff[idx].mean(axis=1)
    tail = 100 * (1 - level) / 2
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return float(diff.mean()), float(lo), float(hi)


def verdict(intervals: list[tuple[float, float]]) -> str:
    """'ahead' (every interval of 3D-LFM minus baseline below 0), 'behind' (every one above 0)
    or 'level'."""
    if not intervals:
        raise ValueError("verdict: no intervals")
    if all(hi < 0 for _, hi in intervals):
        return "ahead"
    if all(lo > 0 for lo, _ in intervals):
        return "behind"
    return "level"


def compare_rows(checkpoint: str, baseline_dirs: list[str], sources: list[str], samples: int,
                 views: dict, metric: str = "pa_mpjpe_pct", seed: int = 0, data_dir: str = "",
                 device: str = "cpu") -> list[dict]:
    """Per source: 3D-LFM's and each baseline seed's mean ``metric``, and each paired interval.

    Returns dicts with ``source``, ``rig``, ``lfm`` (mean), ``baselines`` [mean per dir],
    ``gaps`` [(mean, low, high) per dir] and ``verdict``. A source whose rig has no baseline in
    some folder raises (naming the folder), as a missing seed would bias the verdict.
    """
    from training.baselines import load_baseline, predict_simple_baseline
    from training.config import make_source
    model, cfg, _ = load_for_eval(checkpoint, torch.device(device), data_dir)
    cfg.views = {**cfg.views, **views}
    rows = []
    for name in sources:
        rig = make_source(name, cfg).rig
        stems = [Path(d) / rig for d in baseline_dirs]
        for stem in stems:
            if not stem.with_suffix(".safetensors").is_file():
                raise FileNotFoundError(f"no baseline for rig {rig!r} ({name}) in {stem.parent}/")
        batches = draw(name, samples, cfg, seed=seed, device=torch.device(device))
        lfm = instance_errors(batches, lambda b: run_lfm(model, b))[metric]
        row = {"source": name, "rig": rig, "lfm": float(lfm.mean()), "baselines": [], "gaps": []}
        for stem in stems:
            base = load_baseline(stem, device)
            err = instance_errors(batches, lambda b, m=base: predict_simple_baseline(m, *_np(b)[:2]))[metric]
            row["baselines"].append(float(err.mean()))
            row["gaps"].append(paired_bootstrap_ci(lfm - err, seed=seed))
        row["verdict"] = verdict([(lo, hi) for _, lo, hi in row["gaps"]])
        rows.append(row)
    return rows


def markdown(rows: list[dict], labels: list[str], metric: str) -> str:
    """The table of `compare_rows`: one column per baseline seed, gaps as 'mean [low, high]'."""
    headers = ["source", "3D-LFM", *[f"baseline {s}" for s in labels],
               *[f"gap to {s} (95 % CI)" for s in labels], "verdict"]
    body = [[r["source"], f"{r['lfm']:.3f}", *[f"{b:.3f}" for b in r["baselines"]],
             *[f"{m:+.3f} [{lo:+.3f}, {hi:+.3f}]" for m, lo, hi in r["gaps"]], f"**{r['verdict']}**"]
            for r in rows]
    return (f"{metric} (% of the RMS radius); gap = 3D-LFM minus baseline, negative = 3D-LFM "
            f"lower; paired bootstrap over instances.\n\n" + table(headers, body) + "\n")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True, help="3D-LFM checkpoint stem or .safetensors")
    p.add_argument("--baselines", nargs="+", required=True,
                   help="folders of saved SimpleBaselines (<rig>.safetensors), one per training seed")
    p.add_argument("--sources", nargs="+", required=True, help="sources (rows) to test")
    p.add_argument("--samples", type=int, default=1024, help="val samples per source (as training.eval)")
    p.add_argument("--seed", type=int, default=0, help="seed of the batches and the bootstrap")
    p.add_argument("--metric", default="pa_mpjpe", choices=("pa_mpjpe", "mpjpe"))
    p.add_argument("--clean", action="store_true", help="clean 2D, as training.eval --clean")
    p.add_argument("--data-dir", default="", help="directory of the shared real-data npz files")
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", default="", help="also write the table to this markdown file")
    args = p.parse_args(argv)
    metric = f"{args.metric}_pct"
    rows = compare_rows(args.checkpoint, args.baselines, args.sources, args.samples,
                        dict(CLEAN_VIEWS) if args.clean else {}, metric, args.seed, args.data_dir,
                        args.device)
    text = markdown(rows, [Path(d).name for d in args.baselines], metric)
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
