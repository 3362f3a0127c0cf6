"""The model card's evaluation table, from an eval.json of ``training.eval``.

    python -m training.card_table training/results/small_v8/eval_clean.json \\
        --reference training/results/small_v5/eval_clean.json \\
        --reference training/results/small_v8/new_animals/eval_clean.json

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


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("eval_json", help="eval.json of the model")
    p.add_argument("--reference", action="append", default=[],
                   help="eval.json whose SimpleBaseline and flat columns are shown (repeatable: the first "
                        "that has a source gives its columns)")
    args = p.parse_args(argv)
    reference = merge_references([load_sources(r) for r in args.reference]) if args.reference else None
    print(card_table(load_sources(args.eval_json), reference), end="")


if __name__ == "__main__":
    main()
