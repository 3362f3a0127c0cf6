"""Side-by-side table of several evaluations (the eval.json files of ``training.eval``).

    python -m training.compare v11=runs/v11/eval_clean.json \\
        v12=training/results/small_v12/eval_clean.json [--metric mpjpe] [--out table.md]

One row per source: each model's 3D-LFM error (% of the RMS radius; mm for people in
brackets), marked where the source was not one of that model's training sources (OOD: a
category it never saw, rig: a rig it never saw); then the SimpleBaseline and flat floor of
the last file, or of ``--reference LABEL`` (an evaluation run with ``--baseline-steps 0``
borrows the baselines of an earlier one on the same batches: ``training.eval``'s are
seeded). ``--baselines FILE`` (repeatable) fills in the rows the reference has no baseline
for, from later evaluations (sources added after it). Below, per model: the mean over the
rows of its trained categories (people, robots and procedural rigs aside: the
"in-distribution" error of the 2x goal), the mean over its OOD rows, their ratio, and the
trained rows where it beats the baseline.

``--gaps`` prints instead what a release note needs about the last two runs, to two decimals:
per source the earlier and the later model, the change, the baseline and the later model's
gap to it (worst first), then on how many trained rows the later one is lower and ahead.

    python -m training.compare v5=training/results/small_v12/baselines/v5_eval_clean.json \\
        v11=runs/v11/eval_clean.json v12=training/results/small_v12/eval_clean.json --reference v5 \\
        --baselines training/results/small_v12/baselines/new_animals_eval_clean.json --gaps
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


def merge_references(references: list[dict]) -> dict:
    """One reference from several eval.json ``sources``: each source from the first that has a
    SimpleBaseline for it, else from the first that has it (an evaluation run with
    ``--baseline-steps 0`` lists every source, without baselines)."""
    merged = {}
    for ref in references:
        for name, src in ref.items():
            if name not in merged or (merged[name].get("SimpleBaseline") is None and src.get("SimpleBaseline")):
                merged[name] = src
    return merged


def procedural(src: dict) -> bool:
    """A procedural rig's row. These rigs are random topologies drawn for breadth, one network
    for thousands of them, not categories a user has: the goal "beat the per-rig baseline on
    every in-distribution category" counts the named rows, and these are reported beside."""
    return src["category"].startswith("procedural_")


def in_distribution(src: dict) -> bool:
    """A trained row of the in-distribution mean (see NOT_IN_DISTRIBUTION)."""
    return src["status"] == "train" and src["category"] not in NOT_IN_DISTRIBUTION and not procedural(src)


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def _reference(runs: list[tuple[str, dict]], reference: str, baselines: list[dict]) -> dict:
    """The sources whose SimpleBaseline and flat count: the run labelled ``reference`` (default:
    the last), then ``baselines`` for the sources it lacks (see ``merge_references``)."""
    labels = [label for label, _ in runs]
    if reference and reference not in labels:
        raise ValueError(f"--reference {reference!r} is none of the labels {labels}")
    return merge_references([dict(runs)[reference] if reference else runs[-1][1], *baselines])


def _ahead(sources: dict, ref: dict, metric: str) -> tuple[list[str], list[str]]:
    """(trained rows with a baseline, those of them where 3D-LFM is lower than it)."""
    trained = [n for n, s in sources.items() if s["status"] == "train" and ref.get(n, {}).get("SimpleBaseline")]
    return trained, [n for n in trained if _value(sources[n]["3D-LFM"], metric) < _value(ref[n]["SimpleBaseline"], metric)]


def _named_count(sources: dict, trained: list[str], wins: list[str]) -> str:
    """'W of T' over the rows of `_ahead` that are not procedural rigs."""
    named = [n for n in trained if not procedural(sources[n])]
    return f"{sum(n in wins for n in named)} of {len(named)}"


def compare(runs: list[tuple[str, dict]], metric: str = "pa_mpjpe", reference: str = "",
            baselines: list[dict] = ()) -> str:
    """Markdown: the per-source table and the per-model summary (see the module doc); the
    baseline and flat columns, and the wins, are those of the run labelled ``reference``
    (default: the last), completed by ``baselines``."""
    labels = [label for label, _ in runs]
    ref = _reference(runs, reference, list(baselines))
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
               "OOD / in-distribution": [], "trained rows ahead of the baseline": [],
               "named trained rows ahead (procedural rigs aside)": []}
    for _, sources in runs:
        ind = [_value(s["3D-LFM"], metric) for s in sources.values() if in_distribution(s)]
        ood = [_value(s["3D-LFM"], metric) for s in sources.values() if s["status"] == "OOD category"]
        m_ind, m_ood = _mean(ind), _mean(ood)
        summary["in-distribution mean (trained categories)"].append(f"{m_ind:.1f} ({len(ind)} rows)" if ind else "—")
        summary["OOD-category mean"].append(f"{m_ood:.1f} ({len(ood)} rows)" if ood else "—")
        summary["OOD / in-distribution"].append(f"{m_ood / m_ind:.2f}x" if ind and ood else "—")
        trained, wins = _ahead(sources, ref, metric)
        summary["trained rows ahead of the baseline"].append(f"{len(wins)} of {len(trained)}")
        summary["named trained rows ahead (procedural rigs aside)"].append(_named_count(sources, trained, wins))
    lines += [f"| {k} | " + " | ".join(v) + " |" for k, v in summary.items()]
    return "\n".join(lines) + "\n"


def gaps(runs: list[tuple[str, dict]], metric: str = "pa_mpjpe", reference: str = "",
         baselines: list[dict] = ()) -> str:
    """Markdown, two decimals: the last two runs side by side per source with the change, the
    baseline and the last run's gap to it (worst gap first, rows without a baseline last), then
    the trained rows where the last run is lower than the one before and ahead of the baseline."""
    if len(runs) < 2:
        raise ValueError("--gaps compares the last two runs: give at least two")
    (a_label, a), (b_label, b) = runs[-2:]
    ref = _reference(runs, reference, list(baselines))

    def base(n):
        return _value(ref.get(n, {}).get("SimpleBaseline"), metric)

    def two(x):
        return "—" if x is None else f"{x:.2f}"

    rows = []
    for n, s in b.items():
        new, old = _value(s["3D-LFM"], metric), _value(a[n]["3D-LFM"], metric) if n in a else None
        gap = None if base(n) is None else new - base(n)
        rows.append((gap is None, -(gap or 0.0), n, s, old, new, gap))
    lines = [f"| source | status | {a_label} | {b_label} | change | SimpleBaseline | {b_label} - baseline |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for *_, n, s, old, new, gap in sorted(rows):
        change = None if old is None else new - old
        lines.append(f"| {n} | {s['status']} | {two(old)} | {two(new)} | {'—' if change is None else f'{change:+.2f}'} "
                     f"| {two(base(n))} | {'—' if gap is None else f'{gap:+.2f}'} |")
    both = [n for n, s in b.items() if s["status"] == "train" and n in a]
    changes = [_value(b[n]["3D-LFM"], metric) - _value(a[n]["3D-LFM"], metric) for n in both]
    trained, wins = _ahead(b, ref, metric)
    lines += ["", f"- {b_label} lower than {a_label} on {sum(c < 0 for c in changes)} of the {len(both)} trained rows "
              f"both have (mean change {_mean(changes) or 0.0:+.3f})",
              f"- {b_label} ahead of the baseline on {len(wins)} of {len(trained)} trained rows with one",
              f"- named rows (procedural rigs aside): {_named_count(b, trained, wins)} ahead"]
    ind = [n for n, s in b.items() if in_distribution(s)]
    if ind:
        def mean_of(sources, names):
            return _mean([_value(sources[n]["3D-LFM"], metric) for n in names])
        m_b = mean_of(b, ind)
        common = [n for n in ind if n in a and in_distribution(a[n])]
        line = f"- in-distribution mean over {b_label}'s {len(ind)} rows: {m_b:.3f}"
        if common:
            line += (f"; over the {len(common)} both have: {a_label} {mean_of(a, common):.3f}, "
                     f"{b_label} {mean_of(b, common):.3f}")
        lines.append(line)
        ood = [f"{n} {_value(s['3D-LFM'], metric) / m_b:.2f}x" for n, s in b.items() if s["status"] == "OOD category"]
        if ood:
            lines.append(f"- OOD categories over {b_label}'s in-distribution mean: " + ", ".join(ood))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="LABEL=path/to/eval.json (the last one's baseline and flat are shown)")
    p.add_argument("--reference", default="", help="LABEL whose baseline and flat are shown (default: the last)")
    p.add_argument("--baselines", action="append", default=[],
                   help="eval.json with the baselines of sources the reference lacks (repeatable; the first that has one)")
    p.add_argument("--gaps", action="store_true", help="the last two runs to two decimals, with changes and gaps")
    p.add_argument("--metric", default="pa_mpjpe", choices=("pa_mpjpe", "mpjpe"))
    p.add_argument("--out", default="", help="also write the table to this file")
    args = p.parse_args(argv)
    md = (gaps if args.gaps else compare)([_load(s) for s in args.runs], args.metric, args.reference,
                                           [load_sources(f) for f in args.baselines])
    print(md)
    if args.out:
        Path(args.out).write_text(md)


if __name__ == "__main__":
    main()
