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

The baseline's seed can move it by more than the gaps it is used to judge
(`training/results/small_v12/significance/`), so the bar is the baseline's mean over seeds,
and the verdict comes from the gap to it: a bootstrap that draws the instances *and* the
seeds with replacement (one seed: the plain paired bootstrap). **ahead** when that interval
lies below 0, **behind** when it lies above 0, **level** otherwise: a gap of that size is not
told apart from noise by this evaluation. The batches are `training.eval`'s (same seed, views
and sample count), so the 3D-LFM and seed-0 columns repeat its table's numbers.

Instances of a synthetic source are independent draws; those of a real mocap source are
frames of a few clips, correlated, so their intervals are too narrow.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from training.eval import (draw, instance_errors, load_for_eval, run_lfm, run_simple_baseline, table,
                           view_overrides)


def gap_interval(lfm: np.ndarray, base: np.ndarray, resamples: int = 10000, level: float = 0.95,
                 seed: int = 0) -> tuple[float, float, float]:
    """(mean, low, high) of the gap mean(lfm - mean over seeds of base), with a percentile
    bootstrap interval at ``level``.

    lfm (S,) per-instance errors of 3D-LFM; base (K, S) those of K baselines (training seeds)
    on the same S instances. Each resample draws S instances and, when K > 1, K seeds, with
    replacement, so the interval holds the draw's noise and the baseline seed's. K = 1 is the
    paired bootstrap of one baseline. Seeded.
    """
    lfm, base = np.asarray(lfm, np.float64), np.asarray(base, np.float64)
    if base.ndim == 1:
        base = base[None]
    if lfm.ndim != 1 or len(lfm) < 2 or base.shape[1:] != lfm.shape:
        raise ValueError(f"gap_interval: need lfm (S,) with S >= 2 and base (K, S), got "
                         f"{lfm.shape} and {base.shape}")
    if not (np.all(np.isfinite(lfm)) and np.all(np.isfinite(base))):
        raise ValueError("gap_interval: non-finite errors")
    if not 0 < level < 1:
        raise ValueError(f"gap_interval: level must be in (0, 1), got {level}")
    rng = np.random.default_rng(seed)
    k, n = base.shape
    means = np.empty(resamples)
    for i in range(0, resamples, 500):  # chunks keep the (chunk, S) arrays small
        c = min(500, resamples - i)
        seeds = rng.integers(0, k, size=(c, k)) if k > 1 else np.zeros((c, 1), np.int64)
        diff = lfm[None] - base[seeds].mean(axis=1)  # (c, S)
        idx = rng.integers(0, n, size=(c, n))
        means[i:i + c] = np.take_along_axis(diff, idx, axis=1).mean(axis=1)
    tail = 100 * (1 - level) / 2
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return float((lfm - base.mean(axis=0)).mean()), float(lo), float(hi)


def verdict(low: float, high: float) -> str:
    """'ahead' (the interval of 3D-LFM minus baseline below 0), 'behind' (above 0) or 'level'."""
    return "ahead" if high < 0 else "behind" if low > 0 else "level"


def compare_rows(checkpoint: str, baseline_dirs: list[str], sources: list[str], samples: int,
                 views: dict, metric: str = "pa_mpjpe_pct", seed: int = 0, data_dir: str = "",
                 device: str = "cpu") -> list[dict]:
    """Per source: 3D-LFM's and each baseline seed's mean ``metric``, and the gap intervals.

    Returns dicts with ``source``, ``rig``, ``lfm`` (mean), ``baselines`` [mean per dir],
    ``gaps`` [(mean, low, high) per dir], ``gap`` (to the mean over dirs) and ``verdict`` (of
    ``gap``). A source whose rig has no baseline in some folder raises (naming the folder): a
    missing seed would bias the verdict.
    """
    from training.baselines import load_baseline
    from training.config import make_source
    dev = torch.device(device)
    model, cfg, _ = load_for_eval(checkpoint, dev, data_dir)
    cfg.views = {**cfg.views, **views}
    rows = []
    for name in sources:
        rig = make_source(name, cfg).rig
        stems = [Path(d) / rig for d in baseline_dirs]
        for stem in stems:
            if not stem.with_suffix(".safetensors").is_file():
                raise FileNotFoundError(f"no baseline for rig {rig!r} ({name}) in {stem.parent}/")
        batches = draw(name, samples, cfg, seed=seed, device=dev)
        lfm = instance_errors(batches, lambda b: run_lfm(model, b))[metric]
        base = np.stack([instance_errors(batches, lambda b, m=load_baseline(stem, dev):
                                         run_simple_baseline(m, b))[metric] for stem in stems])
        gap = gap_interval(lfm, base, seed=seed)
        rows.append({"source": name, "rig": rig, "lfm": float(lfm.mean()),
                     "baselines": [float(e.mean()) for e in base],
                     "gaps": [gap_interval(lfm, e, seed=seed) for e in base],
                     "gap": gap, "verdict": verdict(*gap[1:])})
    return rows


def markdown(rows: list[dict], labels: list[str], metric: str) -> str:
    """The table of `compare_rows`: each seed's baseline and gap, then the gap to their mean and
    the verdict; gaps as 'mean [low, high]'."""
    fmt = "{:+.3f} [{:+.3f}, {:+.3f}]".format
    headers = ["source", "3D-LFM", *[f"baseline {s}" for s in labels],
               *[f"gap to {s} (95 % CI)" for s in labels], "gap to the seeds' mean (95 % CI)", "verdict"]
    body = [[r["source"], f"{r['lfm']:.3f}", *[f"{b:.3f}" for b in r["baselines"]],
             *[fmt(*g) for g in r["gaps"]], fmt(*r["gap"]), f"**{r['verdict']}**"] for r in rows]
    return (f"{metric} (% of the RMS radius); gap = 3D-LFM minus baseline, negative = 3D-LFM "
            f"lower; bootstrap over instances (and over seeds for the seeds' mean).\n\n"
            + table(headers, body) + "\n")


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
    p.add_argument("--view", action="append", default=[], metavar="KEY=VALUE",
                   help="ViewConfig override, as training.eval --view (repeatable)")
    p.add_argument("--data-dir", default="", help="directory of the shared real-data npz files")
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", default="", help="also write the table to this markdown file")
    args = p.parse_args(argv)
    metric = f"{args.metric}_pct"
    rows = compare_rows(args.checkpoint, args.baselines, args.sources, args.samples,
                        view_overrides(args), metric, args.seed, args.data_dir,
                        args.device)
    text = markdown(rows, [Path(d).name for d in args.baselines], metric)
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
