"""training.compare: side-by-side evaluation tables and the in-distribution / OOD summary."""
import pytest

from training.compare import compare, in_distribution


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


def test_reference_run_supplies_the_baseline_of_a_run_evaluated_without_one():
    ref = {"hand": _src("hand", "train", 9.0, 8.0)}
    new = {"hand": _src("hand", "train", 7.5)}          # --baseline-steps 0: no baseline of its own
    md = compare([("ref", ref), ("new", new)], reference="ref")
    assert "| hand | hand | 9.0 | 7.5 | 8.0 | 40.0 |" in md
    assert "| trained rows ahead of the baseline | 0 of 1 | 1 of 1 |" in md
    with pytest.raises(ValueError, match="v9"):
        compare([("ref", ref), ("new", new)], reference="v9")
