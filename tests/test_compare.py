"""training.compare: side-by-side evaluation tables and the in-distribution / OOD summary;
training.card_table: the model card's table of one model."""
import json
import re
from pathlib import Path

import pytest

from training.card_table import card_table, product_table, summary_table
from training.compare import compare, gaps, in_distribution, load_sources, merge_references


def _src(category, status, lfm, baseline=None, flat=40.0, mm=None):
    e = {"pa_mpjpe_pct": lfm, "mpjpe_pct": lfm + 1}
    if mm is not None:
        e["pa_mpjpe_mm"] = mm
    return {"category": category, "rig": "r", "status": status, "3D-LFM": e, "flat": {"pa_mpjpe_pct": flat},
            "SimpleBaseline": None if baseline is None else {"pa_mpjpe_pct": baseline}}


def test_summary_separates_trained_from_unseen_categories_per_model():
    old = {"hand": _src("hand", "train", 10.0, 12.0), "fish": _src("fish", "OOD category", 30.0),
           "coco": _src("person", "train", 5.0, 8.0, mm=31.0)}
    new = {"hand": _src("hand", "train", 8.0, 12.0), "fish": _src("fish", "train", 9.0, 7.0),
           "coco": _src("person", "train", 5.5, 8.0, mm=33.0)}
    md = compare([("old", old), ("new", new)])
    assert "| fish | fish | 30.0 (OOD) | 9.0 | 7.0 | 40.0 |" in md
    assert "5.0 (31 mm)" in md
    # old: in-distribution = hand only (people aside), OOD = fish: 30 / 10 = 3x
    assert "| in-distribution mean (trained categories) | 10.0 (1 rows) | 8.5 (2 rows) |" in md
    assert "| OOD / in-distribution | 3.00x | — |" in md
    # baselines of the last file: old wins hand and coco; new wins hand and coco, loses fish
    assert "| trained rows ahead of the baseline | 2 of 2 | 2 of 3 |" in md


def test_robots_people_and_procedural_rigs_are_not_in_distribution_rows():
    assert in_distribution(_src("hand", "train", 1.0))
    for cat in ("person", "robot_arm", "legged_robot", "procedural_creature"):
        assert not in_distribution(_src(cat, "train", 1.0)), cat
    assert not in_distribution(_src("hand", "held-out source", 1.0))


def test_procedural_rigs_are_counted_apart_from_the_named_rows_ahead_of_the_baseline():
    new = {"hand": _src("hand", "train", 8.0, 9.0), "fish": _src("fish", "train", 9.0, 7.0),
           "proc": _src("procedural_creature", "train", 20.0, 12.0)}
    md = compare([("new", new)])
    assert "| trained rows ahead of the baseline | 1 of 3 |" in md, md
    assert "| named trained rows ahead (procedural rigs aside) | 1 of 2 |" in md, md
    assert "- named rows (procedural rigs aside): 1 of 2 ahead" in gaps([("old", new), ("new", new)])


def test_reference_run_supplies_the_baseline_of_a_run_evaluated_without_one():
    ref = {"hand": _src("hand", "train", 9.0, 8.0)}
    new = {"hand": _src("hand", "train", 7.5)}          # --baseline-steps 0: no baseline of its own
    md = compare([("ref", ref), ("new", new)], reference="ref")
    assert "| hand | hand | 9.0 | 7.5 | 8.0 | 40.0 |" in md
    assert "| trained rows ahead of the baseline | 0 of 1 | 1 of 1 |" in md
    with pytest.raises(ValueError, match="v9"):
        compare([("ref", ref), ("new", new)], reference="v9")


def test_baselines_fill_in_the_rows_the_reference_has_none_for():
    ref = {"hand": _src("hand", "train", 9.0, 8.0)}
    new = {"hand": _src("hand", "train", 7.5), "bat": _src("bat", "train", 11.0)}   # bat: added after ref
    later = {"bat": _src("bat", "train", 26.0, 9.0, flat=41.0), "hand": _src("hand", "train", 9.5, 99.0)}
    md = compare([("ref", ref), ("new", new)], reference="ref", baselines=[later])
    assert "| bat | bat | — | 11.0 | 9.0 | 41.0 |" in md, md
    assert "| hand | hand | 9.0 | 7.5 | 8.0 | 40.0 |" in md, "the reference's own baseline must win"
    assert "| trained rows ahead of the baseline | 0 of 1 | 1 of 2 |" in md, md


def test_gaps_lists_change_and_gap_to_two_decimals_worst_gap_first():
    ref = {"hand": _src("hand", "train", 9.0, 8.0), "fish": _src("fish", "train", 9.0, 7.0),
           "mug": _src("mug", "OOD category", 20.0, 5.0)}
    old = {"hand": _src("hand", "train", 8.25), "fish": _src("fish", "train", 8.0), "mug": _src("mug", "OOD category", 16.0)}
    new = {"hand": _src("hand", "train", 7.5), "fish": _src("fish", "train", 8.125),
           "mug": _src("mug", "OOD category", 15.5), "bat": _src("bat", "train", 11.0)}
    lines = gaps([("ref", ref), ("old", old), ("new", new)], reference="ref").splitlines()
    assert lines[0] == "| source | status | old | new | change | SimpleBaseline | new - baseline |", lines[0]
    # mug +10.50, fish +1.12, hand -0.50, then bat (no baseline)
    assert [row.split(" | ")[0] for row in lines[2:6]] == ["| mug", "| fish", "| hand", "| bat"], lines
    assert lines[3] == "| fish | train | 8.00 | 8.12 | +0.12 | 7.00 | +1.12 |", lines[3]
    assert lines[4] == "| hand | train | 8.25 | 7.50 | -0.75 | 8.00 | -0.50 |", lines[4]
    assert lines[5] == "| bat | train | — | 11.00 | — | — | — |", lines[5]
    # trained rows both have: hand -0.75, fish +0.125 -> 1 of 2 lower, mean -0.3125
    assert "- new lower than old on 1 of the 2 trained rows both have (mean change -0.312)" in lines, lines
    assert "- new ahead of the baseline on 1 of 2 trained rows with one" in lines, lines
    # in-distribution rows of new: hand, fish, bat (mean 26.625 / 3); old has hand and fish only
    assert ("- in-distribution mean over new's 3 rows: 8.875; over the 2 both have: old 8.125, new 7.812"
            in lines), lines
    assert "- OOD categories over new's in-distribution mean: mug 1.75x" in lines, lines
    with pytest.raises(ValueError, match="two"):
        gaps([("new", new)])


def _entry(pa, mpjpe, mm=None):
    e = {"pa_mpjpe_pct": pa, "mpjpe_pct": mpjpe}
    if mm is not None:
        e.update(pa_mpjpe_mm=mm[0], mpjpe_mm=mm[1])
    return e


def _card_src(category, status, lfm, baseline=None):
    return {"category": category, "status": status, "3D-LFM": lfm, "flat": _entry(40.0, 60.0),
            "SimpleBaseline": baseline}


def test_card_table_bolds_the_better_of_model_and_baseline_and_marks_oracles():
    model = {"laptop6_synthetic": _card_src("laptop", "train", _entry(7.0, 9.0)),
             "cmu_mocap_coco17": _card_src("person", "train", _entry(5.7, 7.1, mm=(32.0, 40.0))),
             "mug8_synthetic": _card_src("mug", "OOD category", _entry(15.6, 17.7))}
    ref = {"laptop6_synthetic": _card_src("laptop", "train", _entry(9.0, 11.0), _entry(5.3, 7.0)),
           "cmu_mocap_coco17": _card_src("person", "train", _entry(6.0, 7.5), _entry(8.6, 10.0, mm=(47.0, 55.0))),
           "mug8_synthetic": _card_src("mug", "OOD category", _entry(16.0, 18.0), _entry(5.6, 6.0))}
    for key in ref:   # flat and baseline come from the reference alone
        model[key]["flat"], ref[key]["flat"] = None, _entry(45.0, 60.0)
    lines = card_table(model, ref).splitlines()
    # card order: people first, mm for people; the model's numbers, the reference's baseline
    assert lines[2] == ("| CMU mocap, COCO-17 | person | train (real, held-out subject) | 40 mm | **32 mm** "
                        "| 47 mm | 45.0 % |"), lines[2]
    assert lines[3] == "| laptop6 (v5) | laptop | train | 9.0 % | 7.0 % | **5.3 %** | 45.0 % |", lines[3]
    # held out: the baseline is an oracle, nobody is bold
    assert lines[4] == "| mug8 | mug | **held-out category** | 17.7 % | 15.6 % | 5.6 % † | 45.0 % |", lines[4]


def test_card_table_takes_each_source_from_the_first_reference_that_has_it():
    old = {"mug8_synthetic": _card_src("mug", "OOD category", _entry(16.0, 18.0), _entry(5.6, 6.0))}
    new = {"mug8_synthetic": _card_src("mug", "OOD category", _entry(15.0, 17.0), None),
           "bat16_synthetic": _card_src("bat", "train", _entry(26.0, 30.0), _entry(8.4, 9.9))}
    merged = merge_references([old, new])
    assert merged["mug8_synthetic"] is old["mug8_synthetic"], "an earlier reference must win"
    assert merged["bat16_synthetic"] is new["bat16_synthetic"], "a source only a later reference has comes from it"
    no_baseline = {"bat16_synthetic": _card_src("bat", "train", _entry(11.0, 13.0), None)}
    assert merge_references([no_baseline, new])["bat16_synthetic"] is new["bat16_synthetic"], \
        "a reference without a baseline for a source must not hide a later one that has it"
    model = {"bat16_synthetic": _card_src("bat", "train", _entry(11.1, 13.1))}
    model["bat16_synthetic"]["flat"] = None
    row = card_table(model, merged).splitlines()[2]
    assert row == "| bat16 (v8) | bat | train | 13.1 % | 11.1 % | **8.4 %** | 40.0 % |", row


ROOT = Path(__file__).resolve().parents[1]


def _named_tables(text: str, summary: bool) -> list[str]:
    """`training.card_table [--summary]` output for the command ``text`` names (up to the closing
    backtick): the clean and known-rig tables, or the one summary table."""
    flag = r"\s+--summary" if summary else ""
    m = re.search(r"training\.card_table" + flag + r"\s+(\S+eval_clean\.json)((?:\s+--reference\s+\S+eval_clean\.json)+)`",
                  text)
    assert m, "the text no longer names the card_table command that makes its table"
    refs = re.findall(r"--reference\s+(\S+)", m.group(2))

    def load(p, kind="eval_clean"):
        return load_sources(ROOT / p.replace("eval_clean", kind))

    if summary:
        return [summary_table(load(m.group(1)), load(m.group(1), "eval_known_rig"),
                              merge_references([load(r) for r in refs]))]
    return [card_table(load(m.group(1), kind), merge_references([load(r, kind) for r in refs]))
            for kind in ("eval_clean", "eval_known_rig")]


def test_the_per_source_tables_are_the_committed_evaluations():
    """Every row of the per-source tables comes from the eval.json files they name (no
    hand-edited numbers): the clean one, and the known-rig one beside it."""
    text = (ROOT / "training/results/small_v12/tables.md").read_text()
    for table in _named_tables(text, summary=False):
        assert table in text, "tables.md differs from `training.card_table`"


@pytest.mark.parametrize("doc", ["README.md", "lfm3d_net/models/MODEL_CARD.md"])
def test_the_accuracy_table_is_what_its_command_prints(doc):
    """The accuracy table sits between `<!-- accuracy-table -->` markers and is the output of the
    command named there, on committed evaluations. A slot holding another table (another
    command) is checked by that table's own test."""
    m = re.search(r"<!-- accuracy-table -->(.*?)<!-- /accuracy-table -->", (ROOT / doc).read_text(), re.S)
    assert m, f"{doc}: no accuracy-table slot"
    if "training.card_table" not in m.group(1) or "--summary" not in m.group(1):
        pytest.skip(f"{doc}: the slot holds another table")
    real = re.search(r"--realworld\s+(\S+?)`", m.group(1))
    if real:
        cmd = re.search(r"training\.card_table\s+(\S+)", m.group(1))
        table = product_table(load_sources(ROOT / cmd.group(1)), json.loads((ROOT / real.group(1)).read_text()))
    else:
        table, = _named_tables(m.group(1), summary=True)
    assert table in m.group(1), f"{doc}: the accuracy table differs from its `training.card_table` command"


def test_product_table_puts_real_people_first_and_marks_a_proxy_set_the_model_trained_on():
    clean = {"deepmimic": {"status": "train", "category": "person"},
             "face68_synthetic": {"status": "train", "category": "face",
                                  "3D-LFM": {"pa_mpjpe_pct": 7.0, "mpjpe_pct": 8.0}, "flat": {"pa_mpjpe_pct": 40.0}}}
    row = lambda person: {"person": person, "input": "`coco17`", "pa": 41.2, "pa_ci": [40.0, 42.6],  # noqa: E731
                          "camera": 50.0, "camera_ci": [48.0, 52.0], "flat": 119.0}
    text = product_table(clean, {"rows": [row("DeepMimic humanoid"), row("CMU subject 7")]})
    lines = text.splitlines()[2:]
    assert lines[0].startswith("| DeepMimic humanoid | `coco17` | real, **seen in training** | 41 mm (40-43)")
    assert lines[1].startswith("| CMU subject 7 | `coco17` | real, held out |")
    assert lines[2] == "| face | `face68` | synthetic, unseen views | 7.0 % | 8.0 % | 40.0 % |"
