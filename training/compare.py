"""Side-by-side table of several evaluations (the eval.json files of ``training.eval``).

    python -m training.compare v4=training/results/small_v5/v4/eval_clean.json \\
        v5=training/results/small_v5/eval_clean.json [--metric mpjpe] [--out table.md]

One row per source: each model's 3D-LFM error (% of the RMS radius; mm for people in
brackets), marked where the source was not one of that model's training sources (OOD: a
category it never saw, rig: a rig it never saw); then the SimpleBaseline and flat floor of
the last file, or of ``--reference LABEL`` (an evaluation run with ``--baseline-steps 0``
borrows the baselines of an earlier one on the same batches: ``training.eval``'s are
seeded). Below, per model: the mean over the rows of its trained categories (people, robots
and procedural rigs aside: the "in-distribution" error of the 2x goal), the mean over its
OOD rows, their ratio, and the trained rows where it beats the baseline.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

STATUS_MARK = {"train": "", "OOD category": " (OOD)", "held-out rig": " (rig)", "held-out source": " (source)"}
# Trained rows left out of the in-distribution mean: people are in mm (and the headline goal
# on their own), robots and procedural rigs are kinematic chains and random rigs, not categories.
NOT_IN_DISTRIBUTION = ("person", "robot_arm", "legged_robot")


def load_sources(path) -> dict:
    """The per-source results (``sources``) of an eval.json of ``training.eval``."""
    return json.loads(Path(path).read_text())["sources"]


def _load(spec: str) -> tuple[str, dict]:
    label, sep, path = spec.partition("=")
    if not sep:
        label, path = Path(spec).parent.name, spec
    return label, load_sources(path)


def _value(entry: dict | None, metric: str) -> float | None:
    return None if entry is None else entry.get(f"{metric}_pct")


def _fmt(entry: dict | None, metric: str) -> str:
    if entry is None:
        return "—"
    mm = entry.get(f"{metric}_mm")
    return f"{entry[f'{metric}_pct']:.1f}" + (f" ({mm:.0f} mm)" if mm is not None else "")


def in_distribution(src: dict) -> bool:
    """A trained row of the in-distribution mean (see NOT_IN_DISTRIBUTION)."""
    return (src["status"] == "train" and src["category"] not in NOT_IN_DISTRIBUTION
            and not src["category"].startswith("procedural_"))


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def compare(runs: list[tuple[str, dict]], metric: str = "pa_mpjpe", reference: str = "") -> str:
    """Markdown: the per-source table and the per-model summary (see the module doc); the
    baseline and flat columns, and the wins, are those of the run labelled ``reference``
    (default: the last)."""
    labels = [label for label, _ in runs]
    if reference and reference not in labels:
        raise ValueError(f"--reference {reference!r} is none of the labels {labels}")
    ref = dict(runs)[reference] if reference else runs[-1][1]
    names = list(dict.fromkeys(n for _, sources in runs for n in sources))
    head = ["source", "category", *labels, "SimpleBaseline", "flat"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * 2 + "---:|" * (len(head) - 2)]
    for n in names:
        row = [n, next(s[n]["category"] for _, s in runs if n in s)]
        for _, sources in runs:
            s = sources.get(n)
            row.append("—" if s is None else _fmt(s["3D-LFM"], metric) + STATUS_MARK.get(s["status"], f" ({s['status']})"))
        r = ref.get(n, {})
        row += [_fmt(r.get("SimpleBaseline"), metric), _fmt(r.get("flat"), metric)]
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", f"| {metric} % | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(labels)]
    summary = {"in-distribution mean (trained categories)": [], "OOD-category mean": [],
               "OOD / in-distribution": [], "trained rows ahead of the baseline": []}
    for _, sources in runs:
        ind = [_value(s["3D-LFM"], metric) for s in sources.values() if in_distribution(s)]
        ood = [_value(s["3D-LFM"], metric) for s in sources.values() if s["status"] == "OOD category"]
        m_ind, m_ood = _mean(ind), _mean(ood)
        summary["in-distribution mean (trained categories)"].append(f"{m_ind:.1f} ({len(ind)} rows)" if ind else "—")
        summary["OOD-category mean"].append(f"{m_ood:.1f} ({len(ood)} rows)" if ood else "—")
        summary["OOD / in-distribution"].append(f"{m_ood / m_ind:.2f}x" if ind and ood else "—")
        trained = [n for n, s in sources.items() if s["status"] == "train" and ref.get(n, {}).get("SimpleBaseline")]
        wins = [n for n in trained if _value(sources[n]["3D-LFM"], metric) < _value(ref[n]["SimpleBaseline"], metric)]
        summary["trained rows ahead of the baseline"].append(f"{len(wins)} of {len(trained)}")
    lines += [f"| {k} | " + " | ".join(v) + " |" for k, v in summary.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="LABEL=path/to/eval.json (the last one's baseline and flat are shown)")
    p.add_argument("--reference", default="", help="LABEL whose baseline and flat are shown (default: the last)")
    p.add_argument("--metric", default="pa_mpjpe", choices=("pa_mpjpe", "mpjpe"))
    p.add_argument("--out", default="", help="also write the table to this file")
    args = p.parse_args(argv)
    md = compare([_load(s) for s in args.runs], args.metric, args.reference)
    print(md)
    if args.out:
        Path(args.out).write_text(md)


if __name__ == "__main__":
    main()
