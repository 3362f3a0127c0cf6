"""Significance of gaps to the baseline: the paired bootstrap on closed-form cases, the verdict
rule, and the table on a tiny checkpoint agreeing with training.eval's."""
import json
from types import SimpleNamespace

import numpy as np
import pytest

from training.significance import gap_interval, verdict


def test_a_constant_difference_has_a_zero_width_interval_at_that_value():
    base = np.linspace(1.0, 9.0, 50)
    mean, lo, hi = gap_interval(base - 0.25, base)
    assert mean == pytest.approx(-0.25) and lo == pytest.approx(-0.25) and hi == pytest.approx(-0.25)


def test_one_seed_interval_covers_the_true_mean_with_the_normal_theory_width():
    rng = np.random.default_rng(1)
    n, sigma = 4000, 2.0
    mean, lo, hi = gap_interval(rng.normal(0.3, sigma, n), np.zeros(n), resamples=4000)
    assert lo < 0.3 < hi, (lo, hi)
    expected = 2 * 1.96 * sigma / np.sqrt(n)  # width of the 95 % normal interval of a mean
    assert (hi - lo) == pytest.approx(expected, rel=0.1), (hi - lo, expected)


def test_pairing_detects_a_small_consistent_offset_hidden_in_shared_per_instance_spread():
    rng = np.random.default_rng(2)
    difficulty = rng.gamma(2.0, 5.0, 1024)  # per-instance error both methods share (spread ~7)
    lfm = difficulty + rng.normal(0, 0.05, 1024)
    base = difficulty + 0.1 + rng.normal(0, 0.05, 1024)  # 0.1 worse on every instance
    _, lo, hi = gap_interval(lfm, base)
    assert hi < 0 and verdict(lo, hi) == "ahead", "the paired interval must exclude 0 for a consistent 0.1 offset"
    # unpaired, the same 0.1 is far inside the means' noise: that is why the pairing matters
    assert 0.1 < 2 * np.std(difficulty) / np.sqrt(1024)


def test_baseline_seed_spread_widens_the_interval_of_the_gap_to_the_seeds_mean():
    rng = np.random.default_rng(4)
    difficulty = rng.gamma(2.0, 5.0, 1024)
    base = np.stack([difficulty + c for c in (-0.3, 0.0, 0.3)])  # three seeds, 0.3 apart
    lfm = difficulty.copy()
    per_seed = [verdict(*gap_interval(lfm, b)[1:]) for b in base]
    assert per_seed == ["behind", "level", "ahead"], per_seed  # each seed alone is "sure"
    mean, lo, hi = gap_interval(lfm, base)
    assert mean == pytest.approx(0.0, abs=1e-12) and verdict(lo, hi) == "level"
    assert hi - lo > 0.2, "drawing the seeds must carry their spread into the interval"


def test_the_bootstrap_is_seeded():
    d = np.random.default_rng(3).normal(size=200)
    assert gap_interval(d, np.zeros(200), seed=7) == gap_interval(d, np.zeros(200), seed=7)


@pytest.mark.parametrize("lfm, base", [(np.array([1.0]), np.array([1.0])),
                                       (np.array([0.1, np.nan, 0.2]), np.zeros(3)),
                                       (np.zeros((3, 2)), np.zeros((3, 2))),
                                       (np.zeros(4), np.zeros((2, 5)))])
def test_bad_errors_raise_instead_of_giving_an_interval(lfm, base):
    with pytest.raises(ValueError, match="gap_interval"):
        gap_interval(lfm, base)


def test_verdict_reads_the_interval_against_zero():
    assert verdict(-0.3, -0.01) == "ahead"
    assert verdict(0.01, 0.3) == "behind"
    assert verdict(-0.05, 0.02) == "level"


def test_table_repeats_the_eval_means_and_names_a_missing_baseline(tmp_path):
    from test_train import synthetic_source, tiny_cfg
    from training.baselines import BaselineConfig, save_baselines, train_per_rig
    from training.eval import evaluate
    from training.significance import compare_rows, markdown
    from training.train import train
    train(tiny_cfg(tmp_path, steps=3, eval_every=3))
    ckpt, src = str(tmp_path / "run" / "best"), synthetic_source()
    for seed in (0, 1):
        save_baselines(tmp_path / f"s{seed}", train_per_rig([src], BaselineConfig(steps=2, batch_size=8,
                                                                                  seed=seed)))
    rows = compare_rows(ckpt, [str(tmp_path / "s0"), str(tmp_path / "s1")], [src], samples=16, views={})
    (row,) = rows
    assert len(row["baselines"]) == len(row["gaps"]) == 2 and row["verdict"] == verdict(*row["gap"][1:])
    assert row["baselines"][0] != row["baselines"][1], "two seeds gave the same baseline"
    for (mean, lo, hi), b in zip(row["gaps"], row["baselines"]):
        assert lo <= mean <= hi and mean == pytest.approx(row["lfm"] - b)
    assert row["gap"][0] == pytest.approx(row["lfm"] - np.mean(row["baselines"]))
    # the same batches as training.eval: its table holds the same two means
    evaluate(SimpleNamespace(checkpoint=ckpt, out=str(tmp_path / "eval"), samples=16, device="cpu", seed=0,
                             sources=[src], data_dir="", baselines=str(tmp_path / "s0"), baseline_steps=0,
                             perspective_field="p_perspective", transfer_a=src, transfer_b=src,
                             transfer_steps=0, transfer_preset="tiny", transfer_batch_size=8,
                             transfer_minutes=0.0, figures=False, clean=False, view=[], flip_average=False))
    res = json.loads((tmp_path / "eval" / "eval.json").read_text())["sources"][src]
    assert row["lfm"] == pytest.approx(res["3D-LFM"]["pa_mpjpe_pct"], rel=1e-9)
    assert row["baselines"][0] == pytest.approx(res["SimpleBaseline"]["pa_mpjpe_pct"], rel=1e-9)
    md = markdown(rows, ["s0", "s1"], "pa_mpjpe_pct")
    assert f"| {src} |" in md and "gap to s1 (95 % CI)" in md and "seeds' mean" in md and f"**{row['verdict']}**" in md
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="empty"):
        compare_rows(ckpt, [str(tmp_path / "empty")], [src], samples=16, views={})
