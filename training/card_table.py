"""The model card's evaluation tables, from the eval.json files of ``training.eval``.

    python -m training.card_table training/results/small_v12/eval_clean.json \\
        --reference training/results/small_v12/baselines/v5_eval_clean.json \\
        --reference training/results/small_v12/baselines/new_animals_eval_clean.json [--summary]

``--summary`` prints the README's and the card's one accuracy table instead: the categories a
user has, similar ones grouped (a range over their sources), clean 2D beside noisy detections
with the rig given (read from each path with ``eval_clean`` replaced by ``eval_known_rig``),
the per-rig baseline and the flat floor (clean). With ``--realworld PROXY.json`` (``python -m
bench.realworld --json``) it prints the product table instead: the real-world proxy's people
rows, then the other categories, PA-MPJPE beside the camera-frame error and the flat floor.

One row per source, in the card's order and with its names: 3D-LFM MPJPE and PA-MPJPE, the
per-rig SimpleBaseline's and the flat floor's PA-MPJPE (mm for people, else % of the RMS
radius). The baseline and flat columns come from ``--reference`` when the evaluation ran with
``--baseline-steps 0`` (``training.eval``'s batches are seeded, so an earlier run's baselines
fit; ``training.compare --reference`` does the same); with several, a source's columns come
from the first that has it (sources added later have their baselines in a later evaluation).
Bold marks the better of 3D-LFM and the baseline on trained rows; on held-out rows the
baseline is an oracle (†): trained on data 3D-LFM never saw.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from training.compare import load_sources, merge_references

# (source, name in the card); sources new in v5 say so.
ROWS = [
    ("cmu_mocap_coco17", "CMU mocap, COCO-17"),
    ("cmu_mocap_h36m17", "CMU mocap, H36M-17"),
    ("cmu_mocap_mocap26", "CMU mocap, 26-joint"),
    ("cmu_mocap_panoptic15", "CMU mocap, Panoptic-15"),
    ("deepmimic", "DeepMimic"),
    ("human_variants_coco_wholebody133", "human variants, WholeBody-133"),
    ("human_variants_coco17", "human variants, COCO-17"),
    ("human_variants_h36m17", "human variants, H36M-17"),
    ("human_variants_panoptic15", "human variants, Panoptic-15"),
    ("face68_synthetic", "face68"),
    ("hand21_synthetic", "hand21"),
    ("quadruped17_synthetic", "quadruped17"),
    ("quadruped17_wild", "quadruped17 wild species (v5)"),
    ("chair10_synthetic", "chair10"),
    ("table8_synthetic", "table8"),
    ("car12_synthetic", "car12"),
    ("aircraft10_synthetic", "aircraft10"),
    ("bottle8_synthetic", "bottle8"),
    *((f"{rig}_synthetic", f"{rig} (v5)") for rig in (
        "fish14", "insect17", "reptile18", "bicycle11", "motorbike10", "sofa12", "bus12",
        "boat8", "monitor8", "laptop6", "box9", "shoe7")),
    ("bat16_synthetic", "bat16 (v8)"),
    ("biped17_synthetic", "biped17 (v8)"),
    ("franka_panda_urdf", "Franka Panda (URDF)"),
    ("kuka_iiwa_urdf", "KUKA iiwa (URDF)"),
    ("legged_robot17_urdf", "legged robots 17 (URDF)"),
    ("xarm6_urdf", "xArm 6 (URDF)"),
    ("bird15_synthetic", "bird15"),
    ("mug8_synthetic", "mug8"),
    ("procedural_creature_00", "proc_creature_00"),
    ("procedural_creature_01", "proc_creature_01"),
    ("procedural_object_00", "proc_object_00"),
    ("procedural_object_01", "proc_object_01"),
]
HELD_OUT = {"held-out rig": "**held-out rig**", "OOD category": "**held-out category**",
            "held-out source": "**held-out source**"}


def status_text(source: str, status: str) -> str:
    """The card's status column: what was trained, and which part of it is held out."""
    if status != "train":
        return HELD_OUT.get(status, status)
    if source.startswith("cmu_mocap_"):
        return "train (real, held-out subject)"
    if source == "deepmimic":
        return "train (held-out clips)"
    if source.startswith("procedural_"):
        return "train (procedural)"
    return "train"


def _cell(entry: dict, metric: str, bold: bool = False, mark: str = "") -> str:
    mm = entry.get(f"{metric}_mm")
    text = f"{mm:.0f} mm" if mm is not None else f"{entry[f'{metric}_pct']:.1f} %"
    return (f"**{text}**" if bold else text) + mark


def card_table(sources: dict, reference: dict | None = None) -> str:
    """Markdown table of ``sources`` (eval.json's ``sources``), baseline and flat from
    ``reference`` (default: ``sources`` itself). Sources not in ROWS follow, by name."""
    ref = sources if reference is None else reference
    names = [n for n, _ in ROWS if n in sources] + sorted(set(sources) - {n for n, _ in ROWS})
    label = dict(ROWS)
    lines = ["| source | category | status | 3D-LFM MPJPE | 3D-LFM PA | SimpleBaseline PA | flat PA |",
             "|---|---|---|---:|---:|---:|---:|"]
    for n in names:
        s, r = sources[n], ref.get(n, {})
        lfm, base = s["3D-LFM"], r.get("SimpleBaseline")
        trained = s["status"] == "train"
        lfm_wins = base is not None and lfm["pa_mpjpe_pct"] < base["pa_mpjpe_pct"]
        base_cell = "—" if base is None else _cell(
            base, "pa_mpjpe", bold=trained and not lfm_wins, mark="" if trained else " †")
        flat_cell = _cell(r["flat"], "pa_mpjpe") if "flat" in r else "—"
        lines.append("| " + " | ".join([
            label.get(n, n), s["category"], status_text(n, s["status"]), _cell(lfm, "mpjpe"),
            _cell(lfm, "pa_mpjpe", bold=trained and lfm_wins), base_cell, flat_cell]) + " |")
    return "\n".join(lines) + "\n"


# The summary's rows: (what a user lifts, the rig(s), the sources). Trained unless the sources'
# status says otherwise; procedural rigs (random topologies for breadth) are left out.
SUMMARY = [
    ("person, unseen CMU subject", "coco17", ["cmu_mocap_coco17"]),
    ("person, unseen CMU subject", "h36m17", ["cmu_mocap_h36m17"]),
    ("person, unseen CMU subject", "panoptic15", ["cmu_mocap_panoptic15"]),
    ("person, DeepMimic humanoid (unseen clips)", "deepmimic15", ["deepmimic"]),
    ("face", "face68", ["face68_synthetic"]),
    ("hand", "hand21", ["hand21_synthetic"]),
    ("dog, cat, horse, cow", "quadruped17", ["quadruped17_synthetic"]),
    ("nine wild quadruped species", "quadruped17", ["quadruped17_wild"]),
    ("bat, tailed biped, fish, insect, reptile", "bat16, biped17, fish14, insect17, reptile18",
     ["bat16_synthetic", "biped17_synthetic", "fish14_synthetic", "insect17_synthetic", "reptile18_synthetic"]),
    ("chair, table, sofa, monitor, laptop, bottle, box, shoe",
     "chair10, table8, sofa12, monitor8, laptop6, bottle8, box9, shoe7",
     [f"{r}_synthetic" for r in ("chair10", "table8", "sofa12", "monitor8", "laptop6", "bottle8", "box9", "shoe7")]),
    ("car, aircraft, bicycle, motorbike, bus, boat", "car12, aircraft10, bicycle11, motorbike10, bus12, boat8",
     [f"{r}_synthetic" for r in ("car12", "aircraft10", "bicycle11", "motorbike10", "bus12", "boat8")]),
    ("robot arms (Franka Panda, KUKA iiwa)", "franka_panda, kuka_iiwa", ["franka_panda_urdf", "kuka_iiwa_urdf"]),
    ("legged robots (A1, Aliengo, Laikago, Mini Cheetah)", "legged_robot17", ["legged_robot17_urdf"]),
    ("robot arm (xArm 6)", "xarm6", ["xarm6_urdf"]),
    ("bird", "bird15", ["bird15_synthetic"]),
    ("mug", "mug8", ["mug8_synthetic"]),
]
SUMMARY_STATUS = {"train": "yes", "held-out rig": "**no: rig**", "OOD category": "**no: category**",
                  "held-out source": "**no: source**"}


def _span(entries: list[dict], metric: str = "pa_mpjpe", mark: str = "") -> str:
    """One cell over a group's entries: the value, or the range lo-hi (mm where every entry has mm)."""
    if not entries or any(e is None for e in entries):
        return "—"
    mm = [e.get(f"{metric}_mm") for e in entries]
    vals, unit, fmt = (mm, "mm", "{:.0f}") if None not in mm else (
        [e[f"{metric}_pct"] for e in entries], "%", "{:.1f}")
    lo, hi = fmt.format(min(vals)), fmt.format(max(vals))
    return (lo if lo == hi else f"{lo}-{hi}") + f" {unit}{mark}"


def _summary_rows(clean: dict):
    """(what, rig cell, source names, status) per row of SUMMARY whose sources ``clean`` has;
    a single rig in backticks."""
    for what, rig, names in SUMMARY:
        if all(n in clean for n in names):
            yield what, f"`{rig}`" if "," not in rig else rig, names, clean[names[0]]["status"]


def summary_table(clean: dict, noisy: dict, clean_ref: dict | None = None) -> str:
    """The one accuracy table: PA-MPJPE per row of SUMMARY (rows whose sources are missing are
    skipped), baseline and flat floor from ``clean_ref`` (default: ``clean``)."""
    ref = clean if clean_ref is None else clean_ref
    lines = ["| what you lift | rig | trained on it? | clean 2D | detector noise | per-rig baseline | flat z = 0 |",
             "|---|---|---|---:|---:|---:|---:|"]
    for what, rig, names, status in _summary_rows(clean):
        base = [ref.get(n, {}).get("SimpleBaseline") for n in names]
        lines.append("| " + " | ".join([
            what, rig, SUMMARY_STATUS.get(status, status),
            _span([clean[n]["3D-LFM"] for n in names]),
            _span([noisy[n]["3D-LFM"] if n in noisy else None for n in names]),
            _span(base, mark="" if status == "train" else " †"),
            _span([ref.get(n, {}).get("flat") for n in names])]) + " |")
    return "\n".join(lines) + "\n"


PRODUCT_DATA = {"train": "synthetic, unseen views", "held-out rig": "synthetic, **unseen rig**",
                "OOD category": "synthetic, **unseen category**", "held-out source": "synthetic, **unseen source**"}


def _mm_ci(value: float, ci) -> str:
    return f"{value:.0f} mm ({ci[0]:.0f}-{ci[1]:.0f})"


def product_table(clean: dict, realworld: dict) -> str:
    """The one accuracy table with real people: the real-world proxy's rows (bench.realworld
    --json: real held-out people and DeepMind's dog skeleton, mm, 95 % clip intervals) in place
    of the synthetic person rows,
    then the other categories of SUMMARY from ``clean`` (% of RMS radius). Columns: PA-MPJPE,
    the camera-frame error (no rotation fitted), and PA of the 2D at depth 0."""
    lines = ["| what you lift | rig / input | test data | PA-MPJPE | camera frame | flat z = 0 |",
             "|---|---|---|---:|---:|---:|"]
    seen = clean.get("deepmimic", {}).get("status") == "train"   # the proxy's DeepMimic, trained on?
    for r in realworld["rows"]:
        real = "real" if r.get("motion", "real") == "real" else "real skeleton, poses drawn"
        data = f"{real}, **seen in training**" if seen and r["person"].startswith("DeepMimic") else f"{real}, held out"
        lines.append(f"| {r['person']} | {r['input']} | {data} | {_mm_ci(r['pa'], r['pa_ci'])} | "
                     f"{_mm_ci(r['camera'], r['camera_ci'])} | {r['flat']:.0f} mm |")
    for what, rig, names, status in _summary_rows(clean):
        if clean[names[0]]["category"] == "person":   # the proxy's real people stand for these
            continue
        lines.append("| " + " | ".join([
            what, rig, PRODUCT_DATA.get(status, status),
            _span([clean[n]["3D-LFM"] for n in names]), _span([clean[n]["3D-LFM"] for n in names], "mpjpe"),
            _span([clean[n]["flat"] for n in names])]) + " |")
    return "\n".join(lines) + "\n"


def known_rig_path(path: str) -> str:
    """The known-rig (noisy detections) evaluation beside a clean one: by the file name."""
    return str(path).replace("eval_clean", "eval_known_rig")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("eval_json", help="eval.json of the model")
    p.add_argument("--reference", action="append", default=[],
                   help="eval.json whose SimpleBaseline and flat columns are shown (repeatable: the first "
                        "that has a source gives its columns)")
    p.add_argument("--summary", action="store_true",
                   help="the one accuracy table (grouped categories; clean and known-rig side by side)")
    p.add_argument("--realworld", default="",
                   help="with --summary: bench.realworld --json rows; prints the product table (real people first)")
    args = p.parse_args(argv)
    reference = merge_references([load_sources(r) for r in args.reference]) if args.reference else None
    if args.summary and args.realworld:
        print(product_table(load_sources(args.eval_json), json.loads(Path(args.realworld).read_text())), end="")
    elif args.summary:
        print(summary_table(load_sources(args.eval_json), load_sources(known_rig_path(args.eval_json)),
                            reference), end="")
    else:
        print(card_table(load_sources(args.eval_json), reference), end="")


if __name__ == "__main__":
    main()
